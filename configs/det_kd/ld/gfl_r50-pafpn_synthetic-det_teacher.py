# LD's teacher: GFL, ResNet-50 + PAFPN, mmdet's own modules only (the RetinaNet teacher's
# backbone and neck, det_kd/retinanet_r50-pafpn_synthetic-det_teacher.py). LD distils the
# teacher's box *distribution* (GFL's general distribution: reg_max + 1 logits per box
# side), which a RetinaNet head does not have (it regresses four offsets), so LD cannot
# use the grid's RetinaNet teacher. Trained from scratch on the synthetic benchmark with
# the grid's data, input size, schedule and seed.
#   python tools/train.py configs/det_kd/ld/gfl_r50-pafpn_synthetic-det_teacher.py
_base_ = [
    './_base_/gfl_r50-fpn_synthetic-det.py',
    '../_base_/synthetic_det.py',
    '../_base_/schedule_synthetic_det.py',
    '../_base_/default_runtime.py',  # seed 0 (exact resumption), checkpoints, logging
]
model = dict(neck=dict(type='PAFPN'))
