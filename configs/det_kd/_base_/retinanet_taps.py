# The features every RetinaNet pair of the detection-KD grids taps, on the student and
# on the teacher (mmdet's RetinaNet: the neck's five levels, the head's classification
# conv, which runs once per level):
#   s_cls / t_cls               classification logits, one (N, 9*K, H, W) per level P3..P7
#   s_p3..s_p7 / t_p3..t_p7     neck outputs (N, 256, H, W)
# A pair base lists this file among its bases and writes `taps=_base_.pop('taps')` in its
# distiller: popped, the key is not left at the top of the merged config (two bases may
# not both set `model`, so the taps cannot be a `model` of their own).
taps = dict(
    s_cls='student.bbox_head.retina_cls',
    t_cls='teacher.bbox_head.retina_cls',
    **{f's_p{lvl}': f'student.neck[{lvl - 3}]' for lvl in range(3, 8)},
    **{f't_p{lvl}': f'teacher.neck[{lvl - 3}]' for lvl in range(3, 8)})
