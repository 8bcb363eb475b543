# LD's student, and its baseline (ground-truth labels only, no teacher): the GFL of LD's
# teacher (gfl_r50-pafpn_synthetic-det_teacher.py: mmdet's own modules only, the
# benchmark's data, schedule and seed) with ResNet-18 + FPN, the backbone and neck of
# the RetinaNet student (det_kd/retinanet_r18-fpn_synthetic-det.py). From scratch.
_base_ = ['./gfl_r50-pafpn_synthetic-det_teacher.py']
model = dict(backbone=dict(depth=18),  # the student body in place of R50-PAFPN
             neck=dict(type='FPN', in_channels=[64, 128, 256, 512]))
