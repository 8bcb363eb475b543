# hard+soft: the ground-truth losses plus the teacher's per-anchor sigmoid class scores as
# QFL soft targets for the student's classification branch, over all anchors.
# Cross-modal: optical teacher -> infrared student (see the _base_ file).
_base_ = ['./_base_/kd_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py']

model = dict(
    losses=dict(
        soft=dict(type='mmkd.QFLSoftTargetLoss', beta=2.0, loss_weight=1.0,
                  inputs=dict(student='s_cls', teacher='t_cls')),
    ),
)
