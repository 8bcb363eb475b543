"""A synthetic paired SAR/optical building benchmark (generated, not real data).

Every scene is drawn once as a map (land cover, building footprints and heights) and
rendered twice:

- **optical-like** (RGB, uint8): grass, bare soil, roads and tree crowns with texture;
  roofs in one of several materials (gabled roofs split in a lit and a darker half),
  each building casting a sun shadow; roofs sit exactly on their footprints;
- **SAR-like** (4 bands HH, HV, VH, VV, float32 linear intensity, as SpaceNet 6's
  SAR-Intensity tiles): the radar looks from one side at incidence angle θ, so a
  building of height h is imaged with **layover** (roof and sensor-facing wall
  displaced towards the sensor by h·cot θ, mixing with the ground there), a bright
  **double-bounce** line at the wall's foot, and a radar **shadow** of length h·tan θ
  behind it; surfaces scatter by type (roads are specular and dark, trees volume-
  scatter into the cross-polarised bands); then fully developed multiplicative
  **speckle** (Gamma, ``looks``), a noise floor and, in some tiles, a nodata wedge (0)
  at a strip edge. ``sar_cell`` > 1 images the scene with a coarser SAR resolution
  cell than the optical pixel (``sar_cell`` × ``sar_cell`` optical pixels, the
  backscatter averaged over the cell and one speckle draw per cell), resampled onto
  the shared grid: the SAR image then loses the building outlines the optical one
  keeps, as when a coarser SAR product is paired with a finer optical one.

The mask is the building footprint (class 1) on background (0), in the shared pixel
grid, so the optical image shows it directly and the SAR image only through layover,
shadow and bright edges: the gap distillation from optical features is meant to close.
Pixels belong to a footprint when their centre is inside its polygon (GDAL's rule).

:func:`make_synthetic_buildings` writes the ``PairedSegDataset`` folders layout
(``sar/*.tif``, ``optical/*.png``, ``masks/*.png``, ``splits/*.txt``) and
``footprints.csv`` (the polygons, pixel WKT). ``tools/misc/make_synthetic_buildings.py``
is its command line; ``spacenet6_miniature.py`` reuses the renderer to write real
GeoTIFFs in the SpaceNet 6 layout.
"""
import csv
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

GRASS, SOIL, ROAD, TREE = 0, 1, 2, 3
# roof materials (RGB): tiles, concrete, bright membrane, dark, copper
ROOF_COLOURS = np.array([[150, 60, 45], [120, 120, 125], [200, 200, 195], [70, 65, 70],
                         [165, 110, 70]], np.float32)
GROUND_COLOURS = {GRASS: (95, 125, 60), SOIL: (150, 125, 95), ROAD: (105, 105, 110),
                  TREE: (45, 80, 40)}
# ground backscatter (dB) and cross-pol ratio (linear) per land cover
SIGMA0_DB = {GRASS: -13.0, SOIL: -15.0, ROAD: -21.0, TREE: -8.0}
XPOL = {GRASS: 0.25, SOIL: 0.15, ROAD: 0.1, TREE: 0.55}


@dataclass
class Scene:
    """One scene's map: land cover, buildings (pixel polygons and heights)."""
    size: int
    cover: np.ndarray                      # H x W land cover
    polygons: List[np.ndarray] = field(default_factory=list)  # (4, 2) x, y corners
    heights: List[float] = field(default_factory=list)        # pixels
    roof: List[int] = field(default_factory=list)
    gabled: List[bool] = field(default_factory=list)
    angles: List[float] = field(default_factory=list)


def polygon_mask(poly: np.ndarray, size: int) -> np.ndarray:
    """Pixels whose centre lies inside the convex polygon ``poly`` ((k, 2) x, y)."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    inside = np.ones((size, size), bool)
    area = 0.0
    for i in range(len(poly)):
        x0, y0 = poly[i]
        x1, y1 = poly[(i + 1) % len(poly)]
        area += x0 * y1 - x1 * y0
    sign = 1.0 if area > 0 else -1.0
    for i in range(len(poly)):
        x0, y0 = poly[i]
        x1, y1 = poly[(i + 1) % len(poly)]
        inside &= sign * ((x1 - x0) * (ys - y0) - (y1 - y0) * (xs - x0)) > 0
    return inside


def _rect(cx, cy, w, h, angle) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]], np.float32) / 2
    return corners @ np.array([[c, s], [-s, c]], np.float32) + [cx, cy]


def _smooth_noise(rng, size, scale, amp):
    n = rng.standard_normal((max(2, size // scale), ) * 2).astype(np.float32)
    return cv2.resize(n, (size, size), interpolation=cv2.INTER_CUBIC) * amp


def _draw_roads(rng: np.random.Generator, cover: np.ndarray) -> None:
    """One or two straight road bands across ``cover``, in place."""
    size = cover.shape[0]
    for _ in range(rng.integers(1, 3)):
        w = int(rng.integers(max(3, size // 32), max(4, size // 16) + 1))
        p = int(rng.integers(0, size - w))
        if rng.random() < 0.5:
            cover[p:p + w] = ROAD
        else:
            cover[:, p:p + w] = ROAD


def _place_buildings(rng: np.random.Generator, scene: Scene, n: int,
                     occupied: np.ndarray) -> None:
    """Add up to ``n`` rotated rectangles to ``scene``, each kept 2 px clear of roads and
    of the others (``occupied``, updated in place); a draw that does not fit is retried,
    ``20 n`` draws at most."""
    size = scene.size
    for _ in range(n * 20):
        if len(scene.polygons) >= n:
            break
        w = rng.uniform(0.07, 0.2) * size
        h = rng.uniform(0.07, 0.2) * size
        angle = 0.0 if rng.random() < 0.5 else rng.uniform(-0.5, 0.5)
        cx, cy = rng.uniform(0.1, 0.9, 2) * size
        poly = _rect(cx, cy, w, h, angle)
        m = polygon_mask(poly, size)
        if m.sum() < 12:
            continue
        grown = cv2.dilate(m.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        if (grown & occupied).any():
            continue
        occupied |= grown
        scene.polygons.append(poly)
        scene.heights.append(float(rng.uniform(0.02, 0.09) * size))
        scene.roof.append(int(rng.integers(len(ROOF_COLOURS))))
        scene.gabled.append(bool(rng.random() < 0.5))
        scene.angles.append(float(angle))


def _plant_trees(rng: np.random.Generator, cover: np.ndarray, occupied: np.ndarray) -> None:
    """Tree crowns (discs) on ``cover``, in place, not on buildings or roads."""
    size = cover.shape[0]
    for _ in range(rng.integers(2, 8)):
        r = rng.uniform(0.02, 0.06) * size
        cx, cy = rng.uniform(0, size, 2)
        ys, xs = np.mgrid[0:size, 0:size]
        crown = (xs + 0.5 - cx)**2 + (ys + 0.5 - cy)**2 < r * r
        cover[crown & ~occupied] = TREE


def draw_scene(rng: np.random.Generator, size: int = 128,
               buildings: Tuple[int, int] = (3, 9)) -> Scene:
    """Draw land cover and non-overlapping buildings (rotated rectangles)."""
    cover = np.where(_smooth_noise(rng, size, 24, 1.0) > 0.4, SOIL, GRASS).astype(np.uint8)
    _draw_roads(rng, cover)
    scene = Scene(size=size, cover=cover)
    occupied = cover == ROAD
    n = int(rng.integers(buildings[0], buildings[1] + 1))
    _place_buildings(rng, scene, n, occupied)
    _plant_trees(rng, cover, occupied)
    return scene


def footprint_mask(scene: Scene) -> np.ndarray:
    mask = np.zeros((scene.size, scene.size), np.uint8)
    for poly in scene.polygons:
        mask[polygon_mask(poly, scene.size)] = 1
    return mask


def render_optical(scene: Scene, rng: np.random.Generator,
                   sun_shift: Tuple[float, float] = (0.6, 0.8)) -> np.ndarray:
    """RGB uint8 rendering with textures, roofs and sun shadows."""
    s = scene.size
    img = np.zeros((s, s, 3), np.float32)
    for c, rgb in GROUND_COLOURS.items():
        img[scene.cover == c] = rgb
    tex = _smooth_noise(rng, s, 4, 10) + rng.normal(0, 6, (s, s))
    img += tex[..., None]
    tree = scene.cover == TREE
    img[tree] += (_smooth_noise(rng, s, 2, 18) - 6)[tree, None]
    shadow = np.zeros((s, s), bool)
    roofs = np.zeros((s, s), bool)
    for poly, h in zip(scene.polygons, scene.heights):
        shadow |= polygon_mask(poly + np.array(sun_shift) * h * 0.6, s)
    for poly, h, r, gab, ang in zip(scene.polygons, scene.heights, scene.roof,
                                    scene.gabled, scene.angles):
        m = polygon_mask(poly, s)
        roofs |= m
        colour = ROOF_COLOURS[r] * rng.uniform(0.85, 1.15)
        img[m] = colour + rng.normal(0, 4, (m.sum(), 3))
        if gab:  # a ridge along the long axis: one half lit, one in shade
            c = poly.mean(0)
            d = poly[1] - poly[0] if np.linalg.norm(poly[1] - poly[0]) >= np.linalg.norm(
                poly[2] - poly[1]) else poly[2] - poly[1]
            ys, xs = np.mgrid[0:s, 0:s] + 0.5
            side = (xs - c[0]) * d[1] - (ys - c[1]) * d[0] > 0
            img[m & side] *= 0.75
        edge = m & ~cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        img[edge] *= 0.85
    img[shadow & ~roofs] *= 0.45
    img = cv2.GaussianBlur(img, (3, 3), 0.6)
    return np.clip(img, 0, 255).astype(np.uint8)


def _image_building(rng: np.random.Generator, m: np.ndarray, dc: float, dt: float,
                    sigma: np.ndarray, xpol: np.ndarray, hh_vv: np.ndarray) -> None:
    """Add one building (footprint ``m``, sensor on the left) to the backscatter maps, in
    place, row by row: radar shadow, layover of wall and roof displaced towards the
    sensor by ``dc`` = h·cot θ, the double bounce at the wall's foot; ``dt`` = h·tan θ
    is the shadow's length past the far wall."""
    s = m.shape[1]
    roof_sigma = 10**(rng.uniform(-12, -6) / 10)
    wall_sigma = 10**(-7 / 10)
    for y in np.nonzero(m.any(1))[0]:
        xs = np.nonzero(m[y])[0]
        x0, x1 = xs.min(), xs.max()
        lo = int(round(x0 - dc))
        # radar shadow: behind the displaced roof to h*tan(theta) past the far wall
        a, b = max(int(round(x1 - dc)) + 1, 0), min(int(round(x1 + dt)) + 1, s)
        sigma[y, a:b] = 10**(-24 / 10)
        xpol[y, a:b] = 0.5
        # layover: the sensor-facing wall, then the roof, shifted towards the sensor
        a, b = max(lo, 0), max(min(x0, s), 0)
        sigma[y, a:b] += wall_sigma
        a, b = max(lo, 0), max(min(int(round(x1 - dc)) + 1, s), 0)
        sigma[y, a:b] += roof_sigma
        xpol[y, a:b] = 0.2
        # double bounce at the foot of the wall (ground-wall dihedral): very bright
        a, b = max(x0 - 1, 0), min(x0 + 1, s)
        sigma[y, a:b] += 10**(rng.uniform(3, 8) / 10)
        xpol[y, a:b] = 0.05
        hh_vv[y, a:b] = 2.0


def _speckle(rng: np.random.Generator, bands: List[np.ndarray], looks: float,
             sar_cell: int) -> List[np.ndarray]:
    """The four bands averaged over ``sar_cell`` cells, speckled once per cell (HV and VH
    share one draw: reciprocity), resampled to the grid, plus the noise floor."""
    s = bands[0].shape[0]
    c = s // sar_cell  # resolution cells per side: average, speckle, resample
    if sar_cell > 1:
        bands = [b.reshape(c, sar_cell, c, sar_cell).mean((1, 3)) for b in bands]
    speckle_x = rng.gamma(looks, 1 / looks, (c, c))   # HV and VH: reciprocal, shared
    out = []
    for i, b in enumerate(bands):
        n = speckle_x if i in (1, 2) else rng.gamma(looks, 1 / looks, (c, c))
        b = b * n
        if sar_cell > 1:
            b = np.kron(b, np.ones((sar_cell, sar_cell), np.float32))
        out.append(b + 10**(-27 / 10) * rng.exponential(1.0, (s, s)))
    return out


def render_sar(scene: Scene, rng: np.random.Generator, look: str = 'west',
               incidence_deg: float = 35.0, looks: float = 2.0,
               nodata_prob: float = 0.1, sar_cell: int = 1) -> np.ndarray:
    """``H x W x 4`` float32 linear intensity (HH, HV, VH, VV) seen from ``look``.

    ``sar_cell``: the SAR resolution cell in pixels of the (optical) grid; the
    intensities are averaged over each ``sar_cell`` × ``sar_cell`` cell, speckled once
    per cell and resampled back to the grid (nearest), so the returned image keeps the
    grid's size. The scene side must be a multiple of ``sar_cell``.
    """
    if sar_cell < 1 or scene.size % sar_cell:
        raise ValueError(f'render_sar: sar_cell={sar_cell} must be >= 1 and divide the '
                         f'scene side {scene.size}')
    k = {'west': 0, 'north': 1, 'east': 2, 'south': 3}[look]
    # render with the sensor on the left (west): rotate the map so ``look`` is west
    s = scene.size
    rot = lambda a: np.rot90(a, k)  # noqa: E731  (counter-clockwise quarter turns)
    cover = rot(scene.cover)
    theta = np.deg2rad(incidence_deg)
    cot, tan = 1 / np.tan(theta), np.tan(theta)
    db = np.vectorize(SIGMA0_DB.get)(cover).astype(np.float32)
    sigma = 10**(db / 10) * np.exp(_smooth_noise(rng, s, 8, 0.25))
    xpol = np.vectorize(XPOL.get)(cover).astype(np.float32)
    hh_vv = np.ones((s, s), np.float32)          # HH / VV ratio
    for poly, h in zip(scene.polygons, scene.heights):
        _image_building(rng, rot(polygon_mask(poly, s)), h * cot, h * tan, sigma, xpol,
                        hh_vv)
    sigma = cv2.GaussianBlur(sigma, (3, 3), 0.5)
    co = sigma
    bands = [co * np.sqrt(hh_vv), co * xpol, co * xpol, co / np.sqrt(hh_vv)]
    out = _speckle(rng, bands, looks, sar_cell)
    sar = np.stack([np.rot90(b, -k) for b in out], -1).astype(np.float32)
    if rng.random() < nodata_prob:  # strip edge: a wedge without data
        ys, xs = np.mgrid[0:s, 0:s]
        sar[xs + ys * rng.uniform(0.2, 1.0) < rng.uniform(0.1, 0.4) * s] = 0
    return np.ascontiguousarray(sar)


def polygon_wkt(poly: np.ndarray) -> str:
    pts = [f'{x:.3f} {y:.3f} 0' for x, y in list(poly) + [poly[0]]]
    return f'POLYGON (({", ".join(pts)}))'


def make_synthetic_buildings(root: str, num_train: int = 160, num_val: int = 40,
                             num_test: int = 40, size: int = 128, seed: int = 0,
                             look: str = 'west', looks: float = 2.0,
                             overwrite: bool = False, sar_cell: int = 1,
                             num_labelled: Optional[int] = None) -> str:
    """Write the synthetic benchmark in the ``PairedSegDataset`` folders layout.

    ``sar_cell`` > 1: a coarser SAR resolution cell than the optical pixel (see
    :func:`render_sar`).

    ``num_labelled``: only the first ``num_labelled`` training scenes keep their
    footprint mask; every other training scene's mask is 255 everywhere (mmseg's
    ignore index: a SAR/optical pair without labels, as in a partly annotated
    archive), and ``splits/train_labelled.txt`` lists the labelled ones. The images
    are those of the fully labelled data with the same seed; validation and test
    masks stay complete.

    Returns ``root``. Deterministic given ``seed``; existing complete data with the
    same settings is reused unless ``overwrite``.
    """
    settings = dict(num_train=num_train, num_val=num_val, num_test=num_test, size=size,
                    seed=seed, look=look, looks=looks, version=1)
    if sar_cell != 1:  # (absent at 1: data written before the option stays valid)
        settings['sar_cell'] = sar_cell
    if num_labelled is not None:
        if not 0 < num_labelled <= num_train:
            raise ValueError(f'num_labelled={num_labelled}: between 1 and num_train '
                             f'({num_train})')
        settings['num_labelled'] = num_labelled
    stamp = osp.join(root, 'synthetic_buildings.json')
    if not overwrite and osp.isfile(stamp):
        with open(stamp) as f:
            if json.load(f) == settings:
                return root
    for d in ('sar', 'optical', 'masks', 'splits'):
        os.makedirs(osp.join(root, d), exist_ok=True)
    rng = np.random.default_rng(seed)
    splits: Dict[str, List[str]] = {}
    rows = []
    counts = dict(train=num_train, val=num_val, test=num_test)
    for split, n in counts.items():
        for i in range(n):
            sid = f'{split}_{i:04d}'
            scene = draw_scene(rng, size)
            labelled = not (split == 'train' and num_labelled is not None and
                            i >= num_labelled)
            _write_sample(root, sid, scene, rng, look, looks, sar_cell, labelled)
            splits.setdefault(split, []).append(sid)
            if split == 'train' and num_labelled is not None and labelled:
                splits.setdefault('train_labelled', []).append(sid)
            for j, (poly, h) in enumerate(zip(scene.polygons, scene.heights)):
                rows.append([sid, j, polygon_wkt(poly), f'{h:.2f}'])
    _write_index(root, splits, rows, settings)
    with open(stamp, 'w') as f:
        json.dump(settings, f)
    return root


def _write_sample(root: str, sid: str, scene: Scene, rng: np.random.Generator, look: str,
                  looks: float, sar_cell: int, labelled: bool = True) -> None:
    """``sar/<sid>.tif`` (4 bands, planar), ``optical/<sid>.png``, ``masks/<sid>.png``
    (255 everywhere, the ignore index, where not ``labelled``)."""
    import tifffile
    tifffile.imwrite(osp.join(root, 'sar', sid + '.tif'),
                     np.moveaxis(render_sar(scene, rng, look, looks=looks,
                                            sar_cell=sar_cell), -1, 0),
                     photometric='minisblack', planarconfig='separate')
    cv2.imwrite(osp.join(root, 'optical', sid + '.png'),
                render_optical(scene, rng)[..., ::-1])  # cv2 writes BGR
    mask = footprint_mask(scene)
    cv2.imwrite(osp.join(root, 'masks', sid + '.png'),
                mask if labelled else np.full_like(mask, 255))


def _write_index(root: str, splits: Dict[str, List[str]], rows: List[list],
                 settings: dict) -> None:
    """``splits/<split>.txt``, ``footprints.csv`` and the README saying it is synthetic."""
    for split, ids in splits.items():
        with open(osp.join(root, 'splits', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(ids) + '\n')
    with open(osp.join(root, 'footprints.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['ImageId', 'BuildingId', 'PolygonWKT_Pix', 'Height_px'])
        w.writerows(rows)
    with open(osp.join(root, 'README.txt'), 'w') as f:
        f.write('SYNTHETIC paired SAR/optical building benchmark generated by '
                'mmkd.testing.synthetic_buildings (not real imagery).\n'
                f'settings: {settings}\n')
