# Radar / optics schedule (ours: the paper's could not be checked): SGD lr 0.05,
# momentum 0.9, weight decay 5e-4, 100 epochs, cosine decay, batch 32.
_base_ = ['mmpretrain::_base_/default_runtime.py']
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=100, eta_min=0.)
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=1, save_best='auto'),
    logger=dict(type='LoggerHook', interval=50))
