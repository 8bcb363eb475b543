# hard+pdf on SAR ships (one class): the R50-PAFPN teacher, trained first on the same
# chips, teaches an R18-FPN student; the ground-truth losses plus PDF-Distil, feature
# imitation on every FPN level weighted by where teacher and student predictions
# disagree (the grid's kd_hard+pdf_r50-pafpn_r18-fpn_synthetic-det.py). Train the
# teacher, then this:
#     python tools/train.py configs/det_kd/sar_ship/retinanet_r50-pafpn_sar-ship_teacher.py
#     python tools/train.py configs/det_kd/sar_ship/kd_hard+pdf_r50-pafpn_r18-fpn_sar-ship.py
# The exported student (work_dirs/<this config>/student/) is a plain mmdet RetinaNet;
# retinanet_r18-fpn_sar-ship.py trains the same student alone (the baseline).
# Data, classes, schedule and runtime come with the teacher's config; the student is the
# teacher's detector with the grid's student body (ResNet-18 + FPN), so head, anchors,
# losses and class count are the teacher's. The distiller is the grid's
# (../_base_/kd_r50-pafpn_r18-fpn_synthetic-det.py plus the hard+pdf cell), written out:
# mmengine cannot inherit it together with other data (two bases may not both set the
# dataloaders).
_base_ = ['./retinanet_r50-pafpn_sar-ship_teacher.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student=dict(_base_.model,
                 backbone=dict(_base_.model.backbone, depth=18),
                 neck=dict(_base_.model.neck, type='FPN',
                           in_channels=[64, 128, 256, 512])),
    teacher=dict(
        model='{{ fileDirname }}/retinanet_r50-pafpn_sar-ship_teacher.py',
        # a checkpoint file, or the teacher's work dir (its last checkpoint is used)
        checkpoint='work_dirs/retinanet_r50-pafpn_sar-ship_teacher'),
    taps=dict(
        s_cls='student.bbox_head.retina_cls',
        t_cls='teacher.bbox_head.retina_cls',
        **{f's_p{lvl}': f'student.neck[{lvl - 3}]' for lvl in range(3, 8)},
        **{f't_p{lvl}': f'teacher.neck[{lvl - 3}]' for lvl in range(3, 8)}),
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
custom_hooks = [dict(type='mmkd.ExportStudentHook'),
                dict(type='mmkd.TeacherHashHook'), dict(type='mmkd.RNGStateHook')]
