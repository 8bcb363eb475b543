# hard+defeat: the ground-truth losses plus DeFeat: feature imitation on every FPN level
# with decoupled foreground (ground-truth boxes) and background terms.
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py).
method = dict(
    # one 3x3 adaptation conv per level, trained with the student, dropped at export
    connectors={
        f's_p{lvl}_adapted': dict(type='mmkd.ConvConnector', source=f's_p{lvl}',
                                  like=f't_p{lvl}', in_channels=256, out_channels=256,
                                  kernel_size=3)
        for lvl in range(3, 8)},
    losses=dict(
        defeat=dict(type='mmkd.DeFeatLoss', strides=(8, 16, 32, 64, 128), fg_weight=3.0,
                    bg_weight=12.0,
                    inputs=dict(student=[f's_p{lvl}_adapted' for lvl in range(3, 8)],
                                teacher=[f't_p{lvl}' for lvl in range(3, 8)])),
    ),
)
