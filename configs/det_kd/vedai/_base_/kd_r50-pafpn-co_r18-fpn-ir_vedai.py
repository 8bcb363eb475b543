# What every cell of the VEDAI *cross-modal* grid shares: the frozen colour R50-PAFPN
# teacher of the same fold reads <id>_co.png, the one-band R18-FPN student reads
# <id>_ir.png of the same scene, one set of boxes (mmkd.PairedCocoDataset). Paired flips
# move both images and the boxes; each modality has its own mmdet DetDataPreprocessor;
# validation and testing read the infrared image only. A cell adds its connectors and
# losses.
#   taps: det_kd/_base_/retinanet_taps.py (logits and neck levels)
# The exported student's config keeps mmkd.PairedCocoDataset for reading <id>_ir.png
# (mmdet's CocoDataset cannot derive it from the colour file name): testing it needs
# mmkd installed; the checkpoint itself is a plain mmdet RetinaNet.
_base_ = ['../retinanet_r18-fpn_vedai-ir.py',
          '../../_base_/retinanet_taps.py',
          '../../../_base_/kd_hooks.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model}},
    student_input='infrared',
    teacher=dict(
        model='{{ fileDirname }}/../retinanet_r50-pafpn_vedai-co_teacher.py',
        input='optical',
        checkpoint={{_base_.colour_teacher}}),
    taps=_base_.pop('taps'),  # det_kd/_base_/retinanet_taps.py
    data_preprocessor=dict(
        type='mmkd.MultiModalDataPreprocessor',
        preprocessors=dict(
            optical=dict(  # the colour teacher's own (mmdet's RetinaNet defaults)
                type='mmdet.DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32),
            infrared=dict(  # the infrared student's own
                type='mmdet.DetDataPreprocessor', mean=[128.0], std=[64.0],
                bgr_to_rgb=False, pad_size_divisor=32)),
        ref_modality='infrared'),
)
paired_meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                    'flip', 'flip_direction', 'ref_modality')
train_dataloader = dict(
    dataset=dict(
        modalities=dict(optical={{_base_.colour_template}},
                        infrared={{_base_.infrared_template}}),
        ref_modality='infrared',
        pipeline=[
            dict(type='mmkd.LoadMultiModalImages',
                 color_type=dict(optical='color', infrared='grayscale')),
            dict(type='LoadAnnotations', with_bbox=True, box_type=None),
            dict(type='mmkd.PairedResize', sizes={{_base_.resolution}}),
            dict(type='mmkd.PairedRandomFlip', prob=0.5),
            dict(type='mmkd.PackMultiModalInputs', task='det',
                 meta_keys=paired_meta_keys)
        ]))
val_dataloader = dict(
    dataset=dict(
        pipeline=[
            dict(type='mmkd.LoadMultiModalImages', color_type='grayscale'),
            dict(type='LoadAnnotations', with_bbox=True, box_type=None),
            dict(type='mmkd.PairedResize', sizes={{_base_.resolution}}),
            dict(type='mmkd.PackMultiModalInputs', task='det',
                 meta_keys=paired_meta_keys)
        ]))
test_dataloader = val_dataloader
