"""Segmentation labels of paired samples: read a mask file or rasterise footprints, in
the reference modality's pixel frame; and align SAR look directions.

After :class:`LoadSegMask`, ``results['gt_seg_map']`` is an ``H x W`` uint8 array of
class indices in the frame of ``results['ref_modality']``, which the ``Paired*``
geometric transforms move with every modality and ``PackMultiModalInputs(task='seg')``
packs as ``gt_sem_seg``.
"""
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmkd.registry import TRANSFORMS
from .loading import ImageReadError, read_image


class PairedSizeError(ValueError):
    """Modalities (or the mask) of one sample do not cover the same pixel grid."""


def rasterize_footprints(wkts: Sequence[str], shape, value: int = 1) -> np.ndarray:
    """Burn pixel-coordinate WKT polygons (x = column, y = row, as SpaceNet's
    ``PolygonWKT_Pix``) into an ``H x W`` uint8 mask with GDAL's rasteriser (a pixel is
    inside when its centre is)."""
    try:
        from rasterio.features import rasterize
        from shapely import wkt as shapely_wkt
    except ImportError as e:
        raise ImportError(f'rasterising footprints needs rasterio and shapely ({e}); '
                          f'install them (requirements/runtime.txt) or convert the '
                          f'dataset to mask files with tools/dataset_converters/'
                          f'spacenet6.py') from None
    geoms = []
    for w in wkts:
        g = shapely_wkt.loads(w)
        if not g.is_empty:
            geoms.append((g, value))
    h, w = int(shape[0]), int(shape[1])
    if not geoms:
        return np.zeros((h, w), np.uint8)
    return rasterize(geoms, out_shape=(h, w), fill=0, dtype='uint8')


def read_mask_window(path: str, grid: dict, ref_path) -> np.ndarray:
    """The window ``grid['ref_window']`` of the one-band label GeoTIFF ``path``, read
    alone (a windowed read: a scene's label raster is never read whole for one
    sample).

    The raster must be on its reference file's grid: the same size and, when it is
    georeferenced, the same CRS, pixel size and origin; else :class:`PairedSizeError`
    names both files (labels are not resampled).
    """
    import warnings

    import rasterio
    from rasterio.crs import CRS
    from rasterio.windows import Window
    if isinstance(ref_path, (list, tuple)):
        ref_path = ref_path[0]
    h0, w0 = grid['ref_shape']
    r, c, h, w = grid['ref_window']
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', rasterio.errors.NotGeoreferencedWarning)
        try:
            src = rasterio.open(path)
        except rasterio.errors.RasterioIOError as e:
            raise ImageReadError(f'cannot read mask {path!r}: {e}') from None
        with src:
            if (src.height, src.width) != (h0, w0):
                raise PairedSizeError(f'mask {path} is {src.height}x{src.width} but its '
                                      f'reference file {ref_path} is {h0}x{w0}')
            if src.count != 1:
                raise ImageReadError(f'mask {path} has {src.count} channels; a mask '
                                     f'holds one class index per pixel')
            if src.crs is not None:
                left, bottom, right, top = grid['bounds']
                xres, yres = (right - left) / w, (top - bottom) / h
                t = src.transform
                same = (src.crs == CRS.from_user_input(grid['crs'])
                        and np.isclose(t.a, xres, rtol=1e-6)
                        and np.isclose(-t.e, yres, rtol=1e-6)
                        and abs(t.c - (left - c * xres)) <= 1e-3 * xres
                        and abs(t.f - (top + r * yres)) <= 1e-3 * yres)
                if not same:
                    raise PairedSizeError(
                        f'mask {path} is georeferenced on another grid than its '
                        f'reference file {ref_path} (mask: {src.crs}, pixel '
                        f'{t.a:g} x {-t.e:g}, origin {t.c:g}, {t.f:g}); labels are not '
                        f'resampled: write the mask on the reference file\'s grid '
                        f'(gdalwarp -tr/-te/-t_srs of the reference, -r near)')
            return src.read(1, window=Window(c, r, w, h))


@TRANSFORMS.register_module()
class LoadSegMask(BaseTransform):
    """Load the mask of a paired sample and check that the sample's grids agree.

    The mask comes from ``results['seg_map_path']`` (PNG/TIFF of class indices) or,
    when there is none, from ``results['footprints']`` (pixel WKT polygons, rasterised
    at the reference modality's size). Run it after ``LoadMultiModalImages`` and before
    any geometric transform.

    When the sample was paired by footprint (``geo_grid``), the mask is in the
    reference *file*'s pixel frame: it is cut to the sample's window (the footprints'
    intersection) and, when the reference was resampled to another pixel size,
    resized to it (nearest). A GeoTIFF mask is read as that window alone (scenes:
    :class:`mmkd.datasets.PairedSceneWindowDataset`) and must be on its reference
    file's grid (:func:`read_mask_window`). Pixels that ``LoadMultiModalImages``
    flagged as invalid (``nodata='mask'`` / ``on_nonfinite='mask'``,
    ``results['invalid_masks']``) in any modality become 255, the ignore index, so they
    stay out of the loss.

    Args:
        check_pair_sizes (bool): Every modality must have the reference modality's
            height and width (co-registered tiles on one grid, as SpaceNet 6 and the
            converter's output). Set False when modalities differ in resolution on
            purpose (then resize them with ``PairedResize``). Defaults to True.
        label_map (dict, optional): Old -> new class index (e.g. ``{255: 1}`` for 0/255
            masks).
        ignore_value (int, optional): Mask value passed through as mmseg's ignore index
            255 (e.g. nodata). Defaults to None.
    """

    def __init__(self, check_pair_sizes: bool = True,
                 label_map: Optional[Dict[int, int]] = None,
                 ignore_value: Optional[int] = None):
        self.check_pair_sizes = check_pair_sizes
        self.label_map = dict(label_map or {})
        self.ignore_value = ignore_value

    @staticmethod
    def _to_grid(mask, grid, shape, path, ref_path):
        """The mask of the whole reference file (or, when ``mask`` is None, the
        window of the GeoTIFF ``path``, read alone), cut to the sample's window and
        resized to the reference modality's size."""
        h0, w0 = grid['ref_shape']
        if mask is None:
            mask = read_mask_window(path, grid, ref_path)
        else:
            if mask.shape != (h0, w0):
                raise PairedSizeError(f'mask {path} is {mask.shape[0]}x{mask.shape[1]} '
                                      f'but its reference file {ref_path} is {h0}x{w0}')
            r, c, h, w = grid['ref_window']
            mask = mask[r:r + h, c:c + w]
        if mask.shape != tuple(shape):
            mask = cv2.resize(mask, (int(shape[1]), int(shape[0])),
                              interpolation=cv2.INTER_NEAREST)
        return mask

    def transform(self, results: dict) -> dict:
        ref = results.get('ref_modality') or next(iter(results['img']))
        results['ref_modality'] = ref
        shapes = results['img_shape']
        paths = results.get('img_path', {})
        if self.check_pair_sizes:
            for m, hw in shapes.items():
                if tuple(hw) != tuple(shapes[ref]):
                    raise PairedSizeError(
                        f'tile sizes differ: {m} {paths.get(m)} is {hw[0]}x{hw[1]} but '
                        f'{ref} {paths.get(ref)} is {shapes[ref][0]}x{shapes[ref][1]}; '
                        f'co-register them (tools/dataset_converters/spacenet6.py '
                        f'resamples onto the SAR grid) or set check_pair_sizes=False '
                        f'and resize with PairedResize')
        grid = results.get('geo_grid')
        if results.get('seg_map_path'):
            path = results['seg_map_path']
            if grid is not None and path.lower().endswith(('.tif', '.tiff')):
                # a label raster of a scene: read the sample's window only
                mask = None
            else:
                mask = read_image(path, 'unchanged')
                if mask.shape[2] != 1:
                    raise ImageReadError(f'mask {path} has {mask.shape[2]} channels; a '
                                         f'mask holds one class index per pixel')
                mask = mask[..., 0]
            if grid is not None:
                mask = self._to_grid(mask, grid, shapes[ref], path, paths.get(ref))
            if mask.shape != tuple(shapes[ref]):
                raise PairedSizeError(
                    f'mask {path} is {mask.shape[0]}x{mask.shape[1]} but its {ref} image '
                    f'{paths.get(ref)} is {shapes[ref][0]}x{shapes[ref][1]}')
        elif 'footprints' in results:
            if grid is not None:
                mask = self._to_grid(
                    rasterize_footprints(results['footprints'], grid['ref_shape']),
                    grid, shapes[ref], 'footprints', paths.get(ref))
            else:
                mask = rasterize_footprints(results['footprints'], shapes[ref])
        else:
            return results  # unlabelled sample
        mask = mask.astype(np.uint8)
        if self.label_map:
            out = mask.copy()
            for old, new in self.label_map.items():
                out[mask == old] = new
            mask = out
        if self.ignore_value is not None:
            mask = np.where(mask == self.ignore_value, 255, mask).astype(np.uint8)
        for m, invalid in (results.get('invalid_masks') or {}).items():
            if invalid.shape != mask.shape:
                invalid = cv2.resize(invalid.astype(np.uint8), mask.shape[::-1],
                                     interpolation=cv2.INTER_NEAREST).astype(bool)
            mask = np.where(invalid, 255, mask).astype(np.uint8)
        results['gt_seg_map'] = mask
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results


@TRANSFORMS.register_module()
class AlignSAROrientation(BaseTransform):
    """Rotate a sample by 180 degrees when its SAR strip looks from the other side, so
    that layover and shadows fall the same way in every tile (as the SpaceNet 6
    baseline does with ``--rotate``).

    Reads ``results['sar_orientation']`` (SpaceNet 6 ``SAR_orientations.txt``: 0 =
    imaged from the north, 1 = from the south); every modality and the mask are rotated
    when it equals ``rotate_when``. The flag is kept in ``results['sar_rotated']``
    (and the sample's metainfo when packed with that meta key) so predictions can be
    rotated back. Samples without the flag are left as they are. Place it after
    :class:`LoadSegMask`, so the mask turns with the images.

    Args:
        rotate_when (int): The flag value that triggers the rotation. Defaults to 1.
    """

    def __init__(self, rotate_when: int = 1):
        self.rotate_when = rotate_when

    def transform(self, results: dict) -> dict:
        rotate = results.get('sar_orientation') == self.rotate_when
        results['sar_rotated'] = bool(rotate)
        if not rotate:
            return results
        for m, img in list(results['img'].items()):
            results['img'][m] = np.ascontiguousarray(img[::-1, ::-1])
        if results.get('gt_seg_map') is not None:
            results['gt_seg_map'] = np.ascontiguousarray(results['gt_seg_map'][::-1, ::-1])
        return results
