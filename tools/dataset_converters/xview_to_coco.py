"""Convert xView (GeoJSON boxes on large GeoTIFF scenes) to COCO, tiled into chips.

Lam et al. *xView: Objects in Context in Overhead Imagery*. arXiv:1802.07856, 2018.
Download (registration): https://xviewdataset.org

The layout as downloaded::

    xView/train_images/<n>.tif        3-band 8-bit GeoTIFF scenes (~3000 px, 0.3 m/px)
    xView/xView_train.geojson         a FeatureCollection, one feature per object

Each feature's ``properties`` hold ``image_id`` (the scene's file name, ``"2355.tif"``),
``type_id`` (the class code, :data:`XVIEW_CLASSES`: 60 classes, codes 11..94) and
``bounds_imcoords`` (``"xmin,ymin,xmax,ymax"`` in scene pixels); the geometry in
longitude/latitude is not used. The published labels hold a few features with codes
outside the 60 classes (75, 82) and with empty coordinates: they are dropped and
counted.

Each scene is cut into ``--chip-size`` chips overlapping by ``--overlap`` pixels (the
last row and column are shifted to end at the scene's border, so every pixel is in a
chip). A box goes into each chip it overlaps by at least ``--min-visible`` of its area,
clipped to the chip; boxes mostly outside a chip are dropped from it and counted, as
are boxes under 1 px after clipping. Chips without boxes are left out unless
``--keep-empty``. xView's test labels are not public: the scenes (not the chips, so no
scene is in both) are split into ``--folds`` cross-validation folds, or into train and
val by ``--val-fraction``::

    <out>/images/<scene>_<x0>_<y0>.png         the chips (8-bit, as mmdet reads PNGs)
    <out>/xview_train.json, xview_val.json     (--folds 1, the default)
    <out>/xview_fold<NN>_{train,val}.json      (--folds K > 1)
    <out>/xview_class_map.txt                  type_id,category_id,name for the 60 classes

COCO category ids are 1..60 in the order of xView's codes; ``xview_type_id`` keeps the
code in each category. GeoTIFFs are read with tifffile (PIL when it fails); band-first
arrays are transposed, a 4th (alpha) band dropped, 16-bit scenes scaled to 8 bits between
their 0.5 and 99.5 percentiles per band (reported).

    python tools/dataset_converters/xview_to_coco.py data/xView --chip-size 512 \\
        --overlap 64 [--folds 5] [--out data/xView/coco_chips_512]
"""
import argparse
import json
import os
import os.path as osp
import random
from collections import Counter, defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

XVIEW_CLASSES: Dict[int, str] = {
    11: 'Fixed-wing Aircraft', 12: 'Small Aircraft', 13: 'Cargo Plane', 15: 'Helicopter',
    17: 'Passenger Vehicle', 18: 'Small Car', 19: 'Bus', 20: 'Pickup Truck',
    21: 'Utility Truck', 23: 'Truck', 24: 'Cargo Truck', 25: 'Truck w/Box',
    26: 'Truck Tractor', 27: 'Trailer', 28: 'Truck w/Flatbed', 29: 'Truck w/Liquid',
    32: 'Crane Truck', 33: 'Railway Vehicle', 34: 'Passenger Car', 35: 'Cargo Car',
    36: 'Flat Car', 37: 'Tank car', 38: 'Locomotive', 40: 'Maritime Vessel',
    41: 'Motorboat', 42: 'Sailboat', 44: 'Tugboat', 45: 'Barge', 47: 'Fishing Vessel',
    49: 'Ferry', 50: 'Yacht', 51: 'Container Ship', 52: 'Oil Tanker',
    53: 'Engineering Vehicle', 54: 'Tower crane', 55: 'Container Crane',
    56: 'Reach Stacker', 57: 'Straddle Carrier', 59: 'Mobile Crane', 60: 'Dump Truck',
    61: 'Haul Truck', 62: 'Scraper/Tractor', 63: 'Front loader/Bulldozer',
    64: 'Excavator', 65: 'Cement Mixer', 66: 'Ground Grader', 71: 'Hut/Tent', 72: 'Shed',
    73: 'Building', 74: 'Aircraft Hangar', 76: 'Damaged Building', 77: 'Facility',
    79: 'Construction Site', 83: 'Vehicle Lot', 84: 'Helipad', 86: 'Storage Tank',
    89: 'Shipping container lot', 91: 'Shipping Container', 93: 'Pylon', 94: 'Tower'}
assert len(XVIEW_CLASSES) == 60
CATEGORY_OF = {t: i + 1 for i, t in enumerate(sorted(XVIEW_CLASSES))}


class XViewFormatError(ValueError):
    """The GeoJSON is not what xView publishes."""


def read_geojson(path: str, counts: Counter) -> Dict[str, List[Tuple[int, List[float]]]]:
    """scene file name -> [(type_id, [xmin, ymin, xmax, ymax])]."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist')
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict) or 'features' not in data:
        raise XViewFormatError(f'{path} is not a GeoJSON FeatureCollection (no '
                               f'"features")')
    boxes = defaultdict(list)
    for i, feat in enumerate(data['features']):
        props = feat.get('properties') or {}
        missing = [k for k in ('image_id', 'type_id', 'bounds_imcoords')
                   if k not in props]
        if missing:
            raise XViewFormatError(f'{path}: feature {i} has no {missing} property')
        coords = props['bounds_imcoords']
        if not coords:
            counts['features without coordinates dropped'] += 1
            continue
        try:
            box = [float(v) for v in str(coords).split(',')]
        except ValueError:
            box = []
        if len(box) != 4:
            raise XViewFormatError(f'{path}: feature {i} bounds_imcoords {coords!r} is '
                                   f'not "xmin,ymin,xmax,ymax"')
        type_id = int(props['type_id'])
        if type_id not in XVIEW_CLASSES:
            counts[f'boxes of codes outside the 60 classes dropped ({type_id})'] += 1
            continue
        boxes[str(props['image_id'])].append((type_id, box))
    return boxes


def read_scene(path: str, counts: Counter) -> np.ndarray:
    """An ``H x W x 3`` uint8 RGB array."""
    try:
        import tifffile
        img = tifffile.imread(path)
    except Exception:  # not every GeoTIFF compression is in tifffile: try PIL
        from PIL import Image
        with Image.open(path) as im:
            img = np.asarray(im)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    elif img.shape[0] in (3, 4) and img.shape[-1] not in (3, 4):
        img = np.transpose(img, (1, 2, 0))  # band-first GeoTIFF
    if img.shape[2] > 3:
        img = img[..., :3]
    if img.dtype != np.uint8:
        counts['scenes not 8-bit, scaled to 8 bits'] += 1
        out = np.empty(img.shape, np.uint8)
        for b in range(img.shape[2]):
            lo, hi = np.percentile(img[..., b], (0.5, 99.5))
            out[..., b] = np.clip((img[..., b] - lo) / max(hi - lo, 1e-6) * 255, 0, 255)
        img = out
    return np.ascontiguousarray(img)


def chip_origins(length: int, chip: int, overlap: int) -> List[int]:
    """Chip starts along one axis; the last chip ends at the border."""
    if length <= chip:
        return [0]
    stride = chip - overlap
    starts = list(range(0, length - chip + 1, stride))
    if starts[-1] + chip < length:
        starts.append(length - chip)
    return starts


def chip_boxes(boxes: Sequence[Tuple[int, List[float]]], x0: int, y0: int, w: int,
               h: int, min_visible: float, counts: Counter
               ) -> List[Tuple[int, List[float]]]:
    """The boxes of one chip, in chip coordinates."""
    out = []
    for type_id, (bx1, by1, bx2, by2) in boxes:
        area = max(bx2 - bx1, 0) * max(by2 - by1, 0)
        cx1, cy1 = max(bx1, x0), max(by1, y0)
        cx2, cy2 = min(bx2, x0 + w), min(by2, y0 + h)
        if cx2 <= cx1 or cy2 <= cy1:
            continue  # not in this chip
        if area <= 0 or (cx2 - cx1) * (cy2 - cy1) < min_visible * area:
            counts['boxes mostly outside a chip dropped from it'] += 1
            continue
        if cx2 - cx1 < 1 or cy2 - cy1 < 1:
            counts['boxes under 1 px after clipping dropped'] += 1
            continue
        if (cx1, cy1, cx2, cy2) != (bx1, by1, bx2, by2):
            counts['boxes clipped to a chip'] += 1
        out.append((type_id, [cx1 - x0, cy1 - y0, cx2 - x0, cy2 - y0]))
    return out


def check_options(chip_size: int, overlap: int, min_visible: float) -> None:
    """An overlap outside ``[0, chip_size)`` or a ``min_visible`` outside ``(0, 1]`` is
    an error."""
    if not 0 <= overlap < chip_size:
        raise ValueError(f'overlap must be in [0, chip_size={chip_size}), got {overlap}')
    if not 0 < min_visible <= 1:
        raise ValueError(f'min_visible must be in (0, 1], got {min_visible}')


def labelled_scenes(boxes: Dict[str, list], img_dir: str, geojson: str,
                    counts: Counter) -> List[str]:
    """The labelled scenes whose image is in ``img_dir``, shortest name first then in
    name order; the others are counted, none found is an error."""
    scenes = []
    for scene in sorted(boxes, key=lambda s: (len(s), s)):
        path = osp.join(img_dir, scene)
        if not osp.isfile(path):
            counts['labelled scenes without their image skipped'] += 1
            continue
        scenes.append(scene)
    if not scenes:
        raise FileNotFoundError(f'none of the {len(boxes)} labelled scenes of {geojson} '
                                f'is in {img_dir}')
    return scenes


def write_scene_chips(scene: str, img: np.ndarray, boxes: Dict[str, list],
                      out_dir: str, opts: dict, chips_of: Dict[str, List[dict]],
                      anns_of: Dict[int, list], counts: Counter) -> None:
    """Cut one scene into chips and write each PNG (those without boxes only with
    ``keep_empty``, else counted): its COCO image record (ids 1..N over all scenes)
    goes to ``chips_of[scene]``, its boxes to ``anns_of[id]``."""
    import cv2
    chip_size = opts['chip_size']
    h, w = img.shape[:2]
    chips_of[scene] = []
    for y0 in chip_origins(h, chip_size, opts['overlap']):
        for x0 in chip_origins(w, chip_size, opts['overlap']):
            cw, ch = min(chip_size, w - x0), min(chip_size, h - y0)
            inside = chip_boxes(boxes[scene], x0, y0, cw, ch, opts['min_visible'],
                                counts)
            if not inside and not opts['keep_empty']:
                counts['chips without boxes left out'] += 1
                continue
            name = f'{osp.splitext(scene)[0]}_{x0}_{y0}.png'
            cv2.imwrite(osp.join(out_dir, 'images', name),
                        img[y0:y0 + ch, x0:x0 + cw, ::-1])  # RGB -> BGR for cv2
            info = dict(id=len(anns_of) + 1, file_name=name, width=cw, height=ch,
                        source_image=scene, chip_x0=x0, chip_y0=y0)
            chips_of[scene].append(info)
            anns_of[info['id']] = inside


def write_class_map(out_dir: str) -> List[dict]:
    """Write ``xview_class_map.txt`` (type_id, category_id, name of the 60 classes);
    return the COCO categories."""
    categories = [dict(id=CATEGORY_OF[t], name=XVIEW_CLASSES[t], xview_type_id=t)
                  for t in sorted(XVIEW_CLASSES)]
    with open(osp.join(out_dir, 'xview_class_map.txt'), 'w') as f:
        f.write('type_id,category_id,name\n')
        for t in sorted(XVIEW_CLASSES):
            f.write(f'{t},{CATEGORY_OF[t]},{XVIEW_CLASSES[t]}\n')
    return categories


def split_scenes(scenes: List[str], folds: int, val_fraction: float,
                 seed: int) -> List[Tuple[str, List[str]]]:
    """``(COCO file name, its scenes)`` in writing order: each fold's train and val
    files for ``folds > 1`` (more folds than scenes is an error), else the train and
    val files of ``val_fraction`` of the scenes (at least one each when there are
    two or more); the scenes shuffled by ``seed``, each file's in name order."""
    order = list(scenes)
    random.Random(seed).shuffle(order)
    if folds > 1:
        if folds > len(order):
            raise ValueError(f'{folds} folds but only {len(order)} scenes')
        parts = [order[k::folds] for k in range(folds)]
        files = []
        for k in range(folds):
            val = sorted(parts[k])
            train = sorted(s for j, p in enumerate(parts) if j != k for s in p)
            files += [(f'xview_fold{k + 1:02d}_train.json', train),
                      (f'xview_fold{k + 1:02d}_val.json', val)]
        return files
    n_val = int(round(val_fraction * len(order))) if val_fraction > 0 else 0
    if val_fraction > 0 and len(order) > 1:
        n_val = min(max(n_val, 1), len(order) - 1)
    return [('xview_train.json', sorted(order[n_val:])),
            ('xview_val.json', sorted(order[:n_val]))]


def write_coco(path: str, scene_list: List[str], chips_of: Dict[str, List[dict]],
               anns_of: Dict[int, list], categories: List[dict], opts: dict) -> str:
    """Write the COCO file ``path`` of the chips of ``scene_list`` (annotation ids
    1..N in chip order, boxes as ``xywh``); return ``path``."""
    imgs = [c for s in scene_list for c in chips_of[s]]
    anns = []
    for c in imgs:
        for type_id, (x1, y1, x2, y2) in anns_of[c['id']]:
            anns.append(dict(id=len(anns) + 1, image_id=c['id'],
                             category_id=CATEGORY_OF[type_id],
                             bbox=[x1, y1, x2 - x1, y2 - y1],
                             area=(x2 - x1) * (y2 - y1), iscrowd=0))
    chip_size, overlap = opts['chip_size'], opts['overlap']
    coco = dict(info=dict(description=f'xView chips {chip_size} px, overlap '
                                      f'{overlap}, by mmkd xview_to_coco.py',
                          chip_size=chip_size, overlap=overlap,
                          min_visible=opts['min_visible']),
                images=imgs, annotations=anns, categories=categories)
    with open(path, 'w') as f:
        json.dump(coco, f)
    return path


def convert(root: str, out_dir: Optional[str] = None,
            geojson: str = 'xView_train.geojson', images: str = 'train_images',
            chip_size: int = 512, overlap: int = 64, min_visible: float = 0.5,
            keep_empty: bool = False, folds: int = 1, val_fraction: float = 0.1,
            seed: int = 0) -> dict:
    """Tile every labelled scene and write the COCO files; return what was done.

    Check the options, read the labels, find the scenes, write every scene's chips and
    the class map, then split the scenes (a bad ``folds`` fails only now, after the
    chips) and write one COCO file per split."""
    import cv2  # noqa: F401  (first, as before: without OpenCV nothing is read)
    check_options(chip_size, overlap, min_visible)
    out_dir = out_dir or osp.join(root, f'coco_chips_{chip_size}')
    opts = dict(chip_size=chip_size, overlap=overlap, min_visible=min_visible,
                keep_empty=keep_empty)
    counts: Counter = Counter()
    boxes = read_geojson(osp.join(root, geojson), counts)
    img_dir = osp.join(root, images)
    os.makedirs(osp.join(out_dir, 'images'), exist_ok=True)
    scenes = labelled_scenes(boxes, img_dir, geojson, counts)
    chips_of: Dict[str, List[dict]] = {}
    anns_of: Dict[int, list] = {}
    for scene in scenes:
        img = read_scene(osp.join(img_dir, scene), counts)
        write_scene_chips(scene, img, boxes, out_dir, opts, chips_of, anns_of, counts)
    categories = write_class_map(out_dir)
    written = [write_coco(osp.join(out_dir, name), scene_list, chips_of, anns_of,
                          categories, opts)
               for name, scene_list in split_scenes(scenes, folds, val_fraction, seed)]
    return dict(scenes=len(scenes), chips=sum(len(c) for c in chips_of.values()),
                boxes=sum(len(a) for a in anns_of.values()), notes=dict(counts),
                written=written)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='the xView folder (train_images/, '
                        'xView_train.geojson)')
    parser.add_argument('--out', help='output folder (default: '
                        '<root>/coco_chips_<chip size>)')
    parser.add_argument('--geojson', default='xView_train.geojson')
    parser.add_argument('--images', default='train_images')
    parser.add_argument('--chip-size', type=int, default=512)
    parser.add_argument('--overlap', type=int, default=64)
    parser.add_argument('--min-visible', type=float, default=0.5,
                        help='keep a box in a chip when at least this fraction of its '
                        'area is inside (default 0.5)')
    parser.add_argument('--keep-empty', action='store_true',
                        help='also write chips without boxes')
    parser.add_argument('--folds', type=int, default=1,
                        help='K > 1: K cross-validation folds of the scenes')
    parser.add_argument('--val-fraction', type=float, default=0.1)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    s = convert(args.root, args.out, args.geojson, args.images, args.chip_size,
                args.overlap, args.min_visible, args.keep_empty, args.folds,
                args.val_fraction, args.seed)
    print(f'xView: {s["scenes"]} scenes -> {s["chips"]} chips, {s["boxes"]} boxes')
    for note, n in s['notes'].items():
        print(f'  {n} {note}')
    print(f'  wrote {", ".join(osp.basename(p) for p in s["written"])} and '
          f'xview_class_map.txt to {osp.dirname(s["written"][0])}')


if __name__ == '__main__':
    main()
