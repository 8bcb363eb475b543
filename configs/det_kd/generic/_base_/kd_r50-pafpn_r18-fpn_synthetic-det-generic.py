# The generic-scenes variant of the grid's shared part (kd_r50-pafpn_r18-fpn_synthetic-det.py):
# the generic R18-FPN student and R50-PAFPN teacher, same taps. A cell adds its connectors
# (3x3 adaptation convs, one per FPN level) and losses.
#   taps: det_kd/_base_/retinanet_taps.py (logits and neck levels)
_base_ = ['../retinanet_r18-fpn_synthetic-det-generic.py',
          '../../_base_/retinanet_taps.py',
          '../../../_base_/kd_hooks.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model}},
    teacher=dict(
        model='{{ fileDirname }}/../retinanet_r50-pafpn_synthetic-det-generic_teacher.py',
        # a checkpoint file, or the teacher's work dir (its last checkpoint is used)
        checkpoint='work_dirs/retinanet_r50-pafpn_synthetic-det-generic_teacher'),
    taps=_base_.pop('taps'),  # det_kd/_base_/retinanet_taps.py
)
