# Baseline: ShuffleNetV2 supervised on the noisy images alone (lr 0.01).
# A Distiller without a teacher trains its student on one modality of the paired batch
# and exports it like any other run.
_base_ = [
    './_base_/models/cifar_nets.py',
    './_base_/datasets/cifar10_clean-noisy.py',
    './_base_/schedules/sgd_240e_lr0.01.py',
    '../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    type='mmkd.Distiller',
    student={{_base_.shufflev2}},
    student_input='noisy',
    data_preprocessor={{_base_.paired_preprocessor}})
