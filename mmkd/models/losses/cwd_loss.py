"""Channel-wise distillation: each channel's spatial distribution, teacher to student."""
from typing import List, Sequence, Union

import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from .base import DistillLoss

Maps = Union[torch.Tensor, Sequence[torch.Tensor]]


@MODELS.register_module()
class CWDLoss(DistillLoss):
    r"""KL divergence between the teacher's and the student's per-channel spatial
    distributions.

    Shu, Liu, Gao, Yan, Shen. *Channel-wise Knowledge Distillation for Dense
    Prediction*. ICCV 2021, arXiv:2011.13256.

    Each channel :math:`c` of image :math:`n` of a map :math:`y \in \mathbb{R}^{N \times
    C \times H \times W}` (logits or features) becomes a distribution over its
    :math:`H W` positions :math:`i` by a softmax at temperature :math:`\tau`:

    .. math::
        \phi(y)_{n,c,i} = \frac{\exp(y_{n,c,i} / \tau)}{\sum_{j=1}^{HW}
                                                        \exp(y_{n,c,j} / \tau)}, \qquad
        L = \frac{\tau^2}{N C} \sum_{n=1}^{N} \sum_{c=1}^{C} \sum_{i=1}^{HW}
            \phi(y^T)_{n,c,i} \log \frac{\phi(y^T)_{n,c,i}}{\phi(y^S)_{n,c,i}}

    with :math:`y^S, y^T` the student's and the teacher's maps (the same shape: a
    student feature of other channels goes through a connector first). The teacher
    carries no gradient.

    Reduction: the KL divergence is summed over positions and averaged over the
    :math:`N C` channel maps, times :math:`\tau^2`. Given a list of maps (FPN levels),
    the levels' losses are summed, as one loss per level of the same weight would be.
    This is numerically mmrazor's ``ChannelWiseDivergence``
    (``mmrazor/models/losses/cwd.py``) and the authors' ``CriterionCWD`` with
    ``norm_type='channel', divergence='kl'`` (irfanICMLL/TorchDistiller,
    ``SemSeg-distill/utils/criterion.py``).

    Authors' defaults: segmentation, on the logits (``decode_head.conv_seg``),
    :math:`\tau = 4`, weight 3 (TorchDistiller ``bash exp_cwd.sh channel kl 3 4``,
    PSPNet R101 to R18 on Cityscapes); mmrazor's Cityscapes config uses :math:`\tau =
    1`, weight 5. Detection (mmrazor ``cwd_fpn_retina_r101_retina_r50_1x_coco.py``): the
    five FPN outputs, :math:`\tau = 1`, weight 10 on each level. The class defaults are
    mmrazor's: :math:`\tau = 1`, weight 1.

    Args:
        tau (float): Temperature :math:`\tau`. Defaults to 1.0.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    #: Inputs the distiller checks for equal shapes before calling ``forward``.
    same_shape = ('student', 'teacher')
    needs_data_samples = False

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0):
        super().__init__()
        if not tau > 0:
            raise ValueError(f'CWDLoss tau must be > 0, got {tau}')
        self.tau = float(tau)
        self.loss_weight = loss_weight

    def forward(self, student: Maps, teacher: Maps) -> torch.Tensor:
        """Student and teacher maps ``(N, C, H, W)``, or lists of them (one per level)."""
        student, teacher = _as_list(student), _as_list(teacher)
        check_levels(student, teacher, 'CWDLoss')
        loss = 0.
        for s, t in zip(student, teacher):
            n, c = s.shape[:2]
            log_p_s = F.log_softmax(s.float().flatten(2) / self.tau, dim=2)
            log_p_t = F.log_softmax(t.detach().float().flatten(2) / self.tau, dim=2)
            kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum()
            loss = loss + kl * self.tau ** 2 / (n * c)
        return self.loss_weight * loss


def check_levels(student: List[torch.Tensor], teacher: List[torch.Tensor],
                 name: str) -> None:
    """Equal level counts and equal ``(N, C, H, W)`` shapes, level by level."""
    if len(student) != len(teacher) or not student:
        raise ValueError(f'{name}: {len(student)} student maps and {len(teacher)} '
                         f'teacher maps; give the same levels of both, in the same order')
    for k, (s, t) in enumerate(zip(student, teacher)):
        if s.dim() != 4 or s.shape != t.shape:
            raise ValueError(
                f'{name}: level {k} student map {tuple(s.shape)} vs teacher '
                f'{tuple(t.shape)}; both must be (N, C, H, W) of the same shape: map the '
                f'student to the teacher\'s channels and size with a connector '
                f'(mmkd.ConvConnector with like=<the teacher tap>) and read it instead')


def _as_list(x: Maps) -> List[torch.Tensor]:
    return [x] if isinstance(x, torch.Tensor) else list(x)
