# DS-CMKD on STL-10: ResNet32x4 (clean) teaches ResNet8x4 (noisy), as
# ../ds-cmkd_resnet32x4_resnet8x4_cifar10-noisy.py.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/stl10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    student=dict(head=dict(num_classes=10)),
    teacher=dict(model=dict(head=dict(num_classes=10)),
                 checkpoint='work_dirs/resnet32x4_stl10-clean_teacher'),
    losses=dict(sem={{_base_.sem}}, dcm={{_base_.dcm}}),
    data_preprocessor={{_base_.paired_preprocessor}})
