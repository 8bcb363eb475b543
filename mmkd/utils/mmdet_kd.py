"""mmdet's own knowledge-distillation detector in mmkd's runs.

mmdet ships LD (localization distillation, Zheng et al., CVPR 2022) as
``KnowledgeDistillationSingleStageDetector`` (mmdet/models/detectors/kd_one_stage.py): the
student detector itself, with the teacher built from ``teacher_config``, loaded from
``teacher_ckpt`` and kept as a plain attribute ``teacher_model`` (not a registered
sub-module, so the teacher is in neither ``parameters()`` nor ``state_dict()``). It is no
:class:`mmkd.Distiller` (no ``student`` / ``teacher_hashes``), so mmkd's hooks and tools
reach it through this module:

- :func:`plain_student_model_cfg` turns its model config into the plain student's: the
  state dict is the student's already, and ``LDHead`` is ``GFLHead`` plus a
  parameter-free loss, so the student is an mmdet ``GFL`` with a ``GFLHead``
  (:class:`mmkd.ExportStudentHook`, ``tools/test.py``);
- :class:`mmkd.TeacherHashHook` fingerprints its ``teacher_model``
  (``mmkd/engine/hooks/teacher_hash_hook.py``: hashing is the distillers', and
  ``mmkd.utils`` imports no model code);
- mmkd's ``PairedKDSingleStageDetector`` (``mmkd/models/det/paired_kd_one_stage.py``)
  is that detector with the teacher and the student reading two modalities of a paired
  batch: its plain student also takes the student's own data preprocessor (the paired
  one's ``student_input`` entry), and its datasets read the student's modality alone
  (:func:`mmkd.apis.export.student_config`);
- :func:`check_teacher_ckpt` names ``model.teacher_ckpt`` when the file is missing
  (``tools/train.py``, before the model is built; mmengine alone would say only that
  some file does not exist).
"""
import copy
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config, ConfigDict

from mmkd.registry import type_name as _type_name

MMDET_KD_TYPES = ('KnowledgeDistillationSingleStageDetector',
                  'PairedKDSingleStageDetector')  # mmkd's, on paired batches
# distillation head -> (plain head, plain detector, the keys only distillation uses)
KD_HEADS = {'LDHead': ('GFLHead', 'GFL', ('loss_ld', ))}
KD_DETECTOR_KEYS = ('teacher_config', 'teacher_ckpt', 'eval_teacher', 'student_input',
                    'teacher_input')


def is_mmdet_kd_config(cfg: Config) -> bool:
    """Whether ``cfg.model`` is mmdet's KD detector (with or without ``mmdet.``)."""
    model = cfg.get('model') or {}
    return isinstance(model, dict) and _type_name(model) in MMDET_KD_TYPES


def is_mmdet_kd_model(model) -> bool:
    """Whether a built model is mmdet's KD detector (or a subclass)."""
    return any(c.__name__ in MMDET_KD_TYPES and c.__module__.startswith('mmdet')
               for c in type(model).__mro__) and hasattr(model, 'teacher_model')


def plain_student_model_cfg(model_cfg: dict) -> ConfigDict:
    """The student of mmdet's KD detector as a plain mmdet detector config: the
    detector and head types without distillation, no teacher keys, no LD loss. The KD
    detector's ``state_dict()`` loads into it as it is (the teacher is not in it).
    On paired batches (``student_input``, mmkd's ``PairedKDSingleStageDetector``), the
    student's data preprocessor is the paired preprocessor's entry for its modality."""
    out = ConfigDict(copy.deepcopy(dict(model_cfg)))
    student_input = out.get('student_input')
    if student_input is not None:
        preprocessors = (out.get('data_preprocessor') or {}).get('preprocessors') or {}
        if student_input not in preprocessors:
            raise KeyError(f'model.student_input {student_input!r} has no entry in '
                           f'model.data_preprocessor.preprocessors '
                           f'({sorted(preprocessors)})')
        out['data_preprocessor'] = ConfigDict(copy.deepcopy(preprocessors[student_input]))
    head = out.get('bbox_head') or {}
    name = _type_name(head)
    if name not in KD_HEADS:
        raise ValueError(
            f'model.bbox_head.type {head.get("type")!r}: mmkd exports the student of '
            f'mmdet\'s {_type_name(out)} only with a head it knows the plain version of '
            f'({", ".join(f"{k} -> {v[0]}" for k, v in KD_HEADS.items())}); add the head '
            f'to mmkd.utils.mmdet_kd.KD_HEADS or export by hand')
    plain_head, detector, drop = KD_HEADS[name]
    for key in drop:
        head.pop(key, None)
    head['type'] = plain_head
    out['type'] = detector
    for key in KD_DETECTOR_KEYS:
        out.pop(key, None)
    return out


def check_teacher_ckpt(cfg: Config, config_path: Optional[str] = None) -> None:
    """Raise ``FileNotFoundError`` naming ``model.teacher_ckpt`` and how to make it when
    an mmdet KD config's local teacher checkpoint is not a file (no-op otherwise)."""
    if not is_mmdet_kd_config(cfg):
        return
    ckpt = cfg.model.get('teacher_ckpt')
    if ckpt is None or '://' in str(ckpt) or osp.isfile(osp.expanduser(str(ckpt))):
        return
    teacher = cfg.model.get('teacher_config')
    if isinstance(teacher, str) and osp.isabs(teacher) and \
            osp.abspath(teacher).startswith(osp.abspath(os.getcwd()) + os.sep):
        teacher = osp.relpath(teacher)  # the command as run from here
    where = f' of {config_path}' if config_path else ''
    what = 'is a folder, not a checkpoint file' if osp.isdir(ckpt) else 'does not exist'
    how = (f'train the teacher first (python tools/train.py {teacher})'
           if isinstance(teacher, str) else 'train the teacher first')
    raise FileNotFoundError(
        f'model.teacher_ckpt{where}: {ckpt!r} {what}. mmdet\'s '
        f'{_type_name(cfg.model)} loads its teacher from this file when the model is '
        f'built: {how}, or name its checkpoint with '
        f'--cfg-options model.teacher_ckpt=path/to/epoch_N.pth')
