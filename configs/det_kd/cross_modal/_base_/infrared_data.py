# The infrared rendering of the synthetic detection benchmark read alone, with mmdet's own
# dataset and transforms: what an infrared student trained without a teacher reads (the
# RetinaNet grid's ../retinanet_r18-fpn_synthetic-det-infrared.py, LD's
# ../../ld/gfl_r18-fpn_synthetic-det-infrared.py). One variable, `infrared_data`, that a
# config takes with `_base_.pop('infrared_data')`; a leaf (no bases), so that a detector
# config can inherit it beside its own. One band in: the student's backbone needs
# in_channels=1, and its data preprocessor the infrared statistics of the generated
# training split (`preprocessor`, merged into mmdet's DetDataPreprocessor).
infrared_data = dict(
    preprocessor=dict(mean=[101.8], std=[32.6], bgr_to_rgb=False),
    train_pipeline=[
        dict(type='LoadImageFromFile', color_type='grayscale'),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='Resize', scale=(256, 256), keep_ratio=True),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackDetInputs')
    ],
    test_pipeline=[
        dict(type='LoadImageFromFile', color_type='grayscale'),
        dict(type='Resize', scale=(256, 256), keep_ratio=True),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='PackDetInputs',
             meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
    ],
)
