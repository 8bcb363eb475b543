# The bundled *synthetic* paired detection benchmark (mmkd/testing/synthetic_det.py, made
# by `python tools/misc/make_synthetic_det.py`): generated 256 px scenes of four
# vehicle-like classes, COCO format, one annotation file shared by an optical and a
# degraded infrared rendering. These configs read the optical rendering
# (`data_prefix=dict(img='optical/')`; 'infrared/' reads the other one).
dataset_type = 'CocoDataset'
data_root = 'data/synthetic_det/'
metainfo = dict(
    classes=('car', 'truck', 'boat', 'plane'),
    palette=[(220, 20, 60), (0, 128, 255), (0, 200, 120), (255, 180, 0)])
backend_args = None

# Anchors for the benchmark's small objects, shared by the teacher and the student (same
# anchors, same 9 per location, so the heads' outputs match anchor for anchor). Objects
# are 10-28 px long at 128 px (20-56 px at 256 px; boxes' sqrt(area) 7-28 px at 128 px,
# median 15); mmdet's RetinaNet anchors (octave_base_scale=4: P3 anchors 32-51 px) give
# only 12 % of the boxes at 128 px an anchor of IoU >= 0.5 (the assigner's positive
# threshold), so most get one forced low-IoU positive. octave_base_scale=1.5 (P3
# anchors 12, 15, 19 px, up to 305 px on P7): 79 % at 128 px, 93 % at 256 px (IoU >= 0.4:
# 96 % and 100 %; octave_base_scale 2: 70 % and 99 %; 100 generated training scenes).
# The strides stay 8..128 (P3-P7, the necks' levels): at 128 px the stride-8 grid, not
# the anchor size, limits the smallest boxes.
synthetic_det_anchor_generator = dict(
    type='AnchorGenerator', octave_base_scale=1.5, scales_per_octave=3,
    ratios=[0.5, 1.0, 2.0], strides=[8, 16, 32, 64, 128])

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(256, 256), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/train.json',
        data_prefix=dict(img='optical/'),
        # images without boxes are left out of training (mmdet's filter); the
        # generator never writes any
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/val.json',
        data_prefix=dict(img='optical/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'annotations/val.json',
    metric='bbox',
    format_only=False,
    backend_args=backend_args)
test_evaluator = val_evaluator
