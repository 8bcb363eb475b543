"""The CIFAR ShuffleNet V2 of RepDistiller (``ShuffleV2``: net size 1, widths 116-464)."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.utils import channel_shuffle

from mmkd.registry import MODELS
from .cifar_base import CifarBackbone


class ShuffleV2DownBlock(nn.Module):
    """Stride-2 unit: left 3x3 depthwise(s2)-BN, 1x1-BN-ReLU; right 1x1-BN-ReLU, 3x3
    depthwise(s2)-BN, 1x1-BN-ReLU; concatenated and channel-shuffled (2 groups)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        mid = out_channels // 2
        self.conv1 = nn.Conv2d(in_channels, in_channels, 3, stride=2, padding=1,
                               groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv4 = nn.Conv2d(mid, mid, 3, stride=2, padding=1, groups=mid, bias=False)
        self.bn4 = nn.BatchNorm2d(mid)
        self.conv5 = nn.Conv2d(mid, mid, 1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        right = F.relu(self.bn3(self.conv3(x)))
        right = F.relu(self.bn5(self.conv5(self.bn4(self.conv4(right)))))
        return channel_shuffle(torch.cat([left, right], 1), 2)


class ShuffleV2BasicBlock(nn.Module):
    """Stride-1 unit: split the channels in halves; the second goes through 1x1-BN-ReLU,
    3x3 depthwise-BN, 1x1-BN-ReLU; concatenate with the first and channel-shuffle.

    ``preact`` sees RepDistiller's pre-activation feature: the concatenation of the
    untouched half and the branch before its last ReLU, *before* the shuffle (so
    ``channel_shuffle(relu(preact), 2)`` is the block's output; the untouched half is
    an earlier ReLU's output, hence non-negative).
    """

    def __init__(self, channels: int):
        super().__init__()
        self.split = channels // 2
        c = channels - self.split
        self.conv1 = nn.Conv2d(c, c, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv3 = nn.Conv2d(c, c, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)
        self.preact = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x[:, :self.split], x[:, self.split:]
        out = F.relu(self.bn1(self.conv1(x2)))
        out = self.bn3(self.conv3(self.bn2(self.conv2(out))))
        self.preact(torch.cat([x1, out], 1))
        return channel_shuffle(torch.cat([x1, F.relu(out)], 1), 2)


@MODELS.register_module()
class CifarShuffleNetV2(CifarBackbone):
    """The CIFAR ShuffleNet V2 of RepDistiller: a 1x1 stem (no stride, no max-pool),
    three stages of a stride-2 unit and stride-1 units, and a 1x1 conv-BN-ReLU.

    Reference: RepDistiller ``models/ShuffleNetv2.py`` (``ShuffleV2`` = net size 1:
    widths 116, 232, 464, 1024, units 3, 7, 3 after each stage's stride-2 unit), from
    Tian et al., *Contrastive Representation Distillation*, ICLR 2020,
    arXiv:1910.10699.
    Paper: Ma, Zhang, Zheng, Sun, *ShuffleNet V2: Practical Guidelines for Efficient
    CNN Architecture Design*, ECCV 2018, arXiv:1807.11164.

    Difference from the paper that the reference has, and this keeps: the stem is a
    1x1 conv with 24 channels at full resolution (no stride-2 3x3 conv, no max-pool),
    so 32x32 input ends at 4x4. Units per stage (4, 8, 4) and widths are the paper's
    1x network.

    Stages, as mmpretrain's ``ShuffleNetV2``: index 0-2 ``layer1``-``layer3``, index 3
    (the default output) the last conv (``conv2``, ``bn2``, ReLU). At 32x32 input:
    (N, 116, 16, 16), (N, 232, 8, 8), (N, 464, 4, 4), (N, 1024, 4, 4). The reference's
    ``avg_pool2d(4)`` is global at 32x32, so ``neck=dict(type='GlobalAveragePooling')``
    and ``LinearClsHead(in_channels=1024)`` reproduce its ``linear``.

    RepDistiller's ``feat`` list (``is_feat=True``) as taps::

        feat[0]  stem after ReLU      'student.backbone.relu'
        feat[1]  stage 1              'student.backbone.layer1'   (out_indices 0)
        feat[2]  stage 2              'student.backbone.layer2'   (out_indices 1)
        feat[3]  stage 3              'student.backbone.layer3'   (out_indices 2)
        feat[4]  pooled vector        'student.neck[-1]'

    With ``preact=True``, feat[1..3] are the last unit's features before ReLU and
    before the channel shuffle: ``'student.backbone.layer1.3.preact'``,
    ``'student.backbone.layer2.7.preact'``, ``'student.backbone.layer3.3.preact'``
    (their channel order differs from feat[1..3]'s, as in the reference). Every
    stride-1 unit has its ``preact``; the last conv's BN output before ReLU is
    ``'student.backbone.preact'``.

    Args:
        widen_factor (float): RepDistiller's ``net_size``: 0.2, 0.3, 0.5, 1 (the
            reference's ``ShuffleV2``), 1.5 or 2. Defaults to 1.0.
        in_channels (int): Input channels (3 in the reference).
        out_indices (int | Sequence[int]): Stages to return (0-3). Defaults to ``-1``.
        init_cfg (dict, optional): mmengine init config; without it the weights keep
            PyTorch's default init, as in the reference.
    """

    arch_settings: Dict[float, dict] = {
        0.2: dict(out_channels=(40, 80, 160, 512), num_blocks=(3, 3, 3)),
        0.3: dict(out_channels=(40, 80, 160, 512), num_blocks=(3, 7, 3)),
        0.5: dict(out_channels=(48, 96, 192, 1024), num_blocks=(3, 7, 3)),
        1.0: dict(out_channels=(116, 232, 464, 1024), num_blocks=(3, 7, 3)),
        1.5: dict(out_channels=(176, 352, 704, 1024), num_blocks=(3, 7, 3)),
        2.0: dict(out_channels=(224, 488, 976, 2048), num_blocks=(3, 7, 3)),
    }

    def __init__(self,
                 widen_factor: float = 1.0,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = -1,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if widen_factor not in self.arch_settings:
            raise KeyError(f'CifarShuffleNetV2: widen_factor must be one of '
                           f'{sorted(self.arch_settings)}, got {widen_factor}')
        setting = self.arch_settings[widen_factor]
        widths, num_blocks = setting['out_channels'], setting['num_blocks']
        self._set_out_indices(out_indices, 4)

        self.conv1 = nn.Conv2d(in_channels, 24, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.relu = nn.ReLU()
        channels = 24
        for i, (width, n) in enumerate(zip(widths[:3], num_blocks)):
            blocks = [ShuffleV2DownBlock(channels, width)]
            blocks += [ShuffleV2BasicBlock(width) for _ in range(n)]
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            channels = width
        self.conv2 = nn.Conv2d(channels, widths[3], 1, bias=False)
        self.bn2 = nn.BatchNorm2d(widths[3])
        self.preact = nn.Identity()
        self.out_channels = tuple(widths)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.relu(self.bn1(self.conv1(x)))
        outs = []
        for i in range(3):
            x = getattr(self, f'layer{i + 1}')(x)
            if i in self.out_indices:
                outs.append(x)
        x = F.relu(self.preact(self.bn2(self.conv2(x))))
        if 3 in self.out_indices:
            outs.append(x)
        return tuple(outs)
