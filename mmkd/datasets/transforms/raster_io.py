"""Reading (Geo)TIFF rasters with rasterio: band order, the file's own nodata and mask,
and reading onto another grid (a partner modality's CRS, extent and pixel size).

rasterio (GDAL) is what remote-sensing users already read their rasters with, and it
gives what a plain TIFF reader does not: the declared nodata value, internal masks,
the CRS and the pixel grid, windows, and reprojection through ``WarpedVRT``, which
reads only the blocks a window needs. tifffile stays the fallback for TIFFs GDAL
reads differently (multi-page stacks) or cannot open.

A *grid* is ``dict(crs=<WKT>, bounds=(left, bottom, right, top), shape=(h, w))`` in
that CRS; ``mmkd``'s datasets put one per modality in a sample when they pair
modalities by footprint (see :mod:`mmkd.datasets.georef`).
"""
import os.path as osp
import warnings
from typing import Optional, Tuple

import numpy as np

RESAMPLING = ('nearest', 'bilinear', 'cubic', 'average', 'mode', 'lanczos')


def _rasterio():
    try:
        import rasterio
    except ImportError as e:  # a dependency (requirements/runtime.txt)
        raise ImportError(f'reading GeoTIFFs needs rasterio ({e}); install it '
                          f'(requirements/runtime.txt)') from None
    return rasterio


def _aligned_window(src, crs, bounds, shape):
    """The integer window of ``src`` that *is* the grid (same CRS, pixel size and pixel
    corners), or None when the grid needs resampling."""
    if src.crs is None or src.crs != crs:
        return None
    t = src.transform
    h, w = shape
    left, bottom, right, top = bounds
    xres, yres = (right - left) / w, (top - bottom) / h
    if t.b != 0 or t.d != 0 or t.e >= 0:
        return None
    if not (np.isclose(xres, t.a, rtol=1e-6) and np.isclose(yres, -t.e, rtol=1e-6)):
        return None
    col, row = (left - t.c) / t.a, (t.f - top) / -t.e
    if abs(col - round(col)) > 1e-3 or abs(row - round(row)) > 1e-3:
        return None
    col, row = int(round(col)), int(round(row))
    if col < 0 or row < 0 or col + w > src.width or row + h > src.height:
        return None
    from rasterio.windows import Window
    return Window(col, row, w, h)


class ImageReadError(ValueError):
    """An image file is missing, corrupt, or not what the config says it is."""


class MultiPageTiff(Exception):
    """The TIFF is a multi-page stack (GDAL would read its first page only)."""


def read_geotiff(path: str, grid: Optional[dict] = None,
                 resampling: str = 'bilinear') -> Tuple[np.ndarray, np.ndarray]:
    """Read every band of ``path`` as ``bands x H x W`` (the dtype on disk) and its
    nodata mask ``H x W`` (True where the file declares no data in any band: its
    nodata value, internal mask or alpha band; and, on a grid, where the file does not
    cover it).

    With ``grid``, the raster is read onto that grid: a plain window when the file
    already has the grid's CRS and pixel size (values untouched), else reprojected and
    resampled with ``resampling`` through a ``WarpedVRT``.
    """
    rasterio = _rasterio()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path) as src:
            if grid is None:
                if src.subdatasets:
                    raise MultiPageTiff(path)
                data = src.read()
                valid = src.read_masks()
                return data, (valid == 0).any(axis=0)
            from rasterio.crs import CRS
            crs = CRS.from_user_input(grid['crs'])
            shape = tuple(int(v) for v in grid['shape'])
            if src.crs is None:
                raise ImageReadError(f'{path} has no georeference (CRS) to resample it onto '
                                 f'its partner\'s grid; georeference it or pair by file '
                                 f'name')
            window = _aligned_window(src, crs, grid['bounds'], shape)
            if window is not None:
                data = src.read(window=window)
                valid = src.read_masks(window=window)
                return data, (valid == 0).any(axis=0)
            from rasterio.enums import Resampling
            from rasterio.transform import from_bounds
            from rasterio.vrt import WarpedVRT
            if resampling not in RESAMPLING:
                raise ImageReadError(f'resampling must be one of {RESAMPLING}, got '
                                 f'{resampling!r}')
            transform = from_bounds(*grid['bounds'], shape[1], shape[0])
            with WarpedVRT(src, crs=crs, transform=transform, width=shape[1],
                           height=shape[0], resampling=Resampling[resampling],
                           add_alpha=True) as vrt:
                out = vrt.read()
            # the last band is GDAL's alpha: 0 where no source pixel (outside the
            # file's footprint, or the file's own nodata) contributed
            data, nodata = out[:-1], out[-1] == 0
            if src.nodata is not None and nodata.any():
                data[:, nodata] = np.asarray(src.nodata).astype(data.dtype)  # as stored
            return data, nodata


def tiff_ext(path: str) -> bool:
    return osp.splitext(path)[1].lower() in ('.tif', '.tiff')
