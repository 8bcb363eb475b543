"""mmpretrain's EfficientNet as a segmentation encoder: any number of input bands.

mmpretrain's ``EfficientNet`` hard-codes three input channels (RGB) and always builds
its final 1x1 convolution to 1280·width channels, which a U-Net-style decoder never
reads. SAR tiles have four polarisation bands (SpaceNet 6: HH, HV, VH, VV), so this
subclass only changes the stem's input channels and, by default, drops that final
convolution (its parameters would get no gradient, which DDP rejects). Every other
stage, and so every weight name, is mmpretrain's, so an mmpretrain EfficientNet
checkpoint (or another ``EfficientNetEncoder`` trained on another modality) loads
stage by stage.

Stages (``layers[i]``) and their strides: 0 stem (2), 1 (2), 2 (4), 3 (8), 4 (16),
5 (32); for B3 the channels are 40, 24, 32, 48, 136, 384 and for B4 48, 24, 32, 56,
160, 448. They are the encoder stages of ``segmentation_models_pytorch``'s
``efficientnet-b*`` encoders that the DisOptNet authors used (their 1..5).
"""
from typing import Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmpretrain.models.backbones import EfficientNet

from mmkd.registry import MODELS


@MODELS.register_module()
class EfficientNetEncoder(EfficientNet):
    """EfficientNet (mmpretrain) with ``in_channels`` input bands.

    Args:
        in_channels (int): Input bands. Defaults to 3.
        with_final_conv (bool): Keep mmpretrain's last 1x1 convolution (stage 6).
            Defaults to False.
        out_indices (Sequence[int]): Stages whose outputs are returned. Defaults to
            ``(1, 2, 3, 4, 5)``: strides 2 to 32, what a U-Net decoder reads.
        **kwargs: mmpretrain ``EfficientNet`` arguments (``arch='b3'``,
            ``drop_path_rate``, ``norm_cfg`` ...).
    """

    def __init__(self, in_channels: int = 3, with_final_conv: bool = False,
                 out_indices: Sequence[int] = (1, 2, 3, 4, 5), **kwargs):
        last = 6 if with_final_conv else 5
        bad = [i for i in out_indices if not 0 <= i <= last]
        if bad:
            raise ValueError(f'EfficientNetEncoder: out_indices {bad} out of range '
                             f'0..{last} (with_final_conv={with_final_conv})')
        super().__init__(out_indices=tuple(out_indices), **kwargs)
        if in_channels != 3:
            stem = self.layers[0]
            self.layers[0] = ConvModule(
                in_channels=in_channels,
                out_channels=stem.conv.out_channels,
                kernel_size=stem.conv.kernel_size,
                stride=stem.conv.stride,
                padding=stem.conv.padding,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg)
        if not with_final_conv:
            del self.layers[6]

    @property
    def stage_channels(self):
        """Output channels of every stage, ``[stem, 1, ..., 5(, 6)]``."""
        return [[m for m in layer.modules() if isinstance(m, nn.Conv2d)][-1].out_channels
                for layer in self.layers]
