# RepDistiller's CIFAR networks (mmkd.Cifar* backbones) as mmpretrain classifiers: the
# backbone, global average pooling and a linear classifier, exactly the reference
# networks (see mmkd/models/backbones). 10 classes; other datasets override
# `head.num_classes`.
resnet32x4 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd.CifarResNet', arch='resnet32x4'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=256,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
resnet8x4 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd.CifarResNet', arch='resnet8x4'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=256,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
vgg13 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd.CifarVGG', arch='vgg13'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=512,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
vgg8 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd.CifarVGG', arch='vgg8'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=512,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
shufflev1 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd.CifarShuffleNetV1'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=960,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
shufflev2 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd.CifarShuffleNetV2'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=1024,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
mobilenetv2 = dict(  # RepDistiller's `MobileNetV2` = mobile_half (width 0.5)
    type='ImageClassifier',
    backbone=dict(type='mmkd.CifarMobileNetV2', widen_factor=0.5),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=1280,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
