# SAR-only EfficientNet-B3 U-Net on SpaceNet 6 (the baseline DisOptNet improves on).
_base_ = [
    '../_base_/datasets/spacenet6_sar_optical.py',
    './_base_/models_effnet_unet.py',
    './_base_/schedule_spacenet6.py',
    'mmseg::_base_/default_runtime.py',
]
model = dict(_base_.sar_effnet_unet, data_preprocessor=_base_.sar_preprocessor)
train_dataloader = dict(dataset=dict(modalities=('sar', ),
                                     pipeline=_base_.sar_train_pipeline))
test_dataloader = dict(dataset=dict(pipeline=_base_.sar_test_pipeline))
val_dataloader = test_dataloader
