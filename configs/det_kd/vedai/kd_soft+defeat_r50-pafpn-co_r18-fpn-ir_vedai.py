# soft+defeat: soft targets instead of ground-truth labels for classification, plus
# DeFeat feature imitation with decoupled foreground/background terms.
# VEDAI cross-modal: colour teacher -> infrared student (see _base_); fold 1 at 512 px.
_base_ = ['./_base_/kd_r50-pafpn-co_r18-fpn-ir_vedai.py',
          '../_base_/methods/soft+defeat.py']
model = _base_.pop('method')  # the cell's connectors and losses, into the distiller
