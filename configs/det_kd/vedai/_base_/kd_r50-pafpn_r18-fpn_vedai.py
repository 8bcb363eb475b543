# What every cell of the VEDAI colour grid shares (the study's setting): the frozen
# colour R50-PAFPN teacher of the same fold teaches the colour R18-FPN student. A cell
# adds its connectors (3x3 adaptation convs, one per FPN level) and losses.
#   taps: s_cls / t_cls   classification logits, one (N, 9*K, H, W) per level P3..P7
#         s_p3..s_p7 / t_p3..t_p7   neck outputs (N, 256, H, W)
_base_ = ['../retinanet_r18-fpn_vedai-co.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model}},
    teacher=dict(
        model='{{ fileDirname }}/../retinanet_r50-pafpn_vedai-co_teacher.py',
        # the teacher trained on this fold (a checkpoint file or a work dir)
        checkpoint={{_base_.colour_teacher}}),
    taps=dict(
        s_cls='student.bbox_head.retina_cls',
        t_cls='teacher.bbox_head.retina_cls',
        **{f's_p{lvl}': f'student.neck[{lvl - 3}]' for lvl in range(3, 8)},
        **{f't_p{lvl}': f'teacher.neck[{lvl - 3}]' for lvl in range(3, 8)}),
)
custom_hooks = [dict(type='mmkd.ExportStudentHook'),
                dict(type='mmkd.TeacherHashHook'), dict(type='mmkd.RNGStateHook')]
