# The ResNet32x4 teacher, supervised on clean CIFAR-100 (layout: see the dataset base).
_base_ = [
    '../_base_/datasets/cifar100_clean-noisy.py',
    '../_base_/supervised_cifar-resnet.py',
]
model = dict(student=dict(backbone=dict(arch='resnet32x4'),
                          head=dict(num_classes=_base_.num_classes)),
             student_input='clean', data_preprocessor=_base_.paired_preprocessor)
