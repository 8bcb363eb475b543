# Student on the generic synthetic scenes, and the generic grid's "hard" baseline
# (ground-truth labels only, no teacher): the generic teacher
# (retinanet_r50-pafpn_synthetic-det-generic_teacher.py: data, anchors, schedule, seed)
# with ResNet-18 + FPN. From scratch.
_base_ = ['./retinanet_r50-pafpn_synthetic-det-generic_teacher.py']
model = dict(backbone=dict(depth=18),  # the student body in place of R50-PAFPN
             neck=dict(type='FPN', in_channels=[64, 128, 256, 512]))
