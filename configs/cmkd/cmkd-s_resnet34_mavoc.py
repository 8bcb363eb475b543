# CMKD-s on the challenge layout, as the brief states it: a SAR teacher (ResNet-34,
# pre-trained on EO then trained on SAR; give its checkpoint) teaches the EO student
# with class-weighted KL + CE. Swap `input`/`student_input` for the other direction.
_base_ = [
    '../_base_/models/cmkd_resnet34.py',
    '../_base_/datasets/mavoc_eo_sar.py',
    '../_base_/schedules/cmkd_sgd_60e.py',
    '../_base_/cls_kd_runtime.py',  # mmpretrain runtime, shipped hooks, checkpoints
]
model = dict(
    type='mmkd.Distiller',
    student={{_base_.sar_model}},  # the challenge's EO chips are grey too: one band
    student_input='eo',
    teacher=dict(model={{_base_.sar_model}}, input='sar',
                 checkpoint='work_dirs/resnet34_mavoc-sar_teacher'),
    taps=dict(s_logits='student.head.fc', t_logits='teacher.head.fc'),
    losses=dict(cmkd=dict(type='mmkd.CMKDLoss', num_classes=10,
                          # the authors' code: alpha 0.2, T 2, nn.KLDivLoss() mean
                          alpha=0.2, temperature=2.0, kl_reduction='element',
                          inputs=dict(student='s_logits', teacher='t_logits'))),
    student_loss_weight=0.,
    data_preprocessor={{_base_.paired_preprocessor}})
# The challenge's test labels are not public: validate on a held-out part of train by
# giving your own split, or train without validation (as here).
val_dataloader = None
val_evaluator = None
val_cfg = None
custom_hooks = [dict(type='mmkd.ClassWeightsHook', formula='inverse')] + _base_.custom_hooks
