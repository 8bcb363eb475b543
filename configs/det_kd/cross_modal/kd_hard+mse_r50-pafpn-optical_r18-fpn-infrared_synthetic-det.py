# hard+mse: the ground-truth losses plus plain feature imitation (MSE) on every FPN level,
# the student's features through a 3x3 adaptation conv.
# Cross-modal: optical teacher -> infrared student (see the _base_ file).
_base_ = ['./_base_/kd_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py',
          '../_base_/methods/hard+mse.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
