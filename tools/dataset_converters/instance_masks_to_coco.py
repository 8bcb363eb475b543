"""Convert instance-mask PNGs (one id or colour per instance) to COCO boxes and masks.

The layout of SAR ship sets such as HRSID, SSDD and ISSID when their instance masks are
given as images, and of most hand-labelled sets exported from an annotation tool::

    <images>/P0001_0_800_7200_8000.jpg    the images (any format mmdet reads)
    <masks>/P0001_0_800_7200_8000.png     one mask per image, same stem
                                          (``--mask-suffix _mask``: ``<stem>_mask.png``)

A mask holds one value per instance and 0 for the background: a single-band 8- or
16-bit PNG (instance ids 1, 2, 3 ...), a palette PNG (the palette index is the id) or an
RGB(A) PNG (one colour per instance, black background; fully transparent pixels are
background). An id may cover several separate regions (an instance split by another
one); it is still one instance. Use PNG: a JPEG mask's compression noise would make
thousands of spurious instances.

Classes: every instance is ``--classes``' single class (default ``ship``), or, with
``--class-map FILE``, the class its mask value is listed with, one ``value name`` line
per value (``#`` comments; a colour is written ``r,g,b``)::

    1 ship
    2 ship
    255,0,0 oil_tank

An instance whose value the map does not list is an error naming the file and the value
(``--on-unmapped skip`` leaves such instances out and counts them).

Written (``--out``): one COCO file with ``images`` (``file_name`` relative to
``<images>``, so mmdet's ``CocoDataset`` reads it with ``data_prefix=dict(img=...)``),
``categories`` (ids 1..K in the order of ``--classes``, or of first appearance in the
class map) and one annotation per instance: ``bbox`` (``[x, y, w, h]``, the pixel extent
of the mask: a one-pixel instance is ``[x, y, 1, 1]``), ``area`` (the mask's pixel count),
``iscrowd`` 0 and ``segmentation``: compressed RLE (default) or, with ``--mask-format
polygon``, one polygon per separate part, traced along the pixels' outer edges so that
it decodes to exactly the mask (each polygon is checked); an instance with a hole keeps
an RLE (COCO polygons cannot cut one) and is counted. Either way mmdet's
``LoadAnnotations(with_mask=True)`` gets the mask back pixel for pixel. Masks are encoded
with pycocotools and traced with mmdet's ``bitmap_to_polygon``.

Bad input, each stopped with a message naming the file, or counted and reported:
an image without a mask (error; ``--on-missing-mask empty`` keeps it with no instances,
``skip`` leaves it out), a mask without an image (counted), a mask whose size differs
from its image's (error), instances under ``--min-area`` pixels (dropped, counted),
images without instances (kept, counted: mmdet's ``filter_empty_gt`` leaves them out of
training), no image at all (error).

    python tools/dataset_converters/instance_masks_to_coco.py data/HRSID/images \\
        data/HRSID/masks --out data/HRSID/annotations/train.json \\
        [--ids data/HRSID/train.txt] [--classes ship] [--mask-format rle]

``--ids FILE`` converts only the image stems listed (one per line), e.g. an official
split; run the converter once per split.
"""
import argparse
import json
import os
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')
Value = Union[int, Tuple[int, int, int]]


class MaskFormatError(ValueError):
    """A mask or class map is not in the format this module's docstring describes."""


def read_instance_mask(path: str) -> Tuple[np.ndarray, bool]:
    """``(ids, is_colour)``: an ``H x W`` int64 array of instance values (0 background);
    a colour ``(r, g, b)`` is packed as ``r << 16 | g << 8 | b``."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            mode = im.mode
            arr = np.asarray(im)
    except Exception as e:  # PIL.UnidentifiedImageError, truncated files, ...
        raise MaskFormatError(f'cannot read mask {path}: {e}') from None
    if mode in ('RGB', 'RGBA'):
        rgb = arr[..., :3].astype(np.int64)
        ids = rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]
        if mode == 'RGBA':
            ids[arr[..., 3] == 0] = 0  # transparent: background
        return ids, True
    if arr.ndim != 2:
        raise MaskFormatError(f'{path}: mask mode {mode!r} with shape {arr.shape}; '
                              f'expected a single-band, palette or RGB(A) PNG')
    if np.issubdtype(arr.dtype, np.floating) or arr.dtype == bool:
        raise MaskFormatError(f'{path}: a {arr.dtype} mask; instance ids must be '
                              f'integers (an 8/16-bit or palette PNG)')
    return arr.astype(np.int64), False


def value_text(value: int, is_colour: bool) -> str:
    if is_colour:
        return f'{value >> 16 & 255},{value >> 8 & 255},{value & 255}'
    return str(value)


def read_class_map(path: str) -> Tuple[Dict[Value, str], List[str]]:
    """``value -> class name`` and the class names in order of first appearance."""
    mapping: Dict[Value, str] = {}
    names: List[str] = []
    with open(path) as f:
        for i, line in enumerate(f):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 1)
            if len(parts) != 2:
                raise MaskFormatError(f'{path}:{i + 1}: expected "<value> <class name>" '
                                      f'(a colour as r,g,b), got {line!r}')
            key, name = parts[0], parts[1].strip()
            try:
                if ',' in key:
                    r, g, b = (int(v) for v in key.split(','))
                    value: Value = (r, g, b)
                else:
                    value = int(key)
            except ValueError:
                raise MaskFormatError(f'{path}:{i + 1}: {key!r} is neither an integer '
                                      f'id nor an r,g,b colour') from None
            if value in (0, (0, 0, 0)):
                raise MaskFormatError(f'{path}:{i + 1}: 0 is the background and cannot '
                                      f'be a class')
            mapping[value] = name
            if name not in names:
                names.append(name)
    if not mapping:
        raise MaskFormatError(f'{path} lists no "<value> <class name>" line')
    return mapping, names


def mask_to_polygons(mask: np.ndarray) -> Optional[List[List[float]]]:
    """COCO polygons of a binary mask that decode (pycocotools) to exactly the mask, or
    None for a mask with a hole.

    mmdet's ``bitmap_to_polygon`` (OpenCV contours) traces the centres of the boundary
    pixels, and a polygon through pixel centres decodes to a mask one pixel smaller on
    the right and bottom (under 0.8 IoU for a 10 x 8 px ship). Traced on the mask
    upsampled 2x, the centres ``c`` map back to ``(c + 0.5) / 2``, a quarter pixel inside
    the outer pixel edges, which pycocotools rasterises to the mask itself."""
    from mmdet.structures.mask import bitmap_to_polygon
    from pycocotools import mask as mask_utils
    up = np.repeat(np.repeat(mask, 2, axis=0), 2, axis=1)
    contours, with_hole = bitmap_to_polygon(up)
    if with_hole or not contours:
        return None
    polys = [((c.astype(np.float64) + 0.5) / 2).reshape(-1).tolist() for c in contours]
    h, w = mask.shape
    decoded = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polys, h, w)))
    if not np.array_equal(decoded, mask):
        return None  # not seen on any shape tried; an RLE is exact whatever happens
    return polys


def encode_rle(mask: np.ndarray) -> dict:
    from pycocotools import mask as mask_utils
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')  # JSON: compressed counts as text
    return rle


def instances_of(ids: np.ndarray, min_area: int
                 ) -> Tuple[List[Tuple[int, np.ndarray]], int]:
    """``[(value, binary mask)]`` for every non-zero value, and how many were smaller
    than ``min_area`` pixels (left out)."""
    values, counts = np.unique(ids, return_counts=True)
    out, small = [], 0
    for v, n in zip(values.tolist(), counts.tolist()):
        if v == 0:
            continue
        if n < min_area:
            small += 1
            continue
        out.append((v, (ids == v).astype(np.uint8)))
    return out, small


def find_images(images_dir: str) -> Dict[str, str]:
    """image stem -> path relative to ``images_dir`` (sub-folders included)."""
    found: Dict[str, str] = {}
    for dirpath, _, files in os.walk(images_dir):
        for name in sorted(files):
            stem, ext = osp.splitext(name)
            if ext.lower() not in IMAGE_EXTS:
                continue
            rel = osp.relpath(osp.join(dirpath, name), images_dir)
            if stem in found:
                raise MaskFormatError(f'two images with the stem {stem!r}: '
                                      f'{found[stem]} and {rel} in {images_dir}; masks '
                                      f'are matched by stem, so stems must be unique')
            found[stem] = rel
    return found


def image_size(path: str) -> Tuple[int, int]:
    from PIL import Image
    try:
        with Image.open(path) as im:
            return im.size  # (w, h), from the header only
    except Exception as e:
        raise MaskFormatError(f'cannot read image {path}: {e}') from None


def resolve_classes(mask_format: str, images_dir: str, masks_dir: str,
                    classes: Sequence[str], class_map: Optional[str]
                    ) -> Tuple[Optional[Dict[Value, str]], List[str]]:
    """Check the options and folders; the class map (None without ``class_map``) and
    the class names, in category-id order."""
    if mask_format not in ('rle', 'polygon'):
        raise ValueError(f"mask_format must be 'rle' or 'polygon', got {mask_format!r}")
    for d, what in ((images_dir, 'images'), (masks_dir, 'masks')):
        if not osp.isdir(d):
            raise FileNotFoundError(f'{what} folder {d} does not exist')
    mapping: Optional[Dict[Value, str]] = None
    if class_map:
        mapping, classes = read_class_map(class_map)
    classes = list(classes)
    if not classes:
        raise ValueError('no classes: give --classes or --class-map')
    if mapping is None and len(classes) > 1:
        raise ValueError(f'{len(classes)} classes {classes} but no class map: without '
                         f'--class-map every instance has the one class of --classes')
    return mapping, classes


def select_images(images_dir: str, ids_file: Optional[str]) -> Dict[str, str]:
    """image stem -> relative path of the images to convert: all of ``images_dir``, or
    the stems ``ids_file`` lists (each must exist); none is an error."""
    images = find_images(images_dir)
    if ids_file:
        with open(ids_file) as f:
            wanted = [osp.splitext(osp.basename(t))[0] for t in f.read().split()]
        missing = [s for s in wanted if s not in images]
        if missing:
            raise FileNotFoundError(f'{ids_file} lists {len(missing)} image(s) not in '
                                    f'{images_dir}, e.g. {missing[:3]}')
        images = {s: images[s] for s in wanted}
    if not images:
        raise FileNotFoundError(f'no image ({"/".join(IMAGE_EXTS)}) in {images_dir}')
    return images


def find_masks(masks_dir: str, mask_suffix: str) -> Dict[str, str]:
    """image stem -> path of its mask, ``<stem><mask_suffix>.png`` in ``masks_dir``."""
    masks = {}
    for name in os.listdir(masks_dir):
        stem, ext = osp.splitext(name)
        if ext.lower() != '.png' or not stem.endswith(mask_suffix):
            continue
        masks[stem[:len(stem) - len(mask_suffix)] if mask_suffix else stem] = osp.join(
            masks_dir, name)
    return masks


def image_instances(img_path: str, mask_path: Optional[str], expected: str, w: int,
                    h: int, opts: dict, notes: Counter
                    ) -> Optional[Tuple[List[Tuple[int, np.ndarray]], bool]]:
    """``(instances, is_colour)`` of one ``w x h`` image, from its mask (or none when it
    has no mask and ``on_missing_mask`` is ``empty``); None when it is left out
    (``skip``). A missing mask (``error``) or one of another size is an error; drops
    are counted in ``notes``."""
    if mask_path is None:
        if opts['on_missing_mask'] == 'error':
            raise FileNotFoundError(
                f'{img_path} has no mask: {expected} does not exist. Fix the data, '
                f'set --mask-suffix if masks are named <stem><suffix>.png, or use '
                f'--on-missing-mask empty (keep it without instances) or skip')
        if opts['on_missing_mask'] == 'skip':
            notes['images without a mask left out'] += 1
            return None
        notes['images without a mask kept with no instances'] += 1
        return [], False
    ids, is_colour = read_instance_mask(mask_path)
    if ids.shape != (h, w):
        raise MaskFormatError(f'{mask_path} is {ids.shape[1]}x{ids.shape[0]} but '
                              f'its image {img_path} is {w}x{h}')
    inst, small = instances_of(ids, opts['min_area'])
    if small:
        notes[f'instances under {opts["min_area"]} px dropped'] += small
    return inst, is_colour


def instance_class(value: int, is_colour: bool, mask_path: Optional[str], opts: dict,
                   notes: Counter) -> Optional[str]:
    """The class name of one instance value: the single class without a class map,
    else the map's; an unmapped value is an error or (``on_unmapped='skip'``) None,
    counted in ``notes``."""
    mapping = opts['mapping']
    if mapping is None:
        return opts['classes'][0]
    key: Value = (value >> 16 & 255, value >> 8 & 255, value & 255) \
        if is_colour else value
    name = mapping.get(key)
    if name is None:
        if opts['on_unmapped'] == 'error':
            raise MaskFormatError(
                f'{mask_path}: instance value {value_text(value, is_colour)} '
                f'is not in the class map {opts["class_map"]}; add it or use '
                f'--on-unmapped skip')
        notes['instances of values not in the class map left out'] += 1
    return name


def instance_annotation(mask: np.ndarray, mask_format: str, notes: Counter) -> dict:
    """``bbox``, ``area`` and ``segmentation`` of one instance's binary mask: an RLE, or
    polygons with ``mask_format='polygon'`` (an RLE for a mask with a hole, counted in
    ``notes``)."""
    from pycocotools import mask as mask_utils
    rle = encode_rle(mask)
    segmentation: Union[dict, list] = rle
    if mask_format == 'polygon':
        polys = mask_to_polygons(mask)
        if polys is None:
            notes['instances with a hole kept as RLE'] += 1
        else:
            segmentation = polys
    bbox = [float(v) for v in mask_utils.toBbox(rle)]
    return dict(bbox=bbox, area=float(mask_utils.area(rle)), segmentation=segmentation)


def add_image(stem: str, images: Dict[str, str], masks: Dict[str, str], opts: dict,
              coco_images: List[dict], annotations: List[dict], per_class: Counter,
              notes: Counter) -> None:
    """Append one image and its instances to ``coco_images`` / ``annotations`` (ids
    1..N in order), counting the instances per class and what was left out."""
    img_path = osp.join(opts['images_dir'], images[stem])
    w, h = image_size(img_path)
    expected = osp.join(opts['masks_dir'], f'{stem}{opts["mask_suffix"]}.png')
    mask_path = masks.get(stem)
    found = image_instances(img_path, mask_path, expected, w, h, opts, notes)
    if found is None:
        return
    inst, is_colour = found
    image_id = len(coco_images) + 1
    coco_images.append(dict(id=image_id, file_name=images[stem], width=w, height=h))
    kept = 0
    for value, mask in inst:
        name = instance_class(value, is_colour, mask_path, opts, notes)
        if name is None:
            continue
        ann = instance_annotation(mask, opts['mask_format'], notes)
        annotations.append(dict(
            id=len(annotations) + 1, image_id=image_id, category_id=opts['cat_id'][name],
            bbox=ann['bbox'], area=ann['area'], iscrowd=0,
            segmentation=ann['segmentation']))
        per_class[name] += 1
        kept += 1
    if not kept:
        notes['images without instances (kept)'] += 1


def write_coco(out: str, opts: dict, coco_images: List[dict],
               annotations: List[dict]) -> None:
    """Write the COCO file ``out`` (its folder made as needed)."""
    cat_id = opts['cat_id']
    coco = dict(
        info=dict(description='instance masks as COCO, by mmkd instance_masks_to_coco.py',
                  images=osp.abspath(opts['images_dir']),
                  masks=osp.abspath(opts['masks_dir']), mask_format=opts['mask_format']),
        images=coco_images, annotations=annotations,
        categories=[dict(id=cat_id[c], name=c, supercategory=c) for c in opts['classes']])
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(coco, f)


def convert(images_dir: str, masks_dir: str, out: str,
            classes: Sequence[str] = ('ship', ),
            class_map: Optional[str] = None,
            mask_suffix: str = '',
            mask_format: str = 'rle',
            ids_file: Optional[str] = None,
            min_area: int = 1,
            on_missing_mask: str = 'error',
            on_unmapped: str = 'error') -> dict:
    """Write the COCO file ``out``; return what was done (counts, classes, path)."""
    mapping, classes = resolve_classes(mask_format, images_dir, masks_dir, classes,
                                       class_map)
    opts = dict(images_dir=images_dir, masks_dir=masks_dir, mapping=mapping,
                classes=classes, class_map=class_map, mask_suffix=mask_suffix,
                mask_format=mask_format, min_area=min_area,
                on_missing_mask=on_missing_mask, on_unmapped=on_unmapped,
                cat_id={name: i + 1 for i, name in enumerate(classes)})
    images = select_images(images_dir, ids_file)
    masks = find_masks(masks_dir, mask_suffix)
    notes: Counter = Counter()
    per_class: Counter = Counter()
    coco_images: List[dict] = []
    annotations: List[dict] = []
    for stem in sorted(images):
        add_image(stem, images, masks, opts, coco_images, annotations, per_class, notes)
    unused = sorted(set(masks) - set(images)) if not ids_file else []
    if unused:
        notes['masks without an image ignored'] += len(unused)
    write_coco(out, opts, coco_images, annotations)
    return dict(images=len(coco_images), instances=len(annotations),
                classes={c: per_class[c] for c in classes}, notes=dict(notes),
                written=out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('images', help='the image folder (sub-folders are searched)')
    parser.add_argument('masks', help='the folder of instance-mask PNGs')
    parser.add_argument('--out', required=True, help='the COCO file to write')
    parser.add_argument('--classes', nargs='+', default=['ship'],
                        help='the class of every instance (default: ship)')
    parser.add_argument('--class-map', help='"<value> <class>" lines: the class of each '
                        'mask value (a colour as r,g,b)')
    parser.add_argument('--mask-suffix', default='',
                        help='masks are <image stem><suffix>.png (e.g. _mask)')
    parser.add_argument('--mask-format', choices=['rle', 'polygon'], default='rle')
    parser.add_argument('--ids', help='convert only the image stems listed (one a line)')
    parser.add_argument('--min-area', type=int, default=1,
                        help='instances under this many pixels are left out')
    parser.add_argument('--on-missing-mask', choices=['error', 'empty', 'skip'],
                        default='error')
    parser.add_argument('--on-unmapped', choices=['error', 'skip'], default='error')
    args = parser.parse_args(argv)
    s = convert(args.images, args.masks, args.out, args.classes, args.class_map,
                args.mask_suffix, args.mask_format, args.ids, args.min_area,
                args.on_missing_mask, args.on_unmapped)
    print(f'{s["images"]} images, {s["instances"]} instances {s["classes"]}')
    for note, n in s['notes'].items():
        print(f'  {n} {note}')
    print(f'  wrote {s["written"]}')


if __name__ == '__main__':
    main()
