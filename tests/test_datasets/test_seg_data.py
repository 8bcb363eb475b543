"""Paired segmentation data: the SpaceNet 6 layout and converter, the folders layout,
masks under paired transforms, the synthetic benchmark, and one clear error per bad
input. SpaceNet 6 itself cannot be downloaded here: its layout is exercised on a
generated miniature written as real GeoTIFFs (same bands, dtypes, CSV, orientation
file)."""
import importlib.util
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from conftest import REPO

from mmkd.datasets import PairedSegDataset, UnpairedSampleError
from mmkd.datasets.paired_seg_dataset import AnnotationFileError
from mmkd.datasets.transforms import (
    AlignSAROrientation,
    LoadMultiModalImages,
    PackMultiModalInputs,
    PairedRandomFlip,
    PairedRandomResizedCrop,
    PairedRandomRotate,
    SelectModality,
)
from mmkd.datasets.transforms.loading import ImageReadError
from mmkd.datasets.transforms.seg_loading import PairedSizeError
from mmkd.testing import make_spacenet6_miniature
from mmkd.testing.synthetic_buildings import (
    draw_scene,
    footprint_mask,
    make_synthetic_buildings,
    render_sar,
)

rasterio = pytest.importorskip('rasterio')
shapely_wkt = pytest.importorskip('shapely.wkt')


def centre_mask(wkts, h, w):
    """Reference: a pixel is building when shapely says its centre is in a polygon."""
    from shapely.geometry import Point
    geoms = [shapely_wkt.loads(s) for s in wkts]
    out = np.zeros((h, w), np.uint8)
    for y in range(h):
        for x in range(w):
            if any(g.contains(Point(x + 0.5, y + 0.5)) for g in geoms):
                out[y, x] = 1
    return out


def load_converter():
    spec = importlib.util.spec_from_file_location(
        'sn6_converter', osp.join(REPO, 'tools/dataset_converters/spacenet6.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope='module')
def sn6(tmp_path_factory):
    return make_spacenet6_miniature(str(tmp_path_factory.mktemp('sn6')), num_tiles=4,
                                    size=32, seed=3)


def sn6_pipeline(**mask_kw):
    return [dict(type='mmkd.LoadMultiModalImages', channels=dict(sar=4, optical=3)),
            dict(type='mmkd.LoadSegMask', **mask_kw)]


# ---------------------------------------------------------------- GeoTIFF loading
def test_float32_4band_geotiff_loads_with_dtype_and_band_order(tmp_path):
    from rasterio.transform import from_origin
    h, w = 12, 20
    data = np.stack([np.full((h, w), 10.0 * (b + 1), np.float32) + np.arange(w) / 100
                     for b in range(4)]).astype(np.float32)  # 10(b+1) + column/100
    path = str(tmp_path / 'sar.tif')
    with rasterio.open(path, 'w', driver='GTiff', height=h, width=w, count=4,
                       dtype='float32', crs='EPSG:32631',
                       transform=from_origin(595000, 5750000, 0.5, 0.5)) as dst:
        dst.write(data)
    res = LoadMultiModalImages(channels=dict(sar=4))(dict(img_path=dict(sar=path)))
    img = res['img']['sar']
    assert img.dtype == np.float32 and img.shape == (h, w, 4)
    for b in range(4):  # HH, HV, VH, VV stay in file order, values untouched
        np.testing.assert_array_equal(img[..., b], data[b])
    with pytest.raises(ImageReadError, match=r'sar\.tif \(sar\) has 4 channel\(s\), '
                                             r'expected 3'):
        LoadMultiModalImages(channels=dict(sar=3))(dict(img_path=dict(sar=path)))


# ---------------------------------------------------------------- SpaceNet 6 layout
def test_spacenet6_layout_reads_pairs_footprints_and_orientation(sn6):
    ds = PairedSegDataset(modalities=('sar', 'optical'), data_root=sn6, layout='spacenet6',
                          pipeline=sn6_pipeline())
    assert len(ds) == 4
    infos = [ds.get_data_info(i) for i in range(4)]
    assert {i['sar_orientation'] for i in infos} == {0, 1}
    assert sum(len(i['footprints']) == 0 for i in infos) == 1  # the POLYGON EMPTY tile
    for i, info in enumerate(infos):
        assert set(info['img_path']) == {'sar', 'optical'}
        assert info['sample_id'] in info['img_path']['sar']
        assert info['sample_id'] in info['img_path']['optical']
        res = ds[i]
        assert res['img']['sar'].dtype == np.float32 and res['img']['sar'].shape[2] == 4
        assert res['img']['optical'].dtype == np.uint8
        np.testing.assert_array_equal(res['gt_seg_map'],
                                      centre_mask(info['footprints'], 32, 32))
    test_split = PairedSegDataset(modalities=('sar', ), data_root=sn6, layout='spacenet6',
                                  buildings_csv=None)
    assert 'footprints' not in test_split.get_data_info(0)


def test_align_sar_orientation_rotates_every_modality_and_the_mask():
    sar = np.arange(12, dtype=np.float32).reshape(3, 4, 1)
    opt = np.arange(36, dtype=np.uint8).reshape(3, 4, 3)
    mask = (np.arange(12).reshape(3, 4) % 2).astype(np.uint8)
    for flag, rotated in ((0, False), (1, True)):
        res = AlignSAROrientation()(dict(img=dict(sar=sar.copy(), optical=opt.copy()),
                                         gt_seg_map=mask.copy(), sar_orientation=flag))
        assert res['sar_rotated'] is rotated
        f = (lambda a: a[::-1, ::-1]) if rotated else (lambda a: a)
        np.testing.assert_array_equal(res['img']['sar'], f(sar))
        np.testing.assert_array_equal(res['img']['optical'], f(opt))
        np.testing.assert_array_equal(res['gt_seg_map'], f(mask))


def test_converter_masks_match_polygons_rotation_and_resampling(tmp_path):
    aoi = make_spacenet6_miniature(str(tmp_path / 'raw'), num_tiles=4, size=32, seed=5,
                                   optical_scale=2)  # PS-RGB at twice the resolution
    conv = load_converter()
    out = str(tmp_path / 'out')
    splits = conv.convert(aoi, out, tile_size=16, val_fraction=0.25)
    assert sorted(splits) == ['train', 'val'] and len(splits['val']) >= 1
    from mmkd.datasets.paired_seg_dataset import read_footprint_csv, read_sar_orientations
    polys = read_footprint_csv(osp.join(aoi, 'SummaryData',
                                        'SN6_Train_AOI_11_Rotterdam_Buildings.csv'))
    flags = read_sar_orientations(osp.join(aoi, 'SummaryData', 'SAR_orientations.txt'))
    ids = splits['train'] + splits['val']
    assert len(ids) == 16  # 4 tiles x 4 crops of 16 px
    full = {}
    for cid in ids:
        image_id, window = cid.rsplit('_r', 1)
        r, c = map(int, window.split('_c'))
        if image_id not in full:
            m = centre_mask(polys[image_id], 32, 32)
            south = flags['_'.join(image_id.split('_')[:2])] == 1
            full[image_id] = m[::-1, ::-1] if south else m
        mask = cv2.imread(osp.join(out, 'masks', cid + '.png'), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(mask, full[image_id][r:r + 16, c:c + 16])
        with rasterio.open(osp.join(out, 'sar', cid + '.tif')) as s, \
                rasterio.open(osp.join(out, 'optical', cid + '.tif')) as o:
            assert (s.count, s.dtypes[0], s.shape) == (4, 'float32', (16, 16))
            assert (o.count, o.dtypes[0], o.shape) == (3, 'uint8', (16, 16))
            assert s.transform.almost_equals(o.transform)  # on the SAR grid
    # the converted folders are PairedSegDataset's folders layout
    ds = PairedSegDataset(modalities=('sar', 'optical'), data_root=out,
                          folders=dict(sar='sar', optical='optical'), mask_folder='masks',
                          split_file='splits/train.txt', pipeline=sn6_pipeline())
    assert len(ds) == len(splits['train']) and ds[0]['gt_seg_map'].shape == (16, 16)
    # ... and what the SpaceNet 6 configs read, SAR and optical for training, SAR only
    # for testing
    from mmengine.config import Config

    from mmkd.registry import DATASETS
    cfg = Config.fromfile(osp.join(REPO,
                                   'configs/_base_/datasets/spacenet6_sar_optical.py'))
    for loader, mods in (('train_dataloader', {'sar', 'optical'}),
                         ('test_dataloader', {'sar'})):
        ds_cfg = cfg[loader].dataset
        ds_cfg.data_root = out
        sample = DATASETS.build(ds_cfg)[0]
        assert set(sample['inputs']) == mods
        assert sample['inputs']['sar'].shape == (4, 16, 16)
        assert sample['data_samples'].gt_sem_seg.data.shape == (1, 16, 16)


def test_converter_output_pairs_by_footprint_when_north_up(tmp_path):
    """The converter's crops are GeoTIFFs on the SAR grid: pairing='footprint' finds the
    same pairs as the names, each on the whole crop. Tiles of south-looking strips,
    turned by 180 degrees (the default), are refused by footprint, naming the file; the
    SpaceNet 6 layout itself pairs by ImageId."""
    from mmkd.datasets.georef import GeoreferenceError
    aoi = make_spacenet6_miniature(str(tmp_path / 'raw'), num_tiles=2, size=16, seed=2,
                                   empty_tiles=0)
    conv = load_converter()
    kw = dict(modalities=('sar', 'optical'), folders=dict(sar='sar', optical='optical'),
              mask_folder='masks')
    conv.convert(aoi, str(tmp_path / 'up'), tile_size=8, rotate=False)
    by_name = PairedSegDataset(data_root=str(tmp_path / 'up'), **kw)
    by_footprint = PairedSegDataset(data_root=str(tmp_path / 'up'), pairing='footprint',
                                    **kw)
    assert len(by_footprint) == len(by_name) == 8
    for i in range(8):
        a, b = by_name.get_data_info(i), by_footprint.get_data_info(i)
        assert a['img_path'] == b['img_path']
        assert b['geo_grid']['ref_window'] == (0, 0, 8, 8)
    conv.convert(aoi, str(tmp_path / 'turned'), tile_size=8)  # strip 2 looks south
    with pytest.raises(GeoreferenceError, match=r"sar/.*\.tif \(sar\) is not north-up.*"
                       r"pairing='name'"):
        PairedSegDataset(data_root=str(tmp_path / 'turned'), pairing='footprint', **kw)
    with pytest.raises(ValueError, match=r"pairing by footprint is for layout='folders': "
                       r'in the SpaceNet 6 download'):
        PairedSegDataset(data_root=aoi, layout='spacenet6', pairing='footprint',
                         modalities=('sar', 'optical'))


def test_converter_reports_bad_input(tmp_path):
    conv = load_converter()
    aoi = make_spacenet6_miniature(str(tmp_path / 'a'), num_tiles=2, size=16)
    gone = sorted(os.listdir(osp.join(aoi, 'PS-RGB')))[0]
    os.remove(osp.join(aoi, 'PS-RGB', gone))
    with pytest.raises(conv.ConversionError, match='has no PS-RGB partner'):
        conv.convert(aoi, str(tmp_path / 'o1'), tile_size=None)
    with pytest.raises(conv.ConversionError, match=r'SAR-Intensity has 4 band\(s\), '
                                                   r'expected 2'):
        conv.convert(aoi, str(tmp_path / 'o2'), tile_size=None, sar_bands=2,
                     on_unpaired='skip')


# ---------------------------------------------------------------- bad input
def test_bad_input_gives_one_clear_error(sn6, tmp_path):
    root = str(tmp_path / 'sn6')
    shutil.copytree(sn6, root)
    csv_path = osp.join(root, 'SummaryData', 'SN6_Train_AOI_11_Rotterdam_Buildings.csv')
    kw = dict(modalities=('sar', 'optical'), data_root=root, layout='spacenet6')
    # empty CSV, CSV with a header only
    open(csv_path, 'w').close()
    with pytest.raises(AnnotationFileError, match='is empty'):
        PairedSegDataset(**kw)
    with open(csv_path, 'w') as f:
        f.write('ImageId,TileBuildingId,PolygonWKT_Pix\n')
    with pytest.raises(AnnotationFileError, match='has a header but no rows'):
        PairedSegDataset(**kw)
    shutil.copy(osp.join(sn6, 'SummaryData', osp.basename(csv_path)), csv_path)
    # missing optical partner
    opt = sorted(os.listdir(osp.join(root, 'PS-RGB')))[1]
    os.rename(osp.join(root, 'PS-RGB', opt), osp.join(tmp_path, opt))
    with pytest.raises(UnpairedSampleError, match=r'SAR-Intensity_.*\.tif \(sar\) has no '
                                                  r'optical partner'):
        PairedSegDataset(**kw)
    assert len(PairedSegDataset(**kw, on_unpaired='skip')) == 3
    # mismatched tile sizes: an optical tile of another size
    img = rasterio.open(osp.join(tmp_path, opt)).read()
    with rasterio.open(osp.join(root, 'PS-RGB', opt), 'w', driver='GTiff', height=20,
                       width=20, count=3, dtype='uint8') as dst:
        dst.write(np.ascontiguousarray(img[:, :20, :20]))
    ds = PairedSegDataset(**kw, pipeline=sn6_pipeline())
    bad = [i for i in range(len(ds)) if opt in ds.get_data_info(i)['img_path']['optical']]
    with pytest.raises(PairedSizeError, match=r'tile sizes differ: optical .* is 20x20 but '
                                              r'sar .* is 32x32'):
        ds[bad[0]]
    # wrong band count
    with pytest.raises(ImageReadError, match=r'has 3 channel\(s\), expected 4'):
        LoadMultiModalImages(channels=dict(optical=4, sar=4))(
            dict(img_path=ds.get_data_info(0)['img_path']))


# ---------------------------------------------------------------- folders layout
def write_folders(root, n=4, size=16, drop=None):
    rng = np.random.default_rng(0)
    for d in ('sar', 'optical', 'masks'):
        os.makedirs(osp.join(root, d), exist_ok=True)
    for i in range(n):
        import tifffile
        tifffile.imwrite(osp.join(root, 'sar', f't{i}.tif'),
                         rng.random((4, size, size)).astype(np.float32))
        if drop != ('optical', i):
            cv2.imwrite(osp.join(root, 'optical', f't{i}.png'),
                        rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
        if drop != ('masks', i):
            cv2.imwrite(osp.join(root, 'masks', f't{i}.png'),
                        (rng.random((size, size)) > 0.7).astype(np.uint8))
    return root


def test_folders_layout_split_file_and_missing_mask(tmp_path):
    root = write_folders(str(tmp_path / 'a'))
    with open(osp.join(root, 'val.txt'), 'w') as f:
        f.write('t1\nt3\n')
    kw = dict(folders=dict(sar='sar', optical='optical'), mask_folder='masks')
    ds = PairedSegDataset(modalities=('sar', 'optical'), data_root=root,
                          split_file='val.txt', **kw)
    assert [ds.get_data_info(i)['sample_id'] for i in range(len(ds))] == ['t1', 't3']
    assert ds.get_data_info(0)['seg_map_path'].endswith('masks/t1.png')
    with open(osp.join(root, 'bad.txt'), 'w') as f:
        f.write('t1\nt9\n')
    with pytest.raises(AnnotationFileError, match=r"ids \['t9'\] have no image"):
        PairedSegDataset(modalities=('sar', ), data_root=root, split_file='bad.txt', **kw)
    root = write_folders(str(tmp_path / 'b'), drop=('masks', 2))
    with pytest.raises(UnpairedSampleError, match=r't2\.tif \(sar\) has no mask partner'):
        PairedSegDataset(modalities=('sar', ), data_root=root, **kw)


# ---------------------------------------------------------------- paired transforms
def marked_sample(size_sar=32, size_opt=32):
    """A building marker at the same place in both modalities and the mask."""
    mask = np.zeros((size_sar, size_sar), np.uint8)
    mask[4:10, 18:28] = 1
    sar = np.zeros((size_sar, size_sar, 4), np.float32)
    sar[mask == 1] = 1.0
    opt = cv2.resize(mask * 200, (size_opt, size_opt), interpolation=cv2.INTER_NEAREST)
    opt = np.repeat(opt[..., None], 3, 2)
    return dict(img=dict(sar=sar, optical=opt), img_shape=dict(sar=(size_sar, ) * 2,
                optical=(size_opt, ) * 2), ori_shape=dict(sar=(size_sar, ) * 2,
                optical=(size_opt, ) * 2), gt_seg_map=mask, ref_modality='sar')


@pytest.mark.parametrize('transform', [
    PairedRandomFlip(prob=1.0, direction='horizontal'),
    PairedRandomFlip(prob=1.0, direction='vertical'),
    PairedRandomRotate(angles=[90]),
    PairedRandomResizedCrop(sizes=dict(sar=24, optical=24), scale=(0.5, 0.9)),
])
def test_mask_moves_with_both_modalities(transform):
    import random
    random.seed(1)
    res = transform(marked_sample())
    mask = res['gt_seg_map']
    assert mask.shape == res['img']['sar'].shape[:2] and mask.sum() > 0
    # exact for flips and quarter turns; resizing blurs edges by up to one pixel
    need = 0.95 if isinstance(transform, PairedRandomResizedCrop) else 1.0
    assert ((mask == 1) == (res['img']['sar'][..., 0] > 0.5)).mean() >= need
    assert ((mask == 1) == (res['img']['optical'][..., 0] > 100)).mean() >= need
    packed = PackMultiModalInputs(task='seg')(res)
    assert packed['data_samples'].gt_sem_seg.data.shape == (1, *mask.shape)


def test_select_modality_gives_a_plain_mmseg_sample():
    from mmseg.datasets.transforms import PackSegInputs
    res = marked_sample()
    res['img_path'] = dict(sar='a.tif', optical='a.png')
    out = PackSegInputs()(SelectModality('sar')(res))
    assert out['inputs'].shape == (4, 32, 32)
    assert out['data_samples'].img_path == 'a.tif'
    assert out['data_samples'].gt_sem_seg.data.sum() == 60


# ---------------------------------------------------------------- synthetic benchmark
def test_synthetic_buildings_is_deterministic_and_sar_like(tmp_path):
    a = make_synthetic_buildings(str(tmp_path / 'a'), 3, 1, 1, size=32, seed=4)
    b = make_synthetic_buildings(str(tmp_path / 'b'), 3, 1, 1, size=32, seed=4)
    import tifffile
    for sub in ('sar/train_0001.tif', 'masks/train_0001.png', 'optical/val_0000.png'):
        ra, rb = (tifffile.imread(osp.join(r, sub)) if sub.endswith('tif') else
                  cv2.imread(osp.join(r, sub), cv2.IMREAD_UNCHANGED) for r in (a, b))
        np.testing.assert_array_equal(ra, rb)
    sar = tifffile.imread(osp.join(a, 'sar/train_0001.tif'))
    assert sar.dtype == np.float32 and sar.shape == (4, 32, 32)
    assert 'SYNTHETIC' in open(osp.join(a, 'README.txt')).read()
    # SAR physics, averaged over scenes seen from the west: the wall foot (double
    # bounce) is bright, the ground just east of a building (radar shadow) dark
    rng = np.random.default_rng(0)
    foot, behind, ground = [], [], []
    for _ in range(6):
        scene = draw_scene(rng, 64)
        co = render_sar(scene, rng, 'west', nodata_prob=0)[..., 0]
        m = footprint_mask(scene).astype(bool)
        near = m & ~np.roll(m, 1, axis=1)        # first building pixel of each row
        far_out = np.roll(m, 1, axis=1) & ~m     # first ground pixel after a building
        foot.append(co[near].mean())
        behind.append(co[far_out].mean())
        ground.append(co[~m & ~far_out].mean())
    assert np.mean(foot) > 3 * np.mean(ground) > 3 * np.mean(behind)


def test_num_labelled_keeps_the_images_and_ignores_the_other_masks(tmp_path):
    full = make_synthetic_buildings(str(tmp_path / 'f'), 3, 1, 1, size=32, seed=4)
    part = make_synthetic_buildings(str(tmp_path / 'p'), 3, 1, 1, size=32, seed=4,
                                    num_labelled=1)
    import tifffile

    def read(root, sub):
        path = osp.join(root, sub)
        return tifffile.imread(path) if sub.endswith('tif') else cv2.imread(
            path, cv2.IMREAD_UNCHANGED)
    for sub in ('sar/train_0002.tif', 'optical/train_0002.png', 'masks/train_0000.png',
                'masks/test_0000.png', 'masks/val_0000.png'):
        np.testing.assert_array_equal(read(full, sub), read(part, sub))
    for sid in ('train_0001', 'train_0002'):
        assert (read(part, f'masks/{sid}.png') == 255).all()
    assert open(osp.join(part, 'splits/train_labelled.txt')).read().split() == \
        ['train_0000']
    assert open(osp.join(part, 'splits/train.txt')).read().split() == \
        ['train_0000', 'train_0001', 'train_0002']
    with pytest.raises(ValueError, match='num_labelled=4'):
        make_synthetic_buildings(str(tmp_path / 'x'), 3, 1, 1, size=32, num_labelled=4)


def test_coarse_sar_cell_averages_and_speckles_per_cell(tmp_path):
    scene = draw_scene(np.random.default_rng(1), 32)
    fine = render_sar(scene, np.random.default_rng(2), nodata_prob=0)
    fine_again = render_sar(scene, np.random.default_rng(2), nodata_prob=0, sar_cell=1)
    np.testing.assert_array_equal(fine, fine_again)   # the default draws as before
    coarse = render_sar(scene, np.random.default_rng(2), nodata_prob=0, sar_cell=4)
    assert coarse.shape == fine.shape and coarse.dtype == np.float32
    # within a 4 x 4 cell only the (tiny) noise floor varies, not speckle and edges
    def spread(img):
        cells = img[..., 0].reshape(8, 4, 8, 4).transpose(0, 2, 1, 3).reshape(64, 16)
        return np.median(cells.max(1) - cells.min(1))
    assert spread(coarse) < 0.1 * spread(fine)
    with pytest.raises(ValueError, match='sar_cell=3 .* scene side 32'):
        render_sar(scene, np.random.default_rng(2), sar_cell=3)
    root = make_synthetic_buildings(str(tmp_path / 'c'), 2, 1, 1, size=32, seed=0,
                                    sar_cell=2)
    import json
    assert json.load(open(osp.join(root, 'synthetic_buildings.json')))['sar_cell'] == 2
