# hard+soft: the ground-truth losses plus the teacher's per-anchor sigmoid class scores as
# QFL soft targets for the student's classification branch, over all anchors.
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py).
method = dict(
    losses=dict(
        soft=dict(type='mmkd.QFLSoftTargetLoss', beta=2.0, loss_weight=1.0,
                  inputs=dict(student='s_cls', teacher='t_cls')),
    ),
)
