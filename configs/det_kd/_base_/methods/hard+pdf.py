# hard+pdf: the ground-truth losses plus PDF-Distil: feature imitation on every FPN level
# weighted by where teacher and student predictions disagree.
# A detection-KD cell, used as `_base_ = [pair, this]` + `model = _base_.pop('method')`
# (see soft.py).
method = dict(
    # one 3x3 adaptation conv per level, trained with the student, dropped at export
    connectors={
        f's_p{lvl}_adapted': dict(type='mmkd.ConvConnector', source=f's_p{lvl}',
                                  like=f't_p{lvl}', in_channels=256, out_channels=256,
                                  kernel_size=3)
        for lvl in range(3, 8)},
    losses=dict(
        pdf=dict(type='mmkd.PDFDistilLoss', num_anchors=9, loss_weight=5.0,
                 inputs=dict(student=[f's_p{lvl}_adapted' for lvl in range(3, 8)],
                             teacher=[f't_p{lvl}' for lvl in range(3, 8)],
                             student_cls='s_cls', teacher_cls='t_cls')),
    ),
)
