"""Student export: a plain host-library checkpoint plus its config.

The exported files load with mmpretrain/mmseg/mmdet alone (``init_model``, their
``tools/test.py``), with no mmkd import and under torch's ``weights_only=True``: the
checkpoint holds only tensors and plain metadata, and the config has the student as its
``model``, the host library as ``default_scope`` and no mmkd hooks or imports.
"""
import copy
import os
import os.path as osp
from collections import OrderedDict
from typing import Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint

from mmkd.version import __version__

DISTILLER_TYPES = ('Distiller', 'mmkd.Distiller')


def is_distillation_config(cfg: Config) -> bool:
    model = cfg.get('model') or {}
    return isinstance(model, dict) and str(model.get('type', '')).split('.')[-1] in (
        t.split('.')[-1] for t in DISTILLER_TYPES)


def _is_mmkd_type(cfg) -> bool:
    t = cfg.get('type', '') if isinstance(cfg, dict) else ''
    if isinstance(t, str):
        return t.startswith('mmkd.')
    return getattr(t, '__module__', '').startswith('mmkd')


def student_config(cfg: Config, scope: Optional[str] = None) -> Config:
    """The runner config of the student alone, derived from a distillation config.

    Args:
        cfg: A config whose ``model`` is an mmkd distiller.
        scope: The host library's scope; inferred from the student config when None.
    """
    from mmkd.models.distillers.model_config import resolve_model_cfg
    if not is_distillation_config(cfg):
        return cfg
    out = copy.deepcopy(cfg)
    dist = out.model
    dp = dist.get('data_preprocessor')
    if dp is not None and 'type' in dp:
        dp = None  # a distiller-level (e.g. per-modality) preprocessor is not the student's
    model_cfg, student_scope = resolve_model_cfg(dist['student'], dp)
    out.model = model_cfg
    out.default_scope = scope or student_scope or (
        cfg.get('default_scope') if cfg.get('default_scope') != 'mmkd' else None)
    if out.default_scope is None:
        raise ValueError('cannot tell which OpenMMLab library the student belongs to; '
                         'pass scope= (mmpretrain, mmdet or mmseg)')
    hooks = [h for h in out.get('custom_hooks', []) if not _is_mmkd_type(h)]
    out.custom_hooks = hooks
    imports = out.get('custom_imports')
    if imports:
        mods = [m for m in imports.get('imports', []) if not m.startswith('mmkd')]
        if mods:
            out.custom_imports = ConfigDict(imports, imports=mods)
        else:
            out.pop('custom_imports')
    out.load_from = None
    out.resume = False
    left = [line.strip() for line in out.pretty_text.splitlines() if "'mmkd." in line]
    if left:
        print_log(f'the exported student config still names mmkd types, so loading it '
                  f'will need mmkd: {left[:3]}', logger='current', level=30)
    return out


def _plain(value):
    """Keep only what torch's weights_only unpickler accepts."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def save_student(state_dict: dict, cfg: Config, out_dir: str, meta: Optional[dict] = None,
                 filename: str = 'student.pth') -> Tuple[str, str]:
    """Write ``<out_dir>/<filename>`` and ``<out_dir>/student_config.py``."""
    os.makedirs(out_dir, exist_ok=True)
    sd = OrderedDict((k, v.detach().cpu().clone()) for k, v in state_dict.items())
    full_meta = dict(mmkd_version=__version__, **(meta or {}))
    ckpt_path = osp.join(out_dir, filename)
    cfg_path = osp.join(out_dir, 'student_config.py')
    tmp = ckpt_path + '.tmp'
    torch.save({'meta': _plain(full_meta), 'state_dict': sd}, tmp)
    os.replace(tmp, ckpt_path)  # never leave a half-written checkpoint behind
    cfg.dump(cfg_path)
    return ckpt_path, cfg_path


def export_checkpoint(cfg: Config, checkpoint: str, out_dir: str,
                      scope: Optional[str] = None) -> Tuple[str, str]:
    """Export the student of any distillation (or plain) checkpoint."""
    from mmkd.models.distillers.model_config import (extract_state_dict,
                                                     resolve_checkpoint)
    checkpoint = resolve_checkpoint(checkpoint)
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    sd = extract_state_dict(ckpt)
    meta = dict(ckpt.get('meta', {}) or {})
    keep = {k: meta[k] for k in ('epoch', 'iter', 'dataset_meta', 'seed') if k in meta}
    keep['exported_from'] = osp.abspath(checkpoint)
    return save_student(sd, student_config(cfg, scope), out_dir, keep)
