"""Decoupled knowledge distillation (DKD): target-class and non-target-class KD."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from .base import DistillLoss
from .kd_loss import standardize_logits


def gt_labels(data_samples: Optional[List], n: int, num_classes: int, who: str,
              device) -> torch.Tensor:
    """One integer class per sample from ``data_samples[i].gt_label``, checked."""
    if not data_samples:
        raise ValueError(f'{who} needs the ground-truth labels: the distiller passes the '
                         f'batch data_samples (each with its gt_label), but got none. '
                         f"DKD cannot run on unlabelled data (student_losses='none').")
    if len(data_samples) != n:
        raise ValueError(f'{who}: {len(data_samples)} data_samples for {n} logits rows')
    labels = []
    for i, s in enumerate(data_samples):
        label = s.get('gt_label') if hasattr(s, 'get') else None
        if label is None or (isinstance(label, torch.Tensor) and label.numel() != 1):
            raise ValueError(f'{who} needs one ground-truth class per sample; sample {i} '
                             f'has gt_label={label!r} (soft or multi-label targets, e.g. '
                             f'from mixup, have no target class)')
        labels.append(int(label.reshape(-1)[0]) if isinstance(label, torch.Tensor)
                      else int(label))
    labels = torch.tensor(labels, dtype=torch.long, device=device)
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f'{who}: labels must lie in [0, {num_classes}) for logits of '
                         f'{num_classes} classes, got {labels.tolist()}')
    return labels


def _kl_sum(log_q: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """sum p (log p - log q), with 0 log 0 = 0."""
    return F.kl_div(log_q, p, reduction='sum')


@MODELS.register_module()
class DKDLoss(DistillLoss):
    r"""Decoupled KD: the KD loss split into a target-class term (TCKD) and a
    non-target-class term (NCKD), weighted separately.

    Zhao, Cui, Song, Qiu, Liang. *Decoupled Knowledge Distillation*. CVPR 2022,
    arXiv:2203.08679.

    With :math:`y_n` the label of sample :math:`n`, :math:`p_n = \mathrm{softmax}(z_n/T)`,
    the binary split :math:`b_n = (p_{n,y_n},\ \sum_{c \ne y_n} p_{n,c})` and the
    distribution among the non-target classes
    :math:`\hat p_{n,c} = \mathrm{softmax}_{c \ne y_n}(z_{n,c} / T)`:

    .. math::
        \mathrm{TCKD} = \frac{T^2}{N} \sum_{n} \mathrm{KL}(b^t_n \,\|\, b^s_n), \qquad
        \mathrm{NCKD} = \frac{T^2}{N} \sum_{n} \mathrm{KL}(\hat p^t_n \,\|\, \hat p^s_n)

        L_{DKD} = \alpha\, \mathrm{TCKD} + \beta\, \mathrm{NCKD}

    Reduction: KL summed over the two (TCKD) or :math:`C - 1` (NCKD) entries and over
    the batch, divided by the batch size :math:`N`, times :math:`T^2`: mdistiller's
    ``dkd_loss`` (``kl_div(..., size_average=False) * T**2 / target.shape[0]``,
    ``mdistiller/distillers/DKD.py`` of megvii-research/mdistiller). mdistiller removes
    the target class from NCKD's softmax by subtracting 1000 from its logit; here it is
    left out exactly (the same value unless logits span more than 1000 T). Returned as
    ``dict(tckd=alpha * TCKD, nckd=beta * NCKD)`` (each times ``loss_weight``), logged as
    ``loss_<name>.tckd`` and ``loss_<name>.nckd``; their sum is :math:`L_{DKD}`.

    Labels: one class per sample from ``data_samples[i].gt_label``, which the distiller
    passes; without them (unlabelled data, ``student_losses='none'``) or with soft
    labels (mixup) the loss raises a ``ValueError``.

    Authors' defaults (mdistiller ``engine/cfg.py`` and
    ``configs/cifar100/dkd/res32x4_res8x4.yaml``): ``alpha = 1``, ``beta = 8``,
    ``T = 4``, CE weight 1, DKD weight 1 warmed up linearly over 20 epochs:
    ``min(epoch / 20, 1)`` with mdistiller's epochs counted from 1. The distiller's
    schedule gives exactly that factor, ``min((epoch + 1) / 20, 1)`` with mmengine's
    epochs counted from 0: put ``schedule=dict(warmup=20, by_epoch=True)`` on the loss
    (the CIFAR configs do). Other mdistiller pairs use ``beta = 2`` (e.g.
    ``res56_res20.yaml``) or 6.

    ``logit_standardize=True`` z-scores both logits per sample first (Sun et al.,
    *Logit Standardization in Knowledge Distillation*, CVPR 2024, arXiv:2403.01427;
    ``dkd_loss(..., logit_stand=True)`` in ``mdistiller/distillers/DKD.py`` of
    sunshangquan/logit-standardization-KD; :func:`~mmkd.models.losses.kd_loss.
    standardize_logits`). Their ``tools/train.py --logit-stand --base-temp 2 --kd-weight
    9`` then multiplies alpha and beta by 9 and sets the (base) temperature to 2:
    ``alpha=9, beta=72, temperature=2`` for ResNet32x4 -> ResNet8x4. (An earlier
    version of that script set ``beta = 9 alpha = 81`` and left T at 4.)

    Args:
        alpha (float): TCKD weight. Defaults to 1.0.
        beta (float): NCKD weight. Defaults to 8.0.
        temperature (float): T (the base temperature with ``logit_standardize``).
            Defaults to 4.0.
        logit_standardize (bool): Z-score the logits first. Defaults to False.
        loss_weight (float): Multiplier of both terms. Defaults to 1.0.
    """

    same_shape = ('student', 'teacher')
    needs_data_samples = True

    def __init__(self, alpha: float = 1.0, beta: float = 8.0, temperature: float = 4.0,
                 logit_standardize: bool = False, loss_weight: float = 1.0):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'DKDLoss temperature must be > 0, got {temperature}')
        self.alpha = alpha
        self.beta = beta
        self.temperature = temperature
        self.logit_standardize = logit_standardize
        self.loss_weight = loss_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor,
                data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        """Student and teacher logits ``(N, C)`` and the batch's data samples."""
        if student.dim() != 2 or student.shape != teacher.shape:
            raise ValueError(f'DKDLoss expects student and teacher logits of one shape '
                             f'(N, C), got {tuple(student.shape)} and '
                             f'{tuple(teacher.shape)}')
        n, c = student.shape
        if c < 2:
            raise ValueError(f'DKDLoss needs at least 2 classes, got logits {(n, c)}')
        labels = gt_labels(data_samples, n, c, 'DKDLoss', student.device)
        dtype = torch.promote_types(student.dtype, torch.float32)  # fp16 -> fp32
        s, t = student.to(dtype), teacher.to(dtype)
        if self.logit_standardize:
            s = standardize_logits(s, 'student logits')
            t = standardize_logits(t, 'teacher logits')
        s, t = s / self.temperature, t / self.temperature
        target = F.one_hot(labels, c).bool()

        # TCKD: binary (target, all others) distributions
        p_s, p_t = F.softmax(s, dim=1), F.softmax(t, dim=1)
        b_s = torch.stack([p_s[target], p_s.masked_fill(target, 0.).sum(1)], dim=1)
        b_t = torch.stack([p_t[target], p_t.masked_fill(target, 0.).sum(1)], dim=1)
        tckd = _kl_sum(torch.log(b_s), b_t)

        # NCKD: the distribution among the C - 1 non-target classes
        others = ~target
        s_nt, t_nt = s[others].view(n, c - 1), t[others].view(n, c - 1)
        nckd = _kl_sum(F.log_softmax(s_nt, dim=1), F.softmax(t_nt, dim=1))

        scale = self.loss_weight * self.temperature**2 / n
        return dict(tckd=self.alpha * tckd * scale, nckd=self.beta * nckd * scale)
