"""A U-Net decoder for multi-scale encoders (EfficientNet, ResNet, ...), as an mmseg head.

mmseg has a U-Net *backbone* (encoder and decoder in one, ``mmseg.UNet``) but no U-Net
decoder to put on another encoder; its heads for pyramid encoders (FCN, UPerNet,
DeepLabV3+, ...) fuse at one scale. This is the decoder of
``segmentation_models_pytorch``'s ``Unet`` (which the DisOptNet authors' framework is
built on), written as an mmseg ``BaseDecodeHead``: starting from the deepest feature,
each block upsamples by 2 (nearest), concatenates the encoder feature of that stride
(if any) and applies two 3x3 conv-BN-ReLU; the last block has no skip and brings the
map to the input resolution. ``cls_seg`` (a 1x1 conv) gives the logits, so the mmseg
losses, ``predict`` and ``EncoderDecoder`` work unchanged.

Ronneberger, Fischer, Brox. *U-Net: Convolutional Networks for Biomedical Image
Segmentation*. MICCAI 2015, arXiv:1505.04597.
"""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmkd.registry import MODELS


class UNetDecoderBlock(nn.Module):
    """Upsample x2, concatenate the skip feature, two 3x3 conv-norm-act."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int,
                 conv_cfg=None, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU')):
        super().__init__()
        kw = dict(kernel_size=3, padding=1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                  act_cfg=act_cfg)
        self.conv1 = ConvModule(in_channels + skip_channels, out_channels, **kw)
        self.conv2 = ConvModule(out_channels, out_channels, **kw)

    def forward(self, x: torch.Tensor, skip: torch.Tensor = None) -> torch.Tensor:
        size = skip.shape[-2:] if skip is not None else [2 * s for s in x.shape[-2:]]
        x = F.interpolate(x, size=size, mode='nearest')
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv2(self.conv1(x))


@MODELS.register_module()
class UNetDecodeHead(BaseDecodeHead):
    """U-Net decoder head over encoder features of strides 2, 4, ..., 2^k.

    Args:
        in_channels (Sequence[int]): Channels of the encoder features, shallowest
            first (e.g. EfficientNet-B3 stages 1..5: ``[24, 32, 48, 136, 384]``).
        decoder_channels (Sequence[int]): Output channels of each decoder block,
            deepest first; one block per encoder feature (the last has no skip and
            reaches stride 1). Defaults to smp's ``(256, 128, 64, 32, 16)``.
        in_index (Sequence[int]): Which of the backbone outputs are the features.
            Defaults to all of ``in_channels`` in order.
        dropout_ratio (float): Dropout before ``conv_seg``. Defaults to 0 (smp's Unet
            has none).
        **kwargs: ``BaseDecodeHead`` arguments (``num_classes``, ``loss_decode``,
            ``norm_cfg``, ``align_corners`` ...).

    ``channels`` is ``decoder_channels[-1]``; the feature ``conv_seg`` reads (the
    decoder's output, what DisOptNet matches with an L2 loss) is tapped as
    ``dict(model=..., path='decode_head.conv_seg', io='input')``.
    """

    def __init__(self, in_channels: Sequence[int],
                 decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
                 in_index: Sequence[int] = None, dropout_ratio: float = 0.0, **kwargs):
        in_channels = list(in_channels)
        if len(decoder_channels) != len(in_channels):
            raise ValueError(f'UNetDecodeHead: one decoder block per encoder feature: '
                             f'{len(in_channels)} in_channels {in_channels} but '
                             f'{len(decoder_channels)} decoder_channels '
                             f'{list(decoder_channels)}')
        in_index = list(range(len(in_channels))) if in_index is None else list(in_index)
        super().__init__(in_channels=in_channels, channels=decoder_channels[-1],
                         in_index=in_index, input_transform='multiple_select',
                         dropout_ratio=dropout_ratio, **kwargs)
        skips = in_channels[:-1][::-1] + [0]        # deepest skip first, none at the end
        ins = [in_channels[-1]] + list(decoder_channels[:-1])
        self.blocks = nn.ModuleList([
            UNetDecoderBlock(i, s, o, self.conv_cfg, self.norm_cfg, self.act_cfg)
            for i, s, o in zip(ins, skips, decoder_channels)])

    def decode(self, feats: List[torch.Tensor]) -> torch.Tensor:
        """The decoder's output feature (before ``cls_seg``)."""
        x = feats[-1]
        skips = feats[:-1][::-1] + [None]
        for block, skip in zip(self.blocks, skips):
            x = block(x, skip)
        return x

    def forward(self, inputs):
        return self.cls_seg(self.decode(self._transform_inputs(inputs)))
