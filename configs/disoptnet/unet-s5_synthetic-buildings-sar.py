# SAR-only baseline: mmseg's U-Net (5 stages, 32 base channels) on the SAR images of the
# SYNTHETIC building benchmark, no teacher.
_base_ = [
    '../_base_/datasets/synthetic_buildings_sar_optical.py',
    './_base_/models_effnet_unet.py',
    './_base_/schedule_synthetic.py',
    'mmseg::_base_/default_runtime.py',
]
model = dict(_base_.sar_unet, data_preprocessor=_base_.sar_preprocessor)
train_dataloader = dict(dataset=dict(modalities=('sar', ),
                                     pipeline=_base_.sar_train_pipeline))
val_dataloader = dict(dataset=dict(modalities=('sar', ),
                                   pipeline=_base_.sar_test_pipeline))
test_dataloader = val_dataloader
