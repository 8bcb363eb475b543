# A same-modality teacher: ResNet32x4 supervised on the *noisy* images, the student's own
# modality (the clean-image teacher is configs/ds_cmkd/resnet32x4_cifar10-clean_teacher.py).
# With the clean teacher it makes the two-teacher, two-modality pair of
# mtkd-*_resnet32x4-clean+noisy_resnet8x4_cifar10-noisy.py: each teacher reads its own
# modality of the paired batch, the student the noisy one.
# A Distiller without a teacher trains its student on one modality of the paired batch
# and exports it like any other run.
_base_ = [
    '../ds_cmkd/_base_/models/cifar_nets.py',
    '../ds_cmkd/_base_/datasets/cifar10_clean-noisy.py',
    '../ds_cmkd/_base_/schedules/sgd_240e.py',
    '../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    type='mmkd.Distiller',
    student={{_base_.resnet32x4}},
    student_input='noisy',
    data_preprocessor={{_base_.paired_preprocessor}})
