# Teacher with all the detection-KD study's modifications (zhanghengdev/MutualGuide's
# detector, which the study builds on): ResNet-50 without the stem max-pool, a
# context-enhancement module (CEM on C4+C5 plus global context, then a pyramid of
# stride-2 convs) in front of mmdet's PAFPN, conv+BN+LeakyReLU neck blocks, 2 conv
# blocks per head subnet, Balanced L1 boxes, classification by QFL on the IoU of the
# predicted box. Strides stay 8..128 (CEM fuses C4/C5 at stride 8), so the benchmark's
# anchors (_base_/synthetic_det.py) apply unchanged. mmkd types: loading this model needs
# mmkd installed.
_base_ = ['../retinanet_r50-pafpn_synthetic-det_teacher.py']
model = dict(
    backbone=dict(type='mmkd.ResNetNoMaxPool'),
    neck=[
        dict(type='mmkd.ContextEnhancement', in_channels=[256, 512, 1024, 2048],
             in_indices=(2, 3), out_channels=256, num_outs=5),
        dict(type='PAFPN', in_channels=[256] * 5, out_channels=256, num_outs=5,
             norm_cfg=dict(type='BN'), act_cfg=dict(type='LeakyReLU', negative_slope=0.1)),
    ],
    bbox_head=dict(
        type='mmkd.QFLRetinaHead',
        loss_cls=dict(_delete_=True, type='QualityFocalLoss', use_sigmoid=True, beta=2.0,
                      loss_weight=1.0)))
