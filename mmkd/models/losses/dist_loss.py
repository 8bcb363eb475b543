"""DIST: distillation by inter- and intra-class Pearson correlation of predictions."""
from typing import Dict

import torch

from mmkd.registry import MODELS
from .base import DistillLoss

#: The authors' ``eps`` of ``cosine_similarity`` (hunto/image_classification_sota,
#: ``lib/models/losses/dist_kd.py``).
DIST_EPS = 1e-8


def pearson_rows(a: torch.Tensor, b: torch.Tensor, eps: float = DIST_EPS) -> torch.Tensor:
    r"""Pearson correlation of each row pair of ``(M, K)`` tensors:
    :math:`\frac{\langle a - \bar a, b - \bar b\rangle}
    {\lVert a - \bar a\rVert\,\lVert b - \bar b\rVert + \epsilon}`."""
    a = a - a.mean(dim=1, keepdim=True)
    b = b - b.mean(dim=1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)


@MODELS.register_module()
class DISTLoss(DistillLoss):
    r"""Match the *relations* of the student's and teacher's predictions, not their values:
    Pearson correlation across classes per sample (inter-class) and across the batch per
    class (intra-class).

    Huang, You, Wang, Qian, Xu. *Knowledge Distillation from A Stronger Teacher*.
    NeurIPS 2022, arXiv:2205.10536.

    With :math:`Y = \mathrm{softmax}(Z / \tau)` row-wise for the ``(N, C)`` logits of
    student and teacher, and :math:`\rho` the Pearson correlation with the authors'
    :math:`\epsilon = 10^{-8}` in the denominator:

    .. math::
        L_{inter} = 1 - \frac{1}{N} \sum_{n=1}^{N} \rho(Y^s_{n,:}, Y^t_{n,:}), \qquad
        L_{intra} = 1 - \frac{1}{C} \sum_{c=1}^{C} \rho(Y^s_{:,c}, Y^t_{:,c})

        L_{DIST} = \tau^2 (\beta L_{inter} + \gamma L_{intra})

    Reduction: mean of the correlations over samples (inter) and over classes (intra);
    no other sum or mean. This is the authors' ``DIST`` of
    ``lib/models/losses/dist_kd.py`` (hunto/image_classification_sota, the code
    hunto/DIST_KD links; the :math:`\tau^2` factor and ``tau`` are in its later
    version, ``DIST(beta=1, gamma=1, tau=1)`` for ``--kd dist``). Logits
    ``(N, C, H, W)`` (segmentation) are flattened to ``N H W`` rows of ``C`` classes, as
    ``segmentation/losses/dist_kd.py`` of hunto/DIST_KD does. Returned as
    ``dict(inter=..., intra=...)`` (each times :math:`\tau^2`, its weight and
    ``loss_weight``), logged as ``loss_<name>.inter`` / ``loss_<name>.intra``. A batch
    of one sample has no intra-class correlation: the term is then the constant 1 (no
    gradient), as in the authors' code.

    Authors' defaults: ``beta = gamma = tau = 1`` (``kd_method == 'dist'`` in
    ``lib/models/losses/kd_loss.py``) with KD and CE weight 1 (``ori_loss_weight`` and
    ``kd_loss_weight`` default to 1.0 there). Their CIFAR-100 yaml
    (``configs/strategies/distill/dist_cifar.yaml``) could not be read when this was
    written, so its CIFAR-specific values are not reproduced here.

    Args:
        beta (float): Weight of the inter-class term. Defaults to 1.0.
        gamma (float): Weight of the intra-class term. Defaults to 1.0.
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Multiplier of both terms. Defaults to 1.0.
    """

    same_shape = ('student', 'teacher')
    needs_data_samples = False

    def __init__(self, beta: float = 1.0, gamma: float = 1.0, tau: float = 1.0,
                 loss_weight: float = 1.0):
        super().__init__()
        if tau <= 0:
            raise ValueError(f'DISTLoss tau must be > 0, got {tau}')
        self.beta = beta
        self.gamma = gamma
        self.tau = tau
        self.loss_weight = loss_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor
                ) -> Dict[str, torch.Tensor]:
        """Student and teacher logits of one shape, ``(N, C)`` or ``(N, C, H, W)``."""
        if student.shape != teacher.shape or student.dim() not in (2, 4):
            raise ValueError(f'DISTLoss expects student and teacher logits of one shape '
                             f'(N, C) or (N, C, H, W), got {tuple(student.shape)} and '
                             f'{tuple(teacher.shape)}')
        c = student.shape[1]
        if student.dim() == 4:
            student = student.movedim(1, -1).reshape(-1, c)
            teacher = teacher.movedim(1, -1).reshape(-1, c)
        dtype = torch.promote_types(student.dtype, torch.float32)  # fp16 -> fp32
        y_s = (student.to(dtype) / self.tau).softmax(dim=1)
        y_t = (teacher.to(dtype) / self.tau).softmax(dim=1)
        inter = 1 - pearson_rows(y_s, y_t).mean()
        intra = 1 - pearson_rows(y_s.t(), y_t.t()).mean()
        scale = self.loss_weight * self.tau**2
        return dict(inter=self.beta * inter * scale, intra=self.gamma * intra * scale)
