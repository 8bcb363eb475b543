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
# losses and class count are the teacher's. The distiller is the grid's: its taps
# (../_base_/retinanet_taps.py) and the hard+pdf cell (../_base_/methods/hard+pdf.py),
# the bases below; the grid's pair file (../_base_/kd_r50-pafpn_r18-fpn_synthetic-det.py)
# is not one of them, as it brings the synthetic benchmark's data with it (two bases may
# not both set the dataloaders).
_base_ = ['./retinanet_r50-pafpn_sar-ship_teacher.py',
          '../_base_/retinanet_taps.py',
          '../_base_/methods/hard+pdf.py',
          '../../_base_/kd_hooks.py']

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
    taps=_base_.pop('taps'),
    **_base_.pop('method'),  # the hard+pdf cell: its connectors and losses
)
