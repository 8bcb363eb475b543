"""A small *synthetic* paired detection benchmark, generated for the demo and the tests.

Nothing here is real imagery. Each scene is a top-down view of a few vehicle-like
objects (four made-up classes: ``car``, ``truck``, ``boat``, ``plane``) at random
positions, sizes and headings on a textured background (fields, a road, a lake), in the
spirit of VEDAI's aerial vehicle chips. Every scene is rendered twice, with **one set of
boxes shared by both renderings**:

- ``optical``: 3-band colour (8-bit PNG), objects in random paint colours with shading;
- ``infrared``: a degraded single-band rendering (8-bit grey PNG) standing in for
  infrared/SAR: objects show as thermal signatures (warm bodies, hot engines) rather
  than colour, the background texture is remapped, and the image is blurred, speckled
  (multiplicative Gamma noise) and low in contrast.

Layout, COCO-style so mmdet's ``CocoDataset`` reads it as is::

    <root>/optical/{train,val}/000000.png
    <root>/infrared/{train,val}/000000.png
    <root>/annotations/{train,val}.json     # file_name 'train/000000.png', shared boxes

Configs read one modality with ``data_prefix=dict(img='optical/')`` (or
``'infrared/'``); a paired dataset can read both with the same annotation file.
Generation is deterministic: image ``i`` of a split depends only on ``(seed, split, i)``,
``size``, ``max_objects`` and ``style``.

Two styles of scene (``style``; issue #12, the detection study's "generic -> remote
sensing" reading at CPU scale):

- ``'aerial'`` (the default): the VEDAI-like chips above, objects 20-56 px long at
  256 px (about 8-22 % of the scene side), 1-6 per scene;
- ``'generic'``: the same classes, renderings and backgrounds seen from close by, as
  in Pascal VOC: few large objects, 1-3 per scene, each 25-70 % of the scene side long
  (the aerial lengths x 3.2).
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

CLASSES: Tuple[str, ...] = ('car', 'truck', 'boat', 'plane')
PALETTE: List[Tuple[int, int, int]] = [(220, 20, 60), (0, 128, 255), (0, 200, 120),
                                       (255, 180, 0)]
MODALITIES: Tuple[str, ...] = ('optical', 'infrared')
METAINFO = dict(classes=CLASSES, palette=PALETTE)

# Object sizes at a 256 px scene: (length range, width / length), in pixels.
_SHAPES: Dict[str, Tuple[Tuple[float, float], float]] = {
    'car': ((20, 30), 0.50),
    'truck': ((34, 50), 0.38),
    'boat': ((26, 44), 0.33),
    'plane': ((36, 56), 0.95),  # wingspan ~ length
}
# Each style's object scale (a factor on the lengths above) and default object count.
# 'generic' maps the lengths' full range, 20-56 px at 256 px, onto 25-70 % of the side
# (20 x 3.2 / 256 = 0.25, 56 x 3.2 / 256 = 0.70).
STYLES: Dict[str, Dict[str, float]] = {
    'aerial': dict(object_scale=1.0, max_objects=6),
    'generic': dict(object_scale=3.2, max_objects=3),
}
DEFAULT_STYLE = 'aerial'
# Thermal signature in the infrared rendering: (body, hot spot) intensity in 0..1.
_THERMAL = {'car': (0.70, 0.95), 'truck': (0.62, 1.00), 'boat': (0.55, 0.85),
            'plane': (0.80, 0.90)}


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a random ``cells`` x ``cells`` grid, upsampled."""
    import cv2
    grid = rng.random((cells, cells)).astype(np.float32)
    return cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _background(rng: np.random.Generator, size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Colour background (H, W, 3) in [0, 1] and its material map (0 land, 1 road,
    2 water) for the infrared rendering."""
    import cv2
    field = 0.6 * _smooth_noise(rng, size, 4) + 0.4 * _smooth_noise(rng, size, 16)
    base = np.array(rng.choice([[0.35, 0.45, 0.25], [0.45, 0.42, 0.30],
                                [0.30, 0.40, 0.30]]), np.float32)
    img = base[None, None] * (0.7 + 0.6 * field[..., None])
    img += rng.normal(0, 0.03, (size, size, 3)).astype(np.float32)  # grain
    material = np.zeros((size, size), np.uint8)
    if rng.random() < 0.7:  # a road crossing the scene
        road = np.zeros((size, size), np.uint8)
        p0 = rng.uniform(0, size, 2)
        p1 = rng.uniform(0, size, 2)
        d = p1 - p0
        p0, p1 = p0 - 2 * d, p1 + 2 * d
        cv2.line(road, tuple(int(v) for v in p0), tuple(int(v) for v in p1), 1,
                 thickness=max(3, int(size * rng.uniform(0.06, 0.1))))
        img[road > 0] = np.array([0.42, 0.42, 0.43], np.float32) * (
            0.9 + 0.2 * field[road > 0, None])
        material[road > 0] = 1
    if rng.random() < 0.4:  # a lake
        lake = np.zeros((size, size), np.uint8)
        c = rng.uniform(0, size, 2).astype(int)
        axes = (int(size * rng.uniform(0.15, 0.3)), int(size * rng.uniform(0.1, 0.25)))
        cv2.ellipse(lake, tuple(int(v) for v in c), axes, rng.uniform(0, 180), 0, 360, 1,
                    -1)
        img[lake > 0] = np.array([0.15, 0.25, 0.40], np.float32) * (
            0.9 + 0.2 * field[lake > 0, None])
        material[lake > 0] = 2
    return img.clip(0, 1), material


def _polygons(cls_name: str, cx: float, cy: float, length: float, width: float,
              theta: float) -> List[np.ndarray]:
    """The object's parts as polygons (float (K, 2) arrays) in image coordinates."""
    c, s = np.cos(theta), np.sin(theta)

    def place(pts):
        pts = np.asarray(pts, np.float32)
        u, v = pts[:, 0] * length / 2, pts[:, 1] * width / 2
        return np.stack([cx + u * c - v * s, cy + u * s + v * c], 1)

    if cls_name == 'car':
        return [place([(-1, -1), (1, -1), (1, 1), (-1, 1)])]
    if cls_name == 'truck':  # cargo box and a separate cab
        return [place([(-1, -1), (0.45, -1), (0.45, 1), (-1, 1)]),
                place([(0.55, -0.85), (1, -0.85), (1, 0.85), (0.55, 0.85)])]
    if cls_name == 'boat':  # pointed hull
        return [place([(-1, -0.8), (0.4, -1), (1, 0), (0.4, 1), (-1, 0.8)])]
    if cls_name == 'plane':  # fuselage, wings, tail
        return [place([(-1, -0.12), (1, -0.12), (1, 0.12), (-1, 0.12)]),
                place([(-0.05, -1), (0.25, -1), (0.25, 1), (-0.05, 1)]),
                place([(-1, -0.4), (-0.8, -0.4), (-0.8, 0.4), (-1, 0.4)])]
    raise KeyError(cls_name)


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _draw_object(rng: np.random.Generator, size: int, scale: float,
                 objects: List[Tuple[str, List[float]]], optical: np.ndarray,
                 thermal: np.ndarray) -> None:
    """Draw one object's size, heading and place; when its box fits the image and
    overlaps no box of ``objects`` (IoU <= 0.1), append it and paint it into
    ``optical`` and ``thermal`` (in place, with a hot spot near its front)."""
    import cv2
    name = CLASSES[int(rng.integers(len(CLASSES)))]
    (lo, hi), aspect = _SHAPES[name]
    length = rng.uniform(lo, hi) * scale
    width = length * aspect * rng.uniform(0.9, 1.1)
    theta = rng.uniform(0, np.pi)
    margin = length / 2 + 1
    if 2 * margin >= size:
        return
    cx, cy = rng.uniform(margin, size - margin, 2)
    polys = _polygons(name, cx, cy, length, width, theta)
    pts = np.concatenate(polys)
    box = [float(max(0.0, pts[:, 0].min())), float(max(0.0, pts[:, 1].min())),
           float(min(size, pts[:, 0].max())), float(min(size, pts[:, 1].max()))]
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return
    if any(_iou(box, b) > 0.1 for _, b in objects):
        return
    objects.append((name, box))

    colour = rng.uniform(0.1, 0.95, 3).astype(np.float32)
    body, hot = _THERMAL[name]
    body = body + rng.uniform(-0.05, 0.05)
    for k, poly in enumerate(polys):
        mask = np.zeros((size, size), np.uint8)
        cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1, shift=4)
        shade = 1.0 if k == 0 else 0.8
        optical[mask > 0] = colour * shade
        thermal[mask > 0] = body * shade
    # a hot spot (engine) near the front
    c, s = np.cos(theta), np.sin(theta)
    hx, hy = cx + 0.5 * length / 2 * c, cy + 0.5 * length / 2 * s
    yy, xx = np.mgrid[0:size, 0:size]
    thermal += (hot - body) * np.exp(
        -((xx - hx)**2 + (yy - hy)**2) / (2 * (0.12 * length)**2)).astype(np.float32)


def _degrade_infrared(rng: np.random.Generator, thermal: np.ndarray,
                      scale: float) -> np.ndarray:
    """The thermal map as the degraded single band: blur, low contrast, speckle, additive
    noise; uint8."""
    import cv2
    ir = cv2.GaussianBlur(thermal, (0, 0), 1.6 * scale + 0.4)
    ir = 0.15 + 0.65 * ir
    ir = ir * rng.gamma(shape=12.0, scale=1 / 12.0, size=ir.shape)
    ir = ir + rng.normal(0, 0.025, ir.shape)
    return (ir.clip(0, 1) * 255).round().astype(np.uint8)


def _style(style: str) -> Dict[str, float]:
    """The settings of scene style ``style`` (a key of ``STYLES``)."""
    if style not in STYLES:
        raise ValueError(f'synthetic_det style {style!r}: one of {sorted(STYLES)}')
    return STYLES[style]


def render_scene(rng: np.random.Generator, size: int = 256,
                 max_objects: Optional[int] = None, style: str = DEFAULT_STYLE
                 ) -> Tuple[np.ndarray, np.ndarray, List[Tuple[str, List[float]]]]:
    """One scene: ``(optical (H, W, 3) uint8 BGR, infrared (H, W) uint8, objects)``,
    ``objects`` being ``(class name, [x1, y1, x2, y2])`` with boxes inside the image.
    ``max_objects`` defaults to the style's (6 aerial, 3 generic); the style scales the
    objects only (background, blur and noise follow ``size`` alone)."""
    import cv2
    settings = _style(style)
    if max_objects is None:
        max_objects = int(settings['max_objects'])
    scale = size / 256.0
    object_scale = scale * settings['object_scale']  # x 1.0: the aerial draws unchanged
    optical, material = _background(rng, size)
    thermal = np.where(material == 2, 0.15, np.where(material == 1, 0.45, 0.30))
    thermal = (thermal + 0.15 * _smooth_noise(rng, size, 8)).astype(np.float32)

    objects: List[Tuple[str, List[float]]] = []
    n = int(rng.integers(1, max_objects + 1))
    for _ in range(20 * n):  # rejection sampling: objects do not overlap much
        if len(objects) == n:
            break
        _draw_object(rng, size, object_scale, objects, optical, thermal)

    optical = cv2.GaussianBlur(optical, (0, 0), 0.6 * scale + 0.2)
    optical = (optical + rng.normal(0, 0.01, optical.shape)).clip(0, 1)
    optical_u8 = (optical[..., ::-1] * 255).round().astype(np.uint8)  # RGB -> BGR for cv2
    return optical_u8, _degrade_infrared(rng, thermal, scale), objects


def _scene_rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, {'train': 0, 'val': 1, 'test': 2}[split], index])


def make_synthetic_det(root: str, num_train: int = 400, num_val: int = 100,
                       size: int = 256, seed: int = 0, max_objects: Optional[int] = None,
                       style: str = DEFAULT_STYLE) -> str:
    """Write the benchmark under ``root`` (skipped when it is already complete).

    Args:
        root: Output folder.
        num_train: Training scenes.
        num_val: Validation scenes (also used as the test split by the configs).
        size: Scene side in pixels (objects scale with it).
        seed: Random seed; the same arguments always give the same files.
        max_objects: At most this many objects per scene (at least one); default: the
            style's (6 for ``'aerial'``, 3 for ``'generic'``).
        style: ``'aerial'`` (small vehicles, the default) or ``'generic'`` (few large
            objects, VOC-like); see the module docstring.

    Returns:
        ``root``.
    """
    settings = _style(style)
    if max_objects is None:
        max_objects = int(settings['max_objects'])
    # the default style keeps the stamp (and every file) it had before styles existed
    stamp = osp.join(root, f'.complete-{num_train}-{num_val}-{size}-{seed}-{max_objects}'
                     + ('' if style == DEFAULT_STYLE else f'-{style}'))
    if osp.isfile(stamp):
        return root
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    for split, count in (('train', num_train), ('val', num_val)):
        _write_split(root, split, count, size, seed, max_objects, style)
    with open(stamp, 'w') as f:
        f.write('synthetic detection benchmark generated by mmkd.testing.synthetic_det\n')
    return root


def _write_split(root: str, split: str, count: int, size: int, seed: int,
                 max_objects: int, style: str = DEFAULT_STYLE) -> None:
    """The split's images of both modalities and ``annotations/<split>.json``."""
    import cv2
    for m in MODALITIES:
        os.makedirs(osp.join(root, m, split), exist_ok=True)
    images, annotations = [], []
    for i in range(count):
        optical, infrared, objects = render_scene(_scene_rng(seed, split, i), size,
                                                  max_objects, style)
        file_name = f'{split}/{i:06d}.png'
        cv2.imwrite(osp.join(root, 'optical', file_name), optical)
        cv2.imwrite(osp.join(root, 'infrared', file_name), infrared)
        images.append(dict(id=i, file_name=file_name, width=size, height=size))
        for name, (x1, y1, x2, y2) in objects:
            w, h = x2 - x1, y2 - y1
            annotations.append(dict(
                id=len(annotations) + 1, image_id=i,
                category_id=CLASSES.index(name) + 1,
                bbox=[round(x1, 2), round(y1, 2), round(w, 2), round(h, 2)],
                area=round(w * h, 2), iscrowd=0))
    categories = [dict(id=i + 1, name=n, supercategory='vehicle')
                  for i, n in enumerate(CLASSES)]
    info = dict(description='mmkd synthetic paired detection benchmark (generated, '
                            'not real imagery)', modalities=list(MODALITIES),
                size=size, seed=seed)
    if style != DEFAULT_STYLE:  # the default's files stay byte for byte as before
        info['style'] = style
    coco = dict(info=info, images=images, annotations=annotations, categories=categories)
    with open(osp.join(root, 'annotations', f'{split}.json'), 'w') as f:
        json.dump(coco, f)
