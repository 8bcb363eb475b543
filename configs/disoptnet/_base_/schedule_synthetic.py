# Short iteration-based schedule for the synthetic benchmark on a CPU. The authors'
# SpaceNet 6 recipe (SGD lr 5e-3, momentum 0.9, Nesterov, weight decay 1e-4, poly,
# 200 epochs of 512 px crops, batch 8, ImageNet-initialised encoders) is in
# ../disoptnet_effnet-b3-unet_k3_spacenet6.py; from scratch and for a few hundred
# iterations, AdamW converges far faster. At lr 1e-3 a from-scratch EfficientNet U-Net
# still predicts no building after 500 iterations (the rare class stays below 0.5);
# 3e-3 gets there in ~200.
max_iters = 1000
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=3e-3, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=max_iters,
                        by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=25, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters,
                    max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
