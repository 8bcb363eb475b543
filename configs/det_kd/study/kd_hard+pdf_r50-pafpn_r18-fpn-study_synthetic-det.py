# hard+pdf: the ground-truth losses plus PDF-Distil: feature imitation on every FPN level
# weighted by where teacher and student predictions disagree.
# The study's detectors: no stem max-pool, context-enhancement neck, QFL on IoU targets.
_base_ = ['../_base_/kd_r50-pafpn_r18-fpn_synthetic-det_study.py',
          '../_base_/methods/hard+pdf.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
