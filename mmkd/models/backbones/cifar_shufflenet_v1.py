"""The CIFAR ShuffleNet V1 of RepDistiller (``ShuffleV1``: groups 3, widths 240-960)."""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.utils import channel_shuffle

from mmkd.registry import MODELS
from .cifar_base import CifarBackbone


class ShuffleV1Unit(nn.Module):
    """Grouped 1x1-BN-ReLU, channel shuffle, 3x3 depthwise-BN, grouped 1x1-BN; added to
    the input (stride 1) or concatenated with its 3x3 average pool (stride 2), then
    ReLU. ``preact`` sees the sum / concatenation before that ReLU.

    As in the reference, the first 1x1 conv is ungrouped when the unit reads the
    24-channel stem, and the bottleneck has ``out_channels // 4`` channels.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, groups: int):
        super().__init__()
        mid = out_channels // 4
        self.groups1 = 1 if in_channels == 24 else groups
        self.stride = stride
        self.conv1 = nn.Conv2d(in_channels, mid, 1, groups=self.groups1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, groups=mid,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, out_channels, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut = (nn.AvgPool2d(3, stride=2, padding=1) if stride == 2
                         else nn.Identity())
        self.preact = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = channel_shuffle(out, self.groups1)
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        res = self.shortcut(x)
        out = torch.cat([out, res], 1) if self.stride == 2 else out + res
        return F.relu(self.preact(out))


@MODELS.register_module()
class CifarShuffleNetV1(CifarBackbone):
    """The CIFAR ShuffleNet V1 of RepDistiller: a 1x1 stem (no stride, no max-pool) and
    three stages of ShuffleNet units.

    Reference: RepDistiller ``models/ShuffleNetv1.py`` (``ShuffleV1``: output widths
    240, 480, 960, units 4, 8, 4, groups 3), from Tian et al., *Contrastive
    Representation Distillation*, ICLR 2020, arXiv:1910.10699.
    Paper: Zhang, Zhou, Lin, Sun, *ShuffleNet: An Extremely Efficient Convolutional
    Neural Network for Mobile Devices*, CVPR 2018, arXiv:1707.01083.

    Differences from the paper that the reference has, and this keeps: the stem is a
    1x1 conv with 24 channels at full resolution (no stride-2 3x3 conv, no max-pool),
    so 32x32 input ends at 4x4; the depthwise conv's BN is followed by a ReLU (the
    paper has none there).

    Stages at 32x32 input: index 0 ``layer1`` (N, 240, 16, 16), 1 ``layer2``
    (N, 480, 8, 8), 2 ``layer3`` (N, 960, 4, 4) (default output). The reference's
    ``avg_pool2d(4)`` is global at 32x32, so ``neck=dict(type='GlobalAveragePooling')``
    and ``LinearClsHead(in_channels=960)`` reproduce its ``linear``.

    RepDistiller's ``feat`` list (``is_feat=True``) as taps, with n units per stage::

        feat[0]  stem after ReLU      'student.backbone.relu'
        feat[1]  stage 1              'student.backbone.layer1'
        feat[2]  stage 2              'student.backbone.layer2'
        feat[3]  stage 3              'student.backbone.layer3'
        feat[4]  pooled vector        'student.neck[-1]'

    With ``preact=True``, feat[1..3] are the last unit's sum before ReLU:
    ``'student.backbone.layer1.3.preact'``, ``'student.backbone.layer2.7.preact'``,
    ``'student.backbone.layer3.3.preact'``. Every unit has its ``preact``.

    Args:
        in_channels (int): Input channels (3 in the reference).
        out_indices (int | Sequence[int]): Stages to return (0-2). Defaults to ``-1``.
        init_cfg (dict, optional): mmengine init config; without it the weights keep
            PyTorch's default init, as in the reference.
    """

    out_widths = (240, 480, 960)
    num_units = (4, 8, 4)
    groups = 3

    def __init__(self,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = -1,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self._set_out_indices(out_indices, 3)
        self.conv1 = nn.Conv2d(in_channels, 24, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.relu = nn.ReLU()
        channels = 24
        for i, (width, n) in enumerate(zip(self.out_widths, self.num_units)):
            # The stride-2 unit's output is concatenated with its pooled input, so its
            # own branch produces only the missing channels.
            units = [ShuffleV1Unit(channels, width - channels, 2, self.groups)]
            units += [ShuffleV1Unit(width, width, 1, self.groups) for _ in range(n - 1)]
            self.add_module(f'layer{i + 1}', nn.Sequential(*units))
            channels = width
        self.out_channels = self.out_widths

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.relu(self.bn1(self.conv1(x)))
        outs = []
        for i in range(3):
            x = getattr(self, f'layer{i + 1}')(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
