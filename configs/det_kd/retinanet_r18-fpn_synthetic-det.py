# Student, and the grid's "hard" baseline (ground-truth labels only, no teacher): the
# teacher's RetinaNet (retinanet_r50-pafpn_synthetic-det_teacher.py: mmdet's own modules
# only, 2 conv blocks per head subnet, Balanced L1 box regression, the benchmark's
# anchors, data, schedule and seed) with ResNet-18 + FPN. From scratch.
_base_ = ['./retinanet_r50-pafpn_synthetic-det_teacher.py']
model = dict(backbone=dict(depth=18),  # the student body in place of R50-PAFPN
             neck=dict(type='FPN', in_channels=[64, 128, 256, 512]))
