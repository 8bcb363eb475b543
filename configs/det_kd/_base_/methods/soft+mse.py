# soft+mse: soft targets instead of ground-truth labels for classification, plus plain
# feature imitation (MSE) on every FPN level through a 3x3 adaptation conv.
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
    # MutualGuide's 'mse' mode, 5 x the mean over the elements of all levels together,
    # as one FeatureMSELoss per level weighted by its share of the locations: level P(3+k)
    # has 4**-k times P3's (exact for inputs a multiple of 128 px)
    losses={
        **{f'mse_p{3 + k}': dict(
            type='mmkd.FeatureMSELoss',
            loss_weight=5.0 * 4.0**-k / sum(4.0**-j for j in range(5)),
            inputs=dict(student=f's_p{3 + k}_adapted', teacher=f't_p{3 + k}'))
           for k in range(5)},
        'soft': dict(type='mmkd.QFLSoftTargetLoss', beta=2.0, loss_weight=1.0,
                     inputs=dict(student='s_cls', teacher='t_cls')),
    },
)
