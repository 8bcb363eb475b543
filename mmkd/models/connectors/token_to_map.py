"""Transformer tokens as a feature map at a CNN student's stage size.

A ViT teacher's tap gives tokens ``(N, L, C)``: the class token and, in DINOv2-style
models with registers, register tokens first (the *prefix*), then the ``h x w`` patch
grid in row-major order. :class:`TokenToMapConnector` drops the prefix, lays the patch
tokens out as ``(N, C, h, w)``, resizes the map (bilinear) to the spatial size of its
``like`` tap (the student's stage) and, optionally, projects the channels.

Which side it sits on. The repository's connectors adapt the *student* to the teacher;
this one reads a *teacher* tap, which the distiller allows for any connector (``source``
names a tap of any model). Two designs, both supported:

- **parameter-free on the teacher side** (``out_channels=None``, the default and the
  recommended one): the teacher's tokens become a map at the student's size, and the
  student's stage is projected to the teacher's width by a trainable
  :class:`ConvConnector`; every trained weight is on the student side, as with the
  other connectors, and the target the loss reads is fixed by the teacher alone.
- **projection on the teacher side** (``out_channels`` = the student's width): a 1x1
  conv + BN (``proj='conv'``) or a linear layer on the tokens (``proj='linear'``),
  trained with the student (the distiller puts every connector in the optimizer and
  drops it at export). The loss then compares the student with a *moving* target it
  also shapes: a feature MSE can be lowered by shrinking the projection towards what
  the student already outputs, so prefer ``normalize='layer'`` or
  ``reduction='relative'`` in the loss, or the first design.
"""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import MODELS

# Attributes that say how many non-patch tokens lead a ViT's sequence: mmpretrain's
# VisionTransformer (``num_extra_tokens``: 1 with the class token, 0 without) and timm's
# (``num_prefix_tokens``: class + register tokens).
PREFIX_ATTRS = ('num_prefix_tokens', 'num_extra_tokens')


def prefix_tokens_of(model: nn.Module, path: str) -> Optional[int]:
    """The number of prefix tokens the ViT that holds module ``path`` of ``model`` puts
    before its patch tokens: read from the module itself or the nearest module above it
    that has ``num_prefix_tokens`` / ``num_extra_tokens``; None when none has."""
    named = dict(model.named_modules())
    parts = path.split('.') if path else []
    for i in range(len(parts), -1, -1):
        module = named.get('.'.join(parts[:i]))
        for attr in PREFIX_ATTRS:
            value = getattr(module, attr, None)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None


@MODELS.register_module()
class TokenToMapConnector(nn.Module):
    """ViT tokens ``(N, L, C)`` (or a ViT ``featmap`` ``(N, C, h, w)``) to a map
    ``(N, C', H, W)`` at the ``like`` tap's size.

    Steps: drop the ``num_prefix_tokens`` leading tokens (class / register tokens), lay
    the remaining ``h * w`` patch tokens out as ``(N, C, h, w)`` (square unless ``grid``
    is given), optionally project the channels, resize to the ``like`` tap's spatial
    size (``F.interpolate``, ``align_corners=False``). A 4-D input (mmpretrain
    ``out_type='featmap'``) skips the first two steps.

    What to tap on an mmpretrain ``VisionTransformer`` (``teacher.backbone``):
    ``'teacher.backbone.ln1'`` (the last layer's tokens after the final norm, whatever
    ``out_type`` is), ``'teacher.backbone.layers.<i>'`` (layer ``i``'s tokens, before
    any norm), or ``'teacher.backbone[0]'`` with ``out_type='raw'`` (tokens) or
    ``'featmap'`` (a map already).

    Args:
        in_channels (int): The token width (the ViT's ``embed_dims``).
        out_channels (int, optional): Project to this many channels (the student
            stage's width); None (default): no projection, no parameter.
        num_prefix_tokens (int, optional): Leading non-patch tokens to drop. None
            (default): read from the tapped model when the distiller builds it (an
            mmpretrain ViT's ``num_extra_tokens``, a timm ViT's ``num_prefix_tokens``);
            0 when neither is there. Set it for models that have registers but say
            neither (e.g. ``1 + 4`` for DINOv2 with four registers).
        grid (tuple[int, int], optional): The patch grid ``(h, w)``; required for
            non-square inputs. None: ``sqrt(L - prefix)``, which must be an integer.
        proj (str): ``'conv'`` (1x1 conv + BN, the default) or ``'linear'`` (a linear
            layer on each token), used when ``out_channels`` is set.
        resize_mode (str): ``F.interpolate`` mode. Defaults to ``'bilinear'``.
        tap (str, optional): The source tap's name, for error messages; the distiller
            sets it.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: Optional[int] = None,
                 num_prefix_tokens: Optional[int] = None,
                 grid: Optional[Sequence[int]] = None,
                 proj: str = 'conv',
                 resize_mode: str = 'bilinear',
                 tap: Optional[str] = None):
        super().__init__()
        if proj not in ('conv', 'linear'):
            raise ValueError(f"TokenToMapConnector proj must be 'conv' or 'linear', got "
                             f'{proj!r}')
        if num_prefix_tokens is not None and num_prefix_tokens < 0:
            raise ValueError(f'num_prefix_tokens must be >= 0, got {num_prefix_tokens}')
        if grid is not None:
            grid = tuple(int(g) for g in grid)
            if len(grid) != 2 or min(grid) < 1:
                raise ValueError(f'grid must be (h, w) with positive sizes, got {grid}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_prefix_tokens = num_prefix_tokens
        self.grid = grid
        self.proj_type = proj
        self.resize_mode = resize_mode
        self.tap = tap
        if out_channels is None:
            self.proj = None
        elif proj == 'conv':
            self.proj = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels))
        else:
            self.proj = nn.Linear(in_channels, out_channels)

    # ------------------------------------------------------------ distiller binding
    def bind_source(self, tap: str, model: nn.Module, path: str) -> None:
        """Called by the distiller at build with the source tap's name, the model it
        reads and the tapped module's path: names the tap in errors and, when
        ``num_prefix_tokens`` was not given, reads it from the model."""
        self.tap = tap
        if self.num_prefix_tokens is None:
            found = prefix_tokens_of(model, path)
            self.num_prefix_tokens = 0 if found is None else found

    def _where(self) -> str:
        return f'tap {self.tap!r}' if self.tap else 'its source'

    def _grid(self, num_tokens: int, prefix: int) -> Tuple[int, int]:
        patches = num_tokens - prefix
        if self.grid is not None:
            if self.grid[0] * self.grid[1] != patches:
                raise ValueError(
                    f'TokenToMapConnector: {self._where()} has {num_tokens} tokens, '
                    f'{patches} after dropping {prefix} prefix tokens, which does not '
                    f'match grid={self.grid} ({self.grid[0] * self.grid[1]} patches); '
                    f'check grid (input size / patch size) and num_prefix_tokens')
            return self.grid
        side = math.isqrt(max(patches, 0))
        if patches < 1 or side * side != patches:
            raise ValueError(
                f'TokenToMapConnector: {self._where()} has {num_tokens} tokens, '
                f'{patches} after dropping {prefix} prefix tokens, which is not a square '
                f'patch grid; give grid=(h, w) (input size / patch size) or the right '
                f'num_prefix_tokens (class + register tokens)')
        return side, side

    def forward(self, x: torch.Tensor, size: Optional[Sequence[int]] = None) -> torch.Tensor:
        if x.dim() == 3:
            n, num_tokens, c = x.shape
            if c != self.in_channels:
                raise ValueError(
                    f'TokenToMapConnector: {self._where()} gives tokens of width {c} '
                    f'(shape {tuple(x.shape)}), but in_channels={self.in_channels}; set '
                    f"in_channels to the ViT's embed_dims")
            prefix = self.num_prefix_tokens or 0
            h, w = self._grid(num_tokens, prefix)
            x = x[:, prefix:]
            if self.proj_type == 'linear' and self.proj is not None:
                x = self.proj(x)
            x = x.transpose(1, 2).reshape(n, x.shape[-1], h, w)
        elif x.dim() == 4:
            if x.shape[1] != self.in_channels:
                raise ValueError(
                    f'TokenToMapConnector: {self._where()} gives a map with {x.shape[1]} '
                    f'channels (shape {tuple(x.shape)}), but in_channels='
                    f'{self.in_channels}')
            if self.proj_type == 'linear' and self.proj is not None:
                x = self.proj(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        else:
            raise ValueError(
                f'TokenToMapConnector: {self._where()} gives shape {tuple(x.shape)}; it '
                f'expects tokens (N, L, C) or a map (N, C, h, w) (a class token alone, '
                f"out_type='cls_token', has no patch grid: tap the tokens)")
        if self.proj_type == 'conv' and self.proj is not None:
            x = self.proj(x)
        if size is not None and tuple(x.shape[-2:]) != tuple(size):
            align = False if self.resize_mode in ('bilinear', 'bicubic') else None
            x = F.interpolate(x, size=tuple(size), mode=self.resize_mode,
                              align_corners=align)
        return x
