"""The wide residual networks of RepDistiller (wrn_16_1, wrn_16_2, wrn_40_1, wrn_40_2)."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import MODELS
from .cifar_base import CifarBackbone, init_like_repdistiller


class WideBasicBlock(nn.Module):
    """Pre-activation block: BN-ReLU-conv3x3-BN-ReLU-(dropout)-conv3x3 plus the
    shortcut (identity, or a 1x1 conv of the activated input where the shape changes).
    ``preact`` sees the first BN's output, before its ReLU."""

    def __init__(self, in_channels: int, channels: int, stride: int,
                 drop_rate: float = 0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.preact = nn.Identity()
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.drop_rate = drop_rate
        self.convShortcut = None  # the reference's name, as all parameter names here
        if in_channels != channels:
            self.convShortcut = nn.Conv2d(in_channels, channels, 1, stride=stride,
                                          bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = self.relu1(self.preact(self.bn1(x)))
        out = self.relu2(self.bn2(self.conv1(act)))
        if self.drop_rate > 0:
            out = F.dropout(out, p=self.drop_rate, training=self.training)
        out = self.conv2(out)
        return out + (x if self.convShortcut is None else self.convShortcut(act))


class WideStage(nn.Module):
    """A stage of ``WideBasicBlock``s under ``.layer`` (the reference's
    ``NetworkBlock``, so that parameter names match)."""

    def __init__(self, blocks: int, in_channels: int, channels: int, stride: int,
                 drop_rate: float):
        super().__init__()
        self.layer = nn.Sequential(*[
            WideBasicBlock(in_channels if i == 0 else channels, channels,
                           stride if i == 0 else 1, drop_rate) for i in range(blocks)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


@MODELS.register_module()
class CifarWRN(CifarBackbone):
    """The wide ResNets of RepDistiller: a 3x3 stem, three stages of pre-activation
    blocks and a final BN-ReLU.

    Reference: RepDistiller ``models/wrn.py`` (``wrn_16_1``, ``wrn_16_2``,
    ``wrn_40_1``, ``wrn_40_2``), from Tian et al., *Contrastive Representation
    Distillation*, ICLR 2020, arXiv:1910.10699.
    Paper: Zagoruyko, Komodakis, *Wide Residual Networks*, BMVC 2016, arXiv:1605.07146
    (WRN-d-k: depth d = 6n + 4, n blocks per stage, widths 16k, 32k, 64k).

    Stages: index 0-2 are the three block stages (``block1``-``block3``), whose outputs
    are residual sums with no activation; index 3 (the default output) is the final
    ``bn1`` + ReLU of ``block3``'s output, what the classifier pools. At 32x32 input,
    e.g. ``wrn_40_2``: (N, 32, 32, 32), (N, 64, 16, 16), (N, 128, 8, 8),
    (N, 128, 8, 8). The reference's ``avg_pool2d(8)`` is global at 32x32, so
    ``neck=dict(type='GlobalAveragePooling')`` and ``LinearClsHead(in_channels=64k)``
    reproduce its ``fc``.

    RepDistiller's ``feat`` list (``is_feat=True``) as taps::

        feat[0]  stem conv output     'student.backbone.conv1'
        feat[1]  stage 1              'student.backbone.block1'   (out_indices 0)
        feat[2]  stage 2              'student.backbone.block2'   (out_indices 1)
        feat[3]  stage 3              'student.backbone.block3'   (out_indices 2)
        feat[4]  pooled vector        'student.neck[-1]'

    With ``preact=True`` the reference applies to feat[1..3] the BN that the next
    layer applies before its ReLU; these are the taps
    ``'student.backbone.block2.layer.0.preact'``,
    ``'student.backbone.block3.layer.0.preact'`` and ``'student.backbone.preact'``
    (the final BN, whose ReLU gives stage 3). Every block has a ``preact`` (its
    ``bn1`` output). Those BNs (``get_bn_before_relu``) are ``block2.layer.0.bn1``,
    ``block3.layer.0.bn1`` and ``bn1``.

    Args:
        arch (str | dict): ``'wrn_16_1'``, ``'wrn_16_2'``, ``'wrn_40_1'``,
            ``'wrn_40_2'``, or ``dict(depth=6n+4, widen_factor=k)``. Defaults to
            ``'wrn_40_2'``.
        in_channels (int): Input channels (3 in the reference).
        out_indices (int | Sequence[int]): Stages to return (0-3). Defaults to ``-1``.
        drop_rate (float): Dropout between a block's convs (the reference's
            ``dropRate``, 0 in all its models). Defaults to 0.
        init_cfg (dict, optional): mmengine init config; without it the weights get
            RepDistiller's init (He fan-out normal convs, BN 1/0).
    """

    arch_settings: Dict[str, dict] = {
        f'wrn_{d}_{k}': dict(depth=d, widen_factor=k) for d in (16, 40) for k in (1, 2)}

    def __init__(self,
                 arch: Union[str, dict] = 'wrn_40_2',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = -1,
                 drop_rate: float = 0.0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in self.arch_settings:
                raise KeyError(f'CifarWRN: unknown arch {arch!r}; choose one of '
                               f'{sorted(self.arch_settings)} or give dict(depth=, '
                               f'widen_factor=)')
            arch = self.arch_settings[arch]
        depth, k = arch['depth'], arch['widen_factor']
        if (depth - 4) % 6 or depth < 10:
            raise ValueError(f'CifarWRN: depth must be 6n+4 (10, 16, 22, 28, 40, ...), '
                             f'got {depth}')
        blocks = (depth - 4) // 6
        self._set_out_indices(out_indices, 4)

        widths = (16 * k, 32 * k, 64 * k)
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.block1 = WideStage(blocks, 16, widths[0], 1, drop_rate)
        self.block2 = WideStage(blocks, widths[0], widths[1], 2, drop_rate)
        self.block3 = WideStage(blocks, widths[1], widths[2], 2, drop_rate)
        self.bn1 = nn.BatchNorm2d(widths[2])
        self.preact = nn.Identity()
        self.relu = nn.ReLU()
        self.out_channels = (*widths, widths[2])
        if init_cfg is None:
            init_like_repdistiller(self)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.conv1(x)
        outs = []
        for i, stage in enumerate((self.block1, self.block2, self.block3)):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        x = self.relu(self.preact(self.bn1(x)))
        if 3 in self.out_indices:
            outs.append(x)
        return tuple(outs)
