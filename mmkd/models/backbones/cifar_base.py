"""What the CIFAR backbones share: ``out_indices`` handling and RepDistiller's init.

The CIFAR networks of RepDistiller (Tian, Krishnan, Isola, *Contrastive Representation
Distillation*, ICLR 2020, arXiv:1910.10699, github.com/HobbitLong/RepDistiller) are the
standard students and teachers of the distillation literature, yet neither mmpretrain
nor any other OpenMMLab package has them: mmpretrain's ``ResNet_CIFAR`` is the ImageNet
ResNet-18/34/50 with a 3x3 stem, not the 6n+2 ResNets, WRNs and half-width
MobileNetV2 those papers compare. Each family lives in its own file here.

Conventions of all of them:

- Every backbone is the reference network up to, not including, its global pooling and
  classifier; ``ImageClassifier(backbone, neck=GlobalAveragePooling,
  head=LinearClsHead)`` then has exactly the reference's parameters and, at 32x32
  input where the reference's pooling is global, is the same network.
- Parameter and buffer names and shapes equal the reference's
  (``layer1.0.conv1.weight``, ...), so a RepDistiller checkpoint's backbone keys load
  once prefixed with ``backbone.``, its classifier (``fc``, ``linear``,
  ``classifier``, ``classifier.0``) renamed to ``head.fc``.
- ``forward`` returns the tuple of stage outputs chosen by ``out_indices`` (default: the
  last stage), like mmpretrain backbones.
- Pre-activation features (RepDistiller's ``preact=True``) pass through an
  ``nn.Identity`` named ``preact`` that a forward-hook tap reads. ReLUs are never
  in-place, so a tap on any module records what that module returned.
"""
from typing import Sequence, Tuple, Union

import torch.nn as nn
from mmpretrain.models.backbones.base_backbone import BaseBackbone


class CifarBackbone(BaseBackbone):
    """Base of the CIFAR backbones: validates ``out_indices`` against the stages."""

    def _set_out_indices(self, out_indices: Union[int, Sequence[int]],
                         num_stages: int) -> None:
        """Store ``out_indices`` as sorted non-negative stage indices (``-1`` = last)."""
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        indices = []
        for i in out_indices:
            if not isinstance(i, int) or not -num_stages <= i < num_stages:
                raise ValueError(
                    f'{type(self).__name__}: out_indices {tuple(out_indices)} must be '
                    f'stage indices in [0, {num_stages - 1}] (or negative from the end); '
                    f'this network has {num_stages} stages')
            indices.append(i % num_stages)
        if not indices:
            raise ValueError(f'{type(self).__name__}: out_indices is empty')
        self.out_indices: Tuple[int, ...] = tuple(sorted(set(indices)))
        self.num_stages = num_stages

    def train(self, mode: bool = True) -> 'CifarBackbone':
        # mmpretrain's BaseBackbone.train returns None, so ``backbone.eval()`` would too.
        super().train(mode)
        return self


def init_like_repdistiller(module: nn.Module) -> None:
    """RepDistiller's init of its ResNet, VGG, WRN and MobileNetV2: convs
    N(0, sqrt(2 / (k*k*out_channels))) (He et al.'s fan-out normal, also for grouped
    convs) with zero bias, BN weight 1 and bias 0. (Its classifiers are the head's
    business: mmpretrain's ``LinearClsHead`` initialises N(0, 0.01), as RepDistiller's
    VGG and MobileNetV2 do.)"""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
