# Student with all the detection-KD study's modifications, and the study grid's "hard"
# baseline: ResNet-18 without the stem max-pool, context-enhancement module in front of
# mmdet's FPN, 2 conv blocks per head subnet, Balanced L1 boxes, QFL on IoU targets (see
# the teacher's config for details). mmkd types: loading this model needs mmkd installed.
_base_ = ['../retinanet_r18-fpn_synthetic-det.py']
model = dict(
    backbone=dict(type='mmkd.ResNetNoMaxPool'),
    neck=[
        dict(type='mmkd.ContextEnhancement', in_channels=[64, 128, 256, 512],
             in_indices=(2, 3), out_channels=256, num_outs=5),
        dict(type='FPN', in_channels=[256] * 5, out_channels=256, num_outs=5,
             norm_cfg=dict(type='BN'), act_cfg=dict(type='LeakyReLU', negative_slope=0.1)),
    ],
    bbox_head=dict(
        type='mmkd.QFLRetinaHead',
        loss_cls=dict(_delete_=True, type='QualityFocalLoss', use_sigmoid=True, beta=2.0,
                      loss_weight=1.0)))
