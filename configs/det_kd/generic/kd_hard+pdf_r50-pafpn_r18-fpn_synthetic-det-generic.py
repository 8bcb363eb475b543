# hard+pdf: the ground-truth losses plus PDF-Distil: feature imitation on every FPN level
# weighted by where teacher and student predictions disagree.
# Generic scenes (few large objects; see the _base_ file).
_base_ = ['./_base_/kd_r50-pafpn_r18-fpn_synthetic-det-generic.py',
          '../_base_/methods/hard+pdf.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
