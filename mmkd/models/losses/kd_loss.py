"""Hinton knowledge distillation on logits."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import MODELS


@MODELS.register_module()
class KDLoss(nn.Module):
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

    Args:
        temperature (float): Softening temperature T. Defaults to 4.0.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, temperature: float = 4.0, loss_weight: float = 1.0):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'KDLoss temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """Student and teacher logits of the same shape ``(N, C, ...)``."""
        if student.dim() > 2:  # (N, C, *) -> (N*prod(*), C)
            c = student.shape[1]
            student = student.movedim(1, -1).reshape(-1, c)
            teacher = teacher.movedim(1, -1).reshape(-1, c)
        t = self.temperature
        log_p_s = F.log_softmax(student.float() / t, dim=1)
        p_t = F.softmax(teacher.float() / t, dim=1)
        # kl_div(log q, p) = sum p (log p - log q); xlogy form keeps p_t == 0 finite.
        loss = F.kl_div(log_p_s, p_t, reduction='none').sum(1).mean() * t**2
        return self.loss_weight * loss
