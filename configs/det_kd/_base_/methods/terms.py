# The terms the detection-KD cells combine, each written once (the cells' own files say
# what each is and why). A cell lists this file as its base and builds its `method` from
# the entries, e.g. soft+defeat.py:
#     t = _base_.pop('terms')
#     method = dict(student_loss_weight=..., connectors=t.adapt,
#                   losses=dict(soft=t.soft, defeat=t.defeat))
#     del t
# (popped and deleted, `terms` and `t` are left in no merged config).
terms = dict(
    # one 3x3 adaptation conv per level, trained with the student, dropped at export
    adapt={
        f's_p{lvl}_adapted': dict(type='mmkd.ConvConnector', source=f's_p{lvl}',
                                  like=f't_p{lvl}', in_channels=256, out_channels=256,
                                  kernel_size=3)
        for lvl in range(3, 8)},
    # the teacher's per-anchor sigmoid class scores as QFL soft targets, all anchors
    soft=dict(type='mmkd.QFLSoftTargetLoss', beta=2.0, loss_weight=1.0,
              inputs=dict(student='s_cls', teacher='t_cls')),
    # DeFeat: imitation of the adapted levels, decoupled foreground / background
    defeat=dict(type='mmkd.DeFeatLoss', strides=(8, 16, 32, 64, 128), fg_weight=3.0,
                bg_weight=12.0,
                inputs=dict(student=[f's_p{lvl}_adapted' for lvl in range(3, 8)],
                            teacher=[f't_p{lvl}' for lvl in range(3, 8)])),
    # PDF-Distil: imitation of the adapted levels where the predictions disagree
    pdf=dict(type='mmkd.PDFDistilLoss', num_anchors=9, loss_weight=5.0,
             inputs=dict(student=[f's_p{lvl}_adapted' for lvl in range(3, 8)],
                         teacher=[f't_p{lvl}' for lvl in range(3, 8)],
                         student_cls='s_cls', teacher_cls='t_cls')),
    # MutualGuide's 'mse' mode, 5 x the mean over the elements of all levels together,
    # as one FeatureMSELoss per level weighted by its share of the locations: level P(3+k)
    # has 4**-k times P3's (exact for inputs a multiple of 128 px)
    mse={
        f'mse_p{3 + k}': dict(
            type='mmkd.FeatureMSELoss',
            loss_weight=5.0 * 4.0**-k / sum(4.0**-j for j in range(5)),
            inputs=dict(student=f's_p{3 + k}_adapted', teacher=f't_p{3 + k}'))
        for k in range(5)},
)
