"""The CIFAR VGGs with BatchNorm of RepDistiller (vgg8, vgg11, vgg13, vgg16, vgg19)."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmkd.registry import MODELS
from .cifar_base import CifarBackbone, init_like_repdistiller


def vgg_stage(in_channels: int, widths: Sequence[int]) -> nn.Sequential:
    """(conv3x3 with bias, BN, ReLU) per width; the last ReLU follows ``preact``.

    The convs and BNs keep the reference's indices (``block1.0``, ``block1.1``, ...);
    ``preact`` and ``relu`` are appended by name.
    """
    layers = []
    for w in widths:
        layers += [nn.Conv2d(in_channels, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU()]
        in_channels = w
    stage = nn.Sequential(*layers[:-1])
    stage.add_module('preact', nn.Identity())
    stage.add_module('relu', nn.ReLU())
    return stage


@MODELS.register_module()
class CifarVGG(CifarBackbone):
    """The CIFAR VGGs of RepDistiller: five stages of 3x3 conv-BN-ReLU, no FC layers.

    Reference: RepDistiller ``models/vgg.py`` (``vgg8_bn`` ... ``vgg19_bn``, which its
    ``model_dict`` calls ``vgg8`` ... ``vgg19``), from Tian et al., *Contrastive
    Representation Distillation*, ICLR 2020, arXiv:1910.10699.
    Paper: Simonyan, Zisserman, *Very Deep Convolutional Networks for Large-Scale Image
    Recognition*, ICLR 2015, arXiv:1409.1556 (configurations A, B, D, E; "S" for vgg8
    is RepDistiller's), with BatchNorm (Ioffe, Szegedy, ICML 2015, arXiv:1502.03167).

    Stage widths: vgg8 ``[[64], [128], [256], [512], [512]]``, vgg11 ``[[64], [128],
    [256]*2, [512]*2, [512]*2]``, vgg13 ``[[64]*2, [128]*2, [256]*2, [512]*2,
    [512]*2]``, vgg16 ``... [256]*3, [512]*3, [512]*3``, vgg19 ``... [256]*4,
    [512]*4, [512]*4``. A 2x2 max-pool follows stages 0, 1 and 2; the one after
    stage 3 is used, as in the reference, only for 64x64 inputs (``pool3``, see
    ``pool_before_last``). At 32x32 input the stages are (N, 64, 32, 32),
    (N, 128, 16, 16), (N, 256, 8, 8), (N, 512, 4, 4), (N, 512, 4, 4) (index 4 is the
    default output).

    Head: the reference's ``AdaptiveAvgPool2d(1)`` + ``Linear(512, num_classes)`` is
    exactly ``neck=dict(type='GlobalAveragePooling')`` + ``LinearClsHead(in_channels=
    512)`` (mmpretrain's VGG, with its 4096-wide FC layers, is a different network).

    RepDistiller's ``feat`` list (``is_feat=True``) as taps::

        feat[0]  stage 0 after ReLU   'student.backbone.block0'
        feat[k]  stage k (k = 1..4)   'student.backbone.block{k}'
        feat[5]  pooled vector        'student.neck[-1]'

    With ``preact=True``, feat[1..4] are the stages' last BN outputs, before ReLU:
    ``'student.backbone.block{1,2,3,4}.preact'`` (``block0.preact`` exists too; the
    reference's feat[0] is always after ReLU). Those BNs (``get_bn_before_relu``) are
    ``block{k}.<3*len(widths)-2>``, e.g. ``block1.4`` for vgg13.

    Args:
        arch (str | list): ``'vgg8'``, ``'vgg11'``, ``'vgg13'``, ``'vgg16'``,
            ``'vgg19'``, or a list of five lists of conv widths. Defaults to
            ``'vgg13'``.
        in_channels (int): Input channels (3 in the reference).
        out_indices (int | Sequence[int]): Stages to return (0-4). Defaults to ``-1``.
        pool_before_last (bool, optional): Max-pool between stages 3 and 4. None (the
            default) follows the reference: only when the input is 64 pixels high.
        init_cfg (dict, optional): mmengine init config; without it the weights get
            RepDistiller's init (He fan-out normal convs with zero bias, BN 1/0).
    """

    arch_settings: Dict[str, list] = {
        'vgg8': [[64], [128], [256], [512], [512]],
        'vgg11': [[64], [128], [256] * 2, [512] * 2, [512] * 2],
        'vgg13': [[64] * 2, [128] * 2, [256] * 2, [512] * 2, [512] * 2],
        'vgg16': [[64] * 2, [128] * 2, [256] * 3, [512] * 3, [512] * 3],
        'vgg19': [[64] * 2, [128] * 2, [256] * 4, [512] * 4, [512] * 4],
    }

    def __init__(self,
                 arch: Union[str, list] = 'vgg13',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = -1,
                 pool_before_last: Optional[bool] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in self.arch_settings:
                raise KeyError(f'CifarVGG: unknown arch {arch!r}; choose one of '
                               f'{sorted(self.arch_settings)} or give five lists of '
                               f'conv widths')
            arch = self.arch_settings[arch]
        if len(arch) != 5 or not all(len(s) for s in arch):
            raise ValueError(f'CifarVGG: arch must be five non-empty lists of conv '
                             f'widths, got {arch}')
        self._set_out_indices(out_indices, 5)
        self.pool_before_last = pool_before_last

        for i, widths in enumerate(arch):
            self.add_module(f'block{i}', vgg_stage(in_channels, widths))
            in_channels = widths[-1]
        for i in range(4):
            self.add_module(f'pool{i}', nn.MaxPool2d(kernel_size=2, stride=2))
        self.out_channels = tuple(s[-1] for s in arch)
        if init_cfg is None:
            init_like_repdistiller(self)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        pool3 = (x.shape[2] == 64 if self.pool_before_last is None
                 else self.pool_before_last)
        outs = []
        for i in range(5):
            if i > 0 and (i < 4 or pool3):
                x = getattr(self, f'pool{i - 1}')(x)
            x = getattr(self, f'block{i}')(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
