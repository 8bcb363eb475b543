"""PKD: feature imitation through the Pearson correlation of normalised maps."""
from typing import Sequence, Union

import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from .base import DistillLoss
from .cwd_loss import _as_list

Maps = Union[torch.Tensor, Sequence[torch.Tensor]]

#: Added to the standard deviation before dividing (mmrazor's ``PKDLoss.norm``).
EPS = 1e-6


@MODELS.register_module()
class PKDLoss(DistillLoss):
    r"""Mean squared error of per-channel standardised student and teacher features,
    which is :math:`1 - r` for the Pearson correlation :math:`r` of each channel.

    Cao, Zhang, Xiao, Li, Huang, Lin, Lu. *PKD: General Distillation Framework for
    Object Detectors via Pearson Correlation Coefficient*. NeurIPS 2022,
    arXiv:2207.02039.

    Each channel :math:`c` of a map :math:`F \in \mathbb{R}^{N \times C \times H \times
    W}` is standardised over the batch and its positions together, the :math:`M = N H W`
    values :math:`F_{\cdot,c,\cdot}`:

    .. math::
        \hat F_{n,c,i} = \frac{F_{n,c,i} - \mu_c}{\sigma_c + \epsilon}, \qquad
        \mu_c = \frac{1}{M} \sum_{n,i} F_{n,c,i}, \quad
        \sigma_c = \sqrt{\frac{1}{M - 1} \sum_{n,i} (F_{n,c,i} - \mu_c)^2}

    .. math::
        L = \frac{1}{2} \cdot \frac{1}{N C H W} \sum_{n,c,i}
            \big(\hat F^S_{n,c,i} - \hat F^T_{n,c,i}\big)^2

    with :math:`\epsilon = 10^{-6}` and the unbiased standard deviation. Since
    :math:`\sum_{n,i} \hat F_{n,c,i}^2 \approx M - 1`, :math:`L \approx \frac{1}{C}
    \sum_c (1 - r_c)`. Where the student's size differs from the teacher's, the student
    is first resized to it (bilinear, ``resize_stu=True``), or the teacher to the
    student's; the channels must match. The teacher carries no gradient.

    Reduction: the mean over all elements, halved; the levels of a list are summed, as
    one loss per level would be. This is numerically mmrazor's ``PKDLoss``
    (``mmrazor/models/losses/pkd_loss.py``, the authors' code: PKD was released in
    mmrazor), except that mmrazor resizes only when the heights differ and this
    resizes whenever height or width does.

    Authors' defaults (mmrazor ``configs/distill/mmdet/pkd``): the FPN outputs P3..P6
    (``fpn0..fpn3``), one loss each, weight 10 for RetinaNet X101 -> R50 and 6 for Faster
    R-CNN R101 -> R50; ``resize_stu=True``.

    Args:
        resize_stu (bool): Resize the student to the teacher's size where they differ
            (else the teacher to the student's). Defaults to True.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self, resize_stu: bool = True, loss_weight: float = 1.0):
        super().__init__()
        self.resize_stu = resize_stu
        self.loss_weight = loss_weight

    @staticmethod
    def norm(feat: torch.Tensor) -> torch.Tensor:
        """Each channel standardised over the batch and its positions."""
        dims = (0, 2, 3)
        mean = feat.mean(dim=dims, keepdim=True)
        std = feat.std(dim=dims, keepdim=True)
        return (feat - mean) / (std + EPS)

    def forward(self, student: Maps, teacher: Maps) -> torch.Tensor:
        """Student and teacher maps ``(N, C, H, W)``, or lists of them (one per level)."""
        student, teacher = _as_list(student), _as_list(teacher)
        if len(student) != len(teacher) or not student:
            raise ValueError(f'PKDLoss: {len(student)} student maps and {len(teacher)} '
                             f'teacher maps; give the same levels of both, in the same '
                             f'order')
        loss = 0.
        for k, (s, t) in enumerate(zip(student, teacher)):
            if s.dim() != 4 or t.dim() != 4 or s.shape[:2] != t.shape[:2]:
                raise ValueError(
                    f'PKDLoss: level {k} student map {tuple(s.shape)} vs teacher '
                    f'{tuple(t.shape)}; both must be (N, C, H, W) with the same batch and '
                    f'channels (sizes may differ): map the student to the teacher\'s '
                    f'channels with a connector (mmkd.ConvConnector) and read it instead')
            s, t = s.float(), t.detach().float()
            if s.shape[2:] != t.shape[2:]:
                if self.resize_stu:
                    s = F.interpolate(s, size=t.shape[2:], mode='bilinear',
                                      align_corners=False)
                else:
                    t = F.interpolate(t, size=s.shape[2:], mode='bilinear',
                                      align_corners=False)
            loss = loss + F.mse_loss(self.norm(s), self.norm(t)) / 2
        return self.loss_weight * loss
