"""Resolving and building the models a distiller owns, and loading teacher weights.

A model is given either inline (a model config dict, as in any OpenMMLab config) or as
the path of a whole config file, local or of an installed OpenMMLab package
(``'mmpretrain::resnet/resnet34_8xb32_in1k.py'``), whose ``model`` is used.
"""
import difflib
import os.path as osp
from contextlib import nullcontext
from typing import Optional, Tuple, Union

import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import _load_checkpoint

from mmkd.registry import MODELS

ModelSpec = Union[str, dict]


def load_config(path: str) -> Config:
    """A config from a local file or ``'<package>::<path>'`` of an installed package."""
    if '::' in path:
        from mmengine.hub import get_config
        try:
            return get_config(path)
        except Exception as e:  # ModuleNotFoundError, FileNotFoundError, ...
            raise FileNotFoundError(
                f'cannot load config {path!r}: {e}. Is the package installed '
                f'(`pip install` it or run tools/setup_env.sh)?') from None
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path!r} does not exist')
    return Config.fromfile(path)


def resolve_model_cfg(spec: ModelSpec,
                      data_preprocessor: Optional[dict] = None
                      ) -> Tuple[ConfigDict, Optional[str]]:
    """Return ``(model_cfg, scope)`` for an inline dict or a config path.

    The model config gets the config file's top-level ``data_preprocessor`` (mmpretrain
    keeps it there) or, failing that, ``data_preprocessor``. ``scope`` is the config
    file's ``default_scope`` (None for inline dicts: they build in the current scope).
    """
    scope = None
    if isinstance(spec, str):
        cfg = load_config(spec)
        if 'model' not in cfg:
            raise KeyError(f'config {spec!r} has no `model` to build')
        model_cfg = ConfigDict(cfg.model.to_dict())
        scope = cfg.get('default_scope')
        if 'data_preprocessor' not in model_cfg and cfg.get('data_preprocessor'):
            model_cfg['data_preprocessor'] = ConfigDict(cfg.data_preprocessor.to_dict())
    elif isinstance(spec, dict):
        model_cfg = ConfigDict(dict(spec))
    else:
        raise TypeError(f'a model is a config dict or a config path, got {type(spec)}')
    if 'data_preprocessor' not in model_cfg and data_preprocessor is not None:
        model_cfg['data_preprocessor'] = ConfigDict(dict(data_preprocessor))
    return model_cfg, scope


def build_model(spec: ModelSpec, what: str,
                data_preprocessor: Optional[dict] = None) -> Tuple[nn.Module, ConfigDict,
                                                                   Optional[str]]:
    """Build a model from a spec; errors name ``what`` (e.g. ``"teacher 'eo'"``)."""
    model_cfg, scope = resolve_model_cfg(spec, data_preprocessor)
    ctx = DefaultScope.overwrite_default_scope(scope) if scope else nullcontext()
    with ctx:
        try:
            model = MODELS.build(model_cfg)
        except KeyError as e:
            raise KeyError(f'{what}: cannot build model type {model_cfg.get("type")!r}: '
                           f'{e}. Name the host library in the type (e.g. '
                           f"'mmpretrain.ImageClassifier') or inherit its config.") from e
    return model, model_cfg, scope


def host_scope(model: nn.Module, fallback: Optional[str] = None) -> Optional[str]:
    """The OpenMMLab scope a built model comes from ('mmpretrain', 'mmdet', 'mmseg')."""
    top = type(model).__module__.split('.')[0]
    return top if top in ('mmpretrain', 'mmdet', 'mmseg', 'mmengine') else fallback


def extract_state_dict(checkpoint: dict, prefix: str = 'student.') -> dict:
    """The model weights of an mmengine, exported-student or distillation checkpoint.

    A distillation checkpoint's student weights (``student.*``, or ``prefix``) are
    returned without the prefix, so a distilled student can teach the next run.
    """
    sd = checkpoint.get('state_dict', checkpoint.get('model', checkpoint))
    sd = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in sd.items()}
    if sd and any(k.startswith(prefix) for k in sd):
        sd = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
    return sd


def resolve_checkpoint(path: str, what: str = 'checkpoint') -> str:
    """A checkpoint file, or a run's work dir (its ``last_checkpoint`` is used)."""
    if '://' in path:
        return path
    if osp.isdir(path):
        last = osp.join(path, 'last_checkpoint')
        if not osp.isfile(last):
            raise FileNotFoundError(
                f'{what}: {path!r} is a folder with no last_checkpoint file: the run '
                f'there has not saved a checkpoint yet. Train it first or name the file.')
        with open(last) as f:
            found = f.read().strip()
        if not osp.isabs(found) and not osp.isfile(found):
            found = osp.join(path, osp.basename(found))
        path = found
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{what}: checkpoint {path!r} does not exist. Train the teacher first '
            f'(tools/train.py with its own config) or fix the path.')
    return path


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model built from the config."""


def _summarise(keys, limit=8):
    keys = sorted(keys)
    more = f' ... (+{len(keys) - limit} more)' if len(keys) > limit else ''
    return ', '.join(keys[:limit]) + more


def load_weights_strict(model: nn.Module, checkpoint_path: str, what: str,
                        prefix: str = 'student.') -> None:
    """Load every weight of ``model`` from ``checkpoint_path`` or raise one clear error.

    A distillation checkpoint contributes the weights under ``prefix`` (its student).
    """
    if not checkpoint_path:
        raise FileNotFoundError(
            f'{what} has no checkpoint. A frozen teacher needs trained weights: set '
            f'`checkpoint=` to a file from a previous run, or `trainable=True` to train '
            f'it alongside the student.')
    checkpoint_path = resolve_checkpoint(checkpoint_path, what)
    sd = extract_state_dict(_load_checkpoint(checkpoint_path, map_location='cpu'), prefix)
    own = model.state_dict()
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    mismatched = [f'{k}: checkpoint {tuple(sd[k].shape)} vs model {tuple(own[k].shape)}'
                  for k in own if k in sd and hasattr(sd[k], 'shape')
                  and tuple(sd[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or mismatched:
        lines = [f'{what}: checkpoint {checkpoint_path!r} does not match the model its '
                 f'config builds (is it the checkpoint of another architecture?)']
        if missing:
            lines.append(f'  missing keys ({len(missing)}): {_summarise(missing)}')
        if unexpected:
            lines.append(f'  unexpected keys ({len(unexpected)}): {_summarise(unexpected)}')
        if mismatched:
            lines.append(f'  shape mismatches ({len(mismatched)}): '
                         + '; '.join(mismatched[:5]))
        raise CheckpointMismatchError('\n'.join(lines))
    model.load_state_dict(sd, strict=True)


def close_matches(name: str, choices, n: int = 5):
    return difflib.get_close_matches(name, list(choices), n=n, cutoff=0.5)
