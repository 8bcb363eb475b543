"""Running the host libraries' single-image transforms on paired samples."""
import random
from typing import List, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform, Compose

from mmkd.registry import TRANSFORMS


def _build(transforms):
    # Build through mmkd's registry: unprefixed names resolve in the config's default
    # scope (mmpretrain's ColorJitter, AutoAugment, ...).
    return Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t for t in transforms])


def _run_single(pipeline, results: dict, m: str) -> dict:
    single = {k: v for k, v in results.items() if k not in ('img', 'img_shape', 'ori_shape')}
    single['img'] = results['img'][m]
    single['img_shape'] = results['img_shape'][m]
    single['ori_shape'] = results['ori_shape'][m]
    out = pipeline(single)
    if out is None:
        return None
    img = out['img']
    results['img'][m] = img if img.ndim == 3 else img[..., None]
    results['img_shape'][m] = results['img'][m].shape[:2]
    return results


@TRANSFORMS.register_module()
class PerModality(BaseTransform):
    """Apply single-image transforms (e.g. photometric ones) to one modality only.

    Args:
        modality (str | Sequence[str]): The modality (or modalities, each with its own
            random draws).
        transforms (list): Transform configs of any registered single-image transform.
    """

    # how it maps to the host pipeline (:mod:`mmkd.datasets.transforms.host_mapping`)
    @staticmethod
    def for_modality(cfg: dict, modality: str) -> list:
        mods = cfg['modality'] if isinstance(cfg['modality'], (list, tuple)) else [
            cfg['modality']]
        return [dict(cfg, modality=modality)] if modality in mods else []

    @staticmethod
    def to_host(cfg: dict, modality: str, raster_files: bool = False) -> list:
        return list(cfg['transforms'])  # host transforms already

    def __init__(self, modality, transforms: List[dict]):
        self.modalities = [modality] if isinstance(modality, str) else list(modality)
        self.pipeline = _build(transforms)

    def transform(self, results: dict) -> Optional[dict]:
        for m in self.modalities:
            if m not in results['img']:
                raise KeyError(f'PerModality: no {m!r} image (has {sorted(results["img"])})')
            if _run_single(self.pipeline, results, m) is None:
                return None
        return results


@TRANSFORMS.register_module()
class PairedApply(BaseTransform):
    """Apply single-image transforms to every modality with the *same* random draws.

    Before each modality the random state (Python ``random`` and NumPy's global state) is
    reset to what it was for the first, so random policies such as mmpretrain's
    ``AutoAugment`` / ``RandAugment`` pick the same operations and magnitudes for every
    modality. Their geometric operations take magnitudes relative to the image (angles,
    shear factors, translation as a fraction of the size), so the views stay aligned at
    different resolutions. Transforms whose number of random draws depends on the image
    content must not be used here.

    Args:
        transforms (list): Transform configs.
        modalities (Sequence[str], optional): Default: every modality in the sample.
    """

    def __init__(self, transforms: List[dict], modalities: Optional[Sequence[str]] = None):
        self.pipeline = _build(transforms)
        self.modalities = modalities

    def transform(self, results: dict) -> Optional[dict]:
        mods = list(self.modalities or results['img'])
        py_state, np_state = random.getstate(), np.random.get_state()
        end_states = None
        for m in mods:
            random.setstate(py_state)
            np.random.set_state(np_state)
            if _run_single(self.pipeline, results, m) is None:
                return None
            if end_states is None:
                end_states = (random.getstate(), np.random.get_state())
        random.setstate(end_states[0])
        np.random.set_state(end_states[1])
        return results
