# The optical teacher on SpaceNet 6 (PS-RGB), stage 1 of DisOptNet. The authors feed
# 4-band optical (their model_specs has in_channels 4 for both models, e.g. PS-RGBNIR);
# use folders=dict(optical='<your 4-band folder>') and in_channels=4 to match.
_base_ = [
    '../_base_/datasets/spacenet6_sar_optical.py',
    './_base_/models_effnet_unet.py',
    './_base_/schedule_spacenet6.py',
    'mmseg::_base_/default_runtime.py',
]
model = dict(_base_.optical_effnet_unet, data_preprocessor=_base_.optical_preprocessor)
train_dataloader = dict(dataset=dict(modalities=('optical', ),
                                     pipeline=_base_.optical_train_pipeline))
val_dataloader = dict(dataset=dict(modalities=('optical', ),
                                   pipeline=_base_.optical_test_pipeline))
test_dataloader = val_dataloader
