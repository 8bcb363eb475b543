# The ResNet32x4 teacher, supervised on clean CIFAR-100 (layout: see the dataset base).
_base_ = [
    '../_base_/datasets/cifar100_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    type='mmkd.Distiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='mmkd.CifarResNet', arch='resnet32x4'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=256,
                  loss=dict(type='CrossEntropyLoss'), topk=(1, ))),
    student_input='clean',
    data_preprocessor={{_base_.paired_preprocessor}})
