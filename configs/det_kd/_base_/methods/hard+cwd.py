# hard+cwd: the ground-truth losses plus channel-wise distillation (Shu et al., ICCV
# 2021) on every FPN level: each channel's spatial softmax (tau = 1), KL teacher ->
# student. mmrazor's RetinaNet / Faster R-CNN settings: one loss per level P3..P7 at
# weight 10, here one loss over the five levels (the sum of the levels' losses, the same
# number). Student and teacher necks are both 256 wide: no connector.
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py).
method = dict(
    losses=dict(
        cwd=dict(type='mmkd.CWDLoss', tau=1.0, loss_weight=10.0,
                 inputs=dict(student=[f's_p{lvl}' for lvl in range(3, 8)],
                             teacher=[f't_p{lvl}' for lvl in range(3, 8)])),
    ),
)
