"""Adapters that map student features to the teacher's shape.

A connector is trained with the student and dropped at export. It is declared on the
distiller under a name, reads one tap (``source``) and its output is a new feature under
the connector's name that losses can read. ``like`` names a tap whose spatial size the
output is resized to, which fixes resolution mismatches (e.g. an R18 stage at stride 16
against an R50 stage at stride 8, or a SAR student at 48 px against an EO teacher at 30 px).
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule

from mmkd.registry import MODELS


@MODELS.register_module()
class ConvConnector(nn.Module):
    """Conv (+ optional norm and activation) then resize to the target's spatial size.

    The FitNets regressor of RepDistiller (``ConvReg``) is a conv + BN + ReLU; that is
    ``kernel_size=3, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU')`` here.

    Args:
        in_channels (int): Student feature channels.
        out_channels (int): Teacher feature channels.
        kernel_size (int): 1 (default) or 3; padding keeps the size.
        norm_cfg (dict, optional): e.g. ``dict(type='BN')``. Defaults to None.
        act_cfg (dict, optional): e.g. ``dict(type='ReLU')``. Defaults to None.
        resize_mode (str): ``F.interpolate`` mode used when the output's spatial size
            differs from the ``like`` tap's. Defaults to ``'bilinear'``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 resize_mode: str = 'bilinear'):
        super().__init__()
        self.in_channels = in_channels
        self.conv = ConvModule(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2,
            norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.resize_mode = resize_mode

    def forward(self, x: torch.Tensor, size: Optional[Sequence[int]] = None) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'ConvConnector expects (N, {self.in_channels}, H, W) '
                             f'features, got {tuple(x.shape)}')
        x = self.conv(x)
        if size is not None and tuple(x.shape[-2:]) != tuple(size):
            align = False if self.resize_mode in ('bilinear', 'bicubic') else None
            x = F.interpolate(x, size=tuple(size), mode=self.resize_mode, align_corners=align)
        return x


@MODELS.register_module()
class LinearConnector(nn.Module):
    """Linear projection (+ optional BN and ReLU) of vector features (``N, C`` or more,
    flattened from dim 1).

    Args:
        in_features (int): Student feature size.
        out_features (int): Teacher feature size.
        norm (bool): Add BatchNorm1d after the projection. Defaults to False.
        act (bool): Add ReLU at the end. Defaults to False.
    """

    def __init__(self, in_features: int, out_features: int, norm: bool = False,
                 act: bool = False):
        super().__init__()
        self.in_features = in_features
        layers = [nn.Linear(in_features, out_features)]
        if norm:
            layers.append(nn.BatchNorm1d(out_features))
        if act:
            layers.append(nn.ReLU(inplace=True))
        self.proj = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, size=None) -> torch.Tensor:
        x = x.flatten(1)
        if x.shape[1] != self.in_features:
            raise ValueError(f'LinearConnector expects {self.in_features} features per '
                             f'sample, got {x.shape[1]} (input shape {tuple(x.shape)})')
        return self.proj(x)
