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
from mmengine.logging import print_log

from mmkd.registry import TRANSFORMS
from .host_mapping import NoHostEquivalent, per_modality_value
from .raster_io import ImageReadError, MultiPageTiff, read_geotiff

PerMod = Union[None, str, int, Dict[str, object]]


def _per_modality(value, modality, default=None):
    if isinstance(value, dict):
        return value.get(modality, default)
    return default if value is None else value


class InvalidPixelsError(ImageReadError):
    """A sample has NaN/infinite or nodata pixels and the loader was told to refuse
    them (``on_nonfinite='raise'`` or ``nodata='raise'``)."""


class SARUnitError(ValueError):
    """SAR values are not in the unit ``SARIntensityScale``'s ``mode`` expects."""


def _read_one(path: str, color_type: str, grid: Optional[dict],
              resampling: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """One file -> ``(H x W x C array, H x W nodata mask or None)``."""
    if not osp.isfile(path):
        raise ImageReadError(f'image file {path!r} does not exist')
    ext = osp.splitext(path)[1].lower()
    nodata = None
    try:
        if ext in ('.tif', '.tiff'):
            try:
                data, nodata = read_geotiff(path, grid, resampling)
                img = np.transpose(data, (1, 2, 0))
            except MultiPageTiff:
                img = _read_tifffile(path)
            except ImageReadError:
                raise
            except Exception:
                if grid is not None:
                    raise
                img = _read_tifffile(path)  # a TIFF GDAL cannot open
        elif grid is not None:
            raise ImageReadError(f'{path}: only GeoTIFFs can be resampled onto the '
                                 f'sample\'s grid (pairing by footprint)')
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
    return img, nodata


def _read_tifffile(path: str) -> np.ndarray:
    import tifffile
    img = tifffile.imread(path)
    # band-interleaved files read as (bands, H, W)
    if img.ndim == 3 and img.shape[0] < min(img.shape[1:]) and img.shape[0] <= 32:
        img = np.transpose(img, (1, 2, 0))
    return img


def read_raster(path: Union[str, Sequence[str]], color_type: str = 'unchanged',
                grid: Optional[dict] = None, resampling: str = 'bilinear'):
    """Read one file, or a list of band files stacked in the order given.

    Returns ``(img, nodata, band_files)``: the ``H x W x C`` array (dtype kept), an
    ``H x W`` bool mask of the pixels the file(s) declare as nodata (GeoTIFF nodata
    value, internal mask or alpha; on a ``grid``, also where the file does not cover
    it), or None for formats that declare none, and the file each channel came from.
    ``grid`` (``dict(crs=, bounds=, shape=)``) reads GeoTIFFs onto that grid (see
    :func:`mmkd.datasets.transforms.raster_io.read_geotiff`).
    """
    paths = [path] if isinstance(path, str) else list(path)
    if not paths:
        raise ImageReadError('an empty list of band files')
    imgs, masks, files = [], [], []
    for p in paths:
        img, nodata = _read_one(p, color_type if len(paths) == 1 else 'unchanged', grid,
                                resampling)
        if imgs and img.shape[:2] != imgs[0].shape[:2]:
            raise ImageReadError(
                f'band files of one sample differ in size: {paths[0]} is '
                f'{imgs[0].shape[0]}x{imgs[0].shape[1]}, {p} is {img.shape[0]}x'
                f'{img.shape[1]}; bands stacked into one image must share one grid: '
                f'resample them onto one pixel grid first (e.g. gdalwarp -te/-ts with '
                f'the first file\'s bounds and size)')
        imgs.append(img)
        masks.append(nodata)
        files += [p] * img.shape[2]
    if len(imgs) == 1:
        img = imgs[0]
    else:
        dtypes = {i.dtype for i in imgs}
        img = np.concatenate(imgs if len(dtypes) == 1 else
                             [i.astype(np.result_type(*dtypes)) for i in imgs], axis=2)
        if color_type == 'grayscale' and img.shape[2] > 1:
            img = img.mean(axis=2, keepdims=True).astype(img.dtype)
            files = [', '.join(paths)]
    declared = [m for m in masks if m is not None]
    nodata = np.logical_or.reduce(declared) if declared else None
    return np.ascontiguousarray(img), nodata, files


def read_image(path: Union[str, Sequence[str]], color_type: str = 'unchanged') -> np.ndarray:
    """Read PNG/JPEG/BMP (8 or 16 bit), (Geo)TIFF (any dtype, any band count; with
    rasterio) or .npy into an ``H x W x C`` array, keeping the dtype. A list of paths
    is read as band files stacked in the order given."""
    return read_raster(path, color_type)[0]


PIXEL_ACTIONS = ('fill', 'mask', 'skip', 'raise')


def _files(band_files: Sequence[str], channels: np.ndarray) -> str:
    """The files that hold the given channels, in order, without repeats."""
    out = []
    for c in np.flatnonzero(channels):
        if band_files[c] not in out:
            out.append(band_files[c])
    return ', '.join(out)


@TRANSFORMS.register_module()
class LoadMultiModalImages(BaseTransform):
    """Read one image per modality from ``results['img_path']`` (a dict).

    A modality's path may be a list of band files (e.g. Sentinel-1 VV and VH, or
    Sentinel-2 B4, B3, B2 as separate files): they are stacked as channels in the
    order given. When the sample carries ``geo_grid`` (datasets pairing modalities by
    footprint), every GeoTIFF is read onto that grid: the reference modality as a
    window of its own pixels, the others reprojected and resampled with rasterio.

    Bad pixels are checked per sample, naming the file and the fraction affected:

    - **NaN / infinite** values (float rasters): ``on_nonfinite``, default ``'raise'``
      (:class:`InvalidPixelsError`), so they never reach the loss unannounced;
    - **nodata**: what the file declares (GeoTIFF nodata value, internal mask or alpha
      band), plus pixels equal to ``nodata_value`` for files that declare nothing
      (PNG, or a TIFF written without it), plus, on a ``geo_grid``, pixels the file
      does not cover: ``nodata``, default ``'keep'`` (values left as stored, as
      before; ``SARIntensityScale`` in dB mode maps 0 to its floor).

    Actions: ``'fill'`` (set to ``fill_value``), ``'mask'`` (fill, and record the
    pixels in ``results['invalid_masks'][modality]``, an ``H x W`` bool array;
    ``mmkd.LoadSegMask`` then labels them 255, the ignore index, so they are left out
    of the segmentation loss; classification and detection have no per-pixel label,
    there it fills), ``'skip'`` (drop the sample: the dataset draws another one during
    training and the file is logged once; mmengine refuses a dropped sample at test
    time, so use fill or mask there), ``'raise'``; ``nodata`` also takes ``'keep'``.
    Each option may be given per modality as a dict. Whatever the action, the pixels
    without data as read (any of the above) are in ``results['nodata_masks']
    [modality]`` (``H x W`` bool, in the frame as loaded; geometric transforms do not
    move it): the scene inference tools write nodata there.

    Args:
        modalities (Sequence[str], optional): Which to read (default: all listed).
        color_type (str | dict): ``'color'``, ``'grayscale'`` or ``'unchanged'`` (keep
            bands and bit depth; default), per modality as a dict.
        channels (int | dict, optional): Expected channel count per modality; a file
            with another count raises naming the file (e.g. a 3-band SAR file where a
            1-band one is expected).
        bands (Sequence[int] | dict, optional): Band indices to keep (after reading).
        to_float32 (bool): Convert to float32. Defaults to False.
        nodata (str | dict): What to do with nodata pixels: ``'keep'`` (default),
            ``'fill'``, ``'mask'``, ``'skip'`` or ``'raise'``.
        nodata_value (float | dict, optional): A value that marks nodata in files that
            do not declare theirs.
        on_nonfinite (str | dict): What to do with NaN/infinite pixels: ``'raise'``
            (default), ``'fill'``, ``'mask'`` or ``'skip'``.
        fill_value (float | dict): The value ``'fill'`` and ``'mask'`` write. Defaults
            to 0 (nodata for ``SARIntensityScale``'s dB mode).

    Example::

        dict(type='mmkd.LoadMultiModalImages', channels=dict(sar=2, eo=3),
             nodata=dict(sar='mask'), on_nonfinite='mask')
    """

    def __init__(self,
                 modalities: Optional[Sequence[str]] = None,
                 color_type: PerMod = 'unchanged',
                 channels: PerMod = None,
                 bands=None,
                 to_float32: bool = False,
                 nodata: PerMod = 'keep',
                 nodata_value: PerMod = None,
                 on_nonfinite: PerMod = 'raise',
                 fill_value: PerMod = 0.):
        self.modalities = tuple(modalities) if modalities else None
        self.color_type = color_type
        self.channels = channels
        self.bands = bands
        self.to_float32 = to_float32
        for name, value, allowed in (('nodata', nodata, ('keep', ) + PIXEL_ACTIONS),
                                     ('on_nonfinite', on_nonfinite, PIXEL_ACTIONS)):
            for v in (value.values() if isinstance(value, dict) else [value]):
                if v not in allowed:
                    raise ValueError(f'LoadMultiModalImages: {name} must be one of '
                                     f'{allowed} (or a dict modality -> one), got {v!r}')
        self.nodata, self.nodata_value = nodata, nodata_value
        self.on_nonfinite, self.fill_value = on_nonfinite, fill_value
        self.skipped: Dict[str, str] = {}  # file -> reason (this worker's)

    # how it maps to the host pipeline (:mod:`mmkd.datasets.transforms.host_mapping`)
    @staticmethod
    def for_modality(cfg: dict, modality: str) -> list:
        return [dict(cfg, modalities=[modality])]

    @staticmethod
    def host_refusal(cfg: dict, modality: str, raster_files: bool = False) -> Optional[str]:
        """Why mmcv's ``LoadImageFromFile`` cannot stand in for this config reading
        ``modality`` (bands kept, nodata/NaN handling, (Geo)TIFF or ``.npy`` files),
        or None."""
        bands = per_modality_value(cfg.get('bands'), modality)
        if bands is not None:
            return (f'LoadMultiModalImages(bands=...) keeps bands {list(bands)} of '
                    f'{modality!r}; LoadImageFromFile would read every band')
        for key, default in (('nodata', 'keep'), ('on_nonfinite', 'raise')):
            value = per_modality_value(cfg.get(key, default), modality, default)
            if value != default:
                return (f'LoadMultiModalImages({key}={value!r}) for {modality!r}: '
                        f'LoadImageFromFile has no nodata/NaN handling')
        value = per_modality_value(cfg.get('nodata_value'), modality)
        if value is not None:
            return (f'LoadMultiModalImages(nodata_value={value!r}) for {modality!r}: '
                    f'LoadImageFromFile has no nodata handling')
        if raster_files:
            return (f'the {modality!r} files are (Geo)TIFF or .npy, which mmkd reads with '
                    f'rasterio (bands in stored order, the file\'s nodata) and '
                    f'LoadImageFromFile decodes otherwise (OpenCV: BGR band order) or '
                    f'not at all')
        return None

    @classmethod
    def to_host(cls, cfg: dict, modality: str, raster_files: bool = False) -> list:
        why = cls.host_refusal(cfg, modality, raster_files)
        if why is not None:
            raise NoHostEquivalent(why)
        load = dict(type='LoadImageFromFile',
                    color_type=per_modality_value(cfg.get('color_type', 'unchanged'),
                                                  modality, 'unchanged'))
        if cfg.get('to_float32'):
            load['to_float32'] = True
        return [load]

    def _bad_pixels(self, results: dict, m: str, img: np.ndarray, bad: np.ndarray,
                    action: str, what: str, option: str, band_files, hint: str):
        """Apply ``action`` to the ``H x W x C`` bool array ``bad``; returns the image,
        or None when the sample is dropped."""
        pixels = bad.any(axis=2)
        n = int(pixels.sum())
        if n == 0 or action == 'keep':
            return img
        files = _files(band_files, bad.reshape(-1, bad.shape[2]).any(axis=0))
        frac = n / pixels.size
        msg = (f'{files} ({m}): {100 * frac:.3g} % of pixels ({n} of {pixels.size}) '
               f'{what}')
        if action == 'raise':
            raise InvalidPixelsError(
                f'{msg}; set LoadMultiModalImages({option}=...) to {hint}')
        if action == 'skip':
            if files not in self.skipped:
                self.skipped[files] = msg
                print_log(f'LoadMultiModalImages: skipped {msg} ({option}=\'skip\'; '
                          f'{len(self.skipped)} file(s) skipped so far in this worker)',
                          logger='current', level=30)
            return None
        fill = _per_modality(self.fill_value, m, 0.)
        img = img.copy() if not img.flags.writeable else img
        img[bad] = np.asarray(fill).astype(img.dtype)
        if action == 'mask':
            masks = results.setdefault('invalid_masks', {})
            masks[m] = pixels if m not in masks else (masks[m] | pixels)
        return img

    def transform(self, results: dict) -> Optional[dict]:
        paths = results['img_path']
        if not isinstance(paths, dict):
            raise TypeError('LoadMultiModalImages needs img_path as a dict modality -> '
                            'path (use a paired dataset)')
        mods = self.modalities or tuple(paths)
        grids = results.get('geo_grid')
        imgs, shapes = {}, {}
        for m in mods:
            if m not in paths:
                raise KeyError(f'sample {results.get("sample_idx")} has no {m!r} image; '
                               f'it has {sorted(paths)}')
            grid, resampling = None, 'bilinear'
            if grids is not None:  # paired by footprint: read onto the sample's grid
                grid = dict(crs=grids['crs'], bounds=grids['bounds'],
                            shape=grids['shapes'][m])
                resampling = grids['resampling'][m]
            img, nodata, band_files = read_raster(
                paths[m], _per_modality(self.color_type, m, 'unchanged'), grid,
                resampling)
            name = paths[m] if isinstance(paths[m], str) else ', '.join(paths[m])
            bands = self.bands.get(m) if isinstance(self.bands, dict) else self.bands
            if bands is not None:
                if max(bands) >= img.shape[2]:
                    raise ImageReadError(f'{name}: bands {list(bands)} requested but '
                                         f'the file has {img.shape[2]}')
                img = img[..., list(bands)]
                band_files = [band_files[b] for b in bands]
            want = _per_modality(self.channels, m)
            if want is not None and img.shape[2] != want:
                raise ImageReadError(f'{name} ({m}) has {img.shape[2]} channel(s), '
                                     f'expected {want}')
            results.setdefault('nodata_masks', {})[m] = self._flags(m, img, nodata)
            img = self._check_pixels(results, m, img, nodata, band_files)
            if img is None:
                return None
            if self.to_float32:
                img = img.astype(np.float32)
            imgs[m] = img
            shapes[m] = img.shape[:2]
        results['img'] = imgs
        results['img_shape'] = dict(shapes)
        results['ori_shape'] = dict(shapes)
        return results

    def _flags(self, m, img, nodata) -> np.ndarray:
        """Pixels without data as read, whatever the actions: declared or not covered
        (``nodata``), equal to ``nodata_value``, or NaN / infinite in a band."""
        flags = np.zeros(img.shape[:2], bool) if nodata is None else nodata.copy()
        value = _per_modality(self.nodata_value, m)
        if value is not None:
            flags |= (np.isnan(img) if np.isnan(value) else img == value).any(axis=2)
        if img.dtype.kind == 'f':
            flags |= ~np.isfinite(img).all(axis=2)
        return flags

    def _check_pixels(self, results, m, img, nodata, band_files):
        value = _per_modality(self.nodata_value, m)
        action = _per_modality(self.nodata, m, 'keep')
        if action != 'keep' and (nodata is not None or value is not None):
            bad = np.zeros(img.shape, bool)
            if nodata is not None:
                bad |= nodata[..., None]
            if value is not None:
                bad |= (img == value) if not np.isnan(value) else np.isnan(img)
            where = 'the file\'s nodata' + (f' or {value}' if value is not None else '')
            img = self._bad_pixels(results, m, img, bad, action, f'are nodata ({where})',
                                   'nodata', band_files,
                                   "'fill', 'mask', 'skip' or 'keep' them")
            if img is None:
                return None
        if img.dtype.kind == 'f':
            bad = ~np.isfinite(img)
            img = self._bad_pixels(
                results, m, img, bad, _per_modality(self.on_nonfinite, m, 'raise'),
                'are NaN or infinite', 'on_nonfinite', band_files,
                "'fill' them, 'mask' them out of the loss or 'skip' such samples")
        return img


@TRANSFORMS.register_module()
class SARIntensityScale(BaseTransform):
    """Turn SAR values (intensity or amplitude, any dtype) into a fixed input range.

    ``mode='db'``: :math:`x_{dB} = 10\\log_{10}(\\max(x, \\epsilon))` for intensity
    (``20\\log_{10}`` when ``amplitude=True``); ``'log'``: :math:`\\log(1 + x)`;
    ``'linear'``: unchanged. Then clip to ``clip`` (in the scaled unit; or
    ``percentiles=(lo, hi)`` of each image) and map linearly to ``out_range``. The result
    is float32. Nodata (``x <= 0`` in dB mode) becomes the lower clip value.

    The input's unit is checked (``check_units``): in ``'db'`` and ``'log'`` mode the
    input must be linear intensity or amplitude, which is never negative; an image
    mostly negative (more than ``max_negative``, default half of its pixels) is
    refused with :class:`SARUnitError`, naming the file: it is already in dB, and
    ``mode='linear'`` with ``clip`` in dB is what scales it (without the check,
    ``10 log10`` of negative values maps nearly every pixel to the clip floor). NaN or
    infinite values are refused too (:class:`InvalidPixelsError`): handle them when
    loading (``LoadMultiModalImages(on_nonfinite=...)``).

    Example::

        dict(type='mmkd.SARIntensityScale', mode='db', clip=(-25, 5))      # linear
        dict(type='mmkd.SARIntensityScale', mode='linear', clip=(-25, 5))  # dB input

    Args:
        modality (str): Which modality to scale. Defaults to ``'sar'``.
        mode (str): ``'db'``, ``'log'`` or ``'linear'``.
        amplitude (bool): Values are amplitudes (dB = 20 log10). Defaults to False.
        clip (tuple, optional): ``(low, high)`` in the scaled unit, e.g. ``(-25, 5)`` dB.
        percentiles (tuple, optional): Per-image clip at these percentiles instead.
        out_range (tuple): Output range. Defaults to ``(0, 255)``, the range of 8-bit
            images, so the same normalisation statistics serve both.
        check_units (bool): Refuse input that is already in dB (see above). Defaults
            to True.
        max_negative (float): The fraction of negative pixels above which the input
            counts as dB. Defaults to 0.5 (processing such as thermal-noise removal
            leaves a few small negative values in linear data; they are nodata here).
    """

    # how it maps to the host pipeline (:mod:`mmkd.datasets.transforms.host_mapping`)
    @staticmethod
    def for_modality(cfg: dict, modality: str) -> list:
        return [cfg] if cfg.get('modality', 'sar') == modality else []

    def __init__(self, modality: str = 'sar', mode: str = 'db', amplitude: bool = False,
                 clip: Optional[Tuple[float, float]] = None,
                 percentiles: Optional[Tuple[float, float]] = None,
                 out_range: Tuple[float, float] = (0., 255.), eps: float = 1e-10,
                 check_units: bool = True, max_negative: float = 0.5):
        if mode not in ('db', 'log', 'linear'):
            raise ValueError(f"SARIntensityScale mode must be 'db', 'log' or 'linear', "
                             f'got {mode!r}')
        if clip is not None and percentiles is not None:
            raise ValueError('give clip or percentiles, not both')
        self.modality, self.mode, self.amplitude = modality, mode, amplitude
        self.clip, self.percentiles = clip, percentiles
        self.out_range, self.eps = out_range, eps
        self.check_units, self.max_negative = check_units, max_negative

    def check(self, x: np.ndarray, where: str = 'the input') -> None:
        """Raise when ``x`` holds NaN/infinite values or is not in ``mode``'s unit."""
        if x.dtype.kind == 'f':
            finite = np.isfinite(x)
            if not finite.all():
                n = int((~finite).sum())
                raise InvalidPixelsError(
                    f'SARIntensityScale: {where} has {n} NaN or infinite value(s) '
                    f'({100 * n / x.size:.3g} %); fill or mask them when loading: '
                    f"LoadMultiModalImages(on_nonfinite='fill' | 'mask' | 'skip')")
        if not self.check_units or self.mode == 'linear' or x.size == 0 or \
                x.dtype.kind == 'u':
            return
        neg = float((x < 0).mean())
        if neg <= self.max_negative:
            return
        lo, hi = float(x.min()), float(x.max())
        if -100. <= lo and hi <= 60.:
            what = (f'looks already in dB: {100 * neg:.3g} % of its pixels are negative '
                    f'(values {lo:.3g} .. {hi:.3g}), and linear intensity or amplitude '
                    f'never is')
        else:
            what = (f'is {100 * neg:.3g} % negative (values {lo:.3g} .. {hi:.3g}); '
                    f'linear intensity or amplitude never is')
        raise SARUnitError(
            f'SARIntensityScale(mode={self.mode!r}): {where} {what}. For input already '
            f"in dB use mode='linear' with clip in dB, e.g. SARIntensityScale("
            f"mode='linear', clip=(-25, 5)); mode={self.mode!r} expects linear "
            f'intensity (or amplitude=True). check_units=False turns this check off')

    def scale(self, x: np.ndarray, where: str = 'the input') -> np.ndarray:
        self.check(x, where)
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
        path = results.get('img_path', {})
        path = path.get(self.modality) if isinstance(path, dict) else path
        if path is not None and not isinstance(path, str):
            path = ', '.join(path)
        where = f'the {self.modality!r} image' + (f' {path}' if path else '')
        results['img'][self.modality] = self.scale(results['img'][self.modality], where)
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

    # how it maps to the host pipeline (:mod:`mmkd.datasets.transforms.host_mapping`)
    renders_modality = True

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
