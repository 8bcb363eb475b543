# soft+defeat: soft targets instead of ground-truth labels for classification, plus
# DeFeat feature imitation with decoupled foreground/background terms.
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py); its terms are written once, in terms.py.
_base_ = ['./terms.py']
t = _base_.pop('terms')
method = dict(
    student_loss_weight=dict(loss_cls=0.),  # soft targets replace the hard labels
    connectors=t.adapt, losses=dict(soft=t.soft, defeat=t.defeat))
del t
