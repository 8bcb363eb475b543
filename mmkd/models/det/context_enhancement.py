"""Context-enhancement module (CEM) and pyramid extraction, in front of an FPN/PAFPN."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer
from mmengine.model import BaseModule

from mmkd.registry import MODELS


@MODELS.register_module()
class ContextEnhancement(BaseModule):
    r"""Fuse the deep backbone stages with global context, then build a pyramid.

    The first stage of the study detectors' neck (``zhanghengdev/MutualGuide``,
    ``models/neck/ssd_neck.py``: ``CEM`` then ``fpn_feature_extractor``), written because
    mmdet has no context-enhancement module; the FPN/PAFPN that follows is mmdet's own.
    Use it as the first entry of a neck list::

        neck=[dict(type='mmkd.ContextEnhancement', in_channels=[64, 128, 256, 512],
                   in_indices=(2, 3), out_channels=256, num_outs=5),
              dict(type='FPN', in_channels=[256] * 5, out_channels=256, num_outs=5)]

    CEM (Qin et al., *ThunderNet: Towards Real-time Generic Object Detection on Mobile
    Devices*, ICCV 2019): each selected backbone map goes through a 1x1 conv + norm and
    is resized to the finest selected map's size; a global-average-pooled copy of the
    deepest map, through its own 1x1 conv + norm, adds image-level context; the sum goes
    through the activation:

    .. math::
        P = \phi\Big(\sum_{i} \mathrm{up}(W_i C_i) + W_g\, \mathrm{GAP}(C_{last})\Big)

    Pyramid extraction: a 3x3 conv on :math:`P`, then ``num_outs - 1`` 3x3 stride-2
    convs, each on the previous output. With ``in_indices`` on C4, C5 of a ResNet
    without stem max-pool (strides 8 and 16) the outputs have strides 8, 16, ..., like
    RetinaNet's P3-P7.

    Convolutions are conv + BN + LeakyReLU(0.1) like the authors' ``BasicConv``; the CEM
    1x1 convs have no activation of their own. As in the authors' code the global branch
    normalises a 1x1 map, so BN needs at least 2 images per batch in training.

    Args:
        in_channels (Sequence[int]): Channels of every backbone output.
        out_channels (int): Channels of the fused map and of every output level.
        in_indices (Sequence[int]): Which backbone outputs to fuse (finest first).
            Defaults to the last two.
        num_outs (int): Number of pyramid levels produced. Defaults to 5.
        norm_cfg (dict, optional): Norm layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation. Defaults to LeakyReLU(0.1).
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: int = 256,
                 in_indices: Sequence[int] = (-2, -1),
                 num_outs: int = 5,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: dict = dict(type='LeakyReLU', negative_slope=0.1),
                 init_cfg: Optional[dict] = dict(
                     type='Kaiming', layer='Conv2d', a=0.1, distribution='uniform')):
        super().__init__(init_cfg=init_cfg)
        if num_outs < 1:
            raise ValueError(f'ContextEnhancement num_outs must be >= 1, got {num_outs}')
        self.in_channels = list(in_channels)
        n = len(self.in_channels)
        indices = [i % n for i in in_indices if -n <= i < n]
        if not indices or len(indices) != len(in_indices) or \
                len(set(indices)) != len(indices):
            raise ValueError(f'ContextEnhancement in_indices={tuple(in_indices)} must be '
                             f'distinct indices into the {n} backbone outputs')
        self.in_indices = indices
        self.num_outs = num_outs
        self.lateral = nn.ModuleList(
            ConvModule(self.in_channels[i], out_channels, 1, norm_cfg=norm_cfg,
                       act_cfg=None) for i in indices)
        self.global_conv = ConvModule(self.in_channels[indices[-1]], out_channels, 1,
                                      norm_cfg=norm_cfg, act_cfg=None)
        self.act = build_activation_layer(act_cfg) if act_cfg else nn.Identity()
        self.pyramid = nn.ModuleList(
            ConvModule(out_channels, out_channels, 3, stride=1 if k == 0 else 2,
                       padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg)
            for k in range(num_outs))

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'ContextEnhancement expects {len(self.in_channels)} '
                             f'backbone outputs (in_channels={self.in_channels}), got '
                             f'{len(inputs)}')
        feats = [inputs[i] for i in self.in_indices]
        size = feats[0].shape[-2:]
        fused = 0
        for x, conv in zip(feats, self.lateral):
            x = conv(x)
            if x.shape[-2:] != size:
                x = F.interpolate(x, size=size, mode='nearest')
            fused = fused + x
        context = self.global_conv(F.adaptive_avg_pool2d(feats[-1], 1))
        x = self.act(fused + context)
        outs = []
        for conv in self.pyramid:
            x = conv(x)
            outs.append(x)
        return tuple(outs)
