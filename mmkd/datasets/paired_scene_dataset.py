"""Aligned windows cut from paired scenes: no pre-tiling.

:class:`PairedSceneWindowDataset` finds the scenes as :class:`PairedSegDataset` finds
tiles (a folder per modality, band files, a label raster per reference scene matched
by id), pairs them by georeference (:mod:`mmkd.datasets.georef`), and turns each scene
into windows of ``window`` pixels of the reference modality (the labels' frame):

- ``mode='grid'`` (evaluation): windows at ``stride`` from the top-left corner, the last
  row and column flush with the scene's edge, so every pixel is in a window;
- ``mode='random'`` (training): ``num_windows`` entries per scene, each drawing a new
  window anywhere in the scene every time it is read (every epoch), from a generator
  keyed by ``seed``, the entry and how often it was read (so a run is reproducible).

Alignment: every window is a sample grid (``geo_grid``) the existing loaders read, so
each window goes through the same pipelines as a paired tile. The reference modality
(``ref_modality``, the SAR by default) is read as a window of its own pixels
(``rasterio`` windowed read, no resampling); every other modality is reprojected and
resampled onto that window (a ``WarpedVRT``, which reads only the blocks it needs), at
the reference's pixel size or at its own (``pairing=dict(resolution=...)``). So scenes
in other CRSs or at other pixel sizes need no preparation, and a whole scene is never
read for one sample. The label raster must be on the reference file's grid (same size;
if georeferenced, the same CRS and transform): ``mmkd.LoadSegMask`` reads the window of
it, and a label raster on another grid is refused naming both files (resampling labels
silently would move class boundaries). Scenes are paired by footprint (default) or by
file name (``pairing='name'``: same id; the footprints must still overlap), and cut to
the intersection of the footprints.

Nodata: with ``max_nodata`` set, the fraction of nodata pixels of each window (what the
files declare as nodata, NaN, or not covered by a modality) is estimated when the
dataset is built from a coarse read of every scene (at most ``nodata_check_size`` px a
side; exact for smaller scenes). Grid windows above it are dropped and random windows
are drawn only where it holds; both are counted in ``skipped`` and logged (with the
keys :mod:`mmkd.datasets.paired_base` describes: ``'windows (nodata > max_nodata)'``,
``'scenes (smaller than the window)'`` ...).
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.logging import print_log

from mmkd.registry import DATASETS
from .georef import GeoreferenceError, align_given_pairs, parse_pairing
from .paired_base import first_file
from .paired_seg_dataset import PairedSegDataset

Size = Union[int, Sequence[int]]
NO_WINDOW = 'scenes (no window with nodata <= max_nodata)'


def _hw(value: Size, name: str) -> Tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        value = (int(value), int(value))
    if len(value) != 2 or not all(int(v) == v and v > 0 for v in value):
        raise ValueError(f'{name} must be a positive int or (height, width), got '
                         f'{value!r}')
    return int(value[0]), int(value[1])


def grid_starts(length: int, window: int, stride: int) -> List[int]:
    """Window offsets along one axis: every ``stride`` from 0, the last window flush
    with the end (``length - window``), so the windows cover ``[0, length)``."""
    if length < window:
        return []
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] + window < length:
        starts.append(length - window)
    return starts


class SceneTooSmallError(ValueError):
    """A scene (its footprints' intersection) is smaller than the window."""


def _worker_stream() -> int:
    """A number that differs between the data-loading workers of one run and between
    the worker generations of successive epochs (0 in the main process)."""
    from torch.utils.data import get_worker_info
    info = get_worker_info()
    # the worker seed: torch's base seed for this DataLoader iterator (drawn from the
    # main process's seeded generator) + the worker id; mmengine's worker_init_fn
    # reseeds numpy and torch but leaves this value alone
    return 0 if info is None else int(info.seed) % (2**63)


@DATASETS.register_module()
class PairedSceneWindowDataset(PairedSegDataset):
    """Aligned windows of paired scenes for segmentation (see the module docstring).

    The scenes are found as :class:`PairedSegDataset`'s ``'folders'`` layout finds
    tiles (``folders`` per modality: a folder, band folders or a band pattern;
    ``mask_folder`` of label rasters named like the reference scenes;
    ``split_file`` of scene ids); each data info is one window, with the scene's keys
    plus ``geo_grid`` (the window's grid, read by ``mmkd.LoadMultiModalImages`` and
    ``mmkd.LoadSegMask``), ``scene_id`` and ``window`` (``(row, col, height, width)``
    in the scene's reference pixels, from the top-left of the footprints'
    intersection).

    Args:
        modalities (Sequence[str]): Modality keys to read, e.g. ``('sar', 'optical')``.
        window (int | tuple): Window size ``(h, w)`` in reference-modality pixels.
        stride (int | tuple, optional): Grid step. Defaults to ``window`` (no overlap).
        mode (str): ``'grid'`` or ``'random'``.
        num_windows (int): ``mode='random'``: entries (windows read per epoch) per
            scene. Defaults to 16.
        seed (int): ``mode='random'``: seed of the window draws. Defaults to 0.
        max_nodata (float, optional): Largest nodata fraction of a kept window.
            None: no check (and no read at build time). Defaults to 0.5.
        nodata_check_size (int): The longest side of the coarse read that estimates
            nodata fractions. Defaults to 1024.
        on_small_scene (str): ``'error'`` (default) or ``'skip'`` (drop and count) a
            scene smaller than the window.
        pairing (str | dict): ``'footprint'`` (default) or a dict of its options
            (:mod:`mmkd.datasets.georef`; ``resolution`` for non-reference
            modalities only), or ``'name'``.
        **kwargs: :class:`PairedSegDataset` arguments (``data_root``, ``folders``,
            ``mask_folder``, ``id_patterns``, ``split_file``, ``ref_modality``,
            ``on_unpaired``, ``pipeline``, ``test_mode``, ``metainfo`` ...).

    Example::

        dict(type='mmkd.PairedSceneWindowDataset', modalities=('sar', 'optical'),
             data_root='data/scenes', folders=dict(sar=['S1/vv', 'S1/vh'],
             optical='S2'), mask_folder='labels', window=256, mode='random',
             num_windows=64, pipeline=train_pipeline)
    """

    def __init__(self,
                 modalities: Sequence[str],
                 window: Size,
                 stride: Optional[Size] = None,
                 mode: str = 'grid',
                 num_windows: int = 16,
                 seed: int = 0,
                 max_nodata: Optional[float] = 0.5,
                 nodata_check_size: int = 1024,
                 on_small_scene: str = 'error',
                 pairing: Union[str, dict] = 'footprint',
                 **kwargs):
        if mode not in ('grid', 'random'):
            raise ValueError(f"PairedSceneWindowDataset: mode must be 'grid' or "
                             f"'random', got {mode!r}")
        if on_small_scene not in ('error', 'skip'):
            raise ValueError(f"on_small_scene must be 'error' or 'skip', got "
                             f'{on_small_scene!r}')
        if kwargs.get('layout', 'folders') != 'folders':
            raise ValueError("PairedSceneWindowDataset reads the 'folders' layout")
        self.window = _hw(window, 'window')
        self.stride = _hw(stride, 'stride') if stride is not None else self.window
        self.mode = mode
        if int(num_windows) < 1:
            raise ValueError(f'num_windows must be >= 1, got {num_windows}')
        self.num_windows = int(num_windows)
        self.seed = int(seed)
        if max_nodata is not None and not 0 <= float(max_nodata) <= 1:
            raise ValueError(f'max_nodata must be in [0, 1] or None, got {max_nodata}')
        self.max_nodata = None if max_nodata is None else float(max_nodata)
        self.nodata_check_size = int(nodata_check_size)
        self.on_small_scene = on_small_scene
        self._by_name = pairing == 'name' or (isinstance(pairing, dict)
                                              and pairing.get('by') == 'name')
        ref = kwargs.get('ref_modality') or ('sar' if 'sar' in modalities
                                             else tuple(modalities)[0])
        if self._by_name:
            opts = {k: v for k, v in (pairing if isinstance(pairing, dict) else {}).items()
                    if k != 'by'}
            # pairs named explicitly: any overlap aligns them
            opts.setdefault('min_overlap', 1e-6)
            self._align_cfg = parse_pairing(dict(by='footprint', **opts), modalities, ref)
        else:
            self._align_cfg = parse_pairing(pairing, modalities, ref)
            if self._align_cfg is None:
                raise ValueError("PairedSceneWindowDataset aligns scenes by georeference: "
                                 "pairing must be 'footprint', 'name' or a dict")
        res = self._align_cfg.get('resolution') or {}
        if res.get(self._align_cfg['ref']) is not None:
            raise ValueError(
                f"pairing resolution: the reference modality {self._align_cfg['ref']!r} "
                f'keeps its own pixel size (windows and labels are in its pixels); give '
                f'resolution for the other modalities only')
        self._draws: Dict[int, int] = {}
        self._scenes: List[dict] = []
        super().__init__(modalities, pairing='name' if self._by_name else pairing,
                         **kwargs)

    # ------------------------------------------------------------------ pairing
    def _pairs(self, per_mod, ids):
        try:
            pairs = super()._pairs(per_mod, ids)
            if not self._by_name:
                return pairs
            dates = self._date_patterns()
            out = []
            for pid, paths, extra in pairs:
                grid, why = align_given_pairs(self._align_cfg, self.modalities, paths,
                                              dates)
                if grid is None:
                    self._unpaired(self.ref_modality, first_file(paths[self.ref_modality]),
                                   why[0], f' with the same id whose footprint overlaps: '
                                   f'{why[1]}',
                                   key=f'{self.ref_modality} (no overlapping {why[0]} scene)')
                    continue
                out.append((pid, paths, dict(extra, **grid)))
            return out
        except GeoreferenceError as e:
            msg = str(e).split('; pairing by footprint needs')[0]
            raise GeoreferenceError(
                f'{msg}; PairedSceneWindowDataset cuts aligned windows by georeference, '
                f'so every scene file needs a CRS and a geotransform (gdal_translate '
                f'-a_srs/-a_ullr adds them); chips without one are for '
                f'mmkd.PairedSegDataset') from None

    # ------------------------------------------------------------------ windows
    def load_data_list(self) -> List[dict]:
        scenes = super().load_data_list()  # starts ``skipped`` afresh
        self._scenes = []
        infos = []
        wh, ww = self.window
        for scene in scenes:
            grid = scene.pop('geo_grid')
            r0, c0, height, width = grid['ref_window']
            ref_path = first_file(scene['img_path'][self.ref_modality])
            if height < wh or width < ww:
                partners = [first_file(p) for m, p in scene['img_path'].items()
                            if m != self.ref_modality]
                where = f' (its overlap with {", ".join(partners)})' if partners else ''
                msg = (f'scene {ref_path}{where} is {height}x{width} px on the '
                       f'{self.ref_modality} grid, smaller than window={wh}x{ww}')
                if self.on_small_scene == 'error':
                    raise SceneTooSmallError(f"{msg}; use a smaller window or "
                                             f"on_small_scene='skip'")
                self._count_skipped('scenes (smaller than the window)')
                print_log(f'PairedSceneWindowDataset: skipped {msg}', logger='current',
                          level=30)
                continue
            scene_meta = dict(grid=grid, height=height, width=width, path=ref_path,
                              info=scene)
            invalid, factor = self._scene_nodata(scene, grid, height, width)
            scene_meta.update(invalid=invalid, factor=factor)
            if self.mode == 'grid':
                windows = [(r, c) for r in grid_starts(height, wh, self.stride[0])
                           for c in grid_starts(width, ww, self.stride[1])]
                frac = self._nodata_fractions(scene_meta, [w[0] for w in windows],
                                              [w[1] for w in windows])
                kept = [w for w, v in zip(windows, frac) if v <= self._limit() + 1e-12]
                if len(kept) < len(windows):
                    self._count_skipped('windows (nodata > max_nodata)',
                                        len(windows) - len(kept))
                if not kept:
                    self._count_skipped(NO_WINDOW)
                    continue
                k = len(self._scenes)
                self._scenes.append(scene_meta)
                for r, c in kept:
                    infos.append(self._window_info(k, r, c))
            else:
                if invalid is not None:
                    starts = self._valid_starts(scene_meta)
                    if starts.size == 0:
                        self._count_skipped(NO_WINDOW)
                        continue
                    scene_meta['starts'] = starts
                k = len(self._scenes)
                self._scenes.append(scene_meta)
                info = dict(scene, scene_id=scene['sample_id'], scene_index=k)
                infos += [dict(info) for _ in range(self.num_windows)]
        if self.skipped:
            print_log(f'PairedSceneWindowDataset: skipped {self.skipped}',
                      logger='current', level=30)
        if not infos:
            raise ValueError(f'PairedSceneWindowDataset: no window left of '
                             f'{len(scenes)} scene(s) under {self.data_root!r} '
                             f'(skipped: {self.skipped})')
        for s in self._scenes:
            s.pop('info')
        return infos

    def _limit(self) -> float:
        return 1.0 if self.max_nodata is None else self.max_nodata

    def _window_grid(self, k: int, row: int, col: int) -> dict:
        """The sample grid of the window at ``(row, col)`` of scene ``k``."""
        s = self._scenes[k]
        grid = s['grid']
        left, bottom, right, top = grid['bounds']
        xres, yres = (right - left) / s['width'], (top - bottom) / s['height']
        wh, ww = self.window
        bounds = (left + col * xres, top - (row + wh) * yres, left + (col + ww) * xres,
                  top - row * yres)
        res = self._align_cfg.get('resolution') or {}
        shapes = {}
        for m in grid['shapes']:
            r = res.get(m)
            if r is None:
                shapes[m] = (wh, ww)
            else:
                rx, ry = (r, r) if np.isscalar(r) else (r[0], r[1])
                shapes[m] = (max(1, int(round(wh * yres / ry))),
                             max(1, int(round(ww * xres / rx))))
        r0, c0 = grid['ref_window'][:2]
        return dict(grid, bounds=tuple(float(v) for v in bounds), shapes=shapes,
                    ref_window=(r0 + row, c0 + col, wh, ww))

    def _window_info(self, k: int, row: int, col: int, info: Optional[dict] = None):
        s = self._scenes[k]
        info = dict(s['info'] if info is None else info)
        info.update(geo_grid=self._window_grid(k, row, col), window=(row, col,
                                                                     *self.window),
                    scene_id=info['sample_id'], scene_index=k,
                    sample_id=f"{info['sample_id']}_r{row}_c{col}")
        return info

    def get_data_info(self, idx: int) -> dict:
        """The data info of entry ``idx``; in ``mode='random'`` with a window drawn now
        (the ``n``-th read of an entry gets the ``n``-th draw of its generator)."""
        info = super().get_data_info(idx)
        if self.mode == 'random':
            n = self._draws.get(idx, 0)
            self._draws[idx] = n + 1
            rng = np.random.default_rng([self.seed, idx, _worker_stream(), n])
            row, col = self._draw(info['scene_index'], rng)
            info = self._window_info(info['scene_index'], row, col, info)
        return info

    def _draw(self, k: int, rng) -> Tuple[int, int]:
        s = self._scenes[k]
        wh, ww = self.window
        if 'starts' not in s:
            return (int(rng.integers(0, s['height'] - wh + 1)),
                    int(rng.integers(0, s['width'] - ww + 1)))
        starts, f = s['starts'], s['factor']
        cols = (s['width'] - ww) // f + 1
        i = int(starts[rng.integers(0, starts.size)])
        row, col = (i // cols) * f, (i % cols) * f
        if f > 1:  # anywhere inside the coarse cell
            row = min(row + int(rng.integers(0, f)), s['height'] - wh)
            col = min(col + int(rng.integers(0, f)), s['width'] - ww)
        return row, col

    # ------------------------------------------------------------------ nodata
    def _scene_nodata(self, scene: dict, grid: dict, height: int, width: int):
        """``(summed-area table of nodata pixels on a coarse scene grid, factor)``, or
        ``(None, 1)`` when ``max_nodata`` is None."""
        if self.max_nodata is None:
            return None, 1
        from .transforms.raster_io import read_geotiff
        f = max(1, math.ceil(max(height, width) / self.nodata_check_size))
        hc, wc = math.ceil(height / f), math.ceil(width / f)
        # the scene's extent at about 1/f of its pixels a side (exactly its own pixels
        # when f = 1: the reference is then read as stored)
        coarse = dict(crs=grid['crs'], bounds=grid['bounds'], shape=(hc, wc))
        invalid = np.zeros((hc, wc), bool)
        for m in self.modalities:
            paths = scene['img_path'][m]
            for p in ([paths] if isinstance(paths, str) else paths):
                data, nodata = read_geotiff(p, coarse, 'nearest')
                invalid |= nodata
                if data.dtype.kind == 'f':
                    invalid |= ~np.isfinite(data).all(axis=0)
        sat = np.zeros((hc + 1, wc + 1), np.float64)
        sat[1:, 1:] = invalid.cumsum(0).cumsum(1)
        return sat, f

    def _nodata_fractions(self, s: dict, rows, cols) -> np.ndarray:
        """The nodata fraction of the windows at ``(rows[i], cols[i])`` (arrays of
        offsets in reference pixels), from the coarse summed-area table (the coarse
        cells a window touches)."""
        rows, cols = np.asarray(rows, np.float64), np.asarray(cols, np.float64)
        sat = s['invalid']
        if sat is None:
            return np.zeros(rows.shape)
        hc, wc = sat.shape[0] - 1, sat.shape[1] - 1
        sy, sx = hc / s['height'], wc / s['width']
        wh, ww = self.window
        eps = 1e-9
        r0 = np.floor(rows * sy + eps).astype(np.int64)
        c0 = np.floor(cols * sx + eps).astype(np.int64)
        r1 = np.minimum(np.ceil((rows + wh) * sy - eps).astype(np.int64), hc)
        c1 = np.minimum(np.ceil((cols + ww) * sx - eps).astype(np.int64), wc)
        bad = sat[r1, c1] - sat[r0, c1] - sat[r1, c0] + sat[r0, c0]
        return bad / np.maximum((r1 - r0) * (c1 - c0), 1)

    def _valid_starts(self, s: dict) -> np.ndarray:
        """Flat indices (on the lattice of top-left corners every ``factor`` pixels)
        of the windows with at most ``max_nodata`` nodata."""
        f = s['factor']
        wh, ww = self.window
        rows = (s['height'] - wh) // f + 1
        cols = (s['width'] - ww) // f + 1
        i, j = np.mgrid[:rows, :cols]
        frac = self._nodata_fractions(s, i.reshape(-1) * f, j.reshape(-1) * f)
        return np.flatnonzero(frac <= self._limit() + 1e-12)
