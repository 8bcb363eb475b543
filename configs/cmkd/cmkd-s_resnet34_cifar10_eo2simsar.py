# CMKD-s: a frozen EO teacher (trained by resnet34_cifar10-eo_supervised.py) teaches a
# simulated-SAR student with class-weighted KL + CE (alpha * wKL + (1 - alpha) * wCE).
_base_ = ['./resnet34_cifar10-simsar_supervised.py']
model = dict(
    teacher=dict(model={{_base_.eo_model}}, input='eo',
                 checkpoint='work_dirs/resnet34_cifar10-eo_supervised'),
    taps=dict(s_logits='student.head.fc', t_logits='teacher.head.fc'),
    losses=dict(cmkd=dict(type='mmkd.CMKDLoss', num_classes=10,
                          # the authors' code: alpha 0.2, T 2, nn.KLDivLoss() mean
                          alpha=0.2, temperature=2.0, kl_reduction='element',
                          inputs=dict(student='s_logits', teacher='t_logits'))),
    student_loss_weight=0.,  # the weighted CE is part of CMKDLoss
)
custom_hooks = [dict(type='mmkd.ClassWeightsHook', formula='inverse')] + _base_.custom_hooks
