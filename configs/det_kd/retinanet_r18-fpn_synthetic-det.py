# Student, and the grid's "hard" baseline (ground-truth labels only, no teacher):
# RetinaNet, ResNet-18 + FPN, mmdet's own modules only, 2 conv blocks per head subnet and
# Balanced L1 box regression like the teacher. From scratch.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    './_base_/synthetic_det.py',
    './_base_/schedule_synthetic_det.py',
    'mmdet::_base_/default_runtime.py',
    './_base_/randomness.py',  # seed 0: exact resumption
]
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512]),
    bbox_head=dict(
        num_classes=4,
        stacked_convs=2,
        # the benchmark's small-object anchors (_base_/synthetic_det.py), same for the
        # teacher and the student
        anchor_generator={{_base_.synthetic_det_anchor_generator}},
        loss_bbox=dict(_delete_=True, type='BalancedL1Loss', alpha=0.5, gamma=1.5,
                       beta=0.11, loss_weight=1.0)))
default_hooks = dict(checkpoint=dict(interval=4, max_keep_ckpts=1),
                     logger=dict(interval=10))
