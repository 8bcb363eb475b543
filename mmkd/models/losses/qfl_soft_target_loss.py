"""Soft targets for dense detectors: the teacher's sigmoid class scores as QFL targets."""
from typing import Sequence, Union

import torch
import torch.nn as nn
# Reused, not rewritten: mmdet's QFL with a dense (N, C) soft target is exactly the
# per-element term below; this file adds what it lacks for distillation (per-level
# lists of head outputs, the teacher's sigmoid as target, a normalisation for soft
# targets, and a clear error when teacher and student predict different classes).
from mmdet.models.losses.gfocal_loss import quality_focal_loss_tensor_target

from mmkd.registry import MODELS

Levels = Union[torch.Tensor, Sequence[torch.Tensor]]


def flatten_levels(scores: Levels) -> torch.Tensor:
    """Per-level head outputs ``(N, A*C, H, W)`` -> one matrix with a row per location
    of every level and image and ``A*C`` columns (the losses here sum over elements, so
    only the set of elements matters, not the layout)."""
    scores = [scores] if isinstance(scores, torch.Tensor) else list(scores)
    return torch.cat([s.permute(0, 2, 3, 1).reshape(-1, s.shape[1]) for s in scores])


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


@MODELS.register_module()
class QFLSoftTargetLoss(nn.Module):
    r"""Logit mimicking for sigmoid dense detectors with Quality Focal Loss.

    The *soft targets* of Lê and Pham, *Knowledge Distillation for Object Detection:
    from generic to remote sensing datasets*, 2023, arXiv:2307.09264: the
    teacher's per-anchor, per-class sigmoid scores are the targets of the student's
    classification branch over **all** anchors, under the Quality Focal Loss of Li et
    al., *Generalized Focal Loss: Learning Qualified and Distributed Bounding Boxes for
    Dense Object Detection*, NeurIPS 2020, arXiv:2006.04388.

    .. math::
        L = \frac{1}{Z} \sum_{a} \sum_{c=1}^{C}
            \mathrm{BCE}\big(\sigma(s_{a,c}), t_{a,c}\big)\,
            \big|t_{a,c} - \sigma(s_{a,c})\big|^{\beta},
        \qquad t_{a,c} = \sigma(z^{T}_{a,c})

    over every anchor :math:`a` of every pyramid level and image, :math:`s` the student's
    and :math:`z^T` the teacher's classification logits (taps on
    ``bbox_head.retina_cls``, one tensor ``(N, A*C, H, W)`` per level), :math:`\beta`
    the QFL focusing parameter.

    Reduction (:math:`Z`), ``normalize``:

    - ``'target_sum'`` (default): :math:`Z = \max(1, \sum_{a,c} t_{a,c})`, the soft
      number of positives. GFL (mmdet ``GFLHead``) divides QFL by the number of positive
      anchors; with one-hot targets the two are equal, and it keeps a student trained on
      soft targets alone at the scale of a hard-label QFL.
    - ``'mean'``: :math:`Z` = number of terms. This is what the QFL of the PDF-Distil
      authors' detector, whose modifications the study's detectors share
      (``zhanghengdev/MutualGuide``, ``utils/loss/gfocal_loss.py``: sum divided by the
      count of non-zero targets), gives when handed sigmoid targets, all non-zero.
    - ``'sum'``: :math:`Z` = batch size.

    Each term equals mmdet's ``QualityFocalLoss`` given a dense soft target
    (``quality_focal_loss_tensor_target``), which this loss calls.

    Authors' defaults: :math:`\beta = 2` (GFL, mmdet ``QualityFocalLoss``), loss weight
    1.0 (GFL's QFL weight; MutualGuide weighs its QFL 2.0). No public code of the study
    gives the soft-target normalisation; see ``'target_sum'`` above for the choice.

    Args:
        beta (float): QFL focusing parameter. Defaults to 2.0.
        normalize (str): ``'target_sum'``, ``'mean'`` or ``'sum'``.
        num_anchors (int, optional): Anchors per location, only to word the error
            when teacher and student class counts differ. Defaults to 9 (RetinaNet).
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, beta: float = 2.0, normalize: str = 'target_sum',
                 num_anchors: int = 9, loss_weight: float = 1.0):
        super().__init__()
        if normalize not in ('target_sum', 'mean', 'sum'):
            raise ValueError(f"QFLSoftTargetLoss normalize must be 'target_sum', 'mean' "
                             f"or 'sum', got {normalize!r}")
        self.beta = beta
        self.normalize = normalize
        self.num_anchors = num_anchors
        self.loss_weight = loss_weight

    def forward(self, student: Levels, teacher: Levels) -> torch.Tensor:
        """Student and teacher classification logits, one ``(N, A*C, H, W)`` per level."""
        check_same_classes(student, teacher, 'QFLSoftTargetLoss', self.num_anchors)
        s = flatten_levels(student).float()
        target = flatten_levels(teacher).float().sigmoid().detach()
        terms = quality_focal_loss_tensor_target(s, target, beta=self.beta,
                                                 reduction='sum')
        if self.normalize == 'target_sum':
            z = target.sum().clamp(min=1.0)
        elif self.normalize == 'mean':
            z = target.numel()
        else:
            first = student if isinstance(student, torch.Tensor) else student[0]
            z = first.shape[0]
        return self.loss_weight * terms / z
