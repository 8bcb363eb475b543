"""Class-weighted KL + CE of cross-modality knowledge distillation (CMKD)."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from .base import DistillLoss


def _targets(data_samples, num_classes: int, device) -> Optional[torch.Tensor]:
    """Per-sample target distributions ``(N, C)`` from ``gt_score`` (Mixup) or
    ``gt_label``; rows of unlabelled samples are all zero. None when no sample has one."""
    if not data_samples:
        return None
    rows, any_label = [], False
    for s in data_samples:
        if 'gt_score' in s and s.gt_score is not None and s.gt_score.numel() == num_classes:
            rows.append(s.gt_score.float().to(device).reshape(-1))
            any_label = True
        elif 'gt_label' in s and s.gt_label is not None and s.gt_label.numel() > 0:
            lab = int(s.gt_label.reshape(-1)[0])
            if not 0 <= lab < num_classes:
                raise ValueError(f'label {lab} is outside the {num_classes} classes of the '
                                 f'logits')
            rows.append(F.one_hot(torch.tensor(lab, device=device), num_classes).float())
            any_label = True
        else:
            rows.append(torch.zeros(num_classes, device=device))
    return torch.stack(rows) if any_label else None


@MODELS.register_module()
class CMKDLoss(DistillLoss):
    r"""CMKD-s objective: :math:`\alpha L_{wKL} + (1 - \alpha) L_{wCE}`, both weighted
    per class by weights computed from the training class counts.

    Yang, Xu. *Cross Modality Knowledge Distillation for Multi-Modal Aerial View Object
    Classification*. CVPR 2021 Workshops (NTIRE), pp. 382-387.

    With class weights :math:`w_c`, targets :math:`q_n` (one-hot labels, or Mixup's soft
    labels), :math:`p^{T}_n = \mathrm{softmax}(z_n / T)`:

    .. math::
        v_n = \sum_c w_c q_{n,c} \quad (\text{labelled}),\qquad
        v_n = w_{\arg\max_c p^{t}_{n,c}} \quad (\text{unlabelled})

        L_{wCE} = \frac{\sum_n \sum_c w_c q_{n,c} (-\log p^{s,1}_{n,c})}
                       {\sum_n \sum_c w_c q_{n,c}}

        L_{wKL} = \frac{\sum_n v_n \, \mathrm{KL}(p^{t,T}_n \,\|\, p^{s,T}_n)}
                       {C \sum_n v_n}
            \quad (\texttt{kl\_reduction='element'}, \text{default})

        L_{wKL} = T^2 \frac{\sum_n v_n \, \mathrm{KL}(p^{t,T}_n \,\|\, p^{s,T}_n)}
                         {\sum_n v_n}
            \quad (\texttt{kl\_reduction='sample'})

    Reduction. ``'element'`` (default) is the authors' code: ``nn.KLDivLoss()`` with its
    default ``reduction='mean'``, the mean over all :math:`N \cdot C` elements, without
    a :math:`T^2` factor (Hansxsourse/Cross-Modality-Knowledge-Distillation-for-Multi-
    modal-Aerial-View-Object-Classification, ``KD1``); with class weights the per-sample
    KL is weighted as the CE is and still divided by :math:`C`, so unit weights give
    exactly ``nn.KLDivLoss()(log p^s, p^t)``. ``'sample'`` is Hinton's form (sum over
    classes, mean over samples, times :math:`T^2`; ``mmkd.KDLoss`` with unit weights).
    At T = 2 and C = 10 the ``'sample'`` KL term is :math:`C T^2` = 40 times the
    ``'element'`` one. :math:`L_{wCE}` is a weighted mean over the batch, the
    normalisation of PyTorch's ``cross_entropy(weight=w)``. The paper gives no formula
    for the weighting; this is the reading that reduces to the standard losses, and it
    trains unlabelled pairs on the KL term alone (:math:`L_{wCE}` is 0 for a batch
    without labels).

    Defaults are the authors' code's: :math:`\alpha = 0.2`, :math:`T = 2`,
    ``kl_reduction='element'`` (CMKD-m: :math:`\alpha` = 0.2 when EO is the student,
    0.8 when SAR is the student). mmkd's earlier defaults, kept as the option the
    benchmark measures beside them: :math:`\alpha = 0.5`, :math:`T = 4`,
    ``kl_reduction='sample'``. Paper's settings: ResNet34 student and teacher, no
    ImageNet pre-training, SGD momentum 0.9, lr 0.01 halved every 20 epochs, MixUp
    (:math:`\alpha` = 0.4) and AutoAugment.

    The class weights are a buffer (checkpointed with the run): give them in the
    config, or let :class:`mmkd.ClassWeightsHook` compute and log them from the
    training set's class counts before training.

    Args:
        num_classes (int): Number of classes.
        alpha (float): Weight of the KL term. Defaults to 0.2 (authors' code).
        temperature (float): T. Defaults to 2.0 (authors' code).
        kl_reduction (str): ``'element'`` (authors' ``nn.KLDivLoss()``: mean over the
            N x C elements, no T^2) or ``'sample'`` (Hinton: mean over samples x T^2).
            Defaults to ``'element'``.
        class_weights (Sequence[float], optional): :math:`w`; default all ones.
        loss_weight (float): Multiplier of both terms. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = True

    def __init__(self, num_classes: int, alpha: float = 0.2, temperature: float = 2.0,
                 class_weights: Optional[Sequence[float]] = None, loss_weight: float = 1.0,
                 kl_reduction: str = 'element'):
        super().__init__()
        if kl_reduction not in ('element', 'sample'):
            raise ValueError(f"CMKDLoss kl_reduction must be 'element' (the authors' "
                             f"nn.KLDivLoss()) or 'sample' (Hinton's, x T^2), got "
                             f"{kl_reduction!r}")
        self.kl_reduction = kl_reduction
        if not 0 <= alpha <= 1:
            raise ValueError(f'CMKDLoss alpha must be in [0, 1], got {alpha}')
        if temperature <= 0:
            raise ValueError(f'CMKDLoss temperature must be > 0, got {temperature}')
        self.num_classes, self.alpha, self.temperature = num_classes, alpha, temperature
        self.loss_weight = loss_weight
        w = torch.ones(num_classes) if class_weights is None else torch.as_tensor(
            class_weights, dtype=torch.float32)
        self.register_buffer('class_weights', w.clone())
        self.set_class_weights(w)

    def set_class_weights(self, weights) -> None:
        w = torch.as_tensor(weights, dtype=torch.float32).reshape(-1)
        if w.numel() != self.num_classes:
            raise ValueError(f'CMKDLoss has {self.num_classes} classes but got '
                             f'{w.numel()} class weights')
        if (w < 0).any():
            raise ValueError('class weights must be >= 0')
        self.class_weights.copy_(w.to(self.class_weights.device))

    def forward(self, student: torch.Tensor, teacher: torch.Tensor,
                data_samples: Optional[List] = None) -> dict:
        if student.shape != teacher.shape or student.shape[-1] != self.num_classes:
            raise ValueError(f'CMKDLoss expects student and teacher logits of shape '
                             f'(N, {self.num_classes}), got {tuple(student.shape)} and '
                             f'{tuple(teacher.shape)}')
        s, t = student.float(), teacher.float()
        w = self.class_weights.to(s.device)
        q = _targets(data_samples, self.num_classes, s.device)
        T = self.temperature

        if q is not None:
            per_ce = -(q * w * F.log_softmax(s, 1)).sum(1)
            ce = per_ce.sum() / (q * w).sum().clamp_min(1e-12)
            labelled = q.sum(1) > 0
            v = (q * w).sum(1)
        else:
            ce = s.sum() * 0.
            labelled = torch.zeros(s.shape[0], dtype=torch.bool, device=s.device)
            v = torch.zeros(s.shape[0], device=s.device)
        v = torch.where(labelled, v, w[t.argmax(1)])
        kl = F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1),
                      reduction='none').sum(1)
        wkl = (v * kl).sum() / v.sum().clamp_min(1e-12)
        wkl = wkl / self.num_classes if self.kl_reduction == 'element' else wkl * T**2
        return dict(kl=self.loss_weight * self.alpha * wkl,
                    ce=self.loss_weight * (1 - self.alpha) * ce)
