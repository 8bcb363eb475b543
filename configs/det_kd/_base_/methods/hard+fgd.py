# hard+fgd: the ground-truth losses plus focal and global distillation (Yang et al.,
# CVPR 2022) on every FPN level: foreground and background imitation weighted by the
# teacher's spatial and channel attention (masks from the ground-truth boxes), the
# attention itself, and a GcBlock relation term. The authors' RetinaNet setting
# (yzd-v/FGD fgd_retina_rx101_64x4d_distill_retina_r50_fpn_2x_coco.py): one loss per
# level P3..P7, temperature 0.5, alpha 1e-3, beta 5e-4, gamma 5e-4, lambda 5e-6. Each
# loss owns its two GcBlocks (trained with the student, dropped at export).
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py).
method = dict(
    losses={
        f'fgd_p{lvl}': dict(type='mmkd.FGDLoss', student_channels=256,
                            teacher_channels=256, temperature=0.5, alpha_fgd=1e-3,
                            beta_fgd=5e-4, gamma_fgd=5e-4, lambda_fgd=5e-6,
                            inputs=dict(student=f's_p{lvl}', teacher=f't_p{lvl}'))
        for lvl in range(3, 8)},
)
