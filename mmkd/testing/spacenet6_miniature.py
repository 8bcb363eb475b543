"""A SYNTHETIC miniature of the SpaceNet 6 (MSAW, Rotterdam) training layout.

SpaceNet 6 cannot be downloaded here, so the layout code is tested on tiles written as
the real distribution has them: SAR-Intensity 4-band (HH, HV, VH, VV) float32 GeoTIFFs
and PS-RGB 3-band uint8 GeoTIFFs on a UTM grid (EPSG:32631, 0.5 m pixels), the
``SummaryData/SN6_Train_AOI_11_Rotterdam_Buildings.csv`` footprint table (pixel WKT
per building, ``POLYGON EMPTY`` for tiles without any) and
``SummaryData/SAR_orientations.txt``. The imagery itself is the synthetic renderer's
(``synthetic_buildings.py``), with layover towards the strip's sensor side (north for
flag 0, south for flag 1), so an orientation-aligned tile looks like the others.
Every file name, band count, dtype and column is real; the pixels are not.
"""
import csv
import os
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np

from .synthetic_buildings import draw_scene, polygon_wkt, render_optical, render_sar

PREFIX = 'SN6_Train_AOI_11_Rotterdam'
STRIPS = ('20190804111224_20190804111453', '20190823162315_20190823162606')


def _write_geotiff(path: str, data: np.ndarray, x0: float, y0: float, res: float,
                   nodata: Optional[float] = None) -> None:
    import rasterio
    from rasterio.transform import from_origin
    bands, h, w = data.shape
    profile = dict(driver='GTiff', height=h, width=w, count=bands, dtype=data.dtype.name,
                   crs='EPSG:32631', transform=from_origin(x0, y0, res, res))
    if nodata is not None:
        profile['nodata'] = nodata
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data)


def make_spacenet6_miniature(root: str, num_tiles: int = 4, size: int = 64,
                             seed: int = 0, orientations: Sequence[int] = (0, 1),
                             optical_scale: int = 1, empty_tiles: int = 1,
                             split: str = 'Train') -> str:
    """Write ``<root>/AOI_11_Rotterdam`` and return its path.

    Args:
        num_tiles: Tiles to write, alternating between two strips.
        size: SAR tile size in pixels (the real tiles are 900).
        orientations: Look direction flag of each strip (0 north, 1 south).
        optical_scale: Write PS-RGB at this many times the SAR resolution (same
            extent), to exercise the converter's resampling; 1 = the same grid.
        empty_tiles: How many of the tiles have no building (``POLYGON EMPTY``).
    """
    aoi = osp.join(root, 'AOI_11_Rotterdam')
    for d in ('SAR-Intensity', 'PS-RGB', 'SummaryData'):
        os.makedirs(osp.join(aoi, d), exist_ok=True)
    rng = np.random.default_rng(seed)
    rows: List[list] = []
    for n in range(num_tiles):
        rows += _write_tile(aoi, n, rng, size, orientations[n % 2], optical_scale,
                            empty=n < empty_tiles)
    _write_summary(aoi, rows, orientations)
    return aoi


def _write_tile(aoi: str, n: int, rng: np.random.Generator, size: int, flag: int,
                optical_scale: int, empty: bool, res: float = 0.5) -> List[list]:
    """Tile ``n``'s SAR-Intensity and PS-RGB GeoTIFFs (side by side on the UTM grid,
    ``res`` m pixels); returns its rows of the footprint table."""
    strip = STRIPS[n % 2]
    image_id = f'{strip}_tile_{7000 + n}'
    scene = draw_scene(rng, size, buildings=(0, 0) if empty else (2, 5))
    sar = render_sar(scene, rng, look='north' if flag == 0 else 'south', nodata_prob=0.0)
    opt = render_optical(scene, rng)
    if optical_scale != 1:
        import cv2
        opt = cv2.resize(opt, (size * optical_scale, size * optical_scale),
                         interpolation=cv2.INTER_LINEAR)
    x0, y0 = 595000.0 + n * size * res, 5750000.0
    sar_name = f'{PREFIX}_SAR-Intensity_{image_id}.tif'
    _write_geotiff(osp.join(aoi, 'SAR-Intensity', sar_name), np.moveaxis(sar, -1, 0),
                   x0, y0, res, nodata=0.0)
    _write_geotiff(osp.join(aoi, 'PS-RGB', f'{PREFIX}_PS-RGB_{image_id}.tif'),
                   np.moveaxis(opt, -1, 0), x0, y0, res / optical_scale)
    if not scene.polygons:
        return [[image_id, 0, 'POLYGON EMPTY', 0, 0, 0]]
    rows = []
    for j, (poly, h) in enumerate(zip(scene.polygons, scene.heights)):
        metres = h * res
        rows.append([image_id, j + 1, polygon_wkt(poly), f'{metres:.2f}', f'{metres:.2f}',
                     '0.0'])
    return rows


def _write_summary(aoi: str, rows: List[list], orientations: Sequence[int]) -> None:
    """``SummaryData/`` (the footprint CSV, ``SAR_orientations.txt``) and the README that
    says the miniature is synthetic."""
    with open(osp.join(aoi, 'SummaryData', f'{PREFIX}_Buildings.csv'), 'w',
              newline='') as f:
        w = csv.writer(f)
        w.writerow(['ImageId', 'TileBuildingId', 'PolygonWKT_Pix', 'Mean_Building_Height',
                    'Median_Building_Height', 'StdDev_Building_Height'])
        w.writerows(rows)
    with open(osp.join(aoi, 'SummaryData', 'SAR_orientations.txt'), 'w') as f:
        for strip, flag in zip(STRIPS, orientations):
            f.write(f'{strip} {flag}\n')
    with open(osp.join(aoi, 'README_SYNTHETIC.txt'), 'w') as f:
        f.write('SYNTHETIC miniature of the SpaceNet 6 layout written by mmkd for tests; '
                'not SpaceNet data.\n')
