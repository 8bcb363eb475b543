"""Segmentation models mmseg lacks: an EfficientNet encoder with any band count, a
U-Net decoder head for it, and the DisOptNet segmentor with its fusion head."""
from .disoptnet import DisOptNet
from .efficientnet_encoder import EfficientNetEncoder
from .scse_fusion_head import SCSEFusionHead
from .unet_decode_head import UNetDecodeHead

__all__ = ['DisOptNet', 'EfficientNetEncoder', 'SCSEFusionHead', 'UNetDecodeHead']
