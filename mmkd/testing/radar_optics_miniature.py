"""A *synthetic* miniature of the paired optical / radar marine-target dataset of DS-CMKD.

Si et al. (*A Dimensional Structure based Knowledge Distillation Method for Cross-Modal
Learning*, arXiv:2306.15977) collect paired optical and radar images of eight marine
targets (224 x 224 pairs; a later version of the paper calls the dataset IIS-ISCAS). The
real data are not bundled; this writes a tiny stand-in in the layout
``configs/ds_cmkd/_base_/datasets/radar_optics_8cls.py`` reads, for tests and for
checking a config end to end::

    <root>/{train,test}/optical/<class>/<id>.png     3-channel, sea and a target
    <root>/{train,test}/radar/<class>/<id>.png       the same scene as radar returns

A pair shares its file stem (``<class>_<n>``) and class folder. Nothing here is real
imagery: each class is an ellipse of its own size and elongation (a bright
superstructure block for vessels, a rotor bar for the helicopter), drawn at a random
heading and position; the optical view is a coloured target on blue sea, the radar view
grey strong returns of the same outline with Gamma speckle and dark sea clutter.
"""
import os
import os.path as osp
from typing import Sequence

import mmcv
import numpy as np

CLASSES = ('cargo', 'fishing_vessel', 'sailing_vessel', 'pleasure_vessel', 'hsc',
           'law_vessel', 'ocean_buoy', 'helicopter')

# (half length, half width) as fractions of the image size, per class
_SHAPES = {
    'cargo': (0.40, 0.09), 'fishing_vessel': (0.22, 0.08), 'sailing_vessel': (0.25, 0.05),
    'pleasure_vessel': (0.15, 0.06), 'hsc': (0.30, 0.10), 'law_vessel': (0.28, 0.07),
    'ocean_buoy': (0.06, 0.06), 'helicopter': (0.18, 0.04),
}


def render_pair(cls_name: str, rng: np.random.Generator, size: int = 224):
    """``(optical, radar)``: two ``size x size x 3`` uint8 images of one scene."""
    half_len, half_wid = _SHAPES[cls_name]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    cy, cx = rng.uniform(0.35, 0.65, 2)
    angle = rng.uniform(0, np.pi)
    u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    v = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
    body = (u / half_len)**2 + (v / half_wid)**2 <= 1
    top = (np.abs(u + 0.3 * half_len) < 0.2 * half_len) & (np.abs(v) < 0.6 * half_wid)
    if cls_name == 'helicopter':  # rotor across the body
        top = (np.abs(u) < 0.02) & (np.abs(v) < 2.5 * half_wid * 2)

    optical = np.empty((size, size, 3), np.float32)
    optical[:] = (150, 90, 30) + rng.normal(0, 8, (size, size, 3))  # BGR sea
    hull = rng.uniform(60, 230, 3)
    optical[body] = hull
    optical[top] = 255 - hull
    radar = rng.gamma(2.0, 0.5, (size, size)) * 25  # clutter, speckle with 2 looks
    returns = body.astype(np.float32) * 140 + top.astype(np.float32) * 90
    radar += returns * rng.gamma(2.0, 0.5, (size, size))
    radar = np.repeat(radar[..., None], 3, axis=2)
    return (optical.clip(0, 255).astype(np.uint8), radar.clip(0, 255).astype(np.uint8))


def make_radar_optics_miniature(root: str, train_per_class: int = 2,
                                test_per_class: int = 1, size: int = 224, seed: int = 0,
                                classes: Sequence[str] = CLASSES) -> str:
    """Write the miniature under ``root`` and return ``root``."""
    rng = np.random.default_rng(seed)
    for split, n in (('train', train_per_class), ('test', test_per_class)):
        for cls_name in classes:
            for i in range(n):
                optical, radar = render_pair(cls_name, rng, size)
                for modality, img in (('optical', optical), ('radar', radar)):
                    folder = osp.join(root, split, modality, cls_name)
                    os.makedirs(folder, exist_ok=True)
                    mmcv.imwrite(img, osp.join(folder, f'{cls_name}_{i:04d}.png'))
    return root
