"""Pairing modalities by footprint and CRS, not by file name.

With ``pairing='footprint'`` (or a dict, below) a paired dataset reads the georeference
of every file (rasterio: CRS, bounds, pixel size; metadata only) and, for each file of
the reference modality (``ref``, by default the SAR one):

1. takes as candidates the files of each other modality whose footprint, transformed
   into the reference CRS, covers at least ``min_overlap`` of the reference footprint
   (a 10 m UTM tile and an EPSG:4326 tile 50 km away are no pair);
2. when several do, picks the nearest acquisition date (``max_days`` apart at most;
   dates from a ``(?P<date>...)`` group of ``id_patterns`` or the band pattern, else the
   GeoTIFF's ``TIFFTAG_DATETIME``), else the largest overlap;
3. sets the sample's grid: the intersection of the chosen footprints, snapped inward to
   the reference file's pixels, in the reference CRS, at the reference pixel size (so
   every modality has one ``H x W``) or at a pixel size per modality (``resolution``, in
   CRS units, e.g. metres; the ``Paired*`` transforms handle modalities of different
   sizes). ``mmkd.LoadMultiModalImages`` reads the reference as a window of its own
   pixels and reprojects/resamples the others onto the grid (``rasterio`` ``WarpedVRT``).

Detection (``mmkd.PairedCocoDataset``) pairs the same way but keeps the whole reference
file as the grid (``extent='ref'``): its boxes, and the annotation file the evaluator
reads, are in that file's pixels; partners are nodata where they do not cover it.
Partners named per sample (an annotation file's pairs) are checked rather than
searched for (``listed``). Grids must be north-up: a flipped or 180-degree-turned
raster (the SpaceNet 6 converter's south-looking tiles) is refused, naming the file.

A reference file without a partner is refused by the dataset's ``on_unpaired='error'``
with :class:`~mmkd.datasets.UnpairedSampleError` saying how far the nearest candidate
is or how many days apart, or skipped and counted with ``'skip'``.

Options (``pairing=dict(by='footprint', ...)``):

- ``ref`` (str): the reference modality; default ``'sar'`` when read, else the first
  (segmentation: ``ref_modality``; masks are in its file's pixel frame);
- ``min_overlap`` (float): fraction of the reference footprint a partner must cover.
  Defaults to 0.5;
- ``max_days`` (float, optional): largest acquisition-date difference, in days;
- ``date_format`` (str, optional): ``strptime`` format of the ``date`` group; default:
  ISO 8601 or compact ``YYYYmmdd[THHMMSS]``;
- ``resolution`` (float | tuple | dict, optional): pixel size per modality in the
  reference CRS's units; default: the reference's own;
- ``resampling`` (str | dict): rasterio resampling per modality, default
  ``'bilinear'`` (``'nearest'`` for class maps).

Why rasterio and not torchgeo: torchgeo's ``RasterDataset`` (separate band files),
``IntersectionDataset`` and ``GridGeoSampler`` are the same ideas, but torchgeo 0.10
requires Python >= 3.12 (this stack is 3.11: ``pip install --dry-run torchgeo==0.10.*``
finds no candidate) and the last release that installs here, 0.8.1, would upgrade numpy
to 2.x (the stack pins numpy < 2 for mmcv 2.1 / mmdet 3.3) and pull in lightning, timm,
kornia, segmentation-models-pytorch and geopandas. Its samplers also yield bounding
boxes into a GeoDataset, not the file-based data infos the OpenMMLab datasets and
``Paired*`` transforms use. rasterio, already a dependency, does the reading, masks,
windows and reprojection here.
"""
import math
import os.path as osp
import warnings
from datetime import datetime
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

DATE_FORMATS = ('%Y%m%dT%H%M%S', '%Y%m%d', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d',
                '%Y:%m:%d %H:%M:%S')
PAIRING_KEYS = ('by', 'ref', 'min_overlap', 'max_days', 'date_format', 'resolution',
                'resampling')


class GeoreferenceError(ValueError):
    """A file cannot be paired by footprint (no CRS, no date, bands on other grids)."""


def by_name(pairing) -> bool:
    """Whether a dataset's ``pairing`` argument pairs by file name (not footprint)."""
    return pairing is None or pairing == 'name' or (
        isinstance(pairing, dict) and pairing.get('by', 'footprint') == 'name')


def parse_pairing(pairing, modalities: Sequence[str],
                  default_ref: Optional[str] = None) -> Optional[dict]:
    """``None`` for pairing by file name, else the footprint options, checked."""
    if pairing is None or pairing == 'name':
        return None
    if pairing == 'footprint':
        pairing = dict(by='footprint')
    if not isinstance(pairing, dict) or pairing.get('by', 'footprint') not in (
            'footprint', 'name'):
        raise ValueError(f"pairing must be 'name', 'footprint' or dict(by='footprint', "
                         f'...), got {pairing!r}')
    if pairing.get('by') == 'name':
        return None
    unknown = sorted(set(pairing) - set(PAIRING_KEYS))
    if unknown:
        raise KeyError(f'pairing: unknown option(s) {unknown}; the options are '
                       f'{list(PAIRING_KEYS)}')
    cfg = dict(by='footprint', min_overlap=0.5, max_days=None, date_format=None,
               resolution=None, resampling='bilinear')
    cfg.update(pairing)
    ref = cfg.get('ref') or default_ref or ('sar' if 'sar' in modalities
                                            else modalities[0])
    if ref not in modalities:
        raise KeyError(f'pairing: ref {ref!r} is not among the modalities read '
                       f'{tuple(modalities)}')
    cfg['ref'] = ref
    if not 0 < float(cfg['min_overlap']) <= 1:
        raise ValueError(f"pairing: min_overlap must be in (0, 1], got "
                         f"{cfg['min_overlap']}")
    res = cfg['resolution']
    if res is not None and not isinstance(res, dict):
        cfg['resolution'] = {m: res for m in modalities}
    return cfg


class Footprint:
    """The georeference of one sample of one modality (its first band file)."""

    def __init__(self, modality: str, key: str, paths: Union[str, List[str]], crs,
                 bounds, transform, shape, date: Optional[datetime]):
        self.modality, self.key, self.paths = modality, key, paths
        self.crs, self.bounds, self.transform = crs, tuple(bounds), transform
        self.shape, self.date = tuple(shape), date

    @property
    def path(self) -> str:
        return self.paths if isinstance(self.paths, str) else self.paths[0]

    @property
    def res(self) -> Tuple[float, float]:
        return abs(self.transform.a), abs(self.transform.e)


def _parse_date(text: str, fmt: Optional[str], where: str) -> datetime:
    formats = (fmt, ) if fmt else DATE_FORMATS
    for f in formats:
        try:
            return datetime.strptime(text, f)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise GeoreferenceError(f'{where}: cannot read the date {text!r}'
                                + (f' with date_format={fmt!r}' if fmt else
                                   f' (tried {list(DATE_FORMATS)} and ISO 8601; give '
                                   f'pairing date_format=)')) from None


def read_footprint(modality: str, key: str, paths, date_pattern=None,
                   date_format: Optional[str] = None) -> Footprint:
    """Read the georeference of one sample (all band files must share one grid)."""
    import rasterio
    files = [paths] if isinstance(paths, str) else list(paths)
    grid = None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', rasterio.errors.NotGeoreferencedWarning)
        for p in files:
            try:
                with rasterio.open(p) as src:
                    this = (src.crs, src.transform, src.shape, src.bounds,
                            src.tags().get('TIFFTAG_DATETIME'))
            except rasterio.errors.RasterioIOError as e:
                raise GeoreferenceError(f'{p} ({modality}): cannot read its georeference '
                                        f'({e})') from None
            if this[0] is None:
                raise GeoreferenceError(
                    f'{p} ({modality}) has no georeference (CRS); pairing by footprint '
                    f"needs GeoTIFFs with a CRS: pair such data by file name "
                    f"(pairing='name')")
            if this[1].b != 0 or this[1].d != 0:
                raise GeoreferenceError(f'{p} ({modality}) has a rotated pixel grid; '
                                        f'warp it north-up first (gdalwarp)')
            if this[1].a <= 0 or this[1].e >= 0:
                raise GeoreferenceError(
                    f'{p} ({modality}) is not north-up (pixel size ({this[1].a:g}, '
                    f'{this[1].e:g}): flipped or turned by 180 degrees, as the SpaceNet 6 '
                    f'converter writes south-looking strips); pairing by footprint needs '
                    f"north-up grids: pair such files by name (pairing='name') or write "
                    f'them north-up (gdalwarp; the converter: --no-rotate)')
            if grid is None:
                grid = this
            elif (this[0] != grid[0] or not this[1].almost_equals(grid[1])
                  or this[2] != grid[2]):
                raise GeoreferenceError(
                    f'band files of one sample must share one grid: {p} ({this[0]}, '
                    f'{this[2][0]}x{this[2][1]}) differs from {files[0]} ({grid[0]}, '
                    f'{grid[2][0]}x{grid[2][1]})')
    crs, transform, shape, bounds, tag = grid
    date = None
    if date_pattern is not None:
        m = date_pattern.fullmatch(osp.basename(files[0])) or date_pattern.search(
            osp.basename(files[0]))
        if m is not None and m.group('date'):
            date = _parse_date(m.group('date'), date_format, files[0])
    if date is None and tag:
        date = _parse_date(tag.strip(), None, f'{files[0]} (TIFFTAG_DATETIME)')
    return Footprint(modality, key, paths, crs, bounds, transform, shape, date)


def _area(b) -> float:
    return max(b[2] - b[0], 0.) * max(b[3] - b[1], 0.)


def _intersect(a, b):
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def _distance(crs, d: float) -> str:
    if crs.is_geographic:
        return f'{d:.3g} degrees'
    unit = (crs.linear_units or '').lower()
    if unit in ('metre', 'meter', 'm'):
        return f'{d / 1000:.3g} km' if d >= 1000 else f'{d:.3g} m'
    return f'{d:.3g} {unit or "CRS units"}'


class FootprintPairing:
    """Pairs reference footprints with partners' (see the module docstring)."""

    def __init__(self, cfg: dict):
        self.cfg = cfg
        self._bounds: Dict[Tuple[int, str], tuple] = {}

    def bounds_in(self, fp: Footprint, crs) -> tuple:
        """``fp``'s bounds in ``crs`` (densified edges, cached)."""
        key = (id(fp), crs.to_wkt())
        if key not in self._bounds:
            if fp.crs == crs:
                self._bounds[key] = fp.bounds
            else:
                from rasterio.warp import transform_bounds
                self._bounds[key] = tuple(transform_bounds(fp.crs, crs, *fp.bounds,
                                                           densify_pts=21))
        return self._bounds[key]

    def choose(self, ref: Footprint, candidates: List[Footprint]):
        """``(partner, overlap)`` or ``(None, reason)``."""
        if not candidates:
            return None, 'there is no file of that modality to pair with'
        ref_area = _area(ref.bounds)
        scored = []
        for fp in candidates:
            b = self.bounds_in(fp, ref.crs)
            scored.append((_area(_intersect(ref.bounds, b)) / ref_area, fp, b))
        min_overlap = float(self.cfg['min_overlap'])
        over = [s for s in scored if s[0] >= min_overlap and s[0] > 0]
        if not over:
            cx, cy = (ref.bounds[0] + ref.bounds[2]) / 2, (ref.bounds[1] + ref.bounds[3]) / 2

            def dist(s):
                b = s[2]
                return math.hypot((b[0] + b[2]) / 2 - cx, (b[1] + b[3]) / 2 - cy)
            near = min(scored, key=lambda s: (-s[0], dist(s)))
            return None, (f'no file covers min_overlap={min_overlap:.0%} of its '
                          f'footprint; the nearest, {near[1].path} ('
                          f'{near[1].crs.to_string()}), covers {near[0]:.0%} with its '
                          f'centre {_distance(ref.crs, dist(near))} away'
                          + (' (a lower pairing min_overlap accepts it)' if near[0] > 0
                             else ''))
        max_days = self.cfg['max_days']
        dated = ref.date is not None and all(s[1].date is not None for s in over)
        if max_days is not None and not dated:
            lacking = ref if ref.date is None else next(s[1] for s in over
                                                        if s[1].date is None)
            raise GeoreferenceError(
                f'{lacking.path} ({lacking.modality}): no acquisition date, and pairing '
                f'max_days={max_days} needs one: add a (?P<date>...) group to '
                f'id_patterns[{lacking.modality!r}] (or the band pattern), or write '
                f'TIFFTAG_DATETIME')
        if not dated:
            best = max(over, key=lambda s: s[0])
            return best[1], best[0]

        def days(s):
            return abs((s[1].date - ref.date).total_seconds()) / 86400.
        best = min(over, key=lambda s: (days(s), -s[0]))
        if max_days is not None and days(best) > max_days:
            return None, (f'the nearest acquisition in time among the '
                          f'{len(over)} overlapping file(s), {best[1].path}, is '
                          f'{days(best):.3g} days apart (max_days={max_days}; a larger '
                          f'pairing max_days accepts it)')
        return best[1], best[0]

    def grid(self, ref: Footprint, partners: Dict[str, Footprint],
             modalities: Sequence[str], extent: str = 'intersection'):
        """The sample's grid (``geo_grid`` of a data info), or ``(None, reason)``.

        ``extent='intersection'``: the footprints' intersection, snapped inward to the
        reference pixels; ``'ref'``: the whole reference file (labels in its pixel
        frame stay as they are; partners are nodata where they do not cover it).
        """
        inter = ref.bounds
        for fp in partners.values():
            inter = _intersect(inter, self.bounds_in(fp, ref.crs))
        t = ref.transform
        h_ref, w_ref = ref.shape
        eps = 1e-6
        col0 = max(0, math.ceil((inter[0] - t.c) / t.a - eps))
        col1 = min(w_ref, math.floor((inter[2] - t.c) / t.a + eps))
        row0 = max(0, math.ceil((t.f - inter[3]) / -t.e - eps))
        row1 = min(h_ref, math.floor((t.f - inter[1]) / -t.e + eps))
        if col1 <= col0 or row1 <= row0:
            return None, 'the footprints intersect in less than one pixel'
        if extent == 'ref':
            row0, col0, row1, col1 = 0, 0, h_ref, w_ref
        elif extent != 'intersection':
            raise ValueError(f"extent must be 'intersection' or 'ref', got {extent!r}")
        bounds = (t.c + col0 * t.a, t.f + row1 * t.e, t.c + col1 * t.a, t.f + row0 * t.e)
        width, height = bounds[2] - bounds[0], bounds[3] - bounds[1]
        res = self.cfg['resolution'] or {}
        sampling = self.cfg['resampling']
        shapes, resampling = {}, {}
        for m in modalities:
            r = res.get(m)
            if r is None:
                shapes[m] = (row1 - row0, col1 - col0)
            else:
                rx, ry = (r, r) if np.isscalar(r) else (r[0], r[1])
                shapes[m] = (max(1, int(round(height / ry))), max(1, int(round(width / rx))))
            resampling[m] = sampling.get(m, 'bilinear') if isinstance(sampling, dict) \
                else sampling
        return dict(crs=ref.crs.to_wkt(), bounds=tuple(float(v) for v in bounds),
                    shapes=shapes, resampling=resampling, ref=ref.modality,
                    ref_window=(row0, col0, row1 - row0, col1 - col0),
                    ref_shape=(h_ref, w_ref)), None


def pair_by_footprint(cfg: dict, modalities: Sequence[str],
                      samples: Dict[str, Dict[str, Union[str, List[str]]]],
                      date_patterns: Dict[str, object], group=None,
                      listed: Optional[Dict[str, Dict[str, object]]] = None,
                      extent: str = 'intersection'):
    """Pair every reference sample with one sample of each other modality.

    Args:
        samples: modality -> (key -> path or band paths): the reference samples, and
            for every modality not in ``listed`` the files to search.
        date_patterns: modality -> compiled regex with a ``date`` group, or None.
        group: key -> group; only samples of one group pair (class sub-folders).
        listed: modality -> (reference key -> path(s)): partners named per reference
            sample (an annotation file's entry), checked rather than searched for.
        extent: the grid, ``'intersection'`` or ``'ref'`` (see
            :meth:`FootprintPairing.grid`).

    Returns:
        ``(pairs, unpaired)``: pairs are ``(ref key, {modality: path(s)}, extra)`` with
        ``extra = dict(geo_grid=..., acquisition_date=..., overlap=...)``; unpaired
        are ``(ref path, modality, reason)``.
    """
    ref_mod = cfg['ref']
    group = group or (lambda key: '')
    listed = listed or {}

    def footprint(m, k, p):
        return read_footprint(m, k, p, date_patterns.get(m), cfg['date_format'])
    fps = {m: [footprint(m, k, p) for k, p in sorted(samples[m].items())]
           for m in modalities if m not in listed}
    given = {m: {k: footprint(m, k, p) for k, p in listed[m].items()} for m in listed}
    by_group = {m: {} for m in fps}
    for m in fps:
        for fp in fps[m]:
            by_group[m].setdefault(group(fp.key), []).append(fp)
    pairing = FootprintPairing(cfg)
    pairs, unpaired = [], []
    for ref in fps[ref_mod]:
        chosen, overlap, reason = {}, {}, None
        for m in modalities:
            if m == ref_mod:
                continue
            if m in given:
                candidates = [given[m][ref.key]] if ref.key in given[m] else []
            else:
                candidates = by_group[m].get(group(ref.key), [])
            fp, score = pairing.choose(ref, candidates)
            if fp is None:
                reason = (m, score)
                break
            chosen[m], overlap[m] = fp, round(float(score), 4)
        if reason is None:
            grid, why = pairing.grid(ref, chosen, modalities, extent)
            if grid is None:
                reason = (next(iter(chosen), ref_mod), why)
        if reason is not None:
            unpaired.append((ref.path, reason[0], reason[1]))
            continue
        members = dict(chosen, **{ref_mod: ref})
        extra = dict(geo_grid=grid, overlap=overlap, acquisition_date={
            m: fp.date.isoformat() for m, fp in members.items() if fp.date is not None})
        pairs.append((ref.key, {m: members[m].paths for m in modalities}, extra))
    return pairs, unpaired


def align_given_pairs(cfg: dict, modalities: Sequence[str], paths: Dict[str, object],
                      date_patterns: Dict[str, object]):
    """Grid for one pair listed explicitly (an annotation file): ``(extra, None)`` or
    ``(None, (modality, reason))`` when the footprints do not overlap (or, with
    ``max_days``, are too far apart in time)."""
    ref = cfg['ref']
    pairs, unpaired = pair_by_footprint(
        cfg, modalities, {ref: {'0': paths[ref]}}, date_patterns,
        listed={m: {'0': paths[m]} for m in modalities if m != ref})
    if unpaired:
        _, modality, reason = unpaired[0]
        return None, (modality, reason)
    return pairs[0][2], None
