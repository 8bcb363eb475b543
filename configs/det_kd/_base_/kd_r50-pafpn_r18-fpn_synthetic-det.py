# What every cell of the detection-KD grid shares: the R18-FPN student's config plus the
# frozen R50-PAFPN teacher and the features the losses read. A cell adds its connectors
# (3x3 adaptation convs, one per FPN level) and losses.
#   taps: s_cls / t_cls   classification logits, one (N, 9*K, H, W) per level P3..P7
#         s_p3..s_p7 / t_p3..t_p7   neck outputs (N, 256, H, W)
_base_ = ['../retinanet_r18-fpn_synthetic-det.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model}},
    teacher=dict(
        model='{{ fileDirname }}/../retinanet_r50-pafpn_synthetic-det_teacher.py',
        # a checkpoint file, or the teacher's work dir (its last checkpoint is used)
        checkpoint='work_dirs/retinanet_r50-pafpn_synthetic-det_teacher'),
    taps=dict(
        s_cls='student.bbox_head.retina_cls',
        t_cls='teacher.bbox_head.retina_cls',
        **{f's_p{lvl}': f'student.neck[{lvl - 3}]' for lvl in range(3, 8)},
        **{f't_p{lvl}': f'teacher.neck[{lvl - 3}]' for lvl in range(3, 8)}),
)
custom_hooks = [dict(type='mmkd.ExportStudentHook'),
                dict(type='mmkd.TeacherHashHook'), dict(type='mmkd.RNGStateHook')]
