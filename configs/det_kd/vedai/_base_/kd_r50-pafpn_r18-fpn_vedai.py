# What every cell of the VEDAI colour grid shares (the study's setting): the frozen
# colour R50-PAFPN teacher of the same fold teaches the colour R18-FPN student. A cell
# adds its connectors (3x3 adaptation convs, one per FPN level) and losses.
#   taps: det_kd/_base_/retinanet_taps.py (logits and neck levels)
_base_ = ['../retinanet_r18-fpn_vedai-co.py',
          '../../_base_/retinanet_taps.py',
          '../../../_base_/kd_hooks.py']

model = dict(
    _delete_=True,
    type='mmkd.Distiller',
    student={{_base_.model}},
    teacher=dict(
        model='{{ fileDirname }}/../retinanet_r50-pafpn_vedai-co_teacher.py',
        # the teacher trained on this fold (a checkpoint file or a work dir)
        checkpoint={{_base_.colour_teacher}}),
    taps=_base_.pop('taps'),  # det_kd/_base_/retinanet_taps.py
)
