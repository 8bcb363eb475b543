"""Convert VEDAI (colour + infrared vehicle detection) to COCO, a file per fold and split.

Razakarivony, Jurie. *Vehicle Detection in Aerial Imagery: A small target detection
benchmark*. JVCIR 2016. Download: https://downloads.greyc.fr/vedai/

The layout as downloaded (both resolutions; the 512 px images are the 1024 px ones
downscaled: 1024 px at 12.5 cm per pixel, 512 px at 25 cm)::

    VEDAI/Vehicules1024/<id>_co.png   colour       <id>_ir.png   infrared (one band)
    VEDAI/Vehicules512/<id>_co.png    ...
    VEDAI/Annotations1024/<id>.txt    one line per object (below)
    VEDAI/Annotations1024/fold01.txt ... fold10.txt            training ids of each fold
    VEDAI/Annotations1024/fold01test.txt ... fold10test.txt    test ids of each fold
    VEDAI/Annotations512/...          the same at 512 px

``<id>`` is an 8-digit number (``00000000``); fold files list one id per line (leading
zeros may be missing). A per-image annotation line has 14 space-separated fields::

    x_center y_center orientation class fully_contained occluded x1 x2 x3 x4 y1 y2 y3 y4

the four corners of the object's oriented box given as their 4 x then their 4 y; class
is VEDAI's code (:data:`VEDAI_CLASSES`). A few files have 5-field lines (``x_center
y_center class fully_contained occluded``, no corners): those objects are skipped and
counted. The combined ``annotation<res>.txt`` (15 fields: ``id x_center y_center
orientation x1..x4 y1..y4 class fully_contained occluded``) is read for images that have
no per-image file.

Written, per resolution (``--out``, default ``<root>/coco``)::

    vedai<res>_fold<NN>_train.json   vedai<res>_fold<NN>_test.json   (NN = 01..10)
    vedai<res>_all.json              every image

COCO image entries: ``file_name`` ``<id>_co.png`` (relative to ``Vehicules<res>/``, so
mmdet's ``CocoDataset`` with ``data_prefix=dict(img='Vehicules512/')`` reads the colour
images as they are) and ``vedai_id``, for ``mmkd.PairedCocoDataset`` templates
(``Vehicules512/{vedai_id}_co.png``, ``Vehicules512/{vedai_id}_ir.png``). Category ids
are VEDAI's codes. Boxes are the axis-aligned hull of the oriented box, clipped to the
image; the oriented box is kept in each annotation's ``vedai`` entry.

Bad input: a colour image without its infrared partner (or the reverse) is an error
naming the file (``--on-unpaired skip`` drops it and counts it); images without an
annotation file or without objects are kept with no boxes (the training configs leave
them out with mmdet's ``filter_empty_gt``) and counted; boxes entirely outside the image
are dropped and counted, boxes crossing the border clipped and counted; unknown class
codes are kept as ``vedai_<code>`` and reported.

    python tools/dataset_converters/vedai_to_coco.py data/VEDAI [--resolutions 512 1024]

The ``configs/det_kd/vedai/`` configs read fold 1 at 512 px; :func:`fold_options` gives
the ``--cfg-options`` of another fold and resolution (``tools/analysis/seed_fold_grid.py
--fold-rule vedai`` and ``tools/benchmarks/dense_evidence.py --full --dataset vedai*``
apply them).
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
from collections import Counter
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

# VEDAI's class codes (DevKit); 7, 8 and 31 have a few dozen instances at most.
VEDAI_CLASSES: Dict[int, str] = {
    1: 'car', 2: 'truck', 4: 'tractor', 5: 'camping car', 7: 'motorcycle', 8: 'bus',
    9: 'van', 10: 'other', 11: 'pickup', 23: 'boat', 31: 'plane'}
# The nine classes of the benchmark's experiments (the configs' default metainfo).
VEDAI9 = ('car', 'truck', 'pickup', 'tractor', 'camping car', 'boat', 'van', 'other',
          'plane')
GSD_CM = {1024: 12.5, 512: 25.0}
NUM_FOLDS = 10


def coco_name(res: int, fold: int, split: str) -> str:
    """The COCO file this converter writes for a fold's split (``train`` / ``test``)."""
    return f'vedai{res}_fold{fold:02d}_{split}.json'


def fold_options(cfg, fold: int, resolution: Optional[int] = None) -> dict:
    """What moves a parsed ``configs/det_kd/vedai/`` config to another fold (and
    resolution): a nested dict for mmengine's ``Config.merge_from_dict`` (digit keys
    index pipeline lists), the ``--cfg-options`` of that fold.

    The config's own values (``_base_/vedai.py``: fold 1, 512 px) give the files a fold
    reads; this sets every field that carries them: the top-level ``fold``,
    ``resolution`` and the names derived from them, each loader's annotation file and
    image folder (``data_prefix`` of mmdet's dataset, the ``modalities`` templates of
    ``mmkd.PairedCocoDataset``), the ``Resize`` / ``PairedResize`` sizes, the
    evaluators' annotation files and a distiller's colour teacher of that fold (the
    seeds x folds layout, ``.../seed0_fold<NN>``). For the config's own fold and
    resolution it changes nothing (tests/test_tools/test_det_data_tools.py checks both).
    """
    res = int(resolution or cfg['resolution'])
    img_dir = f'Vehicules{res}/'
    top = dict(fold=fold, resolution=res, img_dir=img_dir,
               train_ann=f'coco/{coco_name(res, fold, "train")}',
               test_ann=f'coco/{coco_name(res, fold, "test")}',
               colour_teacher=osp.join(osp.dirname(cfg['colour_teacher']),
                                       f'seed0_fold{fold:02d}'),
               colour_template=img_dir + '{vedai_id}_co.png',
               infrared_template=img_dir + '{vedai_id}_ir.png')
    out = {k: v for k, v in top.items() if k in cfg}
    templates = dict(optical=top['colour_template'], infrared=top['infrared_template'])
    for split in ('train', 'val', 'test'):
        ds = cfg[f'{split}_dataloader']['dataset']
        over = dict(ann_file=top['train_ann' if split == 'train' else 'test_ann'])
        if 'data_prefix' in ds:
            over['data_prefix'] = dict(img=img_dir)
        if 'modalities' in ds:
            over['modalities'] = {m: templates[m] for m in ds['modalities']}
        pipeline = {}
        for i, t in enumerate(ds['pipeline']):
            if t['type'] == 'Resize':
                pipeline[str(i)] = dict(scale=(res, res))
            elif t['type'] == 'mmkd.PairedResize':
                pipeline[str(i)] = dict(sizes=res)
        if pipeline:
            over['pipeline'] = pipeline
        out[f'{split}_dataloader'] = dict(dataset=over)
    for split in ('val', 'test'):
        out[f'{split}_evaluator'] = dict(ann_file=cfg['data_root'] + top['test_ann'])
    teacher = cfg['model'].get('teacher') if cfg['model'].get('type') == \
        'mmkd.Distiller' else None
    if teacher is not None and teacher.get('checkpoint') == cfg['colour_teacher']:
        out['model'] = dict(teacher=dict(checkpoint=top['colour_teacher']))
    return out


class VEDAIFormatError(ValueError):
    """A VEDAI file is not in the format described in this module's docstring."""


def parse_object(fields: Sequence[str], where: str) -> Optional[dict]:
    """One per-image annotation line (already split); None for the 5-field lines
    without corners."""
    if len(fields) == 5:
        return None
    if len(fields) != 14:
        raise VEDAIFormatError(f'{where}: expected 14 fields (x_center y_center '
                               f'orientation class fully_contained occluded x1..x4 '
                               f'y1..y4), got {len(fields)}')
    try:
        v = [float(x) for x in fields]
    except ValueError:
        raise VEDAIFormatError(f'{where}: non-numeric field in {fields}') from None
    return dict(center=(v[0], v[1]), orientation=v[2], cls=int(v[3]),
                fully_contained=int(v[4]), occluded=int(v[5]), xs=v[6:10], ys=v[10:14])


def read_image_annotations(path: str) -> Tuple[List[dict], int]:
    """Objects of one per-image file and the number of lines without corners."""
    objects, no_corners = [], 0
    with open(path) as f:
        for i, line in enumerate(f):
            fields = line.split()
            if not fields:
                continue
            obj = parse_object(fields, f'{path}:{i + 1}')
            if obj is None:
                no_corners += 1
            else:
                objects.append(obj)
    return objects, no_corners


def read_combined_annotations(path: str) -> Tuple[Dict[str, List[dict]], int]:
    """``annotation<res>.txt``: id -> objects, and the lines without corners."""
    out: Dict[str, List[dict]] = {}
    no_corners = 0
    with open(path) as f:
        for i, line in enumerate(f):
            fields = line.split()
            if not fields:
                continue
            where = f'{path}:{i + 1}'
            if len(fields) == 6:  # id + the 5 fields without corners
                no_corners += 1
                continue
            if len(fields) != 15:
                raise VEDAIFormatError(f'{where}: expected 15 fields (id x_center '
                                       f'y_center orientation x1..x4 y1..y4 class '
                                       f'fully_contained occluded), got {len(fields)}')
            # reorder to the per-image layout
            f14 = fields[1:4] + [fields[12]] + fields[13:15] + fields[4:12]
            out.setdefault(_vid(fields[0]), []).append(parse_object(f14, where))
    return out, no_corners


def _vid(token: str) -> str:
    token = token.strip()
    if token.endswith('.png'):
        token = token.split('_')[0]
    if not token.isdigit():
        raise VEDAIFormatError(f'{token!r} is not a VEDAI image id (8 digits)')
    return token.zfill(8)


def read_fold(path: str) -> List[str]:
    with open(path) as f:
        return [_vid(t) for t in f.read().split() if t.strip()]


def _image_size(path: str) -> Tuple[int, int]:
    from PIL import Image
    with Image.open(path) as im:
        return im.size  # (w, h)


def find_fold_files(root: str, res: int) -> Dict[int, Tuple[str, str]]:
    """fold number -> (train file, test file), looked for in ``Annotations<res>/``, the
    root and ``INDEX/``."""
    folds = {}
    for k in range(1, NUM_FOLDS + 1):
        for d in (osp.join(root, f'Annotations{res}'), root, osp.join(root, 'INDEX')):
            tr, te = osp.join(d, f'fold{k:02d}.txt'), osp.join(d, f'fold{k:02d}test.txt')
            if osp.isfile(tr) and osp.isfile(te):
                folds[k] = (tr, te)
                break
    return folds


def find_pairs(img_dir: str, on_unpaired: str, stats: Counter
               ) -> Tuple[Dict[str, Dict[str, str]], List[str]]:
    """The ``<id>_co.png`` / ``<id>_ir.png`` files of ``img_dir``: id -> {'co': path,
    'ir': path}, and the ids that have both, sorted. An image without its partner is an
    error naming it, or (``on_unpaired='skip'``) left out and counted in ``stats``; no
    pair at all is an error."""
    files: Dict[str, Dict[str, str]] = {}
    for path in glob.glob(osp.join(img_dir, '*.png')):
        m = re.fullmatch(r'(\d+)_(co|ir)\.png', osp.basename(path))
        if m:
            files.setdefault(m.group(1), {})[m.group(2)] = path
    ids = []
    for vid in sorted(files):
        have = files[vid]
        if len(have) < 2:
            present = next(iter(have.values()))
            partner = 'infrared' if 'co' in have else 'colour'
            if on_unpaired == 'error':
                raise FileNotFoundError(
                    f'{present} has no {partner} partner ({vid}_'
                    f'{"ir" if "co" in have else "co"}.png is missing in {img_dir}); '
                    f'use --on-unpaired skip to leave such images out')
            stats['images without their colour/infrared partner skipped'] += 1
            continue
        ids.append(vid)
    if not ids:
        raise FileNotFoundError(f'no <id>_co.png / <id>_ir.png pairs in {img_dir}')
    return files, ids


def pair_size(pair: Dict[str, str]) -> Tuple[int, int]:
    """``(w, h)`` of a colour / infrared pair; an error when the two sizes differ."""
    w, h = _image_size(pair['co'])
    ir_size = _image_size(pair['ir'])
    if ir_size != (w, h):
        raise VEDAIFormatError(f'{pair["co"]} is {w}x{h} but '
                               f'{pair["ir"]} is {ir_size[0]}x{ir_size[1]}; '
                               f'the pair must be co-registered')
    return w, h


def image_objects(vid: str, ann_dir: str, combined: Dict[str, List[dict]],
                  stats: Counter) -> List[dict]:
    """An image's objects: from its own ``<id>.txt``, else from the combined file, else
    none (counted in ``stats``, as are the per-image lines without corners)."""
    per_image = osp.join(ann_dir, f'{vid}.txt')
    if osp.isfile(per_image):
        objects, nc = read_image_annotations(per_image)
        stats['objects without corners skipped'] += nc
        return objects
    if vid in combined:
        return combined[vid]
    stats['images without an annotation file (kept, no boxes)'] += 1
    return []


def box_annotation(obj: dict, img_id: int, w: int, h: int,
                   stats: Counter) -> Optional[dict]:
    """The COCO annotation (no ``id`` yet) of one object: the axis-aligned hull of its
    corners clipped to the ``w x h`` image, the oriented box under ``vedai``. None for a
    box entirely outside the image or under 1 px once clipped; drops and clips are
    counted in ``stats``."""
    x1, x2 = min(obj['xs']), max(obj['xs'])
    y1, y2 = min(obj['ys']), max(obj['ys'])
    if x2 <= 0 or y2 <= 0 or x1 >= w or y1 >= h:
        stats['boxes entirely outside their image dropped'] += 1
        return None
    cx1, cy1 = max(x1, 0.), max(y1, 0.)
    cx2, cy2 = min(x2, float(w)), min(y2, float(h))
    if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):
        stats['boxes crossing the image border clipped'] += 1
    if cx2 - cx1 < 1 or cy2 - cy1 < 1:
        stats['boxes under 1 px dropped'] += 1
        return None
    return dict(
        image_id=img_id, category_id=obj['cls'],
        bbox=[round(cx1, 2), round(cy1, 2), round(cx2 - cx1, 2), round(cy2 - cy1, 2)],
        area=round((cx2 - cx1) * (cy2 - cy1), 2), iscrowd=0,
        vedai=dict(center=obj['center'], orientation=obj['orientation'],
                   corners_x=obj['xs'], corners_y=obj['ys'],
                   fully_contained=obj['fully_contained'], occluded=obj['occluded']))


def read_images(files: Dict[str, Dict[str, str]], ids: Sequence[str], ann_dir: str,
                combined: Dict[str, List[dict]], stats: Counter, classes: Counter
                ) -> Tuple[Dict[str, dict], Dict[str, List[dict]]]:
    """id -> COCO image entry and id -> its annotations, for every pair in ``ids``;
    ``classes`` counts the kept boxes per class code, ``stats`` what was dropped."""
    images, anns_by_image = {}, {}
    for vid in ids:
        w, h = pair_size(files[vid])
        objects = image_objects(vid, ann_dir, combined, stats)
        img_id = int(vid)
        images[vid] = dict(id=img_id, file_name=f'{vid}_co.png', width=w, height=h,
                           vedai_id=vid)
        anns = []
        for obj in objects:
            ann = box_annotation(obj, img_id, w, h, stats)
            if ann is not None:
                classes[obj['cls']] += 1
                anns.append(ann)
        if not anns:
            stats['images without boxes (kept)'] += 1
        anns_by_image[vid] = anns
    return images, anns_by_image


def categories_of(classes: Counter, stats: Counter) -> List[dict]:
    """The COCO categories: VEDAI's codes and any unknown code seen (``vedai_<code>``,
    reported in ``stats``)."""
    unknown = sorted(c for c in classes if c not in VEDAI_CLASSES)
    if unknown:
        stats[f'objects of unknown class codes {unknown} (kept as vedai_<code>)'] += sum(
            classes[c] for c in unknown)
    return [dict(id=c, name=VEDAI_CLASSES.get(c, f'vedai_{c}'), supercategory='vehicle')
            for c in sorted(set(VEDAI_CLASSES) | set(classes))]


def write_coco(path: str, res: int, vids: Sequence[str], images: Dict[str, dict],
               anns_by_image: Dict[str, List[dict]], categories: List[dict]) -> str:
    """Write the COCO file of the images ``vids`` (annotation ids 1..N) to ``path``."""
    anns = []
    for vid in vids:
        for a in anns_by_image[vid]:
            anns.append(dict(a, id=len(anns) + 1))
    coco = dict(info=dict(description=f'VEDAI {res} px ({GSD_CM[res]} cm/px) as '
                                      f'COCO, by mmkd vedai_to_coco.py',
                          resolution=res, gsd_cm=GSD_CM.get(res),
                          modalities=dict(colour='_co.png', infrared='_ir.png')),
                images=[images[v] for v in vids], annotations=anns,
                categories=categories)
    with open(path, 'w') as f:
        json.dump(coco, f)
    return path


def fold_splits(root: str, res: int, folds: Sequence[int], known: Dict[str, dict],
                stats: Counter) -> Iterator[Tuple[str, List[str]]]:
    """``(COCO file name, ids)`` of each fold's train and test split, in order, read
    lazily (a fold without its files is an error when reached); ids without an image
    pair are left out and counted in ``stats``."""
    fold_files = find_fold_files(root, res)
    ann_dir = osp.join(root, f'Annotations{res}')
    for k in folds:
        if k not in fold_files:
            raise FileNotFoundError(
                f'fold {k}: fold{k:02d}.txt and fold{k:02d}test.txt not found in '
                f'{ann_dir}, {root} or {osp.join(root, "INDEX")}')
        for split, path in zip(('train', 'test'), fold_files[k]):
            listed = read_fold(path)
            kept = [v for v in listed if v in known]
            if len(kept) < len(listed):
                stats[f'fold ids without an image pair (fold{k:02d} {split})'] += \
                    len(listed) - len(kept)
            yield coco_name(res, k, split), kept


def convert_resolution(root: str, out_dir: str, res: int, folds: Sequence[int],
                       on_unpaired: str = 'error') -> dict:
    """Write the COCO files of one resolution; return counts of what was done."""
    img_dir = osp.join(root, f'Vehicules{res}')
    ann_dir = osp.join(root, f'Annotations{res}')
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'{img_dir} does not exist (VEDAI images at {res} px)')
    stats: Counter = Counter()
    files, ids = find_pairs(img_dir, on_unpaired, stats)
    combined, no_corners = {}, 0
    combined_path = osp.join(ann_dir, f'annotation{res}.txt')
    if osp.isfile(combined_path):
        combined, no_corners = read_combined_annotations(combined_path)
    classes: Counter = Counter()
    images, anns_by_image = read_images(files, ids, ann_dir, combined, stats, classes)
    stats['objects without corners skipped'] += no_corners
    categories = categories_of(classes, stats)
    os.makedirs(out_dir, exist_ok=True)
    written = [write_coco(osp.join(out_dir, f'vedai{res}_all.json'), res, ids, images,
                          anns_by_image, categories)]
    for name, vids in fold_splits(root, res, folds, images, stats):  # after the _all
        written.append(write_coco(osp.join(out_dir, name), res, vids, images,
                                  anns_by_image, categories))
    return dict(resolution=res, images=len(ids), boxes=sum(classes.values()),
                classes={VEDAI_CLASSES.get(c, f'vedai_{c}'): n
                         for c, n in sorted(classes.items())},
                notes=dict(stats), written=written)


def convert(root: str, out_dir: Optional[str] = None,
            resolutions: Sequence[int] = (512, 1024),
            folds: Sequence[int] = tuple(range(1, NUM_FOLDS + 1)),
            on_unpaired: str = 'error') -> List[dict]:
    """Convert every resolution present under ``root`` (an error when none is)."""
    out_dir = out_dir or osp.join(root, 'coco')
    present = [r for r in resolutions if osp.isdir(osp.join(root, f'Vehicules{r}'))]
    if not present:
        raise FileNotFoundError(f'{root} has none of ' + ', '.join(
            f'Vehicules{r}/' for r in resolutions))
    return [convert_resolution(root, out_dir, r, folds, on_unpaired) for r in present]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='the VEDAI folder (Vehicules512/, Annotations512/ '
                        '...)')
    parser.add_argument('--out', help='output folder (default: <root>/coco)')
    parser.add_argument('--resolutions', type=int, nargs='+', default=[512, 1024],
                        choices=[512, 1024])
    parser.add_argument('--folds', type=int, nargs='*',
                        default=list(range(1, NUM_FOLDS + 1)),
                        help='official folds to write (default: all 10; none: only '
                        'vedai<res>_all.json)')
    parser.add_argument('--on-unpaired', choices=['error', 'skip'], default='error')
    args = parser.parse_args(argv)
    for summary in convert(args.root, args.out, args.resolutions, args.folds,
                           args.on_unpaired):
        print(f'VEDAI {summary["resolution"]} px: {summary["images"]} image pairs, '
              f'{summary["boxes"]} boxes {summary["classes"]}')
        for note, n in summary['notes'].items():
            print(f'  {n} {note}')
        print(f'  wrote {len(summary["written"])} files to '
              f'{osp.dirname(summary["written"][0])}')


if __name__ == '__main__':
    main()
