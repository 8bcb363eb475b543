# The EO teacher of the CIFAR-10 EO / simulated-SAR benchmark: ResNet-34 on EO alone.
# A Distiller with no teacher trains its student on one modality of the paired batch and
# exports it like any other run.
_base_ = [
    '../_base_/models/cmkd_resnet34.py',
    '../_base_/datasets/cifar10_eo_simsar.py',
    '../_base_/schedules/cmkd_sgd_60e.py',
    '../_base_/cls_kd_runtime.py',  # mmpretrain runtime, shipped hooks, checkpoints
]
model = dict(
    type='mmkd.Distiller',
    student={{_base_.eo_model}},
    student_input='eo',
    data_preprocessor={{_base_.paired_preprocessor}})
