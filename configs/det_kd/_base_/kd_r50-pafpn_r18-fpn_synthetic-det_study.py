# The study variant of the grid's shared part (kd_r50-pafpn_r18-fpn_synthetic-det.py):
# student and teacher with the study's modifications (study/*.py), same taps. A cell adds
# its connectors (3x3 adaptation convs, one per FPN level) and losses.
#   taps: det_kd/_base_/retinanet_taps.py (logits and neck levels)
_base_ = ['../study/retinanet_r18-fpn-study_synthetic-det.py',
          './retinanet_taps.py',
          '../../_base_/kd_hooks.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model}},
    teacher=dict(
        model='{{ fileDirname }}/../study/'
        'retinanet_r50-pafpn-study_synthetic-det_teacher.py',
        # a checkpoint file, or the teacher's work dir (its last checkpoint is used)
        checkpoint='work_dirs/retinanet_r50-pafpn-study_synthetic-det_teacher'),
    taps=_base_.pop('taps'),  # det_kd/_base_/retinanet_taps.py
)
