# soft+defeat: soft targets instead of ground-truth labels for classification, plus
# DeFeat feature imitation with decoupled foreground/background terms.
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py).
method = dict(
    # no ground-truth classification loss: the teacher's scores are the only class targets
    student_loss_weight=dict(loss_cls=0.),  # soft targets replace the hard labels
    # one 3x3 adaptation conv per level, trained with the student, dropped at export
    connectors={
        f's_p{lvl}_adapted': dict(type='mmkd.ConvConnector', source=f's_p{lvl}',
                                  like=f't_p{lvl}', in_channels=256, out_channels=256,
                                  kernel_size=3)
        for lvl in range(3, 8)},
    losses=dict(
        soft=dict(type='mmkd.QFLSoftTargetLoss', beta=2.0, loss_weight=1.0,
                  inputs=dict(student='s_cls', teacher='t_cls')),
        defeat=dict(type='mmkd.DeFeatLoss', strides=(8, 16, 32, 64, 128), fg_weight=3.0,
                    bg_weight=12.0,
                    inputs=dict(student=[f's_p{lvl}_adapted' for lvl in range(3, 8)],
                                teacher=[f't_p{lvl}' for lvl in range(3, 8)])),
    ),
)
