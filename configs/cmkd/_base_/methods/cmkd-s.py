# CMKD-s's objective, for the configs that add it to a supervised simulated-SAR config:
# the student's logits learn from a frozen EO teacher's with class-weighted KL + CE
# (alpha * wKL + (1 - alpha) * wCE; the class weights come from mmkd.ClassWeightsHook).
# Under the key `method`, which a leaf moves into its model beside the teacher:
#   model = dict(teacher=dict(model={{_base_.eo_model}}, input='eo', checkpoint=...),
#                **_base_.pop('method'))
#   custom_hooks = [dict(type='mmkd.ClassWeightsHook', formula='inverse')] + _base_.custom_hooks
# (a base cannot set `model` or `custom_hooks` beside the supervised config that does).
method = dict(
    taps=dict(s_logits='student.head.fc', t_logits='teacher.head.fc'),
    losses=dict(cmkd=dict(type='mmkd.CMKDLoss', num_classes=10,
                          # the authors' code: alpha 0.2, T 2, nn.KLDivLoss() mean
                          alpha=0.2, temperature=2.0, kl_reduction='element',
                          inputs=dict(student='s_logits', teacher='t_logits'))),
    student_loss_weight=0.,  # the weighted CE is part of CMKDLoss
)
