# Teacher: RetinaNet, ResNet-50 + PAFPN, mmdet's own modules only. From the detection-KD
# study: 2 conv blocks per head subnet (mmdet: 4) and Balanced L1 box regression.
# Trained from scratch (no pretrained weights are downloaded; init_cfg=None, BN trained).
# The study's other modifications (no stem max-pool, context-enhancement neck, QFL with
# IoU targets) are in study/retinanet_r50-pafpn-study_synthetic-det_teacher.py.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    './_base_/synthetic_det.py',
    './_base_/schedule_synthetic_det.py',
    'mmdet::_base_/default_runtime.py',
    './_base_/randomness.py',  # seed 0: exact resumption
]
model = dict(
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(type='PAFPN'),
    bbox_head=dict(
        num_classes=4,
        stacked_convs=2,
        # the benchmark's small-object anchors (_base_/synthetic_det.py), same for the
        # teacher and the student
        anchor_generator={{_base_.synthetic_det_anchor_generator}},
        # Libra R-CNN's RetinaNet settings (mmdet libra_rcnn config), as the study uses
        loss_bbox=dict(_delete_=True, type='BalancedL1Loss', alpha=0.5, gamma=1.5,
                       beta=0.11, loss_weight=1.0)))
default_hooks = dict(checkpoint=dict(interval=4, max_keep_ckpts=1),
                     logger=dict(interval=10))
