"""The CIFAR MobileNetV2 of RepDistiller (``mobile_half``: width 0.5, expansion 6)."""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmkd.registry import MODELS
from .cifar_base import CifarBackbone, init_like_repdistiller


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2,
                  bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU())


class InvertedResidual(nn.Module):
    """1x1 expansion-BN-ReLU, 3x3 depthwise-BN-ReLU, 1x1 linear projection-BN, plus the
    identity where stride is 1 and channels match. The output has no activation.

    Unlike torchvision's, the expansion conv is there even for expansion ratio 1 (as in
    the reference, whose parameter counts include it)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 expand_ratio: int):
        super().__init__()
        hidden = in_channels * expand_ratio
        self.use_res_connect = stride == 1 and in_channels == out_channels
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden),
            nn.ReLU(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden), nn.ReLU(),
            nn.Conv2d(hidden, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


@MODELS.register_module()
class CifarMobileNetV2(CifarBackbone):
    """The CIFAR MobileNetV2 of RepDistiller: a stride-2 stem, seven groups of inverted
    residual blocks and a 1x1 conv to 1280 channels.

    Reference: RepDistiller ``models/mobilenetv2.py`` (``mobile_half`` =
    ``mobilenetv2_T_w(T=6, W=0.5)``; the file credits Jin et al., *Knowledge
    Distillation via Route Constrained Optimization*, ICCV 2019), from Tian et al.,
    *Contrastive Representation Distillation*, ICLR 2020, arXiv:1910.10699.
    Paper: Sandler, Howard, Zhu, Zhmoginov, Chen, *MobileNetV2: Inverted Residuals and
    Linear Bottlenecks*, CVPR 2018, arXiv:1801.04381.

    Settings (t, c, n, s) as in the paper, with every t > 1 replaced by
    ``expand_ratio`` and c scaled by ``widen_factor`` (rounded down): (1, 16, 1, 1),
    (t, 24, 2, 1), (t, 32, 3, 2), (t, 64, 4, 2), (t, 96, 3, 1), (t, 160, 3, 2),
    (t, 320, 1, 1); stem 32 * widen_factor channels at stride 2; the last conv has
    1280 channels (1280 * widen_factor if widen_factor > 1).

    Stages, as mmpretrain's ``MobileNetV2``: index 0-6 the block groups ``blocks.0`` -
    ``blocks.6``, index 7 (the default output) the last conv ``conv2``. At 32x32 input
    with ``mobile_half``: (N, 8, 16, 16), (N, 12, 16, 16), (N, 16, 8, 8),
    (N, 32, 4, 4), (N, 48, 4, 4), (N, 80, 2, 2), (N, 160, 2, 2), (N, 1280, 2, 2).
    The reference's ``AvgPool2d(2, ceil_mode=True)`` is global at 32x32, so
    ``neck=dict(type='GlobalAveragePooling')`` and ``LinearClsHead(in_channels=1280)``
    reproduce its classifier.

    RepDistiller's ``feat`` list (``is_feat=True``) as taps::

        feat[0]  stem (after ReLU)    'student.backbone.conv1'
        feat[1]  group 1              'student.backbone.blocks.1'   (out_indices 1)
        feat[2]  group 2              'student.backbone.blocks.2'   (out_indices 2)
        feat[3]  group 4              'student.backbone.blocks.4'   (out_indices 4)
        feat[4]  group 6              'student.backbone.blocks.6'   (out_indices 6)
        feat[5]  pooled vector        'student.neck[-1]'

    Block outputs are linear (no ReLU), so they are already pre-activation features:
    the reference returns the same tensors with ``preact=True`` and the blocks have no
    ``preact`` module. The last conv's BN output before its ReLU is
    ``'student.backbone.conv2.preact'``. The BNs of ``get_bn_before_relu`` are
    ``blocks.{1,2,4,6}.<last>.conv.7``.

    Args:
        widen_factor (float): Channel multiplier W. Defaults to 0.5 (``mobile_half``).
        expand_ratio (int): Expansion ratio T of all groups but the first. Defaults
            to 6.
        in_channels (int): Input channels (3 in the reference).
        out_indices (int | Sequence[int]): Stages to return (0-7). Defaults to ``-1``.
        init_cfg (dict, optional): mmengine init config; without it the weights get
            RepDistiller's init (He fan-out normal convs, BN 1/0).
    """

    settings = ((1, 16, 1, 1), (None, 24, 2, 1), (None, 32, 3, 2), (None, 64, 4, 2),
                (None, 96, 3, 1), (None, 160, 3, 2), (None, 320, 1, 1))

    def __init__(self,
                 widen_factor: float = 0.5,
                 expand_ratio: int = 6,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = -1,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self._set_out_indices(out_indices, 8)
        channels = int(32 * widen_factor)
        self.conv1 = conv_bn_relu(in_channels, channels, 3, stride=2)
        self.blocks = nn.ModuleList()
        out_channels = []
        for t, c, n, s in self.settings:
            c = int(c * widen_factor)
            group = []
            for i in range(n):
                group.append(InvertedResidual(channels, c, s if i == 0 else 1,
                                              t or expand_ratio))
                channels = c
            self.blocks.append(nn.Sequential(*group))
            out_channels.append(c)
        last = int(1280 * widen_factor) if widen_factor > 1.0 else 1280
        # conv2.0 / conv2.1 keep the reference's parameter names; preact sits before
        # the ReLU.
        self.conv2 = nn.Sequential(OrderedDict([
            ('0', nn.Conv2d(channels, last, 1, bias=False)),
            ('1', nn.BatchNorm2d(last)),
            ('preact', nn.Identity()),
            ('2', nn.ReLU())]))
        self.out_channels = (*out_channels, last)
        if init_cfg is None:
            init_like_repdistiller(self)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.conv1(x)
        outs = []
        for i, layer in enumerate((*self.blocks, self.conv2)):
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
