# What every cell of the *cross-modal* detection-KD grid shares: the frozen R50-PAFPN
# teacher of the grid, trained on the optical rendering, teaches the R18-FPN student that
# reads the infrared rendering of the same scene (one set of boxes). A cell adds its
# connectors (3x3 adaptation convs, one per FPN level) and losses.
#   data: mmkd.PairedCocoDataset reads both renderings of each COCO image entry
#         (optical/<file_name>, infrared/<file_name>); paired flips move both images and
#         the boxes together; each modality is normalised by its own mmdet
#         DetDataPreprocessor; validation and testing read the infrared image only.
#   taps: det_kd/_base_/retinanet_taps.py (logits and neck levels)
# The exported student is a plain mmdet RetinaNet whose config reads infrared/ with
# mmdet's CocoDataset.
_base_ = ['../retinanet_r18-fpn_synthetic-det-infrared.py',
          '../../_base_/retinanet_taps.py',
          '../../../_base_/kd_hooks.py']

optical_preprocessor = dict(  # the optical teacher's own (mmdet's RetinaNet defaults)
    type='mmdet.DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32)
infrared_preprocessor = dict(  # the infrared student's own
    type='mmdet.DetDataPreprocessor', mean=[101.8], std=[32.6], bgr_to_rgb=False,
    pad_size_divisor=32)

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model}},
    student_input='infrared',
    teacher=dict(
        model='{{ fileDirname }}/../../retinanet_r50-pafpn_synthetic-det_teacher.py',
        input='optical',
        # a checkpoint file, or the teacher's work dir (its last checkpoint is used)
        checkpoint='work_dirs/retinanet_r50-pafpn_synthetic-det_teacher'),
    taps=_base_.pop('taps'),  # det_kd/_base_/retinanet_taps.py
    data_preprocessor=dict(
        type='mmkd.MultiModalDataPreprocessor',
        preprocessors=dict(optical=optical_preprocessor,
                           infrared=infrared_preprocessor),
        ref_modality='infrared'),  # the boxes' frame and batch metadata: the student's
)

# pipelines inline (no top-level variables naming mmkd types, which the exported
# student's config would otherwise carry)
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
             'flip_direction', 'ref_modality')
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmkd.PairedCocoDataset',
        modalities=dict(optical='optical/{}', infrared='infrared/{}'),
        ref_modality='infrared',
        data_root={{_base_.data_root}},
        metainfo={{_base_.metainfo}},
        ann_file='annotations/train.json',
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=[
            dict(type='mmkd.LoadMultiModalImages',
                 color_type=dict(optical='color', infrared='grayscale')),
            dict(type='LoadAnnotations', with_bbox=True, box_type=None),  # as arrays
            dict(type='mmkd.PairedResize', sizes=(256, 256)),
            dict(type='mmkd.PairedRandomFlip', prob=0.5),  # both images and the boxes
            dict(type='mmkd.PackMultiModalInputs', task='det', meta_keys=meta_keys)
        ]))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmkd.PairedCocoDataset',
        modalities=dict(infrared='infrared/{}'),
        data_root={{_base_.data_root}},
        metainfo={{_base_.metainfo}},
        ann_file='annotations/val.json',
        test_mode=True,
        pipeline=[
            dict(type='mmkd.LoadMultiModalImages', modalities=['infrared'],
                 color_type='grayscale'),
            dict(type='LoadAnnotations', with_bbox=True, box_type=None),
            dict(type='mmkd.PairedResize', sizes=(256, 256)),
            dict(type='mmkd.PackMultiModalInputs', task='det', meta_keys=meta_keys)
        ]))
test_dataloader = val_dataloader
