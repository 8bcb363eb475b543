# soft: the teacher's per-anchor sigmoid class scores replace the ground-truth labels of
# the student's classification branch (QFL soft targets over all anchors); boxes are
# still regressed on the ground truth.
# A detection-KD cell: what a leaf adds to its pair's distiller (student, teacher, taps
# s_cls / t_cls and s_p3..s_p7 / t_p3..t_p7), with
#     _base_ = ['<pair>.py', '<this file>']
#     model = _base_.pop('method')
# (a key of two bases may not be set by both, so the cell is the key `method`, which the
# leaf moves into its model; the merged config holds no `method`). The terms the cells
# combine are written once, in terms.py.
_base_ = ['./terms.py']
t = _base_.pop('terms')
method = dict(
    # no ground-truth classification loss: the teacher's scores are the only class targets
    student_loss_weight=dict(loss_cls=0.),  # soft targets replace the hard labels
    losses=dict(soft=t.soft))
del t
