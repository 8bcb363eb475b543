# hard+soft: the ground-truth losses plus the teacher's per-anchor sigmoid class scores as
# QFL soft targets for the student's classification branch, over all anchors.
# Cross-modal: optical teacher -> infrared student (see the _base_ file).
_base_ = ['./_base_/kd_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py',
          '../_base_/methods/hard+soft.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
