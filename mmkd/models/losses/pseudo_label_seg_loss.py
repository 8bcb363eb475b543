"""Segmentation losses against the teacher's hard predictions (pseudo-labels)."""
from typing import List, Optional

import torch
import torch.nn as nn

from mmkd.registry import MODELS
from .base import DistillLoss

# cross-entropy + per-class soft Dice averaged over classes (mmseg's TverskyLoss with
# alpha = beta = 0.5), as configs/disoptnet/_base_/models_effnet_unet.py
_DEFAULT = [dict(type='mmseg.CrossEntropyLoss', loss_weight=1.0),
            dict(type='mmseg.TverskyLoss', alpha=0.5, beta=0.5, smooth=1.0,
                 loss_weight=1.0, loss_name='loss_dice')]


@MODELS.register_module()
class PseudoLabelSegLoss(DistillLoss):
    r"""The student's segmentation loss with the teacher's argmax as the label.

    DisOptNet's public code (jiankang1991/TGRS_DisOptNet, ``train_st2.py``) trains the
    pseudo-optical branch with ``seg_loss(logit_rgb, argmax(teacher))`` *in addition*
    to the pixel-wise distillation term; the paper's objective (as described in the
    issue this implements) has only the soft term. This loss is that extra term, for
    the ``*_authors-code`` config:

    .. math:: L = \sum_k w_k \, \ell_k\left(z^s, \arg\max_c z^t_c\right)

    with :math:`\ell_k` mmseg losses (default: ``CrossEntropyLoss`` and the per-class
    soft Dice ``TverskyLoss(alpha=0.5, beta=0.5)``, weights 1 and 1, the authors'
    seg_loss of smp's ``CrossEntropyLoss`` + multiclass ``DiceLoss``). Reduction: each
    mmseg loss's own (CE: mean over pixels; Dice: per image and class, smoothing 1,
    mean over classes and images).

    Args:
        losses (list[dict]): mmseg loss configs called as ``loss(logits, label)``.
        loss_weight (float): Multiplier of the sum. Defaults to 1.0.
    """

    same_shape = ('student', 'teacher')
    needs_data_samples = False

    def __init__(self, losses: Optional[List[dict]] = None, loss_weight: float = 1.0):
        super().__init__()
        self.terms = nn.ModuleList([MODELS.build(c) for c in (losses or _DEFAULT)])
        self.loss_weight = loss_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        label = teacher.detach().argmax(1)
        return self.loss_weight * sum(t(student, label) for t in self.terms)
