# soft+defeat: soft targets instead of ground-truth labels for classification, plus
# DeFeat feature imitation with decoupled foreground/background terms.
# Cross-modal: optical teacher -> infrared student (see the _base_ file).
_base_ = ['./_base_/kd_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py',
          '../_base_/methods/soft+defeat.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
