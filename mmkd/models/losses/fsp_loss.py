"""Flow of solution procedure (FSP)."""
from typing import List, Sequence

import torch

from mmkd.registry import MODELS
from ._layer_pairs import check_4d, pool_to_smaller
from .base import DistillLoss


@MODELS.register_module()
class FSPLoss(DistillLoss):
    r"""Match the FSP (Gram) matrices between consecutive layers of student and teacher.

    Yim, Joo, Bae, Kim. *A Gift from Knowledge Distillation: Fast Optimization, Network
    Minimization and Transfer Learning*. CVPR 2017.

    For consecutive feature maps :math:`F_l \in \mathbb{R}^{N \times C_l \times H
    \times W}` (the larger of the pair adaptive-average-pooled to the smaller size),

    .. math::
        G_l(F)_{n,i,j} = \frac{1}{HW} \sum_{k=1}^{HW} F_{l+1,n,i,k}\, F_{l,n,j,k},
        \qquad
        L_{FSP} = \sum_{l=1}^{L-1} \frac{1}{N C_{l+1} C_l} \sum_{n,i,j}
            \left( G_l(F^s)_{n,i,j} - G_l(F^t)_{n,i,j} \right)^2

    Student and teacher must have the same channel counts layer by layer (RepDistiller
    raises otherwise); their spatial sizes may differ.

    Reduction: mean over batch and matrix entries per pair of layers, summed over the
    L - 1 pairs. This is RepDistiller's ``FSP`` (``distiller_zoo/FSP.py``); mdistiller
    has no FSP.

    Authors' defaults (RepDistiller ``--distill fsp``): layers ``feat[:-1]``, the stem
    output and every residual stage (e.g. taps on ``backbone.relu`` or
    ``backbone.maxpool`` and ``backbone.layer1`` ... ``backbone.layer4``), passed as
    lists. RepDistiller uses FSP only in an initialisation stage of 30 epochs
    (``--init_epochs``) that trains the student's feature layers on the unweighted sum
    of this loss (weight 1, no cross-entropy); the main stage then trains with
    cross-entropy alone (its ``loss_kd`` is 0 for FSP, so the ``-b 50`` of its script
    has no effect). ``loss_weight`` defaults to 1.0, the weight of that stage; limit it
    to the first iterations with the distiller's ``schedule=dict(end=...)``.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    @staticmethod
    def fsp_matrices(feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """``(N, C_{l+1}, C_l)`` matrices for each pair of consecutive layers."""
        out = []
        for bottom, top in zip(feats[:-1], feats[1:]):
            bottom, top = pool_to_smaller(bottom.float(), top.float())
            out.append(top.flatten(2) @ bottom.flatten(2).transpose(1, 2)
                       / bottom[0, 0].numel())
        return out

    def forward(self, student: Sequence[torch.Tensor],
                teacher: Sequence[torch.Tensor]) -> torch.Tensor:
        """Lists of ``(N, C_l, H_l, W_l)`` maps, at least two layers, equal channels."""
        if not isinstance(student, (list, tuple)) or not isinstance(teacher, (list, tuple)):
            raise TypeError('FSPLoss reads lists of layers, e.g. inputs=dict(student='
                            "['s1', 's2', 's3'], teacher=['t1', 't2', 't3'])")
        if len(student) != len(teacher) or len(student) < 2:
            raise ValueError(f'FSPLoss needs equal-length lists of at least two layers, '
                             f'got {len(student)} student and {len(teacher)} teacher')
        for i, (s, t) in enumerate(zip(student, teacher)):
            check_4d(s, 'FSPLoss', 'student', i)
            check_4d(t, 'FSPLoss', 'teacher', i)
            if s.shape[:2] != t.shape[:2]:
                raise ValueError(f'FSPLoss needs equal batch and channel sizes; layer {i} '
                                 f'has student {tuple(s.shape)} and teacher '
                                 f'{tuple(t.shape)}')
        loss = 0.
        for g_s, g_t in zip(self.fsp_matrices(student), self.fsp_matrices(teacher)):
            loss = loss + (g_s - g_t).pow(2).mean()
        return self.loss_weight * loss
