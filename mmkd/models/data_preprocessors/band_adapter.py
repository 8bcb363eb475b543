"""Give a model the channels it was built for from the bands a modality has.

An RGB teacher (an ImageNet ViT, DINOv2) expects 3 channels normalised with its own
mean/std; the modality it reads may have 1 band (grey EO chips), 4 (a multispectral
tile) or be SAR (VV, VH). :class:`BandAdapter` maps the ``in_channels`` bands of one
modality to the model's channels, on the normalised batch, per pixel:

- ``bands``: select / replicate (``[0, 0, 0]``: grey to 3 channels; ``[2, 1, 0]``: a
  band order; ``[0, 1, 0]``: VV, VH, VV);
- ``weights``: a fixed ``(out, in)`` matrix (plus ``bias``): ``[[1, 0], [0, 1], [1, -1]]``
  gives VV, VH and VV - VH, which on dB-scaled SAR (``mmkd.SARIntensityScale`` with
  ``mode='db'`` and a per-band standardisation) is an affine function of the VV/VH
  ratio in dB;
- then, optionally, ``mean`` / ``std`` per output channel: ``(y - mean) / std``.

It is model-side: a teacher's ``input_adapter=dict(type='mmkd.BandAdapter', ...)`` on
the :class:`~mmkd.models.distillers.Distiller`, applied to the modality the teacher
reads (``input=``) after the data preprocessor and before the teacher's forward, so the
student can read the same sample's bands as they are (its backbone's ``in_channels`` =
the band count). ``learnable=True`` makes the mapping a 1x1 convolution initialised from
``bands`` / ``weights`` and trained; only a trainable teacher's adapter gets a gradient
(a frozen teacher runs under ``no_grad``), so the distiller refuses it on a frozen one.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import MODELS


@MODELS.register_module()
class BandAdapter(nn.Module):
    """Per-pixel map from a modality's ``in_channels`` bands to a model's channels.

    ``y[c] = (sum_b W[c, b] * x[b] + bias[c] - mean[c]) / std[c]``, with ``W`` the
    one-hot rows of ``bands`` or the ``weights`` matrix.

    Args:
        in_channels (int): Bands of the modality (e.g. 1 for grey EO, 2 for VV + VH).
        bands (list[int], optional): Output channel ``c`` is input band ``bands[c]``;
            repeats replicate. Give this or ``weights``.
        weights (list[list[float]], optional): A fixed ``(out, in)`` mixing matrix.
        bias (list[float], optional): Added per output channel. Defaults to 0.
        mean (list[float], optional): Subtracted per output channel after the mix.
        std (list[float], optional): Divided per output channel after the mix.
        learnable (bool): Train the mapping (a 1x1 conv initialised from ``bands`` /
            ``weights``). Defaults to False (a fixed map with no parameter).
        modality (str, optional): The modality's name in errors; the distiller sets
            it from the teacher's ``input``.
    """

    def __init__(self,
                 in_channels: int,
                 bands: Optional[Sequence[int]] = None,
                 weights: Optional[Sequence[Sequence[float]]] = None,
                 bias: Optional[Sequence[float]] = None,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 learnable: bool = False,
                 modality: Optional[str] = None):
        super().__init__()
        if in_channels < 1:
            raise ValueError(f'BandAdapter in_channels must be >= 1, got {in_channels}')
        self.in_channels = in_channels
        self.modality = modality
        if (bands is None) == (weights is None):
            raise ValueError('BandAdapter: give exactly one of bands=[...] (select / '
                             'replicate) or weights=[[...], ...] (a mixing matrix)')
        if bands is not None:
            bad = [b for b in bands if not 0 <= int(b) < in_channels]
            if not bands or bad:
                raise ValueError(f'BandAdapter: bands {list(bands)} must index the '
                                 f'{in_channels} band(s) of the modality (0..'
                                 f'{in_channels - 1})')
            w = torch.zeros(len(bands), in_channels)
            w[torch.arange(len(bands)), torch.tensor([int(b) for b in bands])] = 1.
        else:
            w = torch.as_tensor(weights, dtype=torch.float32)
            if w.dim() != 2 or w.shape[1] != in_channels or w.shape[0] < 1:
                raise ValueError(f'BandAdapter: weights must be (out, in={in_channels}), '
                                 f'got shape {tuple(w.shape)}')
        out = w.shape[0]
        self.out_channels = out
        self.bands = None if bands is None else [int(b) for b in bands]
        b = torch.zeros(out) if bias is None else self._per_channel(bias, 'bias', out)
        m = torch.zeros(out) if mean is None else self._per_channel(mean, 'mean', out)
        s = torch.ones(out) if std is None else self._per_channel(std, 'std', out)
        if (s <= 0).any():
            raise ValueError(f'BandAdapter: std must be > 0, got {s.tolist()}')
        # fold the normalisation into the map: y = (W x + b - m) / s
        w, b = w / s[:, None], (b - m) / s
        self.learnable = learnable
        if learnable:
            self.weight = nn.Parameter(w)
            self.bias = nn.Parameter(b)
        else:  # not saved: the config defines it
            self.register_buffer('weight', w, persistent=False)
            self.register_buffer('bias', b, persistent=False)

    @staticmethod
    def _per_channel(values, what: str, out: int) -> torch.Tensor:
        t = torch.as_tensor(values, dtype=torch.float32).flatten()
        if t.numel() != out:
            raise ValueError(f'BandAdapter: {what} has {t.numel()} values for {out} '
                             f'output channels')
        return t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            name = f'modality {self.modality!r}' if self.modality else 'the input'
            got = x.shape[1] if x.dim() == 4 else f'shape {tuple(x.shape)}'
            raise ValueError(
                f'BandAdapter: {name} has {got} band(s), but the adapter maps '
                f'in_channels={self.in_channels} to {self.out_channels}; set in_channels '
                f'(and bands / weights) to the bands the pipeline loads for {name}')
        weight = self.weight.to(x.dtype)[:, :, None, None]
        return F.conv2d(x, weight, self.bias.to(x.dtype))

    def extra_repr(self) -> str:
        how = f'bands={self.bands}' if self.bands is not None else 'weights'
        return (f'{self.in_channels} -> {self.out_channels}, {how}, '
                f'learnable={self.learnable}')
