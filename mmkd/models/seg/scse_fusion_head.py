"""The DisOptNet fusion head: merges the SAR and pseudo-optical decoder outputs.

Kang et al. (DisOptNet, TGRS 2022) fuse the two branches' decoder features with a
feature fusion module built from scSE blocks: each input is recalibrated by an scSE
block, the two are concatenated, reduced by a 1x1 conv-BN-ReLU and recalibrated again;
a segmentation head turns the result into the fused prediction used at test time. This
follows the authors' ``FeatureFusionModuleSCSE_V2`` (``model.py`` of
jiankang1991/TGRS_DisOptNet); the segmentation head is mmseg's ``cls_seg`` (1x1 conv)
since the U-Net decoder already works at full resolution (the authors' DeepLabV3+
decoder ends at stride 4 and upsamples in its head).

scSE: Roy, Navab, Wachinger. *Concurrent Spatial and Channel 'Squeeze & Excitation' in
Fully Convolutional Networks*. MICCAI 2018, arXiv:1803.02579:
:math:`\\mathrm{scSE}(x) = x \\cdot \\sigma(W_2 \\delta(W_1 \\mathrm{GAP}(x))) +
x \\cdot \\sigma(w_s * x)` with channel reduction 16 (smp's ``SCSEModule`` default).
"""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmkd.registry import MODELS


class SCSE(nn.Module):
    """Concurrent spatial and channel squeeze-and-excitation."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.cse = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, hidden, 1),
                                 nn.ReLU(inplace=True), nn.Conv2d(hidden, channels, 1),
                                 nn.Sigmoid())
        self.sse = nn.Sequential(nn.Conv2d(channels, 1, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.cse(x) + x * self.sse(x)


@MODELS.register_module()
class SCSEFusionHead(BaseDecodeHead):
    """Fuse two decoder features (SAR branch, pseudo-optical branch) into logits.

    Args:
        in_channels (Sequence[int]): Channels of the two features.
        channels (int): Channels after fusion.
        reduction (int): scSE channel reduction. Defaults to 16.
        **kwargs: ``BaseDecodeHead`` arguments (``num_classes``, ``loss_decode`` ...).
    """

    def __init__(self, in_channels, channels: int, reduction: int = 16,
                 dropout_ratio: float = 0.0, **kwargs):
        in_channels = list(in_channels)
        if len(in_channels) != 2:
            raise ValueError(f'SCSEFusionHead fuses two features, got in_channels '
                             f'{in_channels}')
        super().__init__(in_channels=in_channels, channels=channels, in_index=[0, 1],
                         input_transform='multiple_select', dropout_ratio=dropout_ratio,
                         **kwargs)
        self.scse_sar = SCSE(in_channels[0], reduction)
        self.scse_pseudo_optical = SCSE(in_channels[1], reduction)
        self.fuse = ConvModule(sum(in_channels), channels, 1, conv_cfg=self.conv_cfg,
                               norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.scse_out = SCSE(channels, reduction)

    def forward(self, inputs):
        sar, pseudo_optical = self._transform_inputs(inputs)
        x = torch.cat([self.scse_sar(sar), self.scse_pseudo_optical(pseudo_optical)], 1)
        return self.cls_seg(self.scse_out(self.fuse(x)))
