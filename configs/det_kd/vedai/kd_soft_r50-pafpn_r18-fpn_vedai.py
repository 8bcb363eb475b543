# soft: the teacher's per-anchor sigmoid class scores replace the ground-truth labels of
# the student's classification branch (QFL soft targets over all anchors); boxes are
# still regressed on the ground truth.
# VEDAI colour teacher -> colour student (see _base_); fold 1 at 512 px.
_base_ = ['./_base_/kd_r50-pafpn_r18-fpn_vedai.py', '../_base_/methods/soft.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
