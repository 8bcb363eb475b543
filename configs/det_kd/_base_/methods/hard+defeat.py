# hard+defeat: the ground-truth losses plus DeFeat: feature imitation on every FPN level
# with decoupled foreground (ground-truth boxes) and background terms.
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py); its terms are written once, in terms.py.
_base_ = ['./terms.py']
t = _base_.pop('terms')
method = dict(connectors=t.adapt, losses=dict(defeat=t.defeat))
del t
