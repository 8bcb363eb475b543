# hard+defeat: the ground-truth losses plus DeFeat: feature imitation on every FPN level
# with decoupled foreground (ground-truth boxes) and background terms.
# VEDAI colour teacher -> colour student (see _base_); fold 1 at 512 px.
_base_ = ['./_base_/kd_r50-pafpn_r18-fpn_vedai.py', '../_base_/methods/hard+defeat.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
