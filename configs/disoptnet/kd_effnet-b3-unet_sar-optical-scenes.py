# Pixel-wise KD on paired SCENES, no pre-tiling: the frozen optical teacher
# (effnet-b3-unet_sar-optical-scenes-optical_teacher.py) teaches a SAR EfficientNet-B3
# U-Net (VV + VH) on random aligned windows (mmkd.PairedSceneWindowDataset); evaluation
# reads a grid of SAR windows alone. The exported student (work_dirs/<this>/student/)
# segments whole scenes with tools/misc/scene_seg_inference.py (docs/scenes.md).
_base_ = [
    './effnet-b3-unet_sar-optical-scenes-optical_teacher.py',
    '../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student=dict(_base_.model, backbone=dict(_base_.sar_encoder, in_channels=2),
                 data_preprocessor=_base_.sar_preprocessor),
    student_input='sar',
    teacher=dict(
        model='{{ fileDirname }}/effnet-b3-unet_sar-optical-scenes-optical_teacher.py',
        checkpoint='work_dirs/effnet-b3-unet_sar-optical-scenes-optical_teacher',
        input='optical'),
    taps=dict(s_logits='student.decode_head.conv_seg',
              t_logits='teacher.decode_head.conv_seg'),
    losses=dict(pixel_wise=dict(type='mmkd.KDLoss', temperature=1.0, loss_weight=10.0,
                                inputs=dict(student='s_logits', teacher='t_logits'))),
    data_preprocessor=_base_.paired_preprocessor)
train_dataloader = dict(dataset=dict(modalities=('sar', 'optical'),
                                     pipeline=_base_.paired_train_pipeline))
val_dataloader = dict(dataset=dict(modalities=('sar', ),
                                   pipeline=_base_.paired_test_pipeline))
test_dataloader = val_dataloader
