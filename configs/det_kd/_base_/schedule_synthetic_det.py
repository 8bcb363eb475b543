# A short from-scratch schedule for the synthetic benchmark (one GPU or CPU, batch 8):
# mmdet's 1x schedule stretched to 24 epochs, lr 0.01, gradient clipping for the
# randomly initialised backbones.
_base_ = ['mmdet::_base_/schedules/schedule_1x.py']
max_epochs = 24
train_cfg = dict(max_epochs=max_epochs, val_interval=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=200),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[16, 22], gamma=0.1)
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=8)
