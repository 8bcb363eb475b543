# The DisOptNet authors' recipe (main_st1.py / main_st2.py): SGD, lr 5e-3, momentum 0.9,
# Nesterov, weight decay 1e-4, poly decay, 200 epochs, batch 8 of 512 px crops.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(
    type='SGD', lr=5e-3, momentum=0.9, nesterov=True, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=200,
                        by_epoch=True, convert_to_iter_based=True)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2,
                    save_best='Dice.building', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
