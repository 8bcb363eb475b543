"""Student export: a plain host-library checkpoint plus its config.

The exported files load with mmpretrain/mmseg/mmdet alone (``init_model``, their
``tools/test.py``), with no mmkd import and under torch's ``weights_only=True``: the
checkpoint holds only tensors and plain metadata, and the config has the student as its
``model``, the host library as ``default_scope`` and no mmkd hooks or imports.

Also the config inspection the tools share (:func:`runner_model_cfg`,
:func:`is_distillation_config`, :func:`member_names`). The student's dataset reads its
own modality only; how each paired pipeline step maps to the host library's is the
transform's to say (:mod:`mmkd.datasets.host_pipeline`).
"""
import copy
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint

from mmkd.registry import type_name as _type_name
from mmkd.version import __version__

DISTILLER_TYPES = ('Distiller', 'MutualDistiller')


def runner_model_cfg(cfg: Config):
    """``cfg.model`` as mmengine's ``Runner`` builds it: a top-level
    ``data_preprocessor`` (where mmpretrain / mmdet / mmseg configs keep the mean and
    std) becomes the model's unless the model names its own. Tools that build a model
    outside a runner (the teacher cache, benchmarks, visualisations) must use this, or
    their model sees unnormalised inputs."""
    model = copy.deepcopy(cfg.model)
    dp = cfg.get('data_preprocessor')
    if isinstance(model, dict) and dp is not None:
        model.setdefault('data_preprocessor', copy.deepcopy(dp))
    return model


def is_distillation_config(cfg: Config) -> bool:
    """Whether ``cfg.model`` is a ``Distiller`` or ``MutualDistiller`` (with or without
    a scope prefix such as ``mmkd.``)."""
    model = cfg.get('model') or {}
    return isinstance(model, dict) and str(model.get('type', '')).split('.')[-1] in \
        DISTILLER_TYPES


def member_names(cfg: Config) -> list:
    """The models a distillation config exports: ``[None]`` for a Distiller (its
    student), the model names for a MutualDistiller."""
    if str(cfg.model.get('type', '')).endswith('MutualDistiller'):
        return list(cfg.model['models'])
    return [None]


def _member_spec(dist: dict, member):
    if str(dist.get('type', '')).endswith('MutualDistiller'):
        if member not in dist['models']:
            raise KeyError(f'name the model to export: one of {list(dist["models"])} '
                           f'(got {member!r})')
        m = dist['models'][member]
        return m['model'], m.get('input')
    return dist['student'], dist.get('student_input')


def _is_mmkd_type(cfg) -> bool:
    t = cfg.get('type', '') if isinstance(cfg, dict) else ''
    if isinstance(t, str):
        return t.startswith('mmkd.')
    return getattr(t, '__module__', '').startswith('mmkd')


def student_config(cfg: Config, scope: Optional[str] = None,
                   member: Optional[str] = None) -> Config:
    """The runner config of the student alone, derived from a distillation config.

    Args:
        cfg: A config whose ``model`` is an mmkd distiller, or mmdet's
            ``KnowledgeDistillationSingleStageDetector`` (LD; its student becomes the
            plain detector, see :mod:`mmkd.utils.mmdet_kd`).
        scope: The host library's scope; inferred from the student config when None.
        member: For a ``MutualDistiller``, the name of the model to export.
    """
    from mmkd.models.distillers.model_config import resolve_model_cfg
    from mmkd.utils.mmdet_kd import is_mmdet_kd_config, plain_student_model_cfg
    if is_mmdet_kd_config(cfg):  # mmdet's own KD detector (LD): the student is the model
        out = copy.deepcopy(cfg)
        student_input = out.model.get('student_input')  # mmkd's paired variant
        out.model = plain_student_model_cfg(out.model)
        if student_input is not None:
            _student_datasets(out, student_input)
        out.default_scope = scope or 'mmdet'
        return _without_distillation_runtime(out)
    if not is_distillation_config(cfg):
        return cfg
    out = copy.deepcopy(cfg)
    dist = out.model
    dp = dist.get('data_preprocessor')
    if dp is not None and 'type' in dp:
        dp = None  # a distiller-level (e.g. per-modality) preprocessor is not the student's
    student_spec, student_input = _member_spec(dist, member)
    paired_dp = dist.get('data_preprocessor')
    if paired_dp is not None and 'preprocessors' in paired_dp:
        if student_input not in paired_dp['preprocessors']:
            raise KeyError(f'student_input {student_input!r} has no entry in the paired '
                           f'data preprocessor ({sorted(paired_dp["preprocessors"])})')
        dp = paired_dp['preprocessors'][student_input]
    model_cfg, student_scope = resolve_model_cfg(student_spec, dp)
    if paired_dp is not None and 'preprocessors' in paired_dp:
        model_cfg['data_preprocessor'] = ConfigDict(dp)
    out.model = model_cfg
    _student_datasets(out, student_input)
    out.default_scope = scope or student_scope or (
        cfg.get('default_scope') if cfg.get('default_scope') != 'mmkd' else None)
    if out.default_scope is None:
        raise ValueError('cannot tell which OpenMMLab library the student belongs to; '
                         'pass scope= (mmpretrain, mmdet or mmseg)')
    return _without_distillation_runtime(out)


def _student_datasets(out: Config, student_input: Optional[str]) -> None:
    """Each loader's dataset as the student alone reads it: without a teacher cache
    (it serves the distillation run only; the student reads the dataset it wraps), and
    with ``student_input`` its modality alone."""
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if out.get(split) and out[split].get('dataset'):
            while _type_name(out[split].dataset) == 'TeacherCacheDataset':
                out[split].dataset = out[split].dataset['dataset']
            if student_input is not None:
                _single_modality_dataset(out[split].dataset, student_input,
                                         f'{split}.dataset')


def _without_distillation_runtime(out: Config) -> Config:
    """Drop mmkd's hooks and imports and any resume / load_from of the run."""
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


def _raster_files(dataset: dict, modality: str) -> bool:
    """Whether the modality's files are (Geo)TIFF or .npy: the first image of its
    folder when the data is on this machine, else what ``id_patterns`` says."""
    from mmkd.datasets.host_pipeline import first_image, is_raster_file
    folder = dataset['folders'][modality]
    root = dataset.get('data_root', '') or ''
    found = first_image(folder if osp.isabs(folder) else osp.join(root, folder))
    if found is not None:
        return is_raster_file(found)
    pattern = (dataset.get('id_patterns') or {}).get(modality) or ''
    return bool(re.search(r'tiff?|npy', pattern, re.IGNORECASE))


def _single_modality_dataset(dataset: dict, modality: str, where: str = 'dataset') -> None:
    """Make a paired (mmkd) dataset config read only the student's modality: a host
    ``CustomDataset`` where the layout allows (class sub-folders, one file per sample,
    pairing by name) and every transform has a host equivalent (the loader's too: no
    band selection, no nodata/NaN handling, no GeoTIFF, see
    :mod:`mmkd.datasets.host_pipeline`), else the paired dataset restricted to that
    modality, read by mmkd's loader exactly as in distillation (the exported config
    then needs mmkd; the reason is logged)."""
    from mmkd.datasets.georef import by_name
    from mmkd.datasets.host_pipeline import (
        host_pipeline,
        prune_pipeline,
        renders_modality,
        repack_one_modality,
    )
    if _type_name(dataset) == 'PairedCocoDataset':  # detection: mmdet's CocoDataset
        from mmkd.datasets.paired_coco_dataset import single_modality_dataset
        single_modality_dataset(dataset, modality, where)
        return
    if _type_name(dataset) not in ('PairedClsDataset', 'PairedSegDataset',
                                   'PairedSceneWindowDataset'):
        return
    pipeline = dataset.get('pipeline', [])
    if renders_modality(pipeline):
        # the student's input is rendered from another modality: keep the paired
        # dataset and pipeline (they read the source), then hand the host library's
        # packer the student's modality alone
        dataset['pipeline'] = repack_one_modality(pipeline, modality)
        return
    pruned = prune_pipeline(pipeline, modality)
    one_folder = isinstance((dataset.get('folders') or {}).get(modality), str)
    host, why = None, None
    if dataset.get('class_subfolders') and one_folder and by_name(dataset.get('pairing')):
        host, why = host_pipeline(pruned, modality, _raster_files(dataset, modality))
    if host is not None:
        new = dict(type='CustomDataset', data_root=dataset.get('data_root', ''),
                   data_prefix=dataset['folders'][modality], with_label=True,
                   pipeline=host)
        for k in ('classes', 'metainfo', 'indices', 'test_mode'):
            if k in dataset:
                new[k] = dataset[k]
        dataset.clear()
        dataset.update(new)
        return
    if why is not None:
        print_log(f'{where}: the exported student keeps {dataset["type"]} with mmkd\'s '
                  f'loader, so it reads what it was distilled on: {why}',
                  logger='current', level=30)
    dataset['modalities'] = [modality]
    dataset['pipeline'] = pruned
    pairing = dataset.get('pairing')
    if isinstance(pairing, dict) and pairing.get('ref') not in (None, modality):
        dataset['pairing'] = dict(pairing, ref=modality)  # one modality: its own grid


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
                      scope: Optional[str] = None,
                      member: Optional[str] = None) -> Tuple[str, str]:
    """Export the student of any distillation (or plain) checkpoint (for a
    MutualDistiller, the model named ``member``)."""
    from mmkd.models.distillers.model_config import extract_state_dict, resolve_checkpoint
    checkpoint = resolve_checkpoint(checkpoint)
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    sd = extract_state_dict(ckpt, f'members.{member}.' if member else 'student.')
    meta = dict(ckpt.get('meta', {}) or {})
    keep = {k: meta[k] for k in ('epoch', 'iter', 'dataset_meta', 'seed') if k in meta}
    keep['exported_from'] = osp.abspath(checkpoint)
    return save_student(sd, student_config(cfg, scope, member), out_dir, keep)
