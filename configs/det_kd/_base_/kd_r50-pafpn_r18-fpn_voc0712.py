# The VOC variant of the grid's shared part (kd_r50-pafpn_r18-fpn_synthetic-det.py): the
# VOC R18-FPN student and R50-PAFPN teacher, same taps. A cell adds its connectors
# (3x3 adaptation convs, one per FPN level) and losses.
#   taps: det_kd/_base_/retinanet_taps.py (logits and neck levels)
_base_ = ['../voc/retinanet_r18-fpn_voc0712.py', './retinanet_taps.py', '../../_base_/kd_hooks.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model}},
    teacher=dict(
        model='{{ fileDirname }}/../voc/retinanet_r50-pafpn_voc0712_teacher.py',
        # a checkpoint file, or the teacher's work dir (its last checkpoint is used)
        checkpoint='work_dirs/retinanet_r50-pafpn_voc0712_teacher'),
    taps=_base_.pop('taps'),  # det_kd/_base_/retinanet_taps.py
)
