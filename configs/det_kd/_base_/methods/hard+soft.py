# hard+soft: the ground-truth losses plus the teacher's per-anchor sigmoid class scores as
# QFL soft targets for the student's classification branch, over all anchors.
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py); its terms are written once, in terms.py.
_base_ = ['./terms.py']
t = _base_.pop('terms')
method = dict(losses=dict(soft=t.soft))
del t
