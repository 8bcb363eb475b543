# soft+mse: soft targets instead of ground-truth labels for classification, plus plain
# feature imitation (MSE) on every FPN level through a 3x3 adaptation conv.
_base_ = ['./_base_/kd_r50-pafpn_r18-fpn_synthetic-det.py',
          './_base_/methods/soft+mse.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
