# hard+soft: the ground-truth losses plus the teacher's per-anchor sigmoid class scores as
# QFL soft targets for the student's classification branch, over all anchors.
# VEDAI cross-modal: colour teacher -> infrared student (see _base_); fold: MMKD_FOLD.
_base_ = ['./_base_/kd_r50-pafpn-co_r18-fpn-ir_vedai.py']

model = dict(
    losses=dict(
        soft=dict(type='mmkd.QFLSoftTargetLoss', beta=2.0, loss_weight=1.0,
                  inputs=dict(student='s_cls', teacher='t_cls')),
    ),
)
