# Hinton KD (Hinton et al., arXiv:1503.02531) on the logits: what a KD leaf adds to its
# distiller beside the student and the teacher, under the key `method`, which the leaf
# moves into its model:
#     model = dict(_delete_=True, type='mmkd.Distiller', student={{_base_.model}},
#                  teacher=dict(model=..., checkpoint=...), **_base_.pop('method'))
# (a base cannot set `model` beside the student's config that does).
method = dict(
    taps=dict(s_logits='student.head.fc', t_logits='teacher.head.fc'),
    losses=dict(kd=dict(type='mmkd.KDLoss', temperature=4.0, loss_weight=0.9,
                        inputs=dict(student='s_logits', teacher='t_logits'))),
    student_loss_weight=0.1,  # RepDistiller / mdistiller: 0.1 CE + 0.9 KD
)
