# hard+pdf: the ground-truth losses plus PDF-Distil: feature imitation on every FPN level
# weighted by where teacher and student predictions disagree.
# Cross-modal: optical teacher -> infrared student (see the _base_ file).
_base_ = ['./_base_/kd_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py',
          '../_base_/methods/hard+pdf.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
