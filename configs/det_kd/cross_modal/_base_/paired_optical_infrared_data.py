# The paired optical / infrared data of the synthetic detection benchmark, shared by every
# cross-modal config (the RetinaNet grid's cells, ./kd_r50-pafpn-optical_r18-fpn-infrared
# _synthetic-det.py, and LD's, ../../ld/ld_gfl_r50-pafpn-optical_r18-fpn-infrared
# _synthetic-det.py). One variable, `paired_data`, that a config takes with
# `_base_.pop('paired_data')` (so that no top-level variable naming mmkd types reaches the
# exported student's config):
#   train: mmkd.PairedCocoDataset reads both renderings of each COCO image entry
#          (optical/<file_name>, infrared/<file_name>), one set of boxes; paired flips
#          move both images and the boxes together;
#   val:   the infrared image only (the student is validated and tested on its own
#          modality);
#   preprocessor: each modality normalised by its own mmdet DetDataPreprocessor, the
#          boxes' frame and batch metadata the infrared student's.
# A leaf (no bases: a config that also inherits a detector config would otherwise get its
# loaders twice); the config adds the grid's data root and classes
# (../../_base_/synthetic_det.py, through its detector config) to each dataset.
_meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
              'flip_direction', 'ref_modality')
paired_data = dict(
    optical_preprocessor=dict(  # the optical teacher's own (mmdet's defaults)
        type='mmdet.DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32),
    infrared_preprocessor=dict(  # the infrared student's own
        type='mmdet.DetDataPreprocessor', mean=[101.8], std=[32.6], bgr_to_rgb=False,
        pad_size_divisor=32),
    train_dataset=dict(
        type='mmkd.PairedCocoDataset',
        modalities=dict(optical='optical/{}', infrared='infrared/{}'),
        ref_modality='infrared',
        ann_file='annotations/train.json',
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=[
            dict(type='mmkd.LoadMultiModalImages',
                 color_type=dict(optical='color', infrared='grayscale')),
            dict(type='LoadAnnotations', with_bbox=True, box_type=None),  # as arrays
            dict(type='mmkd.PairedResize', sizes=(256, 256)),
            dict(type='mmkd.PairedRandomFlip', prob=0.5),  # both images and the boxes
            dict(type='mmkd.PackMultiModalInputs', task='det', meta_keys=_meta_keys)
        ]),
    val_dataset=dict(
        type='mmkd.PairedCocoDataset',
        modalities=dict(infrared='infrared/{}'),
        ann_file='annotations/val.json',
        test_mode=True,
        pipeline=[
            dict(type='mmkd.LoadMultiModalImages', modalities=['infrared'],
                 color_type='grayscale'),
            dict(type='LoadAnnotations', with_bbox=True, box_type=None),
            dict(type='mmkd.PairedResize', sizes=(256, 256)),
            dict(type='mmkd.PackMultiModalInputs', task='det', meta_keys=_meta_keys)
        ]),
)
del _meta_keys
