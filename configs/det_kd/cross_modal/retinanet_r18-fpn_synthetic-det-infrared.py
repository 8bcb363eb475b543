# Infrared student, and the cross-modal grid's "hard" baseline (ground truth only, no
# teacher): the grid's RetinaNet R18-FPN (../retinanet_r18-fpn_synthetic-det.py) on the
# single-band infrared rendering of the synthetic benchmark, with mmdet's own dataset
# and transforms (one band in: in_channels=1, the infrared statistics of the generated
# training split).
_base_ = ['../retinanet_r18-fpn_synthetic-det.py']

model = dict(
    backbone=dict(in_channels=1),
    data_preprocessor=dict(mean=[101.8], std=[32.6], bgr_to_rgb=False))

train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='Resize', scale=(256, 256), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(data_prefix=dict(img='infrared/'), pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_prefix=dict(img='infrared/'), pipeline=test_pipeline))
test_dataloader = val_dataloader
