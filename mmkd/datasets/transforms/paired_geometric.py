"""Geometric transforms for paired samples: parameters drawn once, applied to every
modality at its own resolution, with masks and boxes moved consistently.

Parameters are drawn in normalised coordinates (fractions of the image), so an EO chip
at 30 px and a SAR chip at 48 px of the same object get the same crop, flip and
rotation. Masks (``gt_seg_map``) and boxes (``gt_bboxes``, x1y1x2y2 pixels) live in the
frame of ``results['ref_modality']`` (set by the packer's caller or the first modality),
and follow that modality. The drawn parameters are written into the results
(``flip``, ``flip_direction``, ``crop_box``, ``rotate_angle``), so a cached teacher output
can be matched to the exact view.
"""
import random
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmkd.registry import TRANSFORMS
from .host_mapping import per_modality_value

Size = Union[int, Tuple[int, int]]


def _hw(size: Size) -> Tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def ref_modality(results: dict) -> str:
    ref = results.get('ref_modality')
    if ref is None:
        ref = next(iter(results['img']))
        results['ref_modality'] = ref
    return ref


def _apply_to_labels(results: dict, mask_fn=None, box_fn=None) -> None:
    if mask_fn is not None and results.get('gt_seg_map') is not None:
        results['gt_seg_map'] = mask_fn(results['gt_seg_map'])
    if box_fn is not None and results.get('gt_bboxes') is not None:
        boxes = np.asarray(results['gt_bboxes'], dtype=np.float32).reshape(-1, 4)
        results['gt_bboxes'] = box_fn(boxes)


def _set_shape(results: dict, m: str, img: np.ndarray) -> None:
    if img.ndim == 2:
        img = img[..., None]
    results['img'][m] = img
    results['img_shape'][m] = img.shape[:2]


@TRANSFORMS.register_module()
class PairedResize(BaseTransform):
    """Resize each modality to its own size.

    Args:
        sizes (int | tuple | dict): ``(h, w)`` (or one int) for every modality, or a dict
            ``modality -> size``; modalities not in the dict keep their size.
        interpolation (str): mmcv interpolation for images. Defaults to ``'bilinear'``.
    """

    # how it maps to the host pipeline (:mod:`mmkd.datasets.transforms.host_mapping`)
    @staticmethod
    def to_host(cfg: dict, modality: str, raster_files: bool = False) -> list:
        size = per_modality_value(cfg['sizes'], modality)
        if size is None:
            return []
        h, w = (size, size) if isinstance(size, int) else size
        return [dict(type='Resize', scale=(w, h), keep_ratio=False,
                     interpolation=cfg.get('interpolation', 'bilinear'))]

    def __init__(self, sizes: Union[Size, Dict[str, Size]], interpolation: str = 'bilinear'):
        self.sizes = sizes
        self.interpolation = interpolation

    def _size(self, m):
        if isinstance(self.sizes, dict):
            return _hw(self.sizes[m]) if m in self.sizes else None
        return _hw(self.sizes)

    def transform(self, results: dict) -> dict:
        ref = ref_modality(results)
        ref_before = results['img_shape'][ref]
        for m, img in list(results['img'].items()):
            size = self._size(m)
            if size is None or tuple(img.shape[:2]) == size:
                continue
            out = mmcv.imresize(img, (size[1], size[0]), interpolation=self.interpolation)
            _set_shape(results, m, out)
        h0, w0 = ref_before
        h1, w1 = results['img_shape'][ref]
        if (h0, w0) != (h1, w1):
            sy, sx = h1 / h0, w1 / w0
            _apply_to_labels(
                results,
                lambda s: mmcv.imresize(s, (w1, h1), interpolation='nearest'),
                lambda b: b * np.array([sx, sy, sx, sy], np.float32))
        results['scale_factor'] = (w1 / w0, h1 / h0)
        return results


def _crop(results: dict, box_rel: Tuple[float, float, float, float]) -> None:
    """Crop every modality to the same fraction ``(x0, y0, x1, y1)`` of its size."""
    ref = ref_modality(results)
    for m, img in list(results['img'].items()):
        h, w = img.shape[:2]
        x0, y0 = int(round(box_rel[0] * w)), int(round(box_rel[1] * h))
        x1 = max(x0 + 1, int(round(box_rel[2] * w)))
        y1 = max(y0 + 1, int(round(box_rel[3] * h)))
        _set_shape(results, m, img[y0:y1, x0:x1])
        if m == ref:
            ref_box = (x0, y0, x1, y1)
    x0, y0, x1, y1 = ref_box

    def crop_boxes(b):
        b = b - np.array([x0, y0, x0, y0], np.float32)
        return np.clip(b, 0, [x1 - x0, y1 - y0, x1 - x0, y1 - y0]).astype(np.float32)

    _apply_to_labels(results, lambda s: s[y0:y1, x0:x1], crop_boxes)
    results['crop_box'] = tuple(float(v) for v in box_rel)


@TRANSFORMS.register_module()
class PairedCenterCrop(BaseTransform):
    """Crop the central ``ratio`` (fraction of height and width) of every modality."""

    def __init__(self, ratio: float = 0.875):
        if not 0 < ratio <= 1:
            raise ValueError(f'ratio must be in (0, 1], got {ratio}')
        self.ratio = ratio

    def transform(self, results: dict) -> dict:
        m = (1 - self.ratio) / 2
        _crop(results, (m, m, 1 - m, 1 - m))
        return results


@TRANSFORMS.register_module()
class PairedRandomResizedCrop(BaseTransform):
    """Inception-style random resized crop, one draw for all modalities.

    The crop's area fraction is drawn from ``scale`` and its aspect ratio
    (log-uniformly) from ``ratio`` as in torchvision/mmpretrain ``RandomResizedCrop``,
    in normalised coordinates of the reference modality; each modality is then cropped to
    the same fractions and resized to its own entry of ``sizes``.
    """

    def __init__(self, sizes: Union[Size, Dict[str, Size]], scale=(0.08, 1.0),
                 ratio=(3. / 4., 4. / 3.), max_attempts: int = 10,
                 interpolation: str = 'bilinear'):
        self.resize = PairedResize(sizes, interpolation)
        self.scale, self.ratio, self.max_attempts = scale, ratio, max_attempts

    def _draw(self, h: int, w: int):
        area = h * w
        for _ in range(self.max_attempts):
            target = random.uniform(*self.scale) * area
            log_r = (np.log(self.ratio[0]), np.log(self.ratio[1]))
            aspect = float(np.exp(random.uniform(*log_r)))
            cw = int(round(np.sqrt(target * aspect)))
            ch = int(round(np.sqrt(target / aspect)))
            if 0 < cw <= w and 0 < ch <= h:
                x0, y0 = random.randint(0, w - cw), random.randint(0, h - ch)
                return x0 / w, y0 / h, (x0 + cw) / w, (y0 + ch) / h
        return 0., 0., 1., 1.  # fall back to the whole image

    def transform(self, results: dict) -> dict:
        h, w = results['img_shape'][ref_modality(results)]
        _crop(results, self._draw(h, w))
        return self.resize.transform(results)


@TRANSFORMS.register_module()
class PairedRandomFlip(BaseTransform):
    """Flip every modality (and masks, boxes) with probability ``prob``.

    Args:
        prob (float): Flip probability.
        direction (str | list): ``'horizontal'``, ``'vertical'`` or ``'diagonal'``, or a
            list to pick one from uniformly.
    """

    # how it maps to the host pipeline (:mod:`mmkd.datasets.transforms.host_mapping`)
    @staticmethod
    def to_host(cfg: dict, modality: str, raster_files: bool = False) -> list:
        return [dict(type='RandomFlip', prob=cfg.get('prob', 0.5),
                     direction=cfg.get('direction', 'horizontal'))]

    def __init__(self, prob: float = 0.5, direction: Union[str, Sequence[str]] = 'horizontal'):
        self.prob = prob
        self.directions = [direction] if isinstance(direction, str) else list(direction)
        for d in self.directions:
            if d not in ('horizontal', 'vertical', 'diagonal'):
                raise ValueError(f'unknown flip direction {d!r}')

    def transform(self, results: dict) -> dict:
        flip = random.random() < self.prob
        direction = random.choice(self.directions)
        results['flip'] = flip
        results['flip_direction'] = direction if flip else None
        if not flip:
            return results
        for m, img in list(results['img'].items()):
            _set_shape(results, m, mmcv.imflip(img, direction=direction))
        h, w = results['img_shape'][ref_modality(results)]

        def flip_boxes(b):
            b = b.copy()
            if direction in ('horizontal', 'diagonal'):
                b[:, [0, 2]] = w - b[:, [2, 0]]
            if direction in ('vertical', 'diagonal'):
                b[:, [1, 3]] = h - b[:, [3, 1]]
            return b

        _apply_to_labels(results, lambda s: mmcv.imflip(s, direction=direction), flip_boxes)
        return results


@TRANSFORMS.register_module()
class PairedRandomRotate(BaseTransform):
    """Rotate every modality about its centre by one drawn angle.

    Args:
        max_angle (float): Uniform angle in ``[-max_angle, max_angle]`` degrees, or
        angles (Sequence[float], optional): a set to choose from (e.g. ``[0, 90, 180,
            270]``, lossless for square chips).
        prob (float): Probability of rotating at all. Defaults to 1.
        pad_val (float): Image fill value; masks are filled with ``seg_pad_val`` (255,
            mmseg's ignore index). Boxes become the enclosing box of their rotated
            corners, clipped to the image.
    """

    def __init__(self, max_angle: float = 0., angles: Optional[Sequence[float]] = None,
                 prob: float = 1.0, pad_val: float = 0, seg_pad_val: int = 255,
                 interpolation: str = 'bilinear'):
        self.max_angle, self.angles, self.prob = max_angle, angles, prob
        self.pad_val, self.seg_pad_val = pad_val, seg_pad_val
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        if random.random() >= self.prob:
            results['rotate_angle'] = 0.
            return results
        angle = float(random.choice(self.angles)) if self.angles else random.uniform(
            -self.max_angle, self.max_angle)
        results['rotate_angle'] = angle
        if angle == 0:
            return results
        for m, img in list(results['img'].items()):
            out = mmcv.imrotate(img, angle, border_value=self.pad_val,
                                interpolation=self.interpolation)
            _set_shape(results, m, out)
        h, w = results['img_shape'][ref_modality(results)]
        # mmcv.imrotate turns clockwise for positive angles in image coordinates
        mat = cv2.getRotationMatrix2D(((w - 1) * 0.5, (h - 1) * 0.5), -angle, 1.0)

        def rotate_boxes(b):
            if len(b) == 0:
                return b
            corners = np.stack([b[:, [0, 1]], b[:, [2, 1]], b[:, [0, 3]], b[:, [2, 3]]], 1)
            pts = np.concatenate([corners, np.ones((*corners.shape[:2], 1))], -1) @ mat.T
            out = np.concatenate([pts.min(1), pts.max(1)], -1)
            return np.clip(out, 0, [w, h, w, h]).astype(np.float32)

        _apply_to_labels(
            results,
            lambda s: mmcv.imrotate(s, angle, border_value=self.seg_pad_val,
                                    interpolation='nearest'),
            rotate_boxes)
        return results
