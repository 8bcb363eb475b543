"""Helpers shared by the multi-layer feature losses (AT, NST, SP, FSP, VID)."""
from typing import List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

Features = Union[torch.Tensor, Sequence[torch.Tensor]]


def layer_pairs(student: Features, teacher: Features,
                loss_name: str) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    """Student/teacher features as a list of ``(student, teacher)`` pairs, one per layer.

    Each argument is one tensor (one layer) or a list of tensors (several layers, as
    the distiller passes for ``inputs=dict(student=['s1', 's2'], ...)``).
    """
    s = list(student) if isinstance(student, (list, tuple)) else [student]
    t = list(teacher) if isinstance(teacher, (list, tuple)) else [teacher]
    if len(s) != len(t):
        raise ValueError(f'{loss_name} pairs student and teacher layers one to one, got '
                         f'{len(s)} student and {len(t)} teacher features')
    for i, (a, b) in enumerate(zip(s, t)):
        if a.shape[0] != b.shape[0]:
            raise ValueError(f'{loss_name}: layer {i} has batch size {a.shape[0]} for the '
                             f'student and {b.shape[0]} for the teacher')
    return list(zip(s, t))


def pool_to_smaller(a: torch.Tensor, b: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Adaptive-average-pool the larger of two ``(N, C, H, W)`` maps to the smaller size.

    RepDistiller pools the map with the larger height to ``(H_small, H_small)`` (its
    maps are square); here each map is pooled to ``(min H, min W)``, which is the same
    for square maps and keeps non-square maps (detection, segmentation) non-square.
    """
    size = (min(a.shape[2], b.shape[2]), min(a.shape[3], b.shape[3]))
    if tuple(a.shape[2:]) != size:
        a = F.adaptive_avg_pool2d(a, size)
    if tuple(b.shape[2:]) != size:
        b = F.adaptive_avg_pool2d(b, size)
    return a, b


def check_4d(x: torch.Tensor, loss_name: str, who: str, index: int) -> None:
    if x.dim() != 4:
        raise ValueError(f'{loss_name} reads (N, C, H, W) feature maps; the {who} '
                         f'feature of layer {index} has shape {tuple(x.shape)}')
