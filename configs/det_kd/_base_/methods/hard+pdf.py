# hard+pdf: the ground-truth losses plus PDF-Distil: feature imitation on every FPN level
# weighted by where teacher and student predictions disagree.
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py); its terms are written once, in terms.py.
_base_ = ['./terms.py']
t = _base_.pop('terms')
method = dict(connectors=t.adapt, losses=dict(pdf=t.pdf))
del t
