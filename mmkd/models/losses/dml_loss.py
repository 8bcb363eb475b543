"""Deep mutual learning: two networks trained together, each imitating the other."""
import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from .base import DistillLoss


def _flat(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, *)`` logits -> ``(N * prod(*), C)``: dense outputs are per-pixel samples."""
    return x.movedim(1, -1).reshape(-1, x.shape[1]) if x.dim() > 2 else x


@MODELS.register_module()
class DMLLoss(DistillLoss):
    r"""The two mimicry terms of deep mutual learning, for a student and a *trainable*
    peer (``teacher=dict(..., trainable=True)`` on ``mmkd.Distiller``; its own task
    loss is the peer's cross-entropy).

    Zhang, Xiang, Hospedales, Lu. *Deep Mutual Learning*. CVPR 2018, arXiv:1706.00384.
    Code: YingZhangDUT/Deep-Mutual-Learning (``kl_loss_compute``).

    .. math::
        L = D_{KL}(\mathrm{sg}[p_2] \,\|\, p_1) + D_{KL}(\mathrm{sg}[p_1] \,\|\, p_2),
        \qquad p_k = \mathrm{softmax}(z_k / T)

    Each term reaches only its own network (stop-gradient :math:`\mathrm{sg}` on the
    target), so one backward gives network 1 the loss :math:`L_{C_1} + D_{KL}(p_2\|p_1)`
    and network 2 :math:`L_{C_2} + D_{KL}(p_1\|p_2)`, the paper's Eq. (1)-(2).
    Dense logits ``(N, C, H, W)`` are per-pixel distributions (DML for segmentation).

    Reduction: sum over classes, mean over samples (pixels), times :math:`T^2`
    (1 at the authors' :math:`T = 1`), as the authors' ``reduce_mean(reduce_sum(p2 *
    log(p2 / p1), 1))``; their ``1e-8`` guards are replaced by log-softmax. Difference
    kept on purpose: the authors update the networks one after the other on separate
    forward passes; here both step on one forward (simultaneous updates).

    Authors' defaults: :math:`T = 1`, weight 1 for both terms, with each network's
    cross-entropy at weight 1. Logged as ``dict(student=..., peer=...)``.

    Args:
        temperature (float): T. Defaults to 1.0.
        loss_weight (float): Multiplier of both terms. Defaults to 1.0.
    """

    same_shape = ('student', 'teacher')
    needs_data_samples = False

    def __init__(self, temperature: float = 1.0, loss_weight: float = 1.0):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'DMLLoss temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight

    def _kl(self, target_logits: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        t = self.temperature
        p = F.softmax(_flat(target_logits).float().detach() / t, dim=1)
        log_q = F.log_softmax(_flat(logits).float() / t, dim=1)
        return F.kl_div(log_q, p, reduction='none').sum(1).mean() * t**2

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> dict:
        if not teacher.requires_grad:
            raise RuntimeError('DMLLoss needs a trainable peer: the teacher output has no '
                               'gradient. Set trainable=True on the teacher (with its own '
                               'task loss) or use KDLoss for a frozen teacher.')
        return dict(student=self.loss_weight * self._kl(teacher, student),
                    peer=self.loss_weight * self._kl(student, teacher))
