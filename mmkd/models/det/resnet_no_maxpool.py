"""mmdet's ResNet without the max-pool after the stem."""
import torch.nn as nn
from mmdet.models.backbones import ResNet

from mmkd.registry import MODELS


@MODELS.register_module()
class ResNetNoMaxPool(ResNet):
    """mmdet's ``ResNet`` with the stem's 3x3 stride-2 max-pool removed.

    Written because mmdet's ResNet always builds the max-pool (``_make_stem_layer``) and
    no config option drops it. Without it every stage keeps twice the resolution
    (C2..C5 at strides 2, 4, 8, 16 instead of 4, 8, 16, 32), which helps small objects
    (the MutualGuide/PDF-Distil ResNet backbone, ``zhanghengdev/MutualGuide``
    ``models/backbone/resnet_backbone.py``, has no max-pool either). Set the neck and
    the anchor strides to match (``ContextEnhancement`` on C4/C5 gives strides 8..128
    again).

    Parameters and their names are mmdet ResNet's (the max-pool has none), so ImageNet
    ResNet weights load unchanged. Arguments: those of ``mmdet.models.ResNet``.
    """

    def _make_stem_layer(self, in_channels: int, stem_channels: int) -> None:
        super()._make_stem_layer(in_channels, stem_channels)
        self.maxpool = nn.Identity()
