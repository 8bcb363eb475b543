# Student on VEDAI's infrared images (one band), and the cross-modal grid's "hard"
# baseline: the colour student (retinanet_r18-fpn_vedai-co.py) with one input band,
# reading <id>_ir.png through mmkd.PairedCocoDataset (the COCO files name the colour
# image; the template names the infrared one) and packed as mmdet packs one image.
# The normalisation (mean 128, std 64) is generic: put your training split's statistics.
_base_ = ['./retinanet_r18-fpn_vedai-co.py']

model = dict(
    backbone=dict(in_channels=1),
    data_preprocessor=dict(mean=[128.0], std=[64.0], bgr_to_rgb=False))
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
             'flip_direction')
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmkd.PairedCocoDataset',
        modalities=dict(infrared={{_base_.infrared_template}}),
        data_root={{_base_.data_root}},
        metainfo={{_base_.metainfo}},
        ann_file={{_base_.train_ann}},
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=[
            dict(type='mmkd.LoadMultiModalImages', color_type='grayscale'),
            dict(type='LoadAnnotations', with_bbox=True, box_type=None),
            dict(type='mmkd.PairedResize', sizes={{_base_.resolution}}),
            dict(type='mmkd.PairedRandomFlip', prob=0.5),
            dict(type='mmkd.SelectModality', modality='infrared'),
            dict(type='PackDetInputs', meta_keys=meta_keys)
        ]))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmkd.PairedCocoDataset',
        modalities=dict(infrared={{_base_.infrared_template}}),
        data_root={{_base_.data_root}},
        metainfo={{_base_.metainfo}},
        ann_file={{_base_.test_ann}},
        test_mode=True,
        pipeline=[
            dict(type='mmkd.LoadMultiModalImages', color_type='grayscale'),
            dict(type='LoadAnnotations', with_bbox=True, box_type=None),
            dict(type='mmkd.PairedResize', sizes={{_base_.resolution}}),
            dict(type='mmkd.SelectModality', modality='infrared'),
            dict(type='PackDetInputs', meta_keys=meta_keys)
        ]))
test_dataloader = val_dataloader
