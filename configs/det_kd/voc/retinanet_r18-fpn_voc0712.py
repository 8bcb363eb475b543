# Student on Pascal VOC 07+12, and the VOC grid's "hard" baseline: RetinaNet, ResNet-18 +
# FPN, 2 conv blocks per head subnet, Balanced L1 boxes; mmdet's VOC schedule. From
# scratch (see the teacher's config for ImageNet weights: 'torchvision://resnet18').
_base_ = ['mmdet::pascal_voc/retinanet_r50_fpn_1x_voc0712.py',
          '../_base_/randomness.py']  # seed 0: exact resumption
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512]),
    bbox_head=dict(
        stacked_convs=2,
        loss_bbox=dict(_delete_=True, type='BalancedL1Loss', alpha=0.5, gamma=1.5,
                       beta=0.11, loss_weight=1.0)))
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
