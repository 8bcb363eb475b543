# hard+mse: the ground-truth losses plus plain feature imitation (MSE) on every FPN level,
# the student's features through a 3x3 adaptation conv.
# VEDAI cross-modal: colour teacher -> infrared student (see _base_); fold 1 at 512 px.
_base_ = ['./_base_/kd_r50-pafpn-co_r18-fpn-ir_vedai.py', '../_base_/methods/hard+mse.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
