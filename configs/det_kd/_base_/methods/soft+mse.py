# soft+mse: soft targets instead of ground-truth labels for classification, plus plain
# feature imitation (MSE) on every FPN level through a 3x3 adaptation conv.
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py); its terms are written once, in terms.py.
_base_ = ['./terms.py']
t = _base_.pop('terms')
method = dict(
    student_loss_weight=dict(loss_cls=0.),  # soft targets replace the hard labels
    connectors=t.adapt, losses=dict(**t.mse, soft=t.soft))
del t
