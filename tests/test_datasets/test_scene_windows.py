"""Scenes, not chips: aligned windows cut from paired GeoTIFF scenes (grid and random,
two CRSs and pixel sizes, band files, nodata), whole-scene inference of an exported
student (mmseg slide inference to a georeferenced GeoTIFF, sliced detection to COCO
JSON and GeoJSON), and one run from two scenes to a prediction GeoTIFF. Every fixture
is a real GeoTIFF written here with rasterio."""
import importlib.util
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope
from test_rasters import UTM, X0, Y0, write_tif

from mmkd.datasets import PairedSceneWindowDataset, PairedSegDataset
from mmkd.datasets.georef import GeoreferenceError
from mmkd.datasets.paired_scene_dataset import SceneTooSmallError, grid_starts
from mmkd.datasets.transforms import LoadMultiModalImages, LoadSegMask
from mmkd.datasets.transforms.seg_loading import PairedSizeError

rasterio = pytest.importorskip('rasterio')
from rasterio.transform import from_origin  # noqa: E402
from rasterio.warp import transform_bounds  # noqa: E402

CONFIGS = osp.join(REPO, 'configs', 'disoptnet')
B0 = [16, 24, 40, 112, 320]
DEC = (16, 8, 8, 8, 8)


@pytest.fixture(autouse=True)
def _one_thread_mmseg_scope():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    DefaultScope._instance_dict.clear()
    init_default_scope('mmseg')
    yield
    DefaultScope._instance_dict.clear()
    torch.set_num_threads(before)


def sar_scene(root, name, h, w, x0=X0, y0=Y0, res=10., nodata=None, value=None):
    """VV and VH band files on a UTM grid: VV = 1000 row + col (or ``value``),
    VH = -VV; returns VV."""
    r, c = np.mgrid[:h, :w]
    vv = (1000. * r + c).astype(np.float32) if value is None else value.astype(np.float32)
    t = from_origin(x0, y0, res, res)
    write_tif(osp.join(root, 'S1/vv', f'{name}.tif'), vv, transform=t, nodata=nodata)
    write_tif(osp.join(root, 'S1/vh', f'{name}.tif'), -vv, transform=t, nodata=nodata)
    return vv


def eo_scene(root, name, x0=X0, y0=Y0, width_m=1000., height_m=1000., res=5e-5,
             pad=1e-3):
    """An optical scene in EPSG:4326 around a UTM extent; band 0 holds each pixel's
    column, band 1 its row, band 2 zeros."""
    left, bottom, right, top = transform_bounds(UTM, 'EPSG:4326', x0, y0 - height_m,
                                                x0 + width_m, y0)
    left, top = left - pad, top + pad
    w = int((right + pad - left) / res) + 1
    h = int((top - (bottom - pad)) / res) + 1
    r, c = np.mgrid[:h, :w].astype(np.float32)
    return write_tif(osp.join(root, 'S2', name), np.stack([c, r, 0 * r]),
                     crs='EPSG:4326', transform=from_origin(left, top, res, res))


def label_scene(root, name, labels, x0=X0, y0=Y0, res=10.):
    return write_tif(osp.join(root, 'labels', f'{name}.tif'), labels.astype(np.uint8),
                     transform=from_origin(x0, y0, res, res))


def scenes(root, **kw):
    kw.setdefault('folders', dict(sar=['S1/vv', 'S1/vh'], optical='S2'))
    return PairedSceneWindowDataset(data_root=str(root), **kw)


def read(info, **kw):
    res = LoadMultiModalImages(**kw)(dict(info))
    return LoadSegMask()(res) if info.get('seg_map_path') else res


# ---------------------------------------------------------------- grid windows
def test_grid_covers_the_scene_with_the_last_window_flush_and_aligns_across_crs(tmp_path):
    assert grid_starts(70, 32, 32) == [0, 32, 38]
    assert grid_starts(64, 32, 16) == [0, 16, 32]
    assert grid_starts(31, 32, 32) == []
    root = str(tmp_path)
    vv = sar_scene(root, 'a', 70, 90)
    # the optical scene in EPSG:4326 (each pixel holds its own column and row)
    eo_scene(root, 'S2_a.tif')
    labels = (np.arange(90)[None] // 10 % 3 + np.zeros((70, 1), int))
    label_scene(root, 'a', labels)
    kw = dict(modalities=('sar', 'optical'), mask_folder='labels')
    ds = scenes(root, window=32, mode='grid', max_nodata=None, **kw)
    starts = {tuple(ds.get_data_info(i)['window'][:2]) for i in range(len(ds))}
    assert starts == {(r, c) for r in (0, 32, 38) for c in (0, 32, 58)}
    # the whole scene once, as the paired tile dataset reads it (same grid)
    whole = read(PairedSegDataset(
        data_root=root, modalities=('sar', 'optical'), mask_folder='labels',
        folders=dict(sar=['S1/vv', 'S1/vh'], optical='S2'),
        pairing='footprint').get_data_info(0))
    covered = np.zeros((70, 90), int)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        r, c, h, w = info['window']
        res = read(info)
        assert res['img_shape'] == dict(sar=(32, 32), optical=(32, 32))
        # the reference: its own pixels, as stored; the label window the same
        np.testing.assert_array_equal(res['img']['sar'][..., 0], vv[r:r + h, c:c + w])
        np.testing.assert_array_equal(res['img']['sar'][..., 1], -vv[r:r + h, c:c + w])
        np.testing.assert_array_equal(res['gt_seg_map'], labels[r:r + h, c:c + w])
        # the optical window: the same reprojected pixels as in the whole scene
        np.testing.assert_allclose(res['img']['optical'],
                                   whole['img']['optical'][r:r + h, c:c + w], atol=0.15)
        covered[r:r + h, c:c + w] += 1
    assert covered.min() == 1


def test_intersection_per_modality_resolution_and_pairing_by_name(tmp_path):
    root = str(tmp_path)
    vv = sar_scene(root, 'a', 64, 64)
    # a UTM optical scene at 20 m covering the east half: the scene is the overlap
    eo = np.arange(40 * 24, dtype=np.float32).reshape(40, 24)
    write_tif(osp.join(root, 'S2/a.tif'), np.stack([eo] * 3),
              transform=from_origin(X0 + 320, Y0, 20, 20))
    kw = dict(modalities=('sar', 'optical'), window=32, max_nodata=None)
    ds = scenes(root, pairing=dict(by='footprint', resolution=dict(optical=20),
                                   resampling=dict(optical='nearest')), **kw)
    assert [ds.get_data_info(i)['window'][:2] for i in range(len(ds))] == [(0, 0), (32, 0)]
    res = read(ds.get_data_info(1))
    assert res['img_shape'] == dict(sar=(32, 32), optical=(16, 16))
    np.testing.assert_array_equal(res['img']['sar'][..., 0], vv[32:64, 32:64])
    np.testing.assert_array_equal(res['img']['optical'][..., 0], eo[16:32, :16])
    # by name: the same id in each folder, aligned by georeference all the same
    by_name = scenes(root, pairing='name', **kw)
    assert by_name.get_data_info(1)['geo_grid']['ref_window'] == (32, 32, 32, 32)
    with pytest.raises(ValueError, match=r"reference modality 'sar' keeps its own pixel "
                       r'size'):
        scenes(root, pairing=dict(by='footprint', resolution=20), **kw)


# ---------------------------------------------------------------- random windows
def test_random_windows_are_seeded_new_each_epoch_and_read_aligned(tmp_path):
    root = str(tmp_path)
    vv = sar_scene(root, 'a', 64, 80)
    sar_scene(root, 'b', 48, 48, x0=X0 + 5000)
    kw = dict(modalities=('sar', ), folders=dict(sar=['S1/vv', 'S1/vh']), window=24,
              mode='random', num_windows=3, max_nodata=None)

    def epochs(ds, n=2):
        return [[tuple(ds.get_data_info(i)['window']) for i in range(len(ds))]
                for _ in range(n)]
    ds = scenes(root, seed=0, **kw)
    first, second = epochs(ds)
    assert first != second                            # a new window every epoch
    assert epochs(scenes(root, seed=0, **kw)) == [first, second]   # reproducible
    assert epochs(scenes(root, seed=1, **kw))[0] != first
    sizes = dict(a=(64, 80), b=(48, 48))
    for i, (r, c, h, w) in enumerate(first):
        H, W = sizes['a' if i < 3 else 'b']
        assert (h, w) == (24, 24) and 0 <= r <= H - 24 and 0 <= c <= W - 24
    assert len(ds) == 6 and [ds.get_data_info(i)['scene_id'] for i in (0, 3)] == ['a', 'b']
    info = ds.get_data_info(1)
    r, c = info['window'][:2]
    np.testing.assert_array_equal(read(info)['img']['sar'][..., 0], vv[r:r + 24, c:c + 24])
    # through the dataset's pipeline, as training reads it
    ds = scenes(root, seed=0, pipeline=[dict(type='mmkd.LoadMultiModalImages')], **kw)
    assert ds[0]['img']['sar'].shape == (24, 24, 2)


# ---------------------------------------------------------------- nodata
def test_windows_with_too_much_nodata_are_skipped_and_counted(tmp_path):
    root = str(tmp_path)
    value = np.full((64, 96), 0.1, np.float32)
    value[:, :40] = -9999        # declared nodata: a swath edge
    value[40:, 80:] = np.nan     # NaN in the south-east corner
    sar_scene(root, 'a', 64, 96, nodata=-9999, value=value)
    kw = dict(modalities=('sar', ), folders=dict(sar=['S1/vv', 'S1/vh']), window=32)
    ds = scenes(root, max_nodata=0.5, **kw)
    kept = sorted(ds.get_data_info(i)['window'][:2] for i in range(len(ds)))
    # columns 0, 32 and 64: 100 %, 25 % and 0 % swath; (32, 64): 37.5 % NaN
    assert kept == [(0, 32), (0, 64), (32, 32), (32, 64)]
    assert ds.skipped == {'windows (nodata > max_nodata)': 2}
    assert len(scenes(root, max_nodata=0.2, **kw)) == 1
    assert len(scenes(root, max_nodata=None, **kw)) == 6
    # random windows only where at most max_nodata is missing
    ds = scenes(root, mode='random', num_windows=20, max_nodata=0.25, **kw)
    for i in range(len(ds)):
        r, c = ds.get_data_info(i)['window'][:2]
        bad = ~np.isfinite(value[r:r + 32, c:c + 32]) | (value[r:r + 32, c:c + 32] == -9999)
        assert bad.mean() <= 0.25
    # estimated on a coarse read for large scenes (here 1/4 a side): the same windows
    coarse = scenes(root, max_nodata=0.5, nodata_check_size=24, **kw)
    assert sorted(coarse.get_data_info(i)['window'][:2] for i in range(len(coarse))) == kept
    with pytest.raises(ValueError, match=r'no window left of 1 scene\(s\)'):
        scenes(root, max_nodata=0.0, **dict(kw, window=64))


# ---------------------------------------------------------------- errors
def test_errors_name_the_files(tmp_path):
    root = str(tmp_path)
    sar_scene(root, 'a', 40, 64)
    eo_scene(root, 'S2_a.tif')
    kw = dict(modalities=('sar', 'optical'), max_nodata=None)
    with pytest.raises(SceneTooSmallError, match=r'scene .*S1/vv/a\.tif \(its overlap '
                       r'with .*S2/S2_a\.tif\) is 40x64 px on the sar grid, smaller than '
                       r'window=48x48'):
        scenes(root, window=48, **kw)
    sar_scene(root, 'b', 64, 64, x0=X0 + 100)
    ds = scenes(root, window=48, on_small_scene='skip', **kw)
    assert {ds.get_data_info(i)['scene_id'] for i in range(len(ds))} == {'b'}
    assert ds.skipped == {'scenes (smaller than the window)': 1}
    # a label raster on another grid is refused, naming both files
    label_scene(root, 'a', np.zeros((40, 64)), x0=X0 + 10)
    ds = scenes(root, window=32, mask_folder='labels', on_unpaired='skip', **kw)
    with pytest.raises(PairedSizeError, match=r'mask .*labels/a\.tif is georeferenced on '
                       r'another grid than its reference file .*S1/vv/a\.tif'):
        read(ds.get_data_info(0))
    label_scene(root, 'a', np.zeros((30, 64)))
    with pytest.raises(PairedSizeError, match=r'mask .*labels/a\.tif is 30x64 but its '
                       r'reference file .*S1/vv/a\.tif is 40x64'):
        read(ds.get_data_info(0))
    # scenes need a georeference
    os.makedirs(osp.join(root, 'plain'))
    with rasterio.open(osp.join(root, 'plain', 'a.tif'), 'w', driver='GTiff', width=64,
                       height=64, count=1, dtype='float32') as dst:
        dst.write(np.ones((1, 64, 64), np.float32))
    with pytest.raises(GeoreferenceError, match=r'plain/a\.tif \(sar\) has no '
                       r'georeference \(CRS\); PairedSceneWindowDataset cuts aligned '
                       r'windows by georeference'):
        scenes(root, modalities=('sar', ), folders=dict(sar='plain'), window=32)
    with pytest.raises(ValueError, match="mode must be 'grid' or 'random'"):
        scenes(root, window=32, mode='tiles', **kw)


# ---------------------------------------------------------------- detection slices
def test_tile_detections_merge_into_scene_pixels():
    from mmkd.utils.scene_inference import merge_tile_detections, window_starts
    assert window_starts(100, 64, 48) == [0, 36]
    assert window_starts(50, 64, 48) == [0]
    # one ship seen by two overlapping tiles (cut at x=48..64 in scene pixels), one
    # only by the second tile, one of another class on top of the first
    tiles = [(0, 0, [[50., 10., 60., 20.], [50., 10., 60., 20.]], [0.9, 0.6], [0, 1]),
             (0, 36, [[14., 10., 24., 20.], [30., 30., 40., 44.]], [0.8, 0.7], [0, 0])]
    boxes, scores, labels = merge_tile_detections(tiles, (64, 100), iou_thr=0.5)
    got = sorted(zip(boxes.tolist(), scores.tolist(), labels.tolist()),
                 key=lambda d: -d[1])
    assert [g[2] for g in got] == [0, 0, 1]
    np.testing.assert_allclose([g[1] for g in got], [0.9, 0.7, 0.6])
    np.testing.assert_allclose(got[1][0], [66., 30., 76., 44.])


def tiny_retinanet():
    return dict(
        type='RetinaNet',
        data_preprocessor=dict(type='DetDataPreprocessor', mean=[0.] * 3, std=[255.] * 3,
                               bgr_to_rgb=False, pad_size_divisor=32),
        backbone=dict(type='ResNet', depth=18, base_channels=8, num_stages=4,
                      out_indices=(1, 2, 3), norm_cfg=dict(type='BN'), style='pytorch'),
        neck=dict(type='FPN', in_channels=[16, 32, 64], out_channels=16, start_level=0,
                  add_extra_convs='on_input', num_outs=3),
        bbox_head=dict(
            type='RetinaHead', num_classes=1, in_channels=16, stacked_convs=1,
            feat_channels=16,
            anchor_generator=dict(type='AnchorGenerator', octave_base_scale=2,
                                  scales_per_octave=1, ratios=[1.0], strides=[8, 16, 32]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0] * 4,
                            target_stds=[1.0] * 4),
            loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                          loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        test_cfg=dict(nms_pre=50, min_bbox_size=0, score_thr=0.0,
                      nms=dict(type='nms', iou_threshold=0.5), max_per_img=20))


def test_sliced_detection_writes_coco_json_and_geojson(tmp_path):
    from mmdet.registry import MODELS
    from rasterio.warp import transform as warp

    from mmkd.utils.scene_inference import detect_scene
    DefaultScope._instance_dict.clear()
    init_default_scope('mmdet')
    rgb = (np.random.default_rng(0).random((3, 96, 128)) * 255).astype(np.uint8)
    t = from_origin(X0, Y0, 10, 10)
    scene = write_tif(str(tmp_path / 'scene.tif'), rgb, transform=t)
    cfg = Config(dict(
        default_scope='mmdet', model=tiny_retinanet(),
        test_dataloader=dict(dataset=dict(pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(64, 64), keep_ratio=True),
            dict(type='LoadAnnotations', with_bbox=True),
            dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                                  'img_shape', 'scale_factor'))]))))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'det.pth')
    torch.save({'state_dict': model.state_dict(),
                'meta': dict(dataset_meta=dict(classes=('ship', )))}, ckpt)
    cfg.dump(str(tmp_path / 'det.py'))
    out = detect_scene(str(tmp_path / 'det.py'), ckpt, scene, str(tmp_path / 'd.json'),
                       tile=64, overlap=16, score_thr=0.0,
                       geojson=str(tmp_path / 'd.geojson'))
    with open(tmp_path / 'd.json') as f:
        assert json.load(f) == json.loads(json.dumps(out))
    assert out['images'] == [dict(id=1, file_name='scene.tif', width=128, height=96)]
    assert out['categories'] == [dict(id=1, name='ship')]
    anns = out['annotations']
    assert 0 < len(anns) <= 6 * 20   # 2 x 3 tiles, at most max_per_img each
    for a in anns:
        x, y, w, h = a['bbox']
        assert 0 <= x and 0 <= y and x + w <= 128 + 1e-3 and y + h <= 96 + 1e-3
        assert a['category_id'] == 1 and 0 <= a['score'] <= 1
    with open(tmp_path / 'd.geojson') as f:
        features = json.load(f)['features']
    assert len(features) == len(anns)
    x, y, w, h = anns[0]['bbox']
    lon, lat = warp(UTM, 'EPSG:4326', [X0 + 10 * x], [Y0 - 10 * y])
    np.testing.assert_allclose(features[0]['geometry']['coordinates'][0][0],
                               [lon[0], lat[0]], atol=1e-9)


# ---------------------------------------------------------------- the whole run
def building_scene(root, name, h, w, x0, y0, optical, seed):
    """A SAR scene (VV, VH, linear sigma0), its labels and an optical scene in another
    CRS or pixel size; buildings are bright in both."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((h, w), np.uint8)
    for _ in range(6):
        r, c = rng.integers(0, h - 12), rng.integers(0, w - 12)
        labels[r:r + rng.integers(5, 12), c:c + rng.integers(5, 12)] = 1
    sigma0 = np.where(labels == 1, 0.5, 0.03) * rng.gamma(4, 0.25, (h, w))
    sigma0 = sigma0.astype(np.float32)
    sigma0[:4] = np.nan                                 # a missing strip
    t = from_origin(x0, y0, 10, 10)
    write_tif(osp.join(root, 'S1/vv', f'{name}.tif'), sigma0, transform=t)
    write_tif(osp.join(root, 'S1/vh', f'{name}.tif'), sigma0 / 4, transform=t)
    label_scene(root, name, labels, x0, y0)
    if optical == 'lonlat':
        eo_scene(root, f'S2_{name}.tif', x0, y0)
    else:  # UTM at 20 m, a little larger than the SAR scene
        rgb = (rng.random((3, h // 2 + 4, w // 2 + 4)) * 1000).astype(np.uint16)
        write_tif(osp.join(root, 'S2', f'S2_{name}.tif'), rgb,
                  transform=from_origin(x0 - 40, y0 + 40, 20, 20))
    return sigma0


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO, 'tools', 'misc', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_scenes_to_a_georeferenced_prediction(tmp_path):
    """Two scenes -> random paired windows -> optical teacher -> SAR student (2
    iterations of pixel-wise KD, validation on a grid of SAR windows) -> exported
    student -> whole-scene slide inference writing a GeoTIFF on the scene's grid."""
    from mmengine.runner import Runner

    from mmkd.registry import MODELS
    data = str(tmp_path / 'scenes')
    sigma0 = building_scene(data, 'rotterdam', 96, 96, X0, Y0, 'lonlat', 0)
    building_scene(data, 'delft', 64, 80, X0 + 20000, Y0, 'utm20', 1)
    os.makedirs(osp.join(data, 'splits'))
    with open(osp.join(data, 'splits', 'train.txt'), 'w') as f:
        f.write('rotterdam\ndelft\n')
    with open(osp.join(data, 'splits', 'val.txt'), 'w') as f:
        f.write('rotterdam\n')

    small = {'backbone.arch': 'b0', 'decode_head.in_channels': B0,
             'decode_head.decoder_channels': DEC}
    tcfg = Config.fromfile(osp.join(
        CONFIGS, 'effnet-b3-unet_sar-optical-scenes-optical_teacher.py'))
    tcfg.merge_from_dict({f'model.{k}': v for k, v in small.items()})
    torch.manual_seed(0)
    teacher = MODELS.build(tcfg.model)   # random init: a stand-in for a trained one
    tpath = str(tmp_path / 'teacher.pth')
    torch.save({'state_dict': teacher.state_dict(), 'meta': {}}, tpath)

    cfg = Config.fromfile(osp.join(CONFIGS, 'kd_effnet-b3-unet_sar-optical-scenes.py'))
    opts = {f'{s}_dataloader.{k}': v for s in ('train', 'val', 'test') for k, v in (
        ('dataset.data_root', data), ('dataset.window', 32), ('num_workers', 0),
        ('persistent_workers', False), ('batch_size', 2))}
    opts.update({f'model.student.{k}': v for k, v in small.items()})
    opts.update({'train_dataloader.dataset.num_windows': 2,
                 'val_dataloader.dataset.stride': 32, 'test_dataloader.dataset.stride': 32,
                 'model.teacher.checkpoint': tpath, 'train_cfg.max_iters': 2,
                 'train_cfg.val_interval': 2, 'randomness.seed': 0})
    cfg.merge_from_dict(opts)
    cfg.model.teacher.model = tcfg.model.to_dict()
    cfg.work_dir = str(tmp_path / 'run')
    runner = Runner.from_cfg(cfg)
    assert len(runner.train_dataloader.dataset) == 4        # 2 scenes x 2 windows
    assert len(runner.val_dataloader.dataset) == 9          # 3 x 3 grid windows
    runner.train()

    student = tmp_path / 'run' / 'student'
    exported = Config.fromfile(str(student / 'student_config.py'))
    assert exported.model.type.endswith('EncoderDecoder')
    assert exported.test_dataloader.dataset.type == 'mmkd.PairedSceneWindowDataset'
    assert list(exported.test_dataloader.dataset.modalities) == ['sar']

    vv = osp.join(data, 'S1', 'vv', 'rotterdam.tif')
    vh = osp.join(data, 'S1', 'vh', 'rotterdam.tif')
    out = str(tmp_path / 'pred' / 'rotterdam_buildings.tif')
    load_tool('scene_seg_inference').main([
        str(student / 'student_config.py'), str(student / 'student.pth'), vv, vh,
        '--out', out, '--crop-size', '32', '--stride', '16', '--block-size', '64'])
    with rasterio.open(vv) as src, rasterio.open(out) as pred:
        assert pred.crs == src.crs and pred.transform == src.transform
        assert (pred.height, pred.width) == (96, 96) and pred.count == 1
        assert pred.dtypes == ('uint8', ) and pred.nodata == 255
        assert json.loads(pred.tags()['classes']) == ['background', 'building']
        ids = pred.read(1)
    nodata = np.isnan(sigma0)
    assert (ids[nodata] == 255).all()
    assert set(np.unique(ids[~nodata]).tolist()) <= {0, 1}
