# hard+pdf: the ground-truth losses plus PDF-Distil: feature imitation on every FPN level
# weighted by where teacher and student predictions disagree.
# VEDAI cross-modal: colour teacher -> infrared student (see _base_); fold 1 at 512 px.
_base_ = ['./_base_/kd_r50-pafpn-co_r18-fpn-ir_vedai.py', '../_base_/methods/hard+pdf.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
