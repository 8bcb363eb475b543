# hard+mgd: the ground-truth losses plus masked generative distillation (Yang et al.,
# ECCV 2022): on every FPN level the student's map, 65 % of its positions masked, goes
# through a conv-ReLU-conv generation block that must produce the teacher's map. The
# authors' RetinaNet setting (yzd-v/MGD retina_rx101_64x4d_distill_retina_r50_fpn_2x):
# one loss per level P3..P7, alpha_mgd 2e-5, lambda_mgd 0.65. Each loss owns its
# generation block (trained with the student, dropped at export).
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py).
method = dict(
    losses={
        f'mgd_p{lvl}': dict(type='mmkd.MGDLoss', student_channels=256,
                            teacher_channels=256, lambda_mgd=0.65, loss_weight=2e-5,
                            inputs=dict(student=f's_p{lvl}', teacher=f't_p{lvl}'))
        for lvl in range(3, 8)},
)
