"""FGD: focal (box-masked, attention-weighted) and global (GcBlock relation) feature
distillation for detectors."""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmkd.registry import MODELS
from .base import DistillLoss
from .defeat_loss import _boxes_of
from .mgd_loss import check_pair


class _GcContext(nn.Module):
    """The global-context block of FGD's relation loss (GCNet's, with addition fusion):
    a 1x1 conv and a spatial softmax pool each map to a ``(N, C, 1, 1)`` context, which
    1x1 conv (C -> C/2), LayerNorm, ReLU, 1x1 conv (C/2 -> C) turn into what is added to
    every position. Initialised as the authors' ``reset_parameters``: the mask conv
    He-normal (``fan_in``, bias 0), the last conv zero, so the block starts as identity."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv_mask = nn.Conv2d(channels, 1, kernel_size=1)
        self.channel_add = nn.Sequential(
            nn.Conv2d(channels, channels // 2, kernel_size=1),
            nn.LayerNorm([channels // 2, 1, 1]),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels // 2, channels, kernel_size=1))
        nn.init.kaiming_normal_(self.conv_mask.weight, mode='fan_in', nonlinearity='relu')
        nn.init.zeros_(self.conv_mask.bias)
        nn.init.zeros_(self.channel_add[-1].weight)
        nn.init.zeros_(self.channel_add[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.conv_mask(x).flatten(2).softmax(dim=2)          # (N, 1, HW)
        context = torch.einsum('nchw,nhw->nc', x,
                               weights.view(x.shape[0], *x.shape[2:]))
        return x + self.channel_add(context[:, :, None, None])


@MODELS.register_module()
class FGDLoss(DistillLoss):
    r"""Focal and global distillation on one FPN level, with ground-truth boxes.

    Yang, Li, Jiang, Gong, Yuan, Zhao, Yuan. *Focal and Global Knowledge Distillation
    for Detectors*. CVPR 2022, arXiv:2111.11837.

    For a map :math:`F \in \mathbb{R}^{N \times C \times H \times W}` the spatial and
    channel attention at temperature :math:`T` are

    .. math::
        A^S(F)_{n,i} = HW \, \mathrm{softmax}_i\Big(\frac{1}{T C} \sum_c |F_{n,c,i}|\Big),
        \qquad
        A^C(F)_{n,c} = C \, \mathrm{softmax}_c\Big(\frac{1}{T HW} \sum_i |F_{n,c,i}|\Big)

    Each ground-truth box, scaled to the level's grid (:math:`x \cdot W / W_{in}`,
    :math:`y \cdot H / H_{in}` with :math:`W_{in} \times H_{in}` the padded batch input)
    and widened to whole cells (rows :math:`\lfloor y_1 \rfloor .. \lceil y_2 \rceil`,
    columns :math:`\lfloor x_1 \rfloor .. \lceil x_2 \rceil`, both ends included), gives
    the cells it covers the weight :math:`1 / (h_k w_k)` (its cell count, the ends
    included), the largest where boxes overlap: that is the foreground mask :math:`M`.
    The background mask :math:`B` is 1 where :math:`M = 0`, divided by its sum. With
    :math:`F^S` the student's map (through a 1x1 align conv where its channels differ)
    and the teacher's attention :math:`A^S_t = A^S(F^T)`, :math:`A^C_t = A^C(F^T)`:

    .. math::
        L_{fg} = \frac{1}{N} \sum_{n,c,i} M_{n,i} A^S_{t;n,i} A^C_{t;n,c}
                 (F^S_{n,c,i} - F^T_{n,c,i})^2, \qquad
        L_{bg} = \text{the same with } B

    .. math::
        L_{at} = \frac{1}{N} \Big(\sum_{n,c} |A^C(F^S) - A^C_t|
                 + \sum_{n,i} |A^S(F^S) - A^S_t|\Big), \qquad
        L_{global} = \frac{1}{N} \sum_{n,c,i} \big(\mathcal{R}_s(F^S) -
                     \mathcal{R}_t(F^T)\big)^2

    where :math:`\mathcal{R}_s, \mathcal{R}_t` are two global-context blocks (GcBlock,
    trained with the loss, one applied to each network's map). Returned as
    ``dict(fg=alpha * L_fg, bg=beta * L_bg, attention=gamma * L_at, global=lambda *
    L_global)`` (times ``loss_weight``), logged as ``loss_<name>.fg`` and so on; their
    sum is the authors' loss. The teacher's map carries no gradient; the student's
    attention is trained by :math:`L_{at}`.

    Reduction: every term is summed over its elements and divided by the batch size.
    This is numerically the authors' ``FeatureLoss`` (yzd-v/FGD,
    ``mmdet/distillation/losses/fgd.py``, the version that indexes the mask rows by
    :math:`y`; an earlier one swapped them), except for two things: boxes are scaled by
    the batch input size, which the feature map covers, where the authors divide by
    each image's unpadded ``img_shape`` (the same where images are not padded), and
    cells before the grid's first row or column are cut off (the authors' slice would
    wrap around for a box starting left of or above the image).

    Authors' defaults (``configs/distillers/fgd/fgd_retina_rx101_64x4d_distill_retina_
    r50_fpn_2x_coco.py``: RetinaNet, one loss per FPN output ``neck.fpn_convs.k``,
    256 channels): :math:`T = 0.5`, :math:`\alpha = 10^{-3}`, :math:`\beta = 5 \times
    10^{-4}`, :math:`\gamma = 5 \times 10^{-4}`, :math:`\lambda = 5 \times 10^{-6}`
    (their class default for :math:`\gamma` is :math:`10^{-3}`).

    Boxes are read from ``data_samples[i].gt_instances.bboxes`` (the padded batch's
    pixel coordinates) and the input size from the ``batch_input_shape`` metainfo
    (mmdet's data preprocessor sets it; ``pad_shape``, then ``img_shape``, where it is
    absent). An image without boxes is all background.

    Args:
        student_channels (int): Channels of the student's map.
        teacher_channels (int): Channels of the teacher's map.
        temperature (float): :math:`T`. Defaults to 0.5.
        alpha_fgd (float): :math:`\alpha`, weight of the foreground term. Defaults to
            1e-3.
        beta_fgd (float): :math:`\beta`, background term. Defaults to 5e-4.
        gamma_fgd (float): :math:`\gamma`, attention term. Defaults to 5e-4.
        lambda_fgd (float): :math:`\lambda`, global (relation) term. Defaults to 5e-6.
        loss_weight (float): Multiplier of all four terms. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = True

    def __init__(self, student_channels: int, teacher_channels: int,
                 temperature: float = 0.5, alpha_fgd: float = 1e-3,
                 beta_fgd: float = 5e-4, gamma_fgd: float = 5e-4,
                 lambda_fgd: float = 5e-6, loss_weight: float = 1.0):
        super().__init__()
        if not temperature > 0:
            raise ValueError(f'FGDLoss temperature must be > 0, got {temperature}')
        if teacher_channels < 2:
            raise ValueError(f'FGDLoss teacher_channels must be >= 2 (the GcBlock halves '
                             f'them), got {teacher_channels}')
        self.student_channels = int(student_channels)
        self.teacher_channels = int(teacher_channels)
        self.temperature = float(temperature)
        self.alpha_fgd, self.beta_fgd = alpha_fgd, beta_fgd
        self.gamma_fgd, self.lambda_fgd = gamma_fgd, lambda_fgd
        self.loss_weight = loss_weight
        self.align = nn.Conv2d(student_channels, teacher_channels, kernel_size=1) \
            if student_channels != teacher_channels else None
        self.context_s = _GcContext(teacher_channels)
        self.context_t = _GcContext(teacher_channels)

    def attention(self, feat: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Spatial ``(N, H, W)`` and channel ``(N, C)`` attention of a map."""
        n, c, h, w = feat.shape
        value = feat.abs()
        spatial = value.mean(dim=1).flatten(1) / self.temperature
        channel = value.mean(dim=(2, 3)) / self.temperature
        return (h * w * spatial.softmax(dim=1)).view(n, h, w), c * channel.softmax(dim=1)

    @torch.no_grad()
    def masks(self, data_samples: Sequence, size: Tuple[int, int],
              device=None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Foreground (box-area weighted) and normalised background masks,
        ``(N, H, W)`` each."""
        h, w = size
        fg = torch.zeros(len(data_samples), h, w, device=device)
        for i, sample in enumerate(data_samples):
            boxes = _boxes_of(sample).to(device=device, dtype=torch.float32)
            if boxes.numel() == 0:
                continue
            in_h, in_w = _input_shape(sample)
            x1, x2 = boxes[:, 0] / in_w * w, boxes[:, 2] / in_w * w
            y1, y2 = boxes[:, 1] / in_h * h, boxes[:, 3] / in_h * h
            left, right = x1.floor().long(), x2.ceil().long()
            top, bottom = y1.floor().long(), y2.ceil().long()
            area = 1.0 / ((bottom + 1 - top) * (right + 1 - left)).float()
            for j in range(len(boxes)):
                r0, c0 = max(int(top[j]), 0), max(int(left[j]), 0)
                r1, c1 = int(bottom[j]) + 1, int(right[j]) + 1
                cells = fg[i, r0:r1, c0:c1]
                fg[i, r0:r1, c0:c1] = torch.clamp(cells, min=float(area[j]))
        bg = (fg <= 0).float()
        total = bg.sum(dim=(1, 2), keepdim=True)
        bg = torch.where(total > 0, bg / total.clamp(min=1.0), bg)
        return fg, bg

    def forward(self, student: torch.Tensor, teacher: torch.Tensor,
                data_samples: Optional[list] = None) -> Dict[str, torch.Tensor]:
        """Student and teacher maps of one FPN level and the batch's data samples."""
        if data_samples is None:
            raise ValueError('FGDLoss needs the batch data_samples (their ground-truth '
                             'boxes and batch_input_shape)')
        check_pair(student, teacher, self.student_channels, self.teacher_channels,
                   'FGDLoss')
        if len(data_samples) != student.shape[0]:
            raise ValueError(f'FGDLoss: {len(data_samples)} data samples for a batch of '
                             f'{student.shape[0]} maps; pass the batch\'s data_samples')
        s = student.float()
        if self.align is not None:
            s = self.align(s)
        t = teacher.detach().float()
        n = t.shape[0]
        spatial_t, channel_t = self.attention(t)
        spatial_s, channel_s = self.attention(s)
        fg, bg = self.masks(data_samples, tuple(t.shape[2:]), device=t.device)
        weighted = (s - t).pow(2) * spatial_t[:, None] * channel_t[:, :, None, None]
        l_fg = (weighted * fg[:, None]).sum() / n
        l_bg = (weighted * bg[:, None]).sum() / n
        l_at = ((channel_s - channel_t).abs().sum() + (spatial_s - spatial_t).abs().sum()) / n
        l_global = (self.context_s(s) - self.context_t(t)).pow(2).sum() / n
        k = self.loss_weight
        return {'fg': k * self.alpha_fgd * l_fg, 'bg': k * self.beta_fgd * l_bg,
                'attention': k * self.gamma_fgd * l_at,
                'global': k * self.lambda_fgd * l_global}


def _input_shape(sample) -> Tuple[int, int]:
    meta = sample.metainfo
    for key in ('batch_input_shape', 'pad_shape', 'img_shape'):
        if meta.get(key):
            return tuple(meta[key][:2])
    raise ValueError('FGDLoss: a data sample has no batch_input_shape, pad_shape or '
                     'img_shape metainfo, so its boxes cannot be placed on the feature '
                     'map; run the batch through mmdet\'s DetDataPreprocessor')
