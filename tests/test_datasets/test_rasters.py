"""Rasters as remote-sensing users have them: separate band files, georeferenced pairing
(two CRSs, overlapping and disjoint footprints, acquisition dates), nodata, NaN and dB
input. Every fixture is a real GeoTIFF written here with rasterio."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmkd.datasets import PairedClsDataset, PairedSegDataset, UnpairedSampleError
from mmkd.datasets.band_files import MissingBandError
from mmkd.datasets.georef import GeoreferenceError
from mmkd.datasets.transforms import LoadMultiModalImages, LoadSegMask, SARIntensityScale
from mmkd.datasets.transforms.loading import InvalidPixelsError, SARUnitError

rasterio = pytest.importorskip('rasterio')
from rasterio.transform import from_origin  # noqa: E402
from rasterio.warp import transform as warp_transform  # noqa: E402
from rasterio.warp import transform_bounds  # noqa: E402

UTM = 'EPSG:32631'  # UTM 31N, metres
X0, Y0 = 500000., 5600000.  # about 3.0 E, 50.5 N


def write_tif(path, data, crs=UTM, transform=None, nodata=None, tags=None):
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    os.makedirs(osp.dirname(path), exist_ok=True)
    profile = dict(driver='GTiff', height=data.shape[1], width=data.shape[2],
                   count=data.shape[0], dtype=data.dtype.name, crs=crs,
                   transform=transform or from_origin(X0, Y0, 10, 10))
    if nodata is not None:
        profile['nodata'] = nodata
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data)
        if tags:
            dst.update_tags(**tags)
    return path


def load(info, **kw):
    return LoadMultiModalImages(**kw)(dict(info))


def cls(root, **kw):
    return PairedClsDataset(data_root=str(root), **kw)


# ---------------------------------------------------------------- band files
def test_band_folders_stack_in_the_order_given(tmp_path):
    os.makedirs(tmp_path / 'EO')
    for i in range(3):
        write_tif(str(tmp_path / f'S1/vv/{i}.tif'), np.full((8, 8), 10 + i, np.float32))
        write_tif(str(tmp_path / f'S1/vh/{i}.tif'), np.full((8, 8), 20 + i, np.float32))
        cv2.imwrite(str(tmp_path / f'EO/{i}.png'), np.full((8, 8, 3), i, np.uint8))
    # the config, a bare TypeError before
    ds = cls(tmp_path, modalities=('sar', 'eo'), folders=dict(sar=['S1/vv', 'S1/vh'],
                                                            eo='EO'))
    assert len(ds) == 3
    info = ds.get_data_info(2)
    assert [osp.relpath(p, tmp_path) for p in info['img_path']['sar']] == \
        ['S1/vv/2.tif', 'S1/vh/2.tif']
    sar = load(info, channels=dict(sar=2))['img']['sar']
    assert sar.shape == (8, 8, 2) and sar[0, 0].tolist() == [12., 22.]
    rev = cls(tmp_path, modalities=('sar', ), folders=dict(sar=['S1/vh', 'S1/vv']))
    assert load(rev.get_data_info(2))['img']['sar'][0, 0].tolist() == [22., 12.]
    # a missing band is named, never read with one band fewer
    os.remove(tmp_path / 'S1/vh/1.tif')
    with pytest.raises(MissingBandError, match=r"modality 'sar': band 'vh' \(no file "
                       r"with id '1' in '.*S1/vh'\) is missing; the sample has "
                       r".*S1/vv/1\.tif"):
        cls(tmp_path, modalities=('sar', 'eo'), folders=dict(sar=['S1/vv', 'S1/vh'],
                                                            eo='EO'))
    ds = cls(tmp_path, modalities=('sar', 'eo'), on_unpaired='skip',
             folders=dict(sar=['S1/vv', 'S1/vh'], eo='EO'))
    assert len(ds) == 2
    assert ds.skipped == {'sar (missing a band file)': 1, 'eo': 1}
    with pytest.raises(TypeError, match=r"folders\['sar'\] must be a folder"):
        cls(tmp_path, modalities=('sar', ), folders=dict(sar=3))


def test_band_pattern_stacks_bands_and_names_the_missing_file(tmp_path):
    for d, date in enumerate(('20200101', '20200111')):
        for band, value in (('02', 2), ('03', 3), ('04', 4)):
            write_tif(str(tmp_path / f'S2/T31UFU_{date}_B{band}.tif'),
                      np.full((6, 6), 100 * d + value, np.uint16))
    spec = dict(folder='S2', pattern=r'(?P<id>T31UFU_\d{8})_B{band}\.tif',
                bands=['04', '03', '02'])
    ds = cls(tmp_path, modalities=('eo', ), folders=dict(eo=spec))
    assert len(ds) == 2
    img = load(ds.get_data_info(1))['img']['eo']
    assert img.dtype == np.uint16 and img[3, 3].tolist() == [104, 103, 102]  # B4 B3 B2
    # without an id group, the name with its band left out is the sample
    ds = cls(tmp_path, modalities=('eo', ), folders=dict(eo=dict(
        spec, pattern=r'T31UFU_\d{8}_B{band}\.tif')))
    assert len(ds) == 2 and load(ds.get_data_info(0))['img']['eo'][0, 0].tolist() == \
        [4, 3, 2]
    os.remove(tmp_path / 'S2/T31UFU_20200111_B03.tif')
    with pytest.raises(MissingBandError, match=r"band file '.*S2/T31UFU_20200111_B03"
                       r"\.tif' is missing"):
        cls(tmp_path, modalities=('eo', ), folders=dict(eo=spec))
    with pytest.raises(ValueError, match=r'no \{band\} placeholder'):
        cls(tmp_path, modalities=('eo', ), folders=dict(eo=dict(spec, pattern='x')))


# ---------------------------------------------------------------- georeferenced pairing
def sar_tile(root, name, x0=X0, y0=Y0, size=32, res=10.):
    """Two band files (VV, VH) on a UTM grid; VV = 1000 + 100 row + col, VH = -VV."""
    r, c = np.mgrid[:size, :size]
    vv = (1000 + 100 * r + c).astype(np.float32)
    t = from_origin(x0, y0, res, res)
    write_tif(osp.join(root, 'S1/vv', name), vv, transform=t)
    write_tif(osp.join(root, 'S1/vh', name), -vv, transform=t)
    return vv


def eo_lonlat(root, name, sar_x0=X0, sar_y0=Y0, shift_lon=0., res=1e-4, pad=2e-3):
    """An EPSG:4326 tile around a SAR tile (or ``shift_lon`` degrees east of it):
    band 0 holds each pixel's column, band 1 its row."""
    left, bottom, right, top = transform_bounds(UTM, 'EPSG:4326', sar_x0, sar_y0 - 320,
                                                sar_x0 + 320, sar_y0)
    left, top = left - pad + shift_lon, top + pad
    w = int((right + pad + shift_lon - left) / res) + 1
    h = int((top - (bottom - pad)) / res) + 1
    r, c = np.mgrid[:h, :w].astype(np.float32)
    t = from_origin(left, top, res, res)
    write_tif(osp.join(root, 'S2', name), np.stack([c, r]), crs='EPSG:4326', transform=t)
    return t


def test_footprint_pairing_reprojects_across_crs_and_refuses_disjoint_tiles(tmp_path):
    root = str(tmp_path)
    vv = sar_tile(root, 'tile_1.tif')
    t = eo_lonlat(root, 'S2_scene_a.tif')           # covers tile_1, another name
    eo_lonlat(root, 'tile_1.tif', shift_lon=0.7)    # same name as the SAR, 50 km east
    kw = dict(modalities=('sar', 'eo'), folders=dict(sar=['S1/vv', 'S1/vh'], eo='S2'))
    ds = cls(root, pairing='footprint', **kw)
    assert len(ds) == 1
    info = ds.get_data_info(0)
    assert osp.basename(info['img_path']['eo']) == 'S2_scene_a.tif'
    assert info['overlap']['eo'] == 1.0
    res = load(info)
    sar, eo = res['img']['sar'], res['img']['eo']
    assert sar.shape == (32, 32, 2) and eo.shape == (32, 32, 2)
    np.testing.assert_array_equal(sar[..., 0], vv)        # the reference: its own pixels
    np.testing.assert_array_equal(sar[..., 1], -vv)
    # each EO value is the EO pixel coordinate of the SAR pixel centre (bilinear is
    # exact on it, up to GDAL's approximate transformer, 1/8 pixel)
    rows, cols = np.mgrid[:32, :32]
    lon, lat = warp_transform(UTM, 'EPSG:4326', (X0 + (cols.ravel() + .5) * 10).tolist(),
                              (Y0 - (rows.ravel() + .5) * 10).tolist())
    col_f = (np.array(lon) - t.c) / t.a - 0.5
    row_f = (t.f - np.array(lat)) / -t.e - 0.5
    np.testing.assert_allclose(eo[..., 0].ravel(), col_f, atol=0.15)
    np.testing.assert_allclose(eo[..., 1].ravel(), row_f, atol=0.15)
    # by name, the 50 km-away tile pairs silently; by footprint alone it is refused
    os.remove(osp.join(root, 'S2', 'S2_scene_a.tif'))
    assert osp.basename(cls(root, **kw).get_data_info(0)['img_path']['eo']) == \
        'tile_1.tif'
    with pytest.raises(UnpairedSampleError, match=r"tile_1\.tif \(sar\) has no eo partner "
                       r"by footprint: no file covers min_overlap=50% of its footprint; "
                       r"the nearest, .*S2/tile_1\.tif \(EPSG:4326\), covers 0% with "
                       r"its centre (4[89]|5[01])\.\d km away"):
        cls(root, pairing='footprint', **kw)
    eo_lonlat(root, 'S2_scene_a.tif')
    sar_tile(root, 'tile_2.tif', x0=X0 + 20000)     # 20 km east: no EO covers it
    ds = cls(root, pairing='footprint', on_unpaired='skip', **kw)
    assert len(ds) == 1 and ds.skipped == {'sar (no eo footprint partner)': 1}


def test_partial_overlap_is_cut_to_the_intersection_at_each_resolution(tmp_path):
    root = str(tmp_path)
    vv = sar_tile(root, 'a.tif')
    # a UTM optical tile at 20 m covering the east half of the SAR tile (and beyond)
    eo = (np.arange(16 * 12, dtype=np.float32).reshape(16, 12))
    write_tif(osp.join(root, 'S2/b.tif'), eo, transform=from_origin(X0 + 160, Y0, 20, 20))
    kw = dict(modalities=('sar', 'eo'), folders=dict(sar=['S1/vv', 'S1/vh'], eo='S2'))
    with pytest.raises(UnpairedSampleError, match='covers 50%'):
        cls(root, pairing=dict(by='footprint', min_overlap=0.6), **kw)
    ds = cls(root, pairing=dict(by='footprint', min_overlap=0.5,
                                resampling=dict(eo='nearest')), **kw)
    info = ds.get_data_info(0)
    assert info['geo_grid']['ref_window'] == (0, 16, 32, 16)
    res = load(info)
    np.testing.assert_array_equal(res['img']['sar'][..., 0], vv[:, 16:])
    # nearest onto 10 m pixels: every EO pixel of the east half, twice in each direction
    np.testing.assert_array_equal(res['img']['eo'][..., 0],
                                  np.repeat(np.repeat(eo[:, :8], 2, 0), 2, 1))
    # at its own 20 m pixel size: the EO pixels as stored, the SAR's at 10 m
    ds = cls(root, pairing=dict(by='footprint', resolution=dict(eo=20)), **kw)
    res = load(ds.get_data_info(0))
    assert res['img_shape'] == dict(sar=(32, 16), eo=(16, 8))
    np.testing.assert_array_equal(res['img']['eo'][..., 0], eo[:, :8])


def test_nearest_acquisition_date_within_a_tolerance(tmp_path):
    root = str(tmp_path)
    sar_tile(root, 'S1A_20200110.tif')
    for date in ('20200101', '20200112', '20200130'):
        eo_lonlat(root, f'S2B_{date}.tif')
    kw = dict(modalities=('sar', 'eo'), folders=dict(sar=['S1/vv', 'S1/vh'], eo='S2'),
              id_patterns=dict(sar=r'S1A_(?P<date>\d{8})\.tif', eo=r'S2B_(?P<date>\d{8})'))
    ds = cls(root, pairing=dict(by='footprint', max_days=3), **kw)
    info = ds.get_data_info(0)
    assert osp.basename(info['img_path']['eo']) == 'S2B_20200112.tif'
    assert info['acquisition_date'] == dict(sar='2020-01-10T00:00:00',
                                            eo='2020-01-12T00:00:00')
    with pytest.raises(UnpairedSampleError, match=r"nearest acquisition in time among "
                       r"the 3 overlapping file\(s\), .*S2B_20200112\.tif, is 2 days "
                       r"apart \(max_days=1; a larger pairing max_days accepts it\)"):
        cls(root, pairing=dict(by='footprint', max_days=1), **kw)
    # dates from the GeoTIFF tag when the names have none
    for f in os.listdir(osp.join(root, 'S2')):
        os.remove(osp.join(root, 'S2', f))
    for day in (3, 9):
        eo_lonlat(root, f'scene{day}.tif')
        with rasterio.open(osp.join(root, 'S2', f'scene{day}.tif'), 'r+') as dst:
            dst.update_tags(TIFFTAG_DATETIME=f'2020:01:{day:02d} 10:00:00')
    kw['id_patterns'] = dict(sar=kw['id_patterns']['sar'])
    info = cls(root, pairing=dict(by='footprint', max_days=3), **kw).get_data_info(0)
    assert osp.basename(info['img_path']['eo']) == 'scene9.tif'
    # a tolerance without dates is refused, naming the file
    os.remove(osp.join(root, 'S2', 'scene3.tif'))
    eo_lonlat(root, 'scene3.tif')
    with pytest.raises(GeoreferenceError, match=r'scene3\.tif \(eo\): no acquisition '
                       r'date, and pairing max_days=3 needs one'):
        cls(root, pairing=dict(by='footprint', max_days=3), **kw)


def test_segmentation_mask_follows_the_intersection(tmp_path):
    root = str(tmp_path)
    sar_tile(root, 'a.tif')
    write_tif(osp.join(root, 'S2/b.tif'), np.ones((16, 12), np.float32),
              transform=from_origin(X0 + 160, Y0, 20, 20))
    mask = (np.arange(32)[None, :] % 3 + np.zeros((32, 1), int)).astype(np.uint8)
    os.makedirs(osp.join(root, 'masks'))
    cv2.imwrite(osp.join(root, 'masks/a.png'), mask)
    ds = PairedSegDataset(modalities=('sar', 'eo'), data_root=root, mask_folder='masks',
                          folders=dict(sar=['S1/vv', 'S1/vh'], eo='S2'),
                          pairing='footprint')
    res = LoadSegMask()(load(ds.get_data_info(0)))
    np.testing.assert_array_equal(res['gt_seg_map'], mask[:, 16:])


def test_annotation_file_pairs_are_checked_and_aligned(tmp_path):
    root = str(tmp_path)
    sar_tile(root, 'a.tif')
    eo_lonlat(root, 'near.tif')
    eo_lonlat(root, 'far.tif', shift_lon=0.7)
    (tmp_path / 'ann.json').write_text(json.dumps([
        dict(sar=['S1/vv/a.tif', 'S1/vh/a.tif'], eo='S2/near.tif', label=0),
        dict(sar=['S1/vv/a.tif', 'S1/vh/a.tif'], eo='S2/far.tif', label=1)]))
    kw = dict(modalities=('sar', 'eo'), ann_file=str(tmp_path / 'ann.json'))
    with pytest.raises(UnpairedSampleError, match=r"ann\.json\[1\]: no file covers"):
        cls(root, pairing='footprint', **kw)
    ds = cls(root, pairing='footprint', on_unpaired='skip', **kw)
    assert len(ds) == 1 and ds.get_data_info(0)['gt_label'] == 0
    assert load(ds.get_data_info(0))['img']['eo'].shape == (32, 32, 2)


def test_footprint_pairing_needs_a_crs(tmp_path):
    root = str(tmp_path)
    sar_tile(root, 'a.tif')
    os.makedirs(osp.join(root, 'EO'))
    cv2.imwrite(osp.join(root, 'EO/a.png'), np.zeros((8, 8), np.uint8))
    with pytest.raises(GeoreferenceError, match=r"EO/a\.png \(eo\) has no georeference "
                       r"\(CRS\)"):
        cls(root, modalities=('sar', 'eo'), pairing='footprint',
            folders=dict(sar=['S1/vv', 'S1/vh'], eo='EO'))


# ---------------------------------------------------------------- nodata, NaN, units
def test_nan_pixels_are_named_with_their_fraction_and_handled(tmp_path):
    data = np.ones((10, 10), np.float32)
    data[0, :7] = np.nan
    data[1, 0] = np.inf
    path = write_tif(str(tmp_path / 'sar.tif'), data)
    info = dict(img_path=dict(sar=path))
    with pytest.raises(InvalidPixelsError, match=r"sar\.tif \(sar\): 8 % of pixels \(8 "
                       r"of 100\) are NaN or infinite; set LoadMultiModalImages\("
                       r"on_nonfinite=\.\.\.\)"):
        load(info)
    filled = load(info, on_nonfinite='fill', fill_value=-1)['img']['sar'][..., 0]
    assert (filled == -1).sum() == 8 and np.isfinite(filled).all()
    res = load(info, on_nonfinite='mask')
    assert res['invalid_masks']['sar'].sum() == 8 and res['invalid_masks']['sar'][1, 0]
    assert res['img']['sar'][0, 0, 0] == 0
    transform = LoadMultiModalImages(on_nonfinite='skip')
    assert transform(dict(info)) is None and list(transform.skipped) == [path]
    # skipped in training: the dataset draws another sample
    os.makedirs(tmp_path / 'SAR')
    os.replace(path, tmp_path / 'SAR/bad.tif')
    write_tif(str(tmp_path / 'SAR/good.tif'), np.ones((10, 10), np.float32))
    ds = cls(tmp_path, modalities=('sar', ), folders=dict(sar='SAR'), pipeline=[
        dict(type='mmkd.LoadMultiModalImages', on_nonfinite='skip')])
    assert [osp.basename(ds.get_data_info(i)['img_path']['sar']) for i in (0, 1)] == \
        ['bad.tif', 'good.tif']
    assert osp.basename(ds[0]['img_path']['sar']) == 'good.tif'
    path = write_tif(str(tmp_path / 'sar.tif'), data)
    # band files: the file with the bad pixels is the one named
    good = write_tif(str(tmp_path / 'vv.tif'), np.ones((10, 10), np.float32))
    with pytest.raises(InvalidPixelsError, match=r"^.*/sar\.tif \(sar\): 8 %"):
        load(dict(img_path=dict(sar=[good, path])))
    # NaN that reach SARIntensityScale are refused, naming the file
    with pytest.raises(InvalidPixelsError, match=r"'sar' image .*sar\.tif has 8 NaN"):
        SARIntensityScale(clip=(-25, 5))(dict(img=dict(sar=data[..., None]),
                                              img_path=dict(sar=path)))


def test_nodata_from_the_file_or_the_config(tmp_path):
    data = np.full((10, 10), 5, np.int16)
    data[:, :3] = -9999
    path = write_tif(str(tmp_path / 'sar.tif'), data, nodata=-9999)
    info = dict(img_path=dict(sar=path))
    kept = load(info)['img']['sar'][..., 0]   # default: as stored
    np.testing.assert_array_equal(kept, data)
    with pytest.raises(InvalidPixelsError, match=r"sar\.tif \(sar\): 30 % of pixels "
                       r"\(30 of 100\) are nodata"):
        load(info, nodata='raise')
    assert (load(info, nodata='fill')['img']['sar'][..., 0] == 0).sum() == 30
    # resampled onto another grid (half a pixel west), the file's nodata stays nodata
    from mmkd.datasets.transforms.loading import read_raster
    grid = dict(crs=rasterio.crs.CRS.from_string(UTM).to_wkt(), shape=(10, 10),
                bounds=(X0 - 5, Y0 - 100, X0 + 95, Y0))
    img, nodata, _ = read_raster(path, grid=grid)
    assert nodata[:, :3].all() and not nodata[:, 4:].any()
    assert (img[..., 0][nodata] == -9999).all() and (img[:, 4:] == 5).all()
    png = str(tmp_path / 'eo.png')
    img = np.full((4, 4), 7, np.uint8)
    img[0] = 0
    cv2.imwrite(png, img)
    res = load(dict(img_path=dict(eo=png)), nodata='mask', nodata_value=0)
    assert res['invalid_masks']['eo'][0].all() and res['invalid_masks']['eo'].sum() == 4
    # masked pixels leave the segmentation loss: ignore index 255
    sar = np.ones((8, 8), np.float32)
    sar[2:4, 2:4] = np.nan
    mpath = str(tmp_path / 'm.png')
    cv2.imwrite(mpath, np.ones((8, 8), np.uint8))
    res = load(dict(img_path=dict(sar=write_tif(str(tmp_path / 's.tif'), sar)),
                    seg_map_path=mpath, ref_modality='sar'), on_nonfinite='mask')
    seg = LoadSegMask()(res)['gt_seg_map']
    assert (seg == 255).sum() == 4 and seg[2, 2] == 255 and seg[0, 0] == 1


def test_db_input_in_db_mode_is_refused_with_the_mode_to_use(tmp_path):
    rng = np.random.default_rng(0)
    db = rng.uniform(-25, 3, (16, 16)).astype(np.float32)
    path = write_tif(str(tmp_path / 'sigma0_db.tif'), db)
    res = load(dict(img_path=dict(sar=path)))
    neg = f'{100 * (db < 0).mean():.3g}'
    with pytest.raises(SARUnitError, match=r"SARIntensityScale\(mode='db'\): the 'sar' "
                       r"image .*sigma0_db\.tif looks already in dB: " + neg + r" % of "
                       r"its pixels are negative .* use mode='linear' with clip in dB"):
        SARIntensityScale(mode='db', clip=(-25, 5))(dict(res))
    # what the message advises gives what dB mode gives on the linear intensity
    out = SARIntensityScale(mode='linear', clip=(-25, 5))(dict(res))['img']['sar']
    ref = SARIntensityScale(mode='db', clip=(-25, 5)).scale(10 ** (db[..., None] / 10))
    np.testing.assert_allclose(out, ref, atol=1e-3)
    assert 0 < out.min() and out.max() < 255  # not all at the clip floor


def test_coco_modality_of_band_files(tmp_path):
    from mmengine.registry import init_default_scope

    from mmkd.datasets import PairedCocoDataset
    init_default_scope('mmdet')
    root = str(tmp_path)
    os.makedirs(osp.join(root, 'optical'))
    for i in range(2):
        write_tif(osp.join(root, 'vv', f'{i}.tif'), np.full((20, 30), 1 + i, np.float32))
        write_tif(osp.join(root, 'vh', f'{i}.tif'), np.full((20, 30), 5 + i, np.float32))
        cv2.imwrite(osp.join(root, 'optical', f'{i}.tif'), np.zeros((20, 30, 3), np.uint8))
    os.remove(osp.join(root, 'vh', '1.tif'))
    coco = dict(images=[dict(id=i, file_name=f'{i}.tif', width=30, height=20)
                        for i in range(2)],
                annotations=[dict(id=i, image_id=i, category_id=1, bbox=[2, 2, 8, 8],
                                  area=64, iscrowd=0) for i in range(2)],
                categories=[dict(id=1, name='ship')])
    (tmp_path / 'ann.json').write_text(json.dumps(coco))
    kw = dict(data_root=root, ann_file='ann.json',
              modalities=dict(sar=['vv/{}', 'vh/{}'], optical='optical/'))
    with pytest.raises(UnpairedSampleError, match=r"optical/1\.tif \(optical\) has no "
                       r"sar partner: .*vh/1\.tif does not exist"):
        PairedCocoDataset(**kw)
    ds = PairedCocoDataset(on_unpaired='skip', **kw)
    assert len(ds) == 1
    sar = load(ds.get_data_info(0))['img']['sar']
    assert sar.shape == (20, 30, 2) and sar[0, 0].tolist() == [1., 5.]


# ---------------------------------------------------------------- detection by footprint
def coco_file(path, names, size=32, boxes=((2, 2, 8, 8), (20, 4, 6, 6))):
    coco = dict(images=[dict(id=i, file_name=n, width=size, height=size)
                        for i, n in enumerate(names)],
                annotations=[dict(id=10 * i + j, image_id=i, category_id=1,
                                  bbox=list(b), area=b[2] * b[3], iscrowd=0)
                             for i in range(len(names)) for j, b in enumerate(boxes)],
                categories=[dict(id=1, name='ship')])
    with open(path, 'w') as f:
        json.dump(coco, f)
    return path


def coco(root, **kw):
    from mmengine.registry import init_default_scope

    from mmkd.datasets import PairedCocoDataset
    init_default_scope('mmdet')
    kw.setdefault('ann_file', 'ann.json')
    return PairedCocoDataset(data_root=str(root), ref_modality='sar', **kw)


def test_coco_partner_found_by_footprint_and_date(tmp_path):
    """SAR chips with boxes, optical scenes of other names and CRS: each chip takes the
    overlapping scene nearest in date; the chip's boxes and pixels stay as they are."""
    root = str(tmp_path)
    for name, x0 in (('S1A_20200110_a.tif', X0), ('S1A_20200110_b.tif', X0 + 20000)):
        r, c = np.mgrid[:32, :32]
        write_tif(osp.join(root, 'sar', name), (100 * r + c).astype(np.float32),
                  transform=from_origin(x0, Y0, 10, 10))
    for date in ('20200101', '20200112'):
        eo_lonlat(root, f'S2B_{date}.tif')
    coco_file(osp.join(root, 'ann.json'), ['S1A_20200110_a.tif', 'S1A_20200110_b.tif'])
    kw = dict(modalities=dict(sar='sar/{}', eo=dict(folder='S2')),
              date_patterns=dict(sar=r'S1A_(?P<date>\d{8})', eo=r'S2B_(?P<date>\d{8})'),
              pairing=dict(by='footprint', max_days=3))
    with pytest.raises(UnpairedSampleError, match=r"S1A_20200110_b\.tif \(sar, image 1 "
                       r"of .*ann\.json\) has no eo partner by footprint: no file covers "
                       r"min_overlap=50% .* (19\.\d|20(\.\d)?) km away; .*on_unpaired='skip'"):
        coco(root, **kw)
    ds = coco(root, on_unpaired='skip', **kw)
    assert len(ds) == 1 and ds.notes == {
        'image(s) without a eo footprint partner skipped': 1}
    info = ds.get_data_info(0)
    assert osp.basename(info['img_path']['eo']) == 'S2B_20200112.tif'
    assert info['acquisition_date']['eo'] == '2020-01-12T00:00:00'
    assert info['geo_grid']['ref_window'] == (0, 0, 32, 32)  # the whole chip
    assert [i['bbox'] for i in info['instances']] == [[2, 2, 10, 10], [20, 4, 26, 10]]
    res = load(info)
    np.testing.assert_array_equal(res['img']['sar'][..., 0],
                                  (100 * np.mgrid[:32, :32][0] + np.mgrid[:32, :32][1]))
    assert res['img']['eo'].shape == (32, 32, 2)
    with pytest.raises(UnpairedSampleError, match=r'S2B_20200112\.tif, is 2 days apart '
                       r'\(max_days=1; a larger pairing max_days accepts it\)'):
        coco(root, **dict(kw, pairing=dict(by='footprint', max_days=1)))


def test_coco_listed_partner_is_checked_and_read_onto_the_chip(tmp_path):
    """A template names the partner: kept when it overlaps, read onto the whole
    reference chip (nodata where it does not cover it), refused when it does not;
    the entry's size must be its reference file's."""
    root = str(tmp_path)
    sar_tile(root, 'a.tif')
    sar_tile(root, 'b.tif')
    # the optical tile covers the east half of a.tif; b's optical is 20 km away
    write_tif(osp.join(root, 'optical/a.tif'), np.full((16, 12), 7, np.float32),
              transform=from_origin(X0 + 160, Y0, 20, 20), nodata=-1)
    write_tif(osp.join(root, 'optical/b.tif'), np.ones((16, 16), np.float32),
              transform=from_origin(X0 + 20000, Y0, 20, 20))
    coco_file(osp.join(root, 'ann.json'), ['a.tif', 'b.tif'])
    kw = dict(modalities=dict(sar=['S1/vv/{}', 'S1/vh/{}'], optical='optical/{}'),
              pairing='footprint')
    with pytest.raises(UnpairedSampleError, match=r"S1/vv/b\.tif \(sar, image 1 .*"
                       r"optical/b\.tif \(EPSG:32631\), covers 0%"):
        coco(root, **kw)
    ds = coco(root, on_unpaired='skip', pipeline=[
        dict(type='mmkd.LoadMultiModalImages', nodata=dict(optical='mask')),
        dict(type='LoadAnnotations', with_bbox=True, box_type=None),
        dict(type='mmkd.PackMultiModalInputs', task='det')], **kw)
    assert len(ds) == 1 and ds.get_data_info(0)['overlap'] == dict(optical=0.5)
    packed = ds[0]
    optical = packed['inputs']['optical']
    assert tuple(optical.shape) == (1, 32, 32) and tuple(packed['inputs']['sar'].shape) \
        == (2, 32, 32)
    assert torch_all(optical[0, :, 16:] == 7) and torch_all(optical[0, :, :16] == 0)
    assert packed['data_samples'].gt_instances.bboxes.tolist() == [[2, 2, 10, 10],
                                                                  [20, 4, 26, 10]]
    coco_file(osp.join(root, 'ann.json'), ['a.tif'], size=64)
    from mmkd.datasets import AnnotationFileError
    with pytest.raises(AnnotationFileError, match=r"image 0 is 64x64 .* its sar file "
                       r".*S1/vv/a\.tif is 32x32 pixels"):
        coco(root, **kw)


def test_coco_footprint_options_are_checked(tmp_path):
    kw = dict(ann_file=coco_file(str(tmp_path / 'ann.json'), ['a.tif']))
    with pytest.raises(ValueError, match=r"modalities\['eo'\] = \{'folder': 'S2'\} is a "
                       r"folder to search by footprint: set pairing='footprint'"):
        coco(tmp_path, modalities=dict(sar='sar/', eo=dict(folder='S2')), **kw)
    with pytest.raises(ValueError, match=r"pairing resolution for 'sar': the boxes"):
        coco(tmp_path, modalities=dict(sar='sar/', eo='eo/'),
             pairing=dict(by='footprint', resolution=dict(sar=20)), **kw)
    with pytest.raises(ValueError, match=r"modalities\['sar'\]: the ref_modality file"):
        coco(tmp_path, modalities=dict(sar=dict(folder='sar'), eo='eo/'),
             pairing='footprint', **kw)


def torch_all(t):
    return bool(t.all())
