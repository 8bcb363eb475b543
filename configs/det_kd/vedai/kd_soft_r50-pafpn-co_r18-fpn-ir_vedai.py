# soft: the teacher's per-anchor sigmoid class scores replace the ground-truth labels of
# the student's classification branch (QFL soft targets over all anchors); boxes are
# still regressed on the ground truth.
# VEDAI cross-modal: colour teacher -> infrared student (see _base_); fold: MMKD_FOLD.
_base_ = ['./_base_/kd_r50-pafpn-co_r18-fpn-ir_vedai.py']

model = dict(
    # no ground-truth classification loss: the teacher's scores are the only class targets
    student_loss_weight=dict(loss_cls=0.),  # soft targets replace the hard labels
    losses=dict(
        soft=dict(type='mmkd.QFLSoftTargetLoss', beta=2.0, loss_weight=1.0,
                  inputs=dict(student='s_cls', teacher='t_cls')),
    ),
)
