# soft+defeat: soft targets instead of ground-truth labels for classification, plus
# DeFeat feature imitation with decoupled foreground/background terms.
_base_ = ['../_base_/kd_r50-pafpn_r18-fpn_voc0712.py', '../_base_/methods/soft+defeat.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
