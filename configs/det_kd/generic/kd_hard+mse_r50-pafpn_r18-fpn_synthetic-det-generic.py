# hard+mse: the ground-truth losses plus plain feature imitation (MSE) on every FPN level,
# the student's features through a 3x3 adaptation conv.
# Generic scenes (few large objects; see the _base_ file).
_base_ = ['./_base_/kd_r50-pafpn_r18-fpn_synthetic-det-generic.py',
          '../_base_/methods/hard+mse.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
