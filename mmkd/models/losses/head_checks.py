"""Checks shared by the losses on dense detection heads (QFL soft targets, PDF-Distil):
teacher and student must predict the same classes on the same levels. Needs no mmdet."""
from typing import Sequence, Union

import torch

Levels = Union[torch.Tensor, Sequence[torch.Tensor]]


def check_same_classes(student: Levels, teacher: Levels, who: str,
                       num_anchors: int = None) -> None:
    """Raise a clear error when teacher and student heads do not predict the same
    classes (channel counts differ) or their levels differ."""
    s = [student] if isinstance(student, torch.Tensor) else list(student)
    t = [teacher] if isinstance(teacher, torch.Tensor) else list(teacher)
    if len(s) != len(t):
        raise ValueError(f'{who}: the student head gives {len(s)} pyramid levels and the '
                         f'teacher {len(t)}; they must use the same levels')
    for lvl, (a, b) in enumerate(zip(s, t)):
        if a.shape[1] != b.shape[1]:
            per = ''
            if num_anchors and a.shape[1] % num_anchors == 0 and \
                    b.shape[1] % num_anchors == 0:
                per = (f' ({num_anchors} anchors x {a.shape[1] // num_anchors} classes '
                       f'vs {num_anchors} x {b.shape[1] // num_anchors})')
            raise ValueError(
                f'{who}: the student classification output has {a.shape[1]} channels '
                f'and the teacher\'s {b.shape[1]}{per}. Teacher and student must '
                f'predict the same classes in the same order (same num_classes and '
                f'anchors; a teacher trained on another class list cannot give soft '
                f'targets)')
        if a.shape != b.shape:
            raise ValueError(f'{who}: level {lvl} scores have shape {tuple(a.shape)} '
                             f'(student) and {tuple(b.shape)} (teacher); the two '
                             f'detectors must see the same input size and strides')
