# The optical teacher for paired SCENES (../_base_/datasets/sar_optical_scenes.py):
# EfficientNet-B3 + U-Net decoder on windows of the optical scene, reprojected onto the
# SAR scene's grid, where the labels are.
_base_ = [
    '../_base_/datasets/sar_optical_scenes.py',
    './_base_/models_effnet_unet.py',
    './_base_/schedule_synthetic.py',
    'mmseg::_base_/default_runtime.py',
]
model = dict(_base_.optical_effnet_unet,
             decode_head=dict(_base_.unet_decoder, num_classes=len(_base_.classes)),
             data_preprocessor=_base_.optical_preprocessor)
train_dataloader = dict(dataset=dict(pipeline=_base_.optical_train_pipeline))
val_dataloader = dict(dataset=dict(modalities=('sar', 'optical'),
                                   pipeline=_base_.optical_test_pipeline))
test_dataloader = val_dataloader
