# The distillation pair of the synthetic-buildings comparison rows that learn from a
# frozen optical teacher: the SAR EfficientNet U-Net student reading `sar`, the optical
# teacher (trained by effnet-b3-unet_synthetic-buildings-optical_teacher.py) reading
# `optical`, the paired preprocessor, data, schedule, runtime and the shipped hooks.
# A row lists this base and adds its taps and losses under `model`.
_base_ = [
    '../../_base_/datasets/synthetic_buildings_sar_optical.py',
    './models_effnet_unet.py',
    './schedule_synthetic.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    type='mmkd.Distiller',
    student=dict(_base_.sar_effnet_unet, data_preprocessor=_base_.sar_preprocessor),
    student_input='sar',
    teacher=dict(
        model='{{ fileDirname }}/../effnet-b3-unet_synthetic-buildings-optical_teacher.py',
        checkpoint='work_dirs/effnet-b3-unet_synthetic-buildings-optical_teacher',
        input='optical'),
    data_preprocessor=_base_.paired_preprocessor)
