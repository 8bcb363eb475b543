# hard+mse: the ground-truth losses plus plain feature imitation (MSE) on every FPN level,
# the student's features through a 3x3 adaptation conv.
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py); its terms are written once, in terms.py.
_base_ = ['./terms.py']
t = _base_.pop('terms')
method = dict(connectors=t.adapt, losses=t.mse)
del t
