# Baseline: ResNet8x4 supervised on noisy STL-10 alone (layout: see the dataset base).
_base_ = [
    '../_base_/datasets/stl10_clean-noisy.py',
    '../_base_/supervised_cifar-resnet.py',
]
model = dict(student=dict(backbone=dict(arch='resnet8x4'),
                          head=dict(num_classes=_base_.num_classes)),
             student_input='noisy', data_preprocessor=_base_.paired_preprocessor)
