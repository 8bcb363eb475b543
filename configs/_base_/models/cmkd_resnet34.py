# The CMKD networks: mmpretrain ResNet-34 classifiers from scratch (no ImageNet
# pre-training), one per modality (EO RGB, SAR one band).
num_classes = 10
eo_model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=34, in_channels=3),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=512,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
sar_model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=34, in_channels=1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=512,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
