# Teacher for SAR ship detection (HRSID / SSDD style, one class: _base_/sar_ship.py):
# the detection-KD grid's teacher (../retinanet_r50-pafpn_synthetic-det_teacher.py:
# RetinaNet R50-PAFPN, 2 conv blocks per head subnet, Balanced L1 boxes, the small-object
# anchors) on the ship chips, from scratch with the grid's schedule. With ImageNet weights
# at hand, start from them instead: backbone=dict(frozen_stages=1, norm_eval=True,
# init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')).
#     python tools/train.py configs/det_kd/sar_ship/retinanet_r50-pafpn_sar-ship_teacher.py
_base_ = [
    '../_base_/models/retinanet_r50-pafpn.py',
    './_base_/sar_ship.py',
    '../_base_/schedule_synthetic_det.py',
    '../_base_/default_runtime.py',  # seed 0 (exact resumption), checkpoints
]
model = dict(
    bbox_head=dict(
        num_classes={{_base_.num_classes}},  # set once, in _base_/sar_ship.py
        # ships are small (HRSID: over half under 32 x 32 px): the grid's small anchors
        anchor_generator={{_base_.synthetic_det_anchor_generator}}))
default_hooks = dict(logger=dict(interval=20))  # epochs longer than the synthetic set's
