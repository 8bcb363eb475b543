# LD's student, and its baseline (ground-truth labels only, no teacher): GFL, ResNet-18 +
# FPN, mmdet's own modules only (the backbone and neck of the RetinaNet student,
# det_kd/retinanet_r18-fpn_synthetic-det.py). From scratch.
_base_ = [
    './_base_/gfl_r50-fpn_synthetic-det.py',
    '../_base_/synthetic_det.py',
    '../_base_/schedule_synthetic_det.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/randomness.py',  # seed 0: exact resumption
]
model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512]))
default_hooks = dict(checkpoint=dict(interval=4, max_keep_ckpts=1),
                     logger=dict(interval=10))
