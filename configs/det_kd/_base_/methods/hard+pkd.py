# hard+pkd: the ground-truth losses plus PKD (Cao et al., NeurIPS 2022): MSE of the
# per-channel standardised FPN features, i.e. 1 - Pearson correlation. mmrazor's
# RetinaNet X101 -> R50 setting: levels P3..P6 (fpn0..fpn3), weight 10 each, here one
# loss over the four levels (the sum of the levels' losses). Both necks are 256 wide.
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py).
method = dict(
    losses=dict(
        pkd=dict(type='mmkd.PKDLoss', resize_stu=True, loss_weight=10.0,
                 inputs=dict(student=[f's_p{lvl}' for lvl in range(3, 7)],
                             teacher=[f't_p{lvl}' for lvl in range(3, 7)])),
    ),
)
