"""Loading paired images as they are on disk, and turning SAR values into network input.

After :class:`LoadMultiModalImages`, ``results['img']`` is a dict ``modality -> HxWxC
array`` (the dtype on disk: uint8, uint16 or float32), ``results['img_shape']`` and
``results['ori_shape']`` dicts of ``(h, w)``. Single-image transforms of the host libraries
run on one modality through :class:`PerModality`; geometric ones through the ``Paired*``
transforms, which move every modality (and masks/boxes) together.
"""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmkd.registry import TRANSFORMS

PerMod = Union[None, str, int, Dict[str, object]]


def _per_modality(value, modality, default=None):
    if isinstance(value, dict):
        return value.get(modality, default)
    return default if value is None else value


class ImageReadError(ValueError):
    """An image file is missing, corrupt, or not what the config says it is."""


def read_image(path: str, color_type: str = 'unchanged') -> np.ndarray:
    """Read PNG/JPEG/BMP (8 or 16 bit), (Geo)TIFF (any dtype, any band count) or .npy
    into an ``H x W x C`` array, keeping the dtype."""
    if not osp.isfile(path):
        raise ImageReadError(f'image file {path!r} does not exist')
    ext = osp.splitext(path)[1].lower()
    try:
        if ext in ('.tif', '.tiff'):
            import tifffile
            img = tifffile.imread(path)
            # GeoTIFF band-interleaved files read as (bands, H, W)
            if img.ndim == 3 and img.shape[0] < min(img.shape[1:]) and img.shape[0] <= 32:
                img = np.transpose(img, (1, 2, 0))
        elif ext == '.npy':
            img = np.load(path)
        else:
            flag = 'unchanged' if color_type == 'unchanged' else color_type
            img = mmcv.imread(path, flag=flag, backend='cv2')
    except ImageReadError:
        raise
    except Exception as e:  # corrupt or truncated files
        raise ImageReadError(f'cannot read image {path!r}: {type(e).__name__}: {e}') from None
    if img is None:
        raise ImageReadError(f'cannot decode image {path!r} (corrupt or not an image)')
    if img.ndim == 2:
        img = img[..., None]
    if color_type == 'grayscale' and img.shape[2] == 3 and ext in ('.tif', '.tiff', '.npy'):
        img = img.mean(axis=2, keepdims=True).astype(img.dtype)
    return np.ascontiguousarray(img)


@TRANSFORMS.register_module()
class LoadMultiModalImages(BaseTransform):
    """Read one image per modality from ``results['img_path']`` (a dict).

    Args:
        modalities (Sequence[str], optional): Which to read (default: all listed).
        color_type (str | dict): ``'color'``, ``'grayscale'`` or ``'unchanged'`` (keep
            bands and bit depth; default), per modality as a dict.
        channels (int | dict, optional): Expected channel count per modality; a file
            with another count raises naming the file (e.g. a 3-band SAR file where a
            1-band one is expected).
        bands (Sequence[int] | dict, optional): Band indices to keep (after reading).
        to_float32 (bool): Convert to float32. Defaults to False.
    """

    def __init__(self,
                 modalities: Optional[Sequence[str]] = None,
                 color_type: PerMod = 'unchanged',
                 channels: PerMod = None,
                 bands=None,
                 to_float32: bool = False):
        self.modalities = tuple(modalities) if modalities else None
        self.color_type = color_type
        self.channels = channels
        self.bands = bands
        self.to_float32 = to_float32

    def transform(self, results: dict) -> dict:
        paths = results['img_path']
        if not isinstance(paths, dict):
            raise TypeError('LoadMultiModalImages needs img_path as a dict modality -> '
                            'path (use a paired dataset)')
        mods = self.modalities or tuple(paths)
        imgs, shapes = {}, {}
        for m in mods:
            if m not in paths:
                raise KeyError(f'sample {results.get("sample_idx")} has no {m!r} image; '
                               f'it has {sorted(paths)}')
            img = read_image(paths[m], _per_modality(self.color_type, m, 'unchanged'))
            bands = self.bands.get(m) if isinstance(self.bands, dict) else self.bands
            if bands is not None:
                if max(bands) >= img.shape[2]:
                    raise ImageReadError(f'{paths[m]}: bands {list(bands)} requested but '
                                         f'the file has {img.shape[2]}')
                img = img[..., list(bands)]
            want = _per_modality(self.channels, m)
            if want is not None and img.shape[2] != want:
                raise ImageReadError(f'{paths[m]} ({m}) has {img.shape[2]} channel(s), '
                                     f'expected {want}')
            if self.to_float32:
                img = img.astype(np.float32)
            imgs[m] = img
            shapes[m] = img.shape[:2]
        results['img'] = imgs
        results['img_shape'] = dict(shapes)
        results['ori_shape'] = dict(shapes)
        return results


@TRANSFORMS.register_module()
class SARIntensityScale(BaseTransform):
    """Turn SAR values (intensity or amplitude, any dtype) into a fixed input range.

    ``mode='db'``: :math:`x_{dB} = 10\\log_{10}(\\max(x, \\epsilon))` for intensity
    (``20\\log_{10}`` when ``amplitude=True``); ``'log'``: :math:`\\log(1 + x)`;
    ``'linear'``: unchanged. Then clip to ``clip`` (in the scaled unit; or
    ``percentiles=(lo, hi)`` of each image) and map linearly to ``out_range``. The result
    is float32. Nodata (``x <= 0`` in dB mode) becomes the lower clip value.

    Args:
        modality (str): Which modality to scale. Defaults to ``'sar'``.
        mode (str): ``'db'``, ``'log'`` or ``'linear'``.
        amplitude (bool): Values are amplitudes (dB = 20 log10). Defaults to False.
        clip (tuple, optional): ``(low, high)`` in the scaled unit, e.g. ``(-25, 5)`` dB.
        percentiles (tuple, optional): Per-image clip at these percentiles instead.
        out_range (tuple): Output range. Defaults to ``(0, 255)``, the range of 8-bit
            images, so the same normalisation statistics serve both.
    """

    def __init__(self, modality: str = 'sar', mode: str = 'db', amplitude: bool = False,
                 clip: Optional[Tuple[float, float]] = None,
                 percentiles: Optional[Tuple[float, float]] = None,
                 out_range: Tuple[float, float] = (0., 255.), eps: float = 1e-10):
        if mode not in ('db', 'log', 'linear'):
            raise ValueError(f"SARIntensityScale mode must be 'db', 'log' or 'linear', "
                             f'got {mode!r}')
        if clip is not None and percentiles is not None:
            raise ValueError('give clip or percentiles, not both')
        self.modality, self.mode, self.amplitude = modality, mode, amplitude
        self.clip, self.percentiles = clip, percentiles
        self.out_range, self.eps = out_range, eps

    def scale(self, x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        if self.mode == 'db':
            y = (20. if self.amplitude else 10.) * np.log10(np.maximum(x, self.eps))
        elif self.mode == 'log':
            y = np.log1p(np.maximum(x, 0))
        else:
            y = x
        if self.percentiles is not None:
            lo, hi = np.percentile(y, self.percentiles)
        elif self.clip is not None:
            lo, hi = self.clip
        else:
            lo, hi = float(y.min()), float(y.max())
        if self.mode == 'db':
            y = np.where(x > 0, y, lo)
        y = np.clip(y, lo, hi)
        a, b = self.out_range
        y = (y - lo) / max(hi - lo, 1e-12) * (b - a) + a
        return y.astype(np.float32)

    def transform(self, results: dict) -> dict:
        if self.modality not in results['img']:
            raise KeyError(f'SARIntensityScale: no {self.modality!r} image in the sample '
                           f'(has {sorted(results["img"])})')
        results['img'][self.modality] = self.scale(results['img'][self.modality])
        return results


@TRANSFORMS.register_module()
class SimulateSAR(BaseTransform):
    """Render a simulated SAR modality from an optical one (for labelled benchmarks).

    Not a physical SAR simulator: it reproduces the two properties that make SAR
    harder to read than optical images. The optical image is turned into grey
    amplitude :math:`a \\in [0, 1]` and intensity :math:`I = a^2`; resolution is lost by
    averaging ``downsample`` x ``downsample`` blocks (a multilook-like box filter);
    then multiplicative speckle :math:`I_s = I \\cdot n`, :math:`n \\sim
    \\mathrm{Gamma}(L, 1/L)` (mean 1, variance 1/L, fully developed speckle with L
    looks); the output is the amplitude :math:`\\sqrt{I_s}` scaled to 0..255, float32,
    one channel, at ``1/downsample`` of the optical size (resize it with
    :class:`PairedResize`).

    Args:
        source (str): Optical modality key. Defaults to ``'eo'``.
        target (str): New modality key. Defaults to ``'sar'``.
        looks (float): Number of looks L (1 = strongest speckle). Defaults to 1.
        downsample (int): Resolution loss factor. Defaults to 2.
        deterministic (bool): Seed the speckle from ``sample_idx`` (and ``seed``), so a
            test set is the same at every evaluation. Defaults to False (fresh
            speckle each epoch, an augmentation).
        seed (int): Base seed for ``deterministic``. Defaults to 0.
    """

    def __init__(self, source: str = 'eo', target: str = 'sar', looks: float = 1.0,
                 downsample: int = 2, deterministic: bool = False, seed: int = 0):
        if looks <= 0 or downsample < 1:
            raise ValueError('looks must be > 0 and downsample >= 1')
        self.source, self.target = source, target
        self.looks, self.downsample = looks, int(downsample)
        self.deterministic, self.seed = deterministic, seed

    def transform(self, results: dict) -> dict:
        img = results['img'][self.source].astype(np.float32)
        scale = 255. if results['img'][self.source].dtype == np.uint8 else max(
            float(img.max()), 1e-6)
        amp = img.mean(axis=2) / scale
        intensity = amp**2
        r = self.downsample
        if r > 1:
            h, w = (intensity.shape[0] // r) * r, (intensity.shape[1] // r) * r
            intensity = intensity[:h, :w].reshape(h // r, r, w // r, r).mean(axis=(1, 3))
        if self.deterministic:
            rng = np.random.default_rng([self.seed, int(results.get('sample_idx', 0))])
        else:
            rng = np.random.default_rng(np.random.randint(0, 2**31))
        speckle = rng.gamma(self.looks, 1.0 / self.looks, size=intensity.shape)
        out = np.sqrt(intensity * speckle).clip(0, 1) * 255.
        results['img'][self.target] = out.astype(np.float32)[..., None]
        results['img_shape'][self.target] = out.shape[:2]
        results['ori_shape'][self.target] = out.shape[:2]
        return results
