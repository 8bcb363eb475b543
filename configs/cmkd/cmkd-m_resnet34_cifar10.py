# CMKD-m: the EO and simulated-SAR models take turns as teacher and student. Each round:
# the EO model learns from the SAR model (alpha 0.2: the weaker modality teaches), then
# the SAR model learns from the EO model (alpha 0.8), as in the authors' code. Both start
# from their supervised checkpoints (the paper starts the EO model from the SAR-pretrained
# weights, which needs equal input channels: see cmkd-m_resnet34_mavoc.py; here EO is RGB
# and SAR grey).
_base_ = [
    '../_base_/models/cmkd_resnet34.py',
    '../_base_/datasets/cifar10_eo_simsar.py',
    '../_base_/schedules/cmkd_sgd_60e.py',
    '../_base_/cls_kd_runtime.py',  # mmpretrain runtime, shipped hooks, checkpoints
]
epochs_per_phase = 10
model = dict(
    type='mmkd.MutualDistiller',
    models=dict(
        eo=dict(model={{_base_.eo_model}}, input='eo',
                checkpoint='work_dirs/resnet34_cifar10-eo_supervised'),
        sar=dict(model={{_base_.sar_model}}, input='sar',
                 checkpoint='work_dirs/resnet34_cifar10-simsar_supervised')),
    phases=[
        dict(student='eo', teacher='sar', epochs=epochs_per_phase, alpha=0.2),
        dict(student='sar', teacher='eo', epochs=epochs_per_phase, alpha=0.8),
    ],
    rounds=3,
    loss=dict(type='mmkd.CMKDLoss', num_classes=10, temperature=2.0,
              kl_reduction='element'),  # the authors' code (CMKDLoss docstring)
    eval_model='sar',
    data_preprocessor={{_base_.paired_preprocessor}})
train_cfg = dict(max_epochs=60, val_interval=10)
custom_hooks = [dict(type='mmkd.RoleSwapHook'),
                dict(type='mmkd.ClassWeightsHook', formula='inverse')] + _base_.custom_hooks
default_hooks = dict(checkpoint=dict(interval=10))  # one checkpoint per phase (10 epochs)
