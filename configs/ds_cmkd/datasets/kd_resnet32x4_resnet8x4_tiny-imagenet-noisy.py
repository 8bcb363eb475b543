# KD on Tiny-ImageNet: ResNet32x4 (clean) teaches ResNet8x4 (noisy), 0.1 CE + 0.9 KD, T = 4.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/tiny-imagenet_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    student=dict(head=dict(num_classes=200)),
    teacher=dict(model=dict(head=dict(num_classes=200)),
                 checkpoint='work_dirs/resnet32x4_tiny-imagenet-clean_teacher'),
    losses=dict(kd={{_base_.kd}}),
    student_loss_weight=0.1,
    data_preprocessor={{_base_.paired_preprocessor}})
