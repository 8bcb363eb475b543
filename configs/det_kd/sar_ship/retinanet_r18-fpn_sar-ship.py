# Student for SAR ship detection, and its baseline (ground truth only, no teacher): the
# teacher's config (same data, head, anchors, losses and schedule) with the grid's
# student body, ResNet-18 + FPN (../retinanet_r18-fpn_synthetic-det.py).
_base_ = ['./retinanet_r50-pafpn_sar-ship_teacher.py']
model = dict(
    backbone=dict(depth=18),
    neck=dict(type='FPN', in_channels=[64, 128, 256, 512]))
