# hard+soft: the ground-truth losses plus the teacher's per-anchor sigmoid class scores as
# QFL soft targets for the student's classification branch, over all anchors.
# The study's detectors: no stem max-pool, context-enhancement neck, QFL on IoU targets.
_base_ = ['../_base_/kd_r50-pafpn_r18-fpn_synthetic-det_study.py',
          '../_base_/methods/hard+soft.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
