"""Convert SpaceNet 6 (MSAW, Rotterdam) into aligned SAR/optical/mask tiles.

    python tools/dataset_converters/spacenet6.py AOI_DIR OUT_DIR [--tile-size 512]
        [--stride 512] [--no-rotate] [--val-fraction 0.2] [--split-by easting]
        [--max-nodata 0.5] [--on-unpaired error|skip] [--no-labels]

AOI_DIR is the downloaded ``train/AOI_11_Rotterdam`` (or ``test_public/...`` with
``--no-labels``): ``SAR-Intensity/*.tif`` (4-band float32), ``PS-RGB/*.tif`` (3-band
uint8), ``SummaryData/*_Buildings.csv`` (pixel WKT footprints) and
``SummaryData/SAR_orientations.txt``. For each tile it

1. reads the SAR tile with rasterio and checks its band count;
2. aligns the optical tile to the SAR pixel grid: used as is when both share the grid,
   otherwise reprojected onto it (``rasterio.warp.reproject``, bilinear);
3. rasterises the building polygons (shapely geometries, GDAL's rasteriser: a pixel is
   building when its centre is inside) into a uint8 mask (1 = building);
4. rotates SAR, optical and mask by 180 degrees when the strip was imaged from the
   south (flag 1; ``--no-rotate`` keeps them), so layover always falls the same way, as
   the SpaceNet 6 baseline does, and updates the georeference accordingly;
5. cuts ``--tile-size`` crops every ``--stride`` pixels (the last row/column of crops
   is aligned to the border), dropping crops with more than ``--max-nodata`` SAR nodata;
6. writes ``OUT_DIR/{sar,optical}/<id>.tif`` (GeoTIFFs with the crop's georeference),
   ``OUT_DIR/masks/<id>.png``, ``OUT_DIR/splits/{train,val}.txt`` (by easting: the
   easternmost ``--val-fraction`` of crops are validation, so overlapping strips of one
   place do not leak between splits; or ``--split-by random``) and ``tiles.csv``
   (crop id, source ImageId, window, orientation, rotated, split).

The output is ``mmkd.PairedSegDataset``'s folders layout (see
``configs/_base_/datasets/spacenet6_sar_optical.py``).
"""
import argparse
import csv
import os
import os.path as osp
import re
import sys
from typing import Dict, List, Optional

import numpy as np

SN6_ID = re.compile(r'(\d{14}_\d{14}_tile_\d+)\.tif$')


class ConversionError(ValueError):
    """The input is not a usable SpaceNet 6 layout (named file and reason)."""


def _scan(folder: str) -> Dict[str, str]:
    if not osp.isdir(folder):
        raise ConversionError(f'folder {folder!r} does not exist')
    out = {}
    for fn in sorted(os.listdir(folder)):
        m = SN6_ID.search(fn)
        if m:
            out[m.group(1)] = osp.join(folder, fn)
    return out


def _read(path: str, bands: int, what: str):
    import rasterio
    with rasterio.open(path) as src:
        if src.count != bands:
            raise ConversionError(f'{path}: {what} has {src.count} band(s), expected '
                                  f'{bands}')
        return src.read(), src.transform, src.crs


def align_to(data: np.ndarray, transform, crs, dst_shape, dst_transform, dst_crs,
             path: str) -> np.ndarray:
    """``data`` on the destination grid (unchanged when the grids already agree)."""
    same = data.shape[1:] == tuple(dst_shape) and transform.almost_equals(dst_transform)
    if same:
        return data
    if crs is None or dst_crs is None:
        raise ConversionError(f'{path}: tile size {data.shape[1:]} differs from the SAR '
                              f'tile {tuple(dst_shape)} and one of them has no '
                              f'georeference to resample with')
    from rasterio.warp import Resampling, reproject
    out = np.zeros((data.shape[0], *dst_shape), data.dtype)
    reproject(source=data, destination=out, src_transform=transform, src_crs=crs,
              dst_transform=dst_transform, dst_crs=dst_crs,
              resampling=Resampling.bilinear)
    return out


def _write_tif(path: str, data: np.ndarray, transform, crs, nodata=None) -> None:
    import rasterio
    profile = dict(driver='GTiff', height=data.shape[1], width=data.shape[2],
                   count=data.shape[0], dtype=data.dtype.name, transform=transform,
                   crs=crs)
    if nodata is not None:
        profile['nodata'] = nodata
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data)


def _starts(length: int, tile: int, stride: int) -> List[int]:
    if tile >= length:
        return [0]
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    return starts


def _buildings_csv(aoi: str) -> str:
    """The one ``SummaryData/*_Buildings.csv`` of ``aoi``; none or several is an error."""
    summary = osp.join(aoi, 'SummaryData')
    found = sorted(f for f in os.listdir(summary) if f.endswith('_Buildings.csv')) \
        if osp.isdir(summary) else []
    if len(found) != 1:
        raise ConversionError(f'expected one SummaryData/*_Buildings.csv in {aoi}, '
                              f'found {found} (give --buildings-csv, or '
                              f'--no-labels for test data)')
    return osp.join(summary, found[0])


def _read_inputs(aoi: str, opts: dict) -> dict:
    """Scan the SAR folder (no tile is an error) and the optical one, read the building
    footprints (when labelled) and the strips' look directions (when rotating): the
    tile paths by ImageId, the footprints, the CSV and orientation file paths and the
    orientation flags by strip."""
    # imported first, as before: a missing package fails before any file is read
    from affine import Affine  # noqa: F401

    from mmkd.datasets.paired_seg_dataset import read_footprint_csv, read_sar_orientations
    from mmkd.datasets.transforms.seg_loading import rasterize_footprints  # noqa: F401

    sar_dir = osp.join(aoi, opts['sar_folder'])
    sar_files = _scan(sar_dir)
    if not sar_files:
        raise ConversionError(f'no SpaceNet 6 SAR tiles (*_<strip>_<strip>_tile_<n>.tif) '
                              f'in {sar_dir}')
    optical_folder = opts['optical_folder']
    opt_files = _scan(osp.join(aoi, optical_folder)) if optical_folder else {}
    footprints = {}
    buildings_csv = opts['buildings_csv']
    if opts['labels']:
        if buildings_csv is None:
            buildings_csv = _buildings_csv(aoi)
        footprints = read_footprint_csv(buildings_csv)
    orient_path = osp.join(aoi, 'SummaryData', 'SAR_orientations.txt')
    orientations = read_sar_orientations(orient_path) if opts['rotate'] else {}
    return dict(sar_files=sar_files, opt_files=opt_files, footprints=footprints,
                buildings_csv=buildings_csv, orient_path=orient_path,
                orientations=orientations)


def _make_dirs(out: str, opts: dict) -> None:
    """``OUT_DIR/{sar,optical,masks,splits}``, without ``optical`` for SAR only and
    ``masks`` for unlabelled input."""
    for d in ('sar', 'optical', 'masks', 'splits'):
        if d == 'optical' and not opts['optical_folder'] or \
                d == 'masks' and not opts['labels']:
            continue
        os.makedirs(osp.join(out, d), exist_ok=True)


def _is_paired(image_id: str, sar_path: str, aoi: str, inputs: dict,
               opts: dict) -> bool:
    """Whether the SAR tile ``image_id`` is converted: False for one without an optical
    partner under ``on_unpaired='skip'``; an error for one without a partner under
    ``'error'`` and, when labelled, for one without a row in the footprint CSV."""
    optical_folder = opts['optical_folder']
    if optical_folder and image_id not in inputs['opt_files']:
        if opts['on_unpaired'] == 'error':
            raise ConversionError(f'{sar_path} has no PS-RGB partner in '
                                  f'{osp.join(aoi, optical_folder)} (use '
                                  f'--on-unpaired skip to drop such tiles)')
        return False
    if opts['labels'] and image_id not in inputs['footprints']:
        raise ConversionError(f'{inputs["buildings_csv"]} has no row for {image_id} '
                              f'(tiles without buildings are listed with POLYGON EMPTY)')
    return True


def _read_tile(image_id: str, sar_path: str, inputs: dict, opts: dict) -> dict:
    """One tile's SAR bands and georeference, its optical bands on the SAR grid (None
    for SAR only) and its building mask (None unlabelled); each band count checked."""
    from mmkd.datasets.transforms.seg_loading import rasterize_footprints
    sar, transform, crs = _read(sar_path, opts['sar_bands'], 'SAR-Intensity')
    h, w = sar.shape[1:]
    opt = None
    if opts['optical_folder']:
        opt_path = inputs['opt_files'][image_id]
        o, ot, oc = _read(opt_path, opts['optical_bands'], 'PS-RGB')
        opt = align_to(o, ot, oc, (h, w), transform, crs, opt_path)
    mask = rasterize_footprints(inputs['footprints'][image_id], (h, w)) \
        if opts['labels'] else None
    return dict(sar=sar, transform=transform, crs=crs, opt=opt, mask=mask, h=h, w=w)


def _orient(image_id: str, tile: dict, inputs: dict, opts: dict) -> None:
    """Set the tile's look direction ``flag`` (None without rotation; a strip missing
    from the orientation file is an error) and ``rotated``; a rotated tile's SAR,
    optical and mask are turned by 180 degrees and its georeference updated."""
    from affine import Affine
    flag = None
    if opts['rotate']:
        strip = '_'.join(image_id.split('_')[:2])
        if strip not in inputs['orientations']:
            raise ConversionError(f'{inputs["orient_path"]}: no look direction for '
                                  f'strip {strip}')
        flag = inputs['orientations'][strip]
    rotated = opts['rotate'] and flag == opts['rotate_when']
    if rotated:
        opt, mask = tile['opt'], tile['mask']
        tile['sar'] = tile['sar'][:, ::-1, ::-1]
        tile['opt'] = opt[:, ::-1, ::-1] if opt is not None else None
        tile['mask'] = mask[::-1, ::-1] if mask is not None else None
        tile['transform'] = tile['transform'] * Affine.translation(tile['w'], tile['h']) \
            * Affine.scale(-1, -1)
    tile['flag'], tile['rotated'] = flag, rotated


def _write_crop(out: str, cid: str, crop: np.ndarray, tile: dict, r: int, c: int,
                t: int, ct) -> None:
    """Write crop ``cid`` (rows ``r``, columns ``c``, ``t`` px, georeference ``ct``):
    its SAR and optical GeoTIFFs and its mask PNG (those the tile has)."""
    crs, opt, mask = tile['crs'], tile['opt'], tile['mask']
    _write_tif(osp.join(out, 'sar', cid + '.tif'), crop, ct, crs, nodata=0.0)
    if opt is not None:
        _write_tif(osp.join(out, 'optical', cid + '.tif'),
                   np.ascontiguousarray(opt[:, r:r + t, c:c + t]), ct, crs)
    if mask is not None:
        import cv2
        cv2.imwrite(osp.join(out, 'masks', cid + '.png'),
                    np.ascontiguousarray(mask[r:r + t, c:c + t]))


def _write_crops(out: str, image_id: str, tile: dict, opts: dict,
                 records: List[dict]) -> None:
    """Cut the tile into ``tile_size`` crops every ``stride`` px (the whole tile
    without a size), write those with at most ``max_nodata`` SAR nodata and append
    each one's record (id, window, orientation, easting of its centre)."""
    from affine import Affine
    sar, transform, h, w = tile['sar'], tile['transform'], tile['h'], tile['w']
    t = opts['tile_size'] or max(h, w)
    s = opts['stride'] or t
    for r in _starts(h, t, s):
        for c in _starts(w, t, s):
            crop = np.ascontiguousarray(sar[:, r:r + t, c:c + t])
            if (crop == 0).all(0).mean() > opts['max_nodata']:
                continue
            cid = f'{image_id}_r{r}_c{c}' if (t < h or t < w) else image_id
            ct = transform * Affine.translation(c, r)
            _write_crop(out, cid, crop, tile, r, c, t, ct)
            easting = (ct * (crop.shape[2] / 2, crop.shape[1] / 2))[0]
            records.append(dict(id=cid, image_id=image_id, row=r, col=c,
                                orientation=tile['flag'], rotated=tile['rotated'],
                                easting=easting))


def _write_index(out: str, records: List[dict], splits: Dict[str, List[str]]) -> None:
    """``splits/<split>.txt`` (one crop id a line) and ``tiles.csv`` (each crop's id,
    source ImageId, window, orientation, rotation and split)."""
    for name, ids in splits.items():
        with open(osp.join(out, 'splits', f'{name}.txt'), 'w') as f:
            f.write('\n'.join(ids) + '\n')
    which = {i: n for n, ids in splits.items() for i in ids}
    with open(osp.join(out, 'tiles.csv'), 'w', newline='') as f:
        wr = csv.writer(f)
        wr.writerow(['id', 'ImageId', 'row', 'col', 'orientation', 'rotated', 'split'])
        for rec in records:
            wr.writerow([rec['id'], rec['image_id'], rec['row'], rec['col'],
                         rec['orientation'], int(rec['rotated']), which[rec['id']]])


def convert(aoi: str, out: str, tile_size: Optional[int] = 512,
            stride: Optional[int] = None, rotate: bool = True, rotate_when: int = 1,
            val_fraction: float = 0.2, split_by: str = 'easting', seed: int = 0,
            max_nodata: float = 0.5, on_unpaired: str = 'error', labels: bool = True,
            sar_folder: str = 'SAR-Intensity', optical_folder: Optional[str] = 'PS-RGB',
            sar_bands: int = 4, optical_bands: int = 3,
            buildings_csv: Optional[str] = None) -> Dict[str, List[str]]:
    """Convert one AOI folder; returns ``split -> [crop ids]``.

    Read the inputs, make the output folders, then per SAR tile (in name order): check
    its pairing, read and align it, orient it and write its crops; a tile's error
    stops the conversion after the earlier tiles' crops were written. Last the splits
    and ``tiles.csv``, and how many unpaired tiles were skipped."""
    opts = dict(tile_size=tile_size, stride=stride, rotate=rotate,
                rotate_when=rotate_when, max_nodata=max_nodata, on_unpaired=on_unpaired,
                labels=labels, sar_folder=sar_folder, optical_folder=optical_folder,
                sar_bands=sar_bands, optical_bands=optical_bands,
                buildings_csv=buildings_csv)
    inputs = _read_inputs(aoi, opts)
    _make_dirs(out, opts)
    records: List[dict] = []
    skipped = 0
    for image_id, sar_path in inputs['sar_files'].items():
        if not _is_paired(image_id, sar_path, aoi, inputs, opts):
            skipped += 1
            continue
        tile = _read_tile(image_id, sar_path, inputs, opts)
        _orient(image_id, tile, inputs, opts)
        _write_crops(out, image_id, tile, opts, records)
    if not records:
        raise ConversionError(f'no crop written from {aoi} (all tiles unpaired or more '
                              f'than {max_nodata:.0%} nodata)')
    splits = _split(records, val_fraction, split_by, seed, labels)
    _write_index(out, records, splits)
    if skipped:
        print(f'skipped {skipped} SAR tiles without an optical partner')
    return splits


def _split(records, val_fraction, split_by, seed, labels):
    ids = [r['id'] for r in records]
    if not labels:
        return dict(test=ids)
    if val_fraction <= 0:
        return dict(train=ids)
    if split_by == 'random':
        rng = np.random.default_rng(seed)
        val = set(rng.choice(ids, max(1, int(round(len(ids) * val_fraction))),
                             replace=False).tolist())
    elif split_by == 'easting':
        east = np.array([r['easting'] for r in records])
        cut = np.quantile(east, 1 - val_fraction)
        val = {r['id'] for r in records if r['easting'] >= cut}
    else:
        raise ValueError(f"--split-by must be 'easting' or 'random', got {split_by!r}")
    return dict(train=[i for i in ids if i not in val], val=[i for i in ids if i in val])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('aoi', help='SpaceNet 6 AOI folder (train/AOI_11_Rotterdam)')
    p.add_argument('out', help='output folder')
    p.add_argument('--tile-size', type=int, default=512,
                   help='crop size in pixels (0: whole 900 px tiles)')
    p.add_argument('--stride', type=int, default=None, help='crop step (default: size)')
    p.add_argument('--no-rotate', action='store_true',
                   help='keep south-looking strips as they are')
    p.add_argument('--rotate-when', type=int, default=1,
                   help='SAR_orientations flag that is rotated (default 1: south)')
    p.add_argument('--val-fraction', type=float, default=0.2)
    p.add_argument('--split-by', choices=['easting', 'random'], default='easting')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--max-nodata', type=float, default=0.5,
                   help='drop crops with a larger fraction of SAR nodata')
    p.add_argument('--on-unpaired', choices=['error', 'skip'], default='error')
    p.add_argument('--no-labels', action='store_true',
                   help='unlabelled input (test_public): no masks, one test split')
    p.add_argument('--no-optical', action='store_true', help='SAR only')
    p.add_argument('--buildings-csv', default=None)
    args = p.parse_args(argv)
    try:
        splits = convert(args.aoi, args.out, args.tile_size or None, args.stride,
                         not args.no_rotate, args.rotate_when, args.val_fraction,
                         args.split_by, args.seed, args.max_nodata, args.on_unpaired,
                         not args.no_labels,
                         optical_folder=None if args.no_optical else 'PS-RGB',
                         buildings_csv=args.buildings_csv)
    except (ConversionError, FileNotFoundError) as e:
        sys.exit(f'error: {e}')
    print(f'wrote {sum(map(len, splits.values()))} crops to {args.out}: '
          + ', '.join(f'{k} {len(v)}' for k, v in splits.items()))


if __name__ == '__main__':
    main()
