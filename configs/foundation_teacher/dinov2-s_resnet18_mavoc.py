# Optical foundation teacher -> SAR student on the MAVOC challenge chips, whose EO is
# grey: a mmkd.BandAdapter gives the RGB DINOv2 teacher what it expects (the one EO band
# replicated to 3 channels, normalised with DINOv2's mean/std) while the ResNet-18
# student reads the SAR chip (1 band) of the same sample. Distiller as in
# _base_/dinov2-s_resnet18.py. Not measured (see the README).
_base_ = [
    '../_base_/datasets/mavoc_eo_sar.py',
    '../_base_/schedules/cmkd_sgd_60e.py',
    '../_base_/cls_kd_runtime.py',  # mmpretrain runtime, shipped hooks, checkpoints
    './_base_/dinov2-s_resnet18.py',
]
model = dict(
    teacher=dict(
        # the EO preprocessor below leaves the pixels in 0..255; the adapter replicates
        # the band and applies the teacher's per-channel normalisation
        input_adapter=dict(type='mmkd.BandAdapter', in_channels=1, bands=[0, 0, 0],
                           mean={{_base_.teacher_mean}}, std={{_base_.teacher_std}})),
    data_preprocessor=dict(
        type='mmkd.MultiModalDataPreprocessor',
        preprocessors=dict(
            eo=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=10, mean=[0.],
                    std=[1.], to_rgb=False),
            sar={{_base_.paired_preprocessor.preprocessors.sar}}),
        num_classes=10))
train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type='grayscale', channels=1),
    dict(type='mmkd.PairedRandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='mmkd.PairedRandomRotate', angles=[0, 90, 180, 270]),
    dict(type='mmkd.PairedResize', sizes=dict(eo=224, sar=48)),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# MAVOC's test labels are not public: no validation (give your own split to have one)
val_dataloader = None
val_evaluator = None
val_cfg = None
