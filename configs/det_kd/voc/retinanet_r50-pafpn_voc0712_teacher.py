# Teacher on Pascal VOC 07+12 (bring the data to data/VOCdevkit, mmdet's layout):
# mmdet's RetinaNet VOC config with the detection-KD study's teacher: ResNet-50 + PAFPN,
# 2 conv blocks per head subnet, Balanced L1 boxes.
# No weights are downloaded here: the backbone starts from scratch (BN trained). With
# ImageNet weights at hand, use mmdet's defaults instead: backbone=dict(frozen_stages=1,
# norm_eval=True, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')).
_base_ = ['mmdet::pascal_voc/retinanet_r50_fpn_1x_voc0712.py',
          '../_base_/randomness.py']  # seed 0: exact resumption
model = dict(
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(type='PAFPN'),
    bbox_head=dict(
        stacked_convs=2,
        loss_bbox=dict(_delete_=True, type='BalancedL1Loss', alpha=0.5, gamma=1.5,
                       beta=0.11, loss_weight=1.0)))
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
