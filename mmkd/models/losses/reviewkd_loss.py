"""ReviewKD: attention-based fusion (ABF) of student stages, hierarchical context loss."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import MODELS
from .base import DistillLoss

Features = Union[torch.Tensor, Sequence[torch.Tensor]]

#: The pyramid of HCL: adaptive average pooling to 4x4, 2x2 and 1x1, each level at
#: half the weight of the previous (mdistiller ``hcl_loss``).
HCL_LEVELS = (4, 2, 1)


class ABF(nn.Module):
    """Attention-based fusion of one student stage with the fused deeper stages.

    ``conv1`` (1x1 conv + BN) maps the stage to ``mid_channels``; when ``fuse``, the
    residual from the deeper stages is upsampled (nearest) to the stage's size and a
    1x1 conv + sigmoid on both gives two per-pixel weights for their sum; the result is
    resized (nearest) to the teacher's size and ``conv2`` (3x3 conv + BN) maps it to the
    teacher's channels. Returns the output and the fused map (the next, shallower
    stage's residual). Convolutions without bias and He-uniform init with ``a=1``, as
    mdistiller's ``ABF`` (``mdistiller/distillers/ReviewKD.py``).
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int,
                 fuse: bool):
        super().__init__()
        self.in_channels = in_channels
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(mid_channels))
        self.conv2 = nn.Sequential(
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels))
        self.att_conv = nn.Sequential(nn.Conv2d(mid_channels * 2, 2, kernel_size=1),
                                      nn.Sigmoid()) if fuse else None
        nn.init.kaiming_uniform_(self.conv1[0].weight, a=1)
        nn.init.kaiming_uniform_(self.conv2[0].weight, a=1)

    def forward(self, x: torch.Tensor, residual: Optional[torch.Tensor] = None,
                out_size: Optional[Sequence[int]] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        h, w = x.shape[-2:]
        x = self.conv1(x)
        if self.att_conv is not None:
            residual = F.interpolate(residual, (h, w), mode='nearest')
            z = self.att_conv(torch.cat([x, residual], dim=1))
            x = x * z[:, 0:1] + residual * z[:, 1:2]
        if out_size is not None and tuple(x.shape[-2:]) != tuple(out_size):
            x = F.interpolate(x, tuple(out_size), mode='nearest')
        return self.conv2(x), x


def hcl_loss(student: Sequence[torch.Tensor], teacher: Sequence[torch.Tensor]
             ) -> torch.Tensor:
    r"""Hierarchical context loss, summed over the stages:

    .. math::
        \mathrm{HCL}(F^s, F^t) = \frac{\mathrm{MSE}(F^s, F^t) + \sum_{k}
            2^{-k}\, \mathrm{MSE}(P_{l_k}(F^s), P_{l_k}(F^t))}{1 + \sum_k 2^{-k}}

    :math:`P_l` is adaptive average pooling to :math:`l \times l`, :math:`l_k` runs over
    those of 4, 2, 1 that are smaller than the map's height (:math:`k = 1, 2, \ldots`
    counts the levels used), MSE is the mean over all elements.
    """
    total = 0.
    for fs, ft in zip(student, teacher):
        loss = F.mse_loss(fs, ft)
        weight, norm = 1.0, 1.0
        for size in HCL_LEVELS:
            if size >= fs.shape[2]:
                continue
            weight /= 2
            loss = loss + weight * F.mse_loss(F.adaptive_avg_pool2d(fs, size),
                                              F.adaptive_avg_pool2d(ft, size))
            norm += weight
        total = total + loss / norm
    return total


def _as_maps(feats: Features) -> List[torch.Tensor]:
    feats = [feats] if isinstance(feats, torch.Tensor) else list(feats)
    return [f[:, :, None, None] if f.dim() == 2 else f for f in feats]


@MODELS.register_module()
class ReviewKDLoss(DistillLoss):
    r"""Knowledge review: each student stage, fused with all deeper ones by ABF, imitates
    the teacher stage of the same depth through the hierarchical context loss.

    Chen, Liu, Zhao, Jia. *Distilling Knowledge via Knowledge Review*. CVPR 2021,
    arXiv:2104.09044.

    Stages are given shallow to deep (the pooled vector last, as ``(N, C)`` or
    ``(N, C, 1, 1)``). From the deepest stage up, :class:`ABF` fuses stage :math:`i` of
    the student with the fused deeper stages and maps it to the teacher's channels and
    size (nearest resize); the outputs :math:`\hat F^s_i` are compared with the
    teacher's stages by :func:`hcl_loss`:

    .. math:: L_{ReviewKD} = \sum_{i} \mathrm{HCL}(\hat F^s_i, F^t_i)

    Reduction: per stage the MSE means over all elements, pyramid levels weighted 1, 1/2,
    1/4, 1/8 and normalised by the sum of the weights used; stages summed. This is
    mdistiller's ``ReviewKD`` with ``hcl_loss`` and ``ABF``
    (``mdistiller/distillers/ReviewKD.py`` of megvii-research/mdistiller), with the sizes
    (``SHAPES``/``OUT_SHAPES`` there) read from the features instead of the config.

    Layers (mdistiller, ``STU_PREACT = False``): the student's ``feats[1:]`` after ReLU
    and its pooled vector; the teacher's *pre-activation* stages ``preact_feats[1:]``
    and its pooled vector. For the CIFAR ResNets: student taps ``backbone.layer1..3``
    and ``neck[0]``, teacher taps ``backbone.layer{1,2,3}.<n-1>.preact`` and
    ``neck[0]`` (:class:`~mmkd.models.backbones.CifarResNet`).

    Authors' defaults (mdistiller ``engine/cfg.py``, ``configs/cifar100/reviewkd.yaml``
    for ResNet32x4 -> ResNet8x4): channels ``[64, 128, 256, 256]`` for both, middle
    width ``min(512, student_channels[-1])``, CE weight 1, ReviewKD weight **5.0** on
    that pair (1.0 is the cfg default) warmed up linearly over 20 epochs,
    ``min(epoch / 20, 1)`` with epochs from 1: ``schedule=dict(warmup=20,
    by_epoch=True)`` on the loss gives that factor. The ABF modules are parameters of
    the loss: the distiller trains and checkpoints them, and the exported student drops
    them.

    Args:
        student_channels (Sequence[int]): Channels of the student stages, shallow to
            deep.
        teacher_channels (Sequence[int]): Channels of the teacher stages (ABF outputs).
        mid_channels (int, optional): ABF width. Defaults to
            ``min(512, student_channels[-1])``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self, student_channels: Sequence[int], teacher_channels: Sequence[int],
                 mid_channels: Optional[int] = None, loss_weight: float = 1.0):
        super().__init__()
        student_channels, teacher_channels = list(student_channels), list(teacher_channels)
        if not student_channels or len(student_channels) != len(teacher_channels):
            raise ValueError(f'ReviewKDLoss: one channel count per stage for student and '
                             f'teacher, got {student_channels} and {teacher_channels}')
        self.student_channels = student_channels
        self.teacher_channels = teacher_channels
        mid = mid_channels or min(512, student_channels[-1])
        last = len(student_channels) - 1
        self.abfs = nn.ModuleList(
            ABF(c_in, mid, c_out, fuse=i < last)
            for i, (c_in, c_out) in enumerate(zip(student_channels, teacher_channels)))
        self.loss_weight = loss_weight

    def _check(self, s: List[torch.Tensor], t: List[torch.Tensor]) -> None:
        n = len(self.student_channels)
        if len(s) != n or len(t) != n:
            raise ValueError(f'ReviewKDLoss was built for {n} stages, got {len(s)} student '
                             f'and {len(t)} teacher features')
        for i, (fs, ft) in enumerate(zip(s, t)):
            if fs.dim() != 4 or ft.dim() != 4:
                raise ValueError(f'ReviewKDLoss stage {i}: expects (N, C, H, W) maps or '
                                 f'(N, C) pooled vectors, got student {tuple(fs.shape)} '
                                 f'and teacher {tuple(ft.shape)}')
            if (fs.shape[1], ft.shape[1]) != (self.student_channels[i],
                                              self.teacher_channels[i]):
                raise ValueError(
                    f'ReviewKDLoss stage {i}: built for {self.student_channels[i]} student '
                    f'and {self.teacher_channels[i]} teacher channels, got student '
                    f'{tuple(fs.shape)} and teacher {tuple(ft.shape)}; set '
                    f'student_channels / teacher_channels to the tapped stages')
            if fs.shape[0] != ft.shape[0]:
                raise ValueError(f'ReviewKDLoss stage {i}: batch sizes differ, student '
                                 f'{tuple(fs.shape)} and teacher {tuple(ft.shape)}')

    def fuse(self, student: Features, out_sizes: Sequence[Sequence[int]]
             ) -> List[torch.Tensor]:
        """The ABF outputs, shallow to deep, at the given (teacher) sizes."""
        s = _as_maps(student)
        out, residual = self.abfs[-1](s[-1], out_size=out_sizes[-1])
        results = [out]
        for i in range(len(s) - 2, -1, -1):
            out, residual = self.abfs[i](s[i], residual, out_sizes[i])
            results.insert(0, out)
        return results

    def forward(self, student: Features, teacher: Features) -> torch.Tensor:
        """Student and teacher stages, shallow to deep, as equal-length lists."""
        s, t = _as_maps(student), _as_maps(teacher)
        self._check(s, t)
        results = self.fuse(s, [f.shape[-2:] for f in t])
        dtype = torch.promote_types(results[0].dtype, torch.float32)  # fp16 -> fp32
        return self.loss_weight * hcl_loss([r.to(dtype) for r in results],
                                           [f.to(dtype) for f in t])
