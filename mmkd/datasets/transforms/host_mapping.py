"""How a paired transform maps to the host libraries' single-image pipeline.

The student export (:mod:`mmkd.datasets.host_pipeline`) asks each step of a paired
pipeline, by its registered class, what it becomes; a transform says so itself with
up to three class-level members, all optional:

- ``for_modality(cfg, modality) -> list``: the step(s) when only ``modality`` is read
  (``[]`` drops the step); default ``[cfg]``;
- ``to_host(cfg, modality, raster_files=False) -> list``: the host library's
  equivalent step(s) (``[]`` when there is nothing to do); raise
  :class:`NoHostEquivalent` with the reason when there is none. An mmkd transform
  without ``to_host`` has no host equivalent;
- ``renders_modality = True``: the step renders a modality from another one (simulated
  SAR from optical, a noisy view of a clean one), so the student still needs the
  source data and keeps the paired dataset.

``cfg`` is the step's config dict (a copy, free to change).
"""
from typing import Dict, List

from mmkd.registry import TRANSFORMS, type_name  # noqa: F401  (type_name re-exported)

# the host packer of each PackMultiModalInputs task
HOST_PACKERS = {'cls': 'PackInputs', 'seg': 'PackSegInputs', 'det': 'PackDetInputs'}
# what the detection packer keeps for mmdet's evaluation and box rescaling
DET_META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                 'flip_direction', 'ref_modality')


class NoHostEquivalent(ValueError):
    """A step of a paired pipeline that the host library cannot stand in for (the
    message says why)."""


def per_modality_value(value, modality: str, default=None):
    """A transform argument given for every modality or as a dict per modality."""
    if isinstance(value, dict):
        return value.get(modality, default)
    return default if value is None else value


def transform_class(cfg):
    """mmkd's transform class a step's config names (by type, scope dropped), or None
    for the host libraries' own transforms."""
    return TRANSFORMS.module_dict.get(type_name(cfg))


def host_packer(cfg: Dict, modality: str) -> List[dict]:
    """``PackMultiModalInputs`` reading ``modality`` alone: ``mmkd.SelectModality`` and
    the host packer (its ``meta_keys`` kept for detection, where mmdet's evaluation
    needs them)."""
    task = cfg.get('task', 'cls')
    if task not in HOST_PACKERS:
        raise ValueError(f'PackMultiModalInputs task {task!r}: no host packer '
                         f'(one of {sorted(HOST_PACKERS)})')
    packer = dict(type=HOST_PACKERS[task])
    if task == 'det':
        packer['meta_keys'] = tuple(k for k in cfg.get('meta_keys', DET_META_KEYS)
                                    if k != 'ref_modality')
    return [dict(type='mmkd.SelectModality', modality=modality), packer]
