# Student on VEDAI's colour images, and the colour grid's "hard" baseline (ground truth
# only): the teacher's RetinaNet (retinanet_r50-pafpn_vedai-co_teacher.py: 2 conv blocks
# per head subnet, Balanced L1 boxes, data, schedule and seed) with ResNet-18 + FPN, from
# scratch, on one fold (fold 1; the others: see _base_/vedai.py).
_base_ = ['./retinanet_r50-pafpn_vedai-co_teacher.py']
model = dict(backbone=dict(depth=18),  # the student body in place of R50-PAFPN
             neck=dict(type='FPN', in_channels=[64, 128, 256, 512]))
