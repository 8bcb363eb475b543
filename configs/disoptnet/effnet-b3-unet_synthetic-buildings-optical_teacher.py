# The optical teacher: EfficientNet-B3 + U-Net decoder trained on the optical images
# of the SYNTHETIC building benchmark (stage 1 of DisOptNet).
_base_ = [
    '../_base_/datasets/synthetic_buildings_sar_optical.py',
    './_base_/models_effnet_unet.py',
    './_base_/schedule_synthetic.py',
    'mmseg::_base_/default_runtime.py',
]
model = dict(_base_.optical_effnet_unet,
             data_preprocessor=_base_.optical_preprocessor)
train_dataloader = dict(dataset=dict(modalities=('optical', ),
                                     pipeline=_base_.optical_train_pipeline))
val_dataloader = dict(dataset=dict(modalities=('optical', ),
                                   pipeline=_base_.optical_test_pipeline))
test_dataloader = val_dataloader
