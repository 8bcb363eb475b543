# soft+pdf: soft targets instead of ground-truth labels for classification, plus
# PDF-Distil feature imitation weighted by prediction disagreement.
# VEDAI cross-modal: colour teacher -> infrared student (see _base_); fold 1 at 512 px.
_base_ = ['./_base_/kd_r50-pafpn-co_r18-fpn-ir_vedai.py', '../_base_/methods/soft+pdf.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
