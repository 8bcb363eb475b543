"""The 6n+2 CIFAR ResNets of RepDistiller (resnet8-resnet110, resnet8x4, resnet32x4)."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import MODELS
from .cifar_base import CifarBackbone, init_like_repdistiller


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


class CifarBasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN, plus the shortcut (a 1x1 conv + BN where the shape
    changes), then ReLU. ``preact`` sees the sum before that last ReLU."""

    def __init__(self, in_channels: int, channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(channels, channels)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels))
        self.preact = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(self.preact(out + shortcut))


@MODELS.register_module()
class CifarResNet(CifarBackbone):
    """The CIFAR ResNets of RepDistiller: a 3x3 stem and three stages of basic blocks.

    Reference: RepDistiller ``models/resnet.py`` (``resnet8`` ... ``resnet110``,
    ``resnet8x4``, ``resnet32x4``), from Tian et al., *Contrastive Representation
    Distillation*, ICLR 2020, arXiv:1910.10699.
    Paper: He, Zhang, Ren, Sun, *Deep Residual Learning for Image Recognition*, CVPR
    2016, arXiv:1512.03385 (the 6n+2-layer CIFAR networks of its section 4.2, with
    projection shortcuts where the shape changes).

    ``depth = 6n + 2``: n basic blocks per stage. Channels (stem, stage1, stage2,
    stage3) are (16, 16, 32, 64), and (32, 64, 128, 256) for the x4 variants (which
    therefore have a projection shortcut in the first block of stage 1 too).

    Stages at 32x32 input, e.g. ``resnet32x4``: index 0 ``layer1`` (N, 64, 32, 32),
    1 ``layer2`` (N, 128, 16, 16), 2 ``layer3`` (N, 256, 8, 8) (default output).
    The reference's ``AvgPool2d(8)`` is global at 32x32, so
    ``neck=dict(type='GlobalAveragePooling')`` and a ``LinearClsHead`` with
    ``in_channels=64`` (256 for x4) reproduce its ``fc``.

    RepDistiller's ``feat`` list (``is_feat=True``) as taps, with n blocks per stage::

        feat[0]  stem after ReLU      'student.backbone.relu'
        feat[1]  stage 1              'student.backbone.layer1'
        feat[2]  stage 2              'student.backbone.layer2'
        feat[3]  stage 3              'student.backbone.layer3'
        feat[4]  pooled vector        'student.neck[-1]'

    With ``preact=True``, feat[1..3] are the last block's sum before its ReLU:
    ``'student.backbone.layer{1,2,3}.<n-1>.preact'``, e.g.
    ``'student.backbone.layer3.4.preact'`` for resnet32 (n = 5). Every block has its
    ``preact``. The BNs before those ReLUs (RepDistiller's ``get_bn_before_relu``)
    are ``layer{1,2,3}.<n-1>.bn2``.

    Args:
        arch (str | dict): ``'resnet8'``, ``'resnet14'``, ``'resnet20'``,
            ``'resnet32'``, ``'resnet44'``, ``'resnet56'``, ``'resnet110'``,
            ``'resnet8x4'``, ``'resnet32x4'``, or ``dict(depth=6n+2,
            channels=(stem, c1, c2, c3))``. Defaults to ``'resnet32'``.
        in_channels (int): Input channels (3 in the reference; 1 for single-band SAR).
        out_indices (int | Sequence[int]): Stages to return (0-2). Defaults to ``-1``.
        init_cfg (dict, optional): mmengine init config; without it the weights get
            RepDistiller's init (He fan-out normal convs, BN 1/0).
    """

    arch_settings: Dict[str, dict] = {
        **{f'resnet{d}': dict(depth=d, channels=(16, 16, 32, 64))
           for d in (8, 14, 20, 32, 44, 56, 110)},
        'resnet8x4': dict(depth=8, channels=(32, 64, 128, 256)),
        'resnet32x4': dict(depth=32, channels=(32, 64, 128, 256)),
    }

    def __init__(self,
                 arch: Union[str, dict] = 'resnet32',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = -1,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in self.arch_settings:
                raise KeyError(f'CifarResNet: unknown arch {arch!r}; choose one of '
                               f'{sorted(self.arch_settings)} or give dict(depth=, '
                               f'channels=)')
            arch = self.arch_settings[arch]
        depth, channels = arch['depth'], tuple(arch['channels'])
        if (depth - 2) % 6 or depth < 8 or len(channels) != 4:
            raise ValueError(f'CifarResNet: depth must be 6n+2 (8, 14, 20, ...) and '
                             f'channels (stem, c1, c2, c3); got depth={depth}, '
                             f'channels={channels}')
        blocks = (depth - 2) // 6
        self._set_out_indices(out_indices, 3)

        self.conv1 = conv3x3(in_channels, channels[0])
        self.bn1 = nn.BatchNorm2d(channels[0])
        self.relu = nn.ReLU()
        in_ch = channels[0]
        for i, (ch, stride) in enumerate(zip(channels[1:], (1, 2, 2))):
            layer = [CifarBasicBlock(in_ch, ch, stride)]
            layer += [CifarBasicBlock(ch, ch) for _ in range(blocks - 1)]
            self.add_module(f'layer{i + 1}', nn.Sequential(*layer))
            in_ch = ch
        self.out_channels = channels[1:]
        if init_cfg is None:
            init_like_repdistiller(self)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.relu(self.bn1(self.conv1(x)))
        outs = []
        for i in range(3):
            x = getattr(self, f'layer{i + 1}')(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
