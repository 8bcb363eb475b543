"""Variational information distillation (VID)."""
import math
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import MODELS
from ._layer_pairs import Features, check_4d, layer_pairs, pool_to_smaller
from .base import DistillLoss

Channels = Union[int, Sequence[int]]


def _conv1x1(in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)


@MODELS.register_module()
class VIDLoss(DistillLoss):
    r"""Gaussian negative log-likelihood of teacher features given the student's.

    Ahn, Hu, Damianou, Lawrence, Dai. *Variational Information Distillation for
    Knowledge Transfer*. CVPR 2019, arXiv:1904.05835.

    Per layer, a trainable regressor :math:`\mu` (1x1 conv, ReLU, 1x1 conv, ReLU, 1x1
    conv, no biases; :math:`C_s \to C_m \to C_m \to C_t`) predicts the teacher map's
    mean from the student's, with a trainable per-channel variance
    :math:`\sigma_c^2 = \log(1 + e^{\alpha_c}) + \epsilon` (``F.softplus``), initialised
    so that :math:`\sigma_c^2` = ``init_pred_var``:

    .. math::
        L_{VID} = \sum_{l} \frac{1}{N C_t H W} \sum_{n,c,h,w} \frac{1}{2} \left(
            \frac{(\mu(F^s_l)_{n,c,h,w} - F^t_{l,n,c,h,w})^2}{\sigma_{l,c}^2}
            + \log \sigma_{l,c}^2 \right)

    (the constant :math:`\frac12 \log 2\pi` is dropped, so the loss may be negative).
    When the spatial sizes differ, the larger map is adaptive-average-pooled to the
    smaller size first. The regressors and :math:`\alpha` are submodules/parameters of
    this loss: the distiller trains and checkpoints them, the export drops them.

    Reduction: mean over batch, channels and positions per layer, summed over layers.
    This is RepDistiller's ``VIDLoss`` (``distiller_zoo/VID.py``, code of the paper's
    authors), one instance per layer as its ``train_student.py`` builds them, with
    ``num_mid_channel`` = the teacher's channels. mdistiller's ``VID`` computes the same
    value but keeps its ``log_scales`` in a plain list, outside its optimizer, so its
    variances stay at 5; this follows RepDistiller, where they are trained.

    Authors' defaults (RepDistiller ``--distill vid -a 0 -b 1``, CE weight gamma=1;
    mdistiller ``VID``: ``INIT_PRED_VAR=5``, ``EPS=1e-5``, ``FEAT_WEIGHT=1``):
    ``init_pred_var = 5``, ``eps = 1e-5``, mid channels = teacher channels, loss
    weight (beta) 1. Layers: ``feat[1:-1]``, the output of every residual stage (taps
    on ``backbone.layer1`` ... ``backbone.layer4``, passed as lists). Here the
    ``loss_weight`` default 1.0 **is** the authors' beta.

    Args:
        student_channels (int | list[int]): Channels of each student layer.
        teacher_channels (int | list[int]): Channels of each teacher layer.
        mid_channels (int | list[int], optional): Hidden channels of each regressor.
            Defaults to the teacher's channels (as RepDistiller and mdistiller).
        init_pred_var (float): Initial variance. Defaults to 5.0.
        eps (float): Floor of the variance. Defaults to 1e-5.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self,
                 student_channels: Channels,
                 teacher_channels: Channels,
                 mid_channels: Optional[Channels] = None,
                 init_pred_var: float = 5.0,
                 eps: float = 1e-5,
                 loss_weight: float = 1.0):
        super().__init__()
        s_c = [student_channels] if isinstance(student_channels, int) else list(
            student_channels)
        t_c = [teacher_channels] if isinstance(teacher_channels, int) else list(
            teacher_channels)
        m_c = t_c if mid_channels is None else (
            [mid_channels] if isinstance(mid_channels, int) else list(mid_channels))
        if not len(s_c) == len(t_c) == len(m_c):
            raise ValueError(f'VIDLoss needs one channel count per layer for student, '
                             f'teacher (and mid): got {s_c}, {t_c}, {m_c}')
        if init_pred_var <= eps:
            raise ValueError(f'VIDLoss init_pred_var ({init_pred_var}) must exceed eps '
                             f'({eps})')
        self.student_channels, self.teacher_channels = s_c, t_c
        self.regressors = nn.ModuleList(
            nn.Sequential(_conv1x1(s, m), nn.ReLU(), _conv1x1(m, m), nn.ReLU(),
                          _conv1x1(m, t)) for s, m, t in zip(s_c, m_c, t_c))
        # softplus^{-1}(init_pred_var - eps): the variance starts at init_pred_var.
        alpha = math.log(math.expm1(init_pred_var - eps))
        self.log_scales = nn.ParameterList(
            nn.Parameter(torch.full((t, ), alpha)) for t in t_c)
        self.eps = eps
        self.loss_weight = loss_weight

    def forward(self, student: Features, teacher: Features) -> torch.Tensor:
        """Feature maps ``(N, C, H, W)``: one tensor each or lists, one per layer."""
        pairs = layer_pairs(student, teacher, 'VIDLoss')
        if len(pairs) != len(self.regressors):
            raise ValueError(f'VIDLoss was built for {len(self.regressors)} layers '
                             f'(student_channels={self.student_channels}), got '
                             f'{len(pairs)}')
        loss = 0.
        for i, (s, t) in enumerate(pairs):
            check_4d(s, 'VIDLoss', 'student', i)
            check_4d(t, 'VIDLoss', 'teacher', i)
            if (s.shape[1], t.shape[1]) != (self.student_channels[i],
                                            self.teacher_channels[i]):
                raise ValueError(
                    f'VIDLoss layer {i} was built for {self.student_channels[i]} student '
                    f'and {self.teacher_channels[i]} teacher channels, got {s.shape[1]} '
                    f'and {t.shape[1]}')
            s, t = pool_to_smaller(s, t)
            mean = self.regressors[i](s)
            var = (F.softplus(self.log_scales[i]) + self.eps).view(1, -1, 1, 1)
            nll = 0.5 * ((mean.float() - t.float()).pow(2) / var + torch.log(var))
            loss = loss + nll.mean()
        return self.loss_weight * loss
