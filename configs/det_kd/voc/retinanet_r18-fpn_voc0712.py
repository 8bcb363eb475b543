# Student on Pascal VOC 07+12, and the VOC grid's "hard" baseline: the VOC teacher
# (retinanet_r50-pafpn_voc0712_teacher.py: mmdet's RetinaNet VOC config and schedule, 2
# conv blocks per head subnet, Balanced L1 boxes, gradient clipping, seed 0) with
# ResNet-18 + FPN. From scratch (see the teacher's config for ImageNet weights:
# 'torchvision://resnet18').
_base_ = ['./retinanet_r50-pafpn_voc0712_teacher.py']
model = dict(backbone=dict(depth=18),  # the student body in place of R50-PAFPN
             neck=dict(type='FPN', in_channels=[64, 128, 256, 512]))
