# The grids' RetinaNet teacher body (from the detection-KD study): mmdet's RetinaNet with
# ResNet-50 + PAFPN, mmdet's own modules only, 2 conv blocks per head subnet (mmdet: 4)
# and Balanced L1 box regression (Libra R-CNN's RetinaNet settings, as the study uses).
# Trained from scratch: no pretrained weights are downloaded (init_cfg=None), BN trained.
# A teacher config adds its data's class count (and anchors); a student config is its
# teacher's with the student body, ResNet-18 + FPN.
_base_ = ['mmdet::_base_/models/retinanet_r50_fpn.py']
model = dict(
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(type='PAFPN'),
    bbox_head=dict(
        stacked_convs=2,
        loss_bbox=dict(_delete_=True, type='BalancedL1Loss', alpha=0.5, gamma=1.5,
                       beta=0.11, loss_weight=1.0)))
