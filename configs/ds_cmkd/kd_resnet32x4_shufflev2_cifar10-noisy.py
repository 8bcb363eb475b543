# KD (Hinton et al., arXiv:1503.02531) across modalities: ResNet32x4 on clean CIFAR-10
# teaches ShuffleNetV2 on the noisy images (lr 0.01, RepDistiller's rule for this
# student). RepDistiller's weights: 0.1 CE + 0.9 KD, T = 4.
_base_ = [
    './_base_/distill_resnet32x4_shufflev2.py',
    './_base_/datasets/cifar10_clean-noisy.py',
    './_base_/schedules/sgd_240e_lr0.01.py',
    '../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(kd={{_base_.kd}}),
    student_loss_weight=0.1,
    data_preprocessor={{_base_.paired_preprocessor}})
