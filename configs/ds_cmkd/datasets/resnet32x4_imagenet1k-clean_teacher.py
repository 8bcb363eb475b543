# The ResNet32x4 teacher, supervised on clean ImageNet-1k (layout: see the dataset
# base).
_base_ = [
    '../_base_/datasets/imagenet1k_clean-noisy.py',
    '../_base_/supervised_cifar-resnet.py',
]
model = dict(student=dict(backbone=dict(arch='resnet32x4'),
                          head=dict(num_classes=_base_.num_classes)),
             student_input='clean', data_preprocessor=_base_.paired_preprocessor)
