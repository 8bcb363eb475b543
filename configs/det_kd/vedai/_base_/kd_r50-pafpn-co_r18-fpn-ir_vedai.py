# What every cell of the VEDAI *cross-modal* grid shares: the frozen colour R50-PAFPN
# teacher of the same fold reads <id>_co.png, the one-band R18-FPN student reads
# <id>_ir.png of the same scene, one set of boxes (mmkd.PairedCocoDataset). Paired flips
# move both images and the boxes; each modality has its own mmdet DetDataPreprocessor;
# validation and testing read the infrared image only. A cell adds its connectors and
# losses.
#   taps: s_cls / t_cls   classification logits, one (N, 9*K, H, W) per level P3..P7
#         s_p3..s_p7 / t_p3..t_p7   neck outputs (N, 256, H, W)
# The exported student's config keeps mmkd.PairedCocoDataset for reading <id>_ir.png
# (mmdet's CocoDataset cannot derive it from the colour file name): testing it needs
# mmkd installed; the checkpoint itself is a plain mmdet RetinaNet.
_base_ = ['../retinanet_r18-fpn_vedai-ir.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model}},
    student_input='infrared',
    teacher=dict(
        model='{{ fileDirname }}/../retinanet_r50-pafpn_vedai-co_teacher.py',
        input='optical',
        checkpoint={{_base_.colour_teacher}}),
    taps=dict(
        s_cls='student.bbox_head.retina_cls',
        t_cls='teacher.bbox_head.retina_cls',
        **{f's_p{lvl}': f'student.neck[{lvl - 3}]' for lvl in range(3, 8)},
        **{f't_p{lvl}': f'teacher.neck[{lvl - 3}]' for lvl in range(3, 8)}),
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
custom_hooks = [dict(type='mmkd.ExportStudentHook'),
                dict(type='mmkd.TeacherHashHook'), dict(type='mmkd.RNGStateHook')]
