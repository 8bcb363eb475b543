# soft: the teacher's per-anchor sigmoid class scores replace the ground-truth labels of
# the student's classification branch (QFL soft targets over all anchors); boxes are
# still regressed on the ground truth.
# Cross-modal: optical teacher -> infrared student (see the _base_ file).
_base_ = ['./_base_/kd_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py']

model = dict(
    # no ground-truth classification loss: the teacher's scores are the only class targets
    student_loss_weight=dict(loss_cls=0.),  # soft targets replace the hard labels
    losses=dict(
        soft=dict(type='mmkd.QFLSoftTargetLoss', beta=2.0, loss_weight=1.0,
                  inputs=dict(student='s_cls', teacher='t_cls')),
    ),
)
