"""Hinton knowledge distillation on logits (optionally on standardised logits)."""
import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from .base import DistillLoss

#: Added to the standard deviation by the logit-standardisation authors' ``normalize``
#: (sunshangquan/logit-standardization-KD, ``mdistiller/distillers/KD.py``).
LOGIT_STD_EPS = 1e-7


def standardize_logits(z: torch.Tensor, what: str = 'logits') -> torch.Tensor:
    r"""Z-score each row of ``(M, C)`` logits over its ``C`` classes.

    .. math:: \mathcal{Z}(z) = \frac{z - \bar z}{\sigma(z) + 10^{-7}}

    with :math:`\bar z` the mean and :math:`\sigma` the standard deviation with
    Bessel's correction (``torch.std``, divisor ``C - 1``), as the authors' ``normalize``
    (Sun et al., *Logit Standardization in Knowledge Distillation*, CVPR 2024,
    arXiv:2403.01427; ``mdistiller/distillers/KD.py`` and ``DKD.py`` of
    sunshangquan/logit-standardization-KD).
    """
    if z.shape[1] < 2:
        raise ValueError(f'logit standardisation needs at least 2 classes, {what} have '
                         f'shape {tuple(z.shape)}')
    return (z - z.mean(dim=1, keepdim=True)) / (z.std(dim=1, keepdim=True) + LOGIT_STD_EPS)


@MODELS.register_module()
class KDLoss(DistillLoss):
    r"""Soft-target distillation: KL divergence between temperature-softened outputs.

    Hinton, Vinyals, Dean. *Distilling the Knowledge in a Neural Network*. NIPS 2014
    workshop, arXiv:1503.02531.

    .. math::
        L_{KD} = \frac{T^2}{N} \sum_{n=1}^{N} \sum_{c=1}^{C}
            p^t_{n,c} \left(\log p^t_{n,c} - \log p^s_{n,c}\right),
        \qquad p_{n} = \mathrm{softmax}(z_{n} / T)

    Reduction: sum over classes, mean over the batch, times :math:`T^2` (so gradients keep
    their magnitude as T changes). This is numerically RepDistiller's ``DistillKL``
    (``kl_div(..., size_average=False) * T**2 / N``) and mdistiller's ``kd_loss``
    (``kl_div(reduction='none').sum(1).mean() * T**2``). Logits with extra dimensions
    (``N, C, H, W``) are treated as ``N*H*W`` samples of ``C`` classes.

    Authors' defaults (RepDistiller ``train_student.py --distill kd``, mdistiller
    ``KD``): ``T = 4``, KD weight 0.9 with the student's cross-entropy at 0.1. Set those
    as ``loss_weight=0.9`` here and ``student_loss_weight=0.1`` on the distiller.

    ``logit_standardize=True``: logit standardisation (Sun, Ren, Li, Wang, Cao, *Logit
    Standardization in Knowledge Distillation*, CVPR 2024, arXiv:2403.01427). Each
    sample's student and teacher logits are z-scored over the classes first
    (:func:`standardize_logits`: mean 0, standard deviation 1, with the authors'
    :math:`10^{-7}` added to the deviation), then softened by the *base temperature*
    ``temperature`` and compared as above (same reduction, same :math:`T^2`):

    .. math::
        L_{KD+LS} = \frac{T^2}{N} \sum_{n} \mathrm{KL}\big(
            \mathrm{softmax}(\mathcal{Z}(z^t_n) / T) \,\|\,
            \mathrm{softmax}(\mathcal{Z}(z^s_n) / T)\big)

    This is the authors' ``kd_loss(..., logit_stand=True)`` (``mdistiller/distillers/
    KD.py`` of sunshangquan/logit-standardization-KD). Their CIFAR-100 runs (README and
    ``tools/train.py --logit-stand --base-temp 2 --kd-weight 9``) use a **base
    temperature of 2, not 4**, and KD weight 9: ``temperature=2.0, loss_weight=9.0``.
    The cross-entropy weight is not set by that script; the readable ``cfg.py`` of
    their repository (commit 2ba3954) has ``CE_WEIGHT = 1``.

    Inputs of different shapes (another class count) stop the distiller at the first
    batch with an error naming both taps (``same_shape``).

    ``reduction='sum_over_hw'``: the pixel-wise distillation of the segmentation KD code
    DisOptNet builds on, ``CriterionPixelWise`` (Liu et al., *Structured Knowledge
    Distillation for Semantic Segmentation*, CVPR 2019,
    ``irfanICMLL/structure_knowledge_distillation`` ``utils/criterion.py``; the same
    class in DisOptNet's ``jiankang1991/TGRS_DisOptNet`` ``utils/losses.py``, used by
    ``train_st2.py`` with weight 1):

    .. math::
        L_{pi} = \frac{T^2}{H W} \sum_{n=1}^{N} \sum_{h,w}
            \mathrm{KL}\big(p^t_{n,h,w} \,\|\, p^s_{n,h,w}\big)

    over logits ``(N, C, H, W)``: summed over the batch and divided by the number of
    pixels of one map only, i.e. ``N`` times the default per-pixel mean (8x at 8 images
    per GPU). Their code writes the cross-entropy
    :math:`\sum -p^t \log p^s / (H W)`, which differs from this KL by the teacher's
    entropy (no gradient): the gradients are equal. They use no temperature (T = 1).
    Logits ``(N, C)`` count as ``H = W = 1`` (a sum over the batch).

    Args:
        temperature (float): Softening temperature T. Defaults to 4.0.
        reduction (str): ``'mean'`` (sum over classes, mean over the ``N*H*W``
            samples) or ``'sum_over_hw'`` (``CriterionPixelWise``: sum over ``N*H*W``,
            divided by ``H*W``). Defaults to ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        logit_standardize (bool): Z-score the logits of each sample over the classes
            before the softmax (Sun et al., CVPR 2024); ``temperature`` is then their
            base temperature. Defaults to False.
    """

    same_shape = ('student', 'teacher')
    needs_data_samples = False

    def __init__(self, temperature: float = 4.0, reduction: str = 'mean',
                 loss_weight: float = 1.0, logit_standardize: bool = False):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'KDLoss temperature must be > 0, got {temperature}')
        if reduction not in ('mean', 'sum_over_hw'):
            raise ValueError(f"KDLoss reduction must be 'mean' or 'sum_over_hw', got "
                             f'{reduction!r}')
        self.temperature = temperature
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.logit_standardize = logit_standardize

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """Student and teacher logits of the same shape ``(N, C, ...)``."""
        if student.shape != teacher.shape:
            raise ValueError(f'KDLoss: student logits {tuple(student.shape)} and teacher '
                             f'logits {tuple(teacher.shape)} must have the same shape')
        n = student.shape[0]
        if student.dim() > 2:  # (N, C, *) -> (N*prod(*), C)
            c = student.shape[1]
            student = student.movedim(1, -1).reshape(-1, c)
            teacher = teacher.movedim(1, -1).reshape(-1, c)
        dtype = torch.promote_types(student.dtype, torch.float32)  # fp16 -> fp32
        student, teacher = student.to(dtype), teacher.to(dtype)
        if self.logit_standardize:
            student = standardize_logits(student, 'student logits')
            teacher = standardize_logits(teacher, 'teacher logits')
        t = self.temperature
        log_p_s = F.log_softmax(student / t, dim=1)
        p_t = F.softmax(teacher / t, dim=1)
        # kl_div(log q, p) = sum p (log p - log q); xlogy form keeps p_t == 0 finite.
        per_sample = F.kl_div(log_p_s, p_t, reduction='none').sum(1)
        if self.reduction == 'mean':
            loss = per_sample.mean()
        else:  # sum over N*H*W, / (H*W): the mean over pixels times N
            loss = per_sample.sum() / (per_sample.numel() // n)
        return self.loss_weight * loss * t**2
