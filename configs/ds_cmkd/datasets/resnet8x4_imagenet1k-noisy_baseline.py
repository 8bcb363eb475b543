# Baseline: ResNet8x4 supervised on noisy ImageNet-1k alone (layout: see the dataset
# base).
_base_ = [
    '../_base_/datasets/imagenet1k_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    type='mmkd.Distiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='mmkd.CifarResNet', arch='resnet8x4'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=256,
                  loss=dict(type='CrossEntropyLoss'), topk=(1, ))),
    student_input='noisy',
    data_preprocessor={{_base_.paired_preprocessor}})
