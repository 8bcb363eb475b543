"""Run a list of user faults and print the message each one gets.

    python tools/misc/fault_list.py [--markdown] [--check] [--only NAME ...]

Each fault is set up in a temporary folder (tiny models, a few generated images) and
triggered through the public entry points (datasets with their pipelines, the
Distiller, a Runner), the way a user's config would hit it. Printed per fault: the
exception type and its message, or what happened when nothing was raised. With
``--markdown`` the output is a table for the README's troubleshooting section (the
temporary folder written ``...``). A fault may list what its message must say (the
exception, the file it names, the fix): ``--check`` exits 1 when one does not, and
``tests/test_tools/test_fault_list.py`` runs those faults.

The raster faults write their own small GeoTIFFs with rasterio (band files, two
footprints, dates, NaN, nodata, dB values) and go through ``mmkd.PairedClsDataset``
and its pipeline, as a config would.
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import traceback

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

FAULTS = []
EXPECT = {}  # fault name -> regexes its message must match (tests/test_tools/test_fault_list.py)


def fault(cause, expect=()):
    """Register a fault. ``expect``: regexes the message must match, e.g. the
    exception type, the file it names and the fix it gives (checked by ``--check``
    and the tests)."""
    def register(fn):
        FAULTS.append((fn.__name__, cause, fn))
        EXPECT[fn.__name__] = tuple(expect)
        return fn
    return register


def unmet(name, message):
    """The regexes of ``EXPECT[name]`` that ``message`` does not match."""
    import re
    return [p for p in EXPECT.get(name, ()) if not re.search(p, message)]


# ----------------------------------------------------------------------------- helpers
def classifier(width=8, depth=18, in_channels=1, num_classes=4):
    return dict(
        type='mmpretrain.ImageClassifier',
        backbone=dict(type='ResNet', depth=depth, in_channels=in_channels,
                      stem_channels=width, base_channels=width),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=width * 8,
                  loss=dict(type='CrossEntropyLoss'), topk=(1, )),
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor',
                               num_classes=num_classes, mean=[0.] * in_channels,
                               std=[255.] * in_channels, to_rgb=False))


def save_weights(model_cfg, path, seed=0):
    from mmkd.models.distillers import build_model
    torch.manual_seed(seed)
    m, _, _ = build_model(model_cfg, 'teacher')
    torch.save({'state_dict': m.state_dict()}, path)
    return path


KD = dict(kd=dict(type='mmkd.KDLoss', inputs=dict(student='s_logits', teacher='t_logits')))
TAPS = dict(s_logits='student.head.fc', t_logits='teacher.head.fc')


def distiller(tmp, **kw):
    from mmkd.models.distillers import Distiller
    teacher = classifier(width=16)
    kw.setdefault('taps', TAPS)
    kw.setdefault('losses', KD)
    kw.setdefault('teacher', dict(model=teacher, checkpoint=save_weights(
        teacher, osp.join(tmp, 'teacher.pth'))))
    return Distiller(student=classifier(), **kw)


def cls_batch(n=2, size=32, channels=1):
    from mmpretrain.structures import DataSample
    return dict(inputs=[torch.randint(0, 255, (channels, size, size), dtype=torch.uint8)
                        for _ in range(n)],
                data_samples=[DataSample().set_gt_label(i % 4) for i in range(n)])


def write_pairs(root, n=4, drop_sar=(), sar_bands=1, corrupt=None):
    rng = np.random.default_rng(0)
    for i in range(n):
        for mod, size in (('EO', 30), ('SAR', 48)):
            if mod == 'SAR' and i in drop_sar:
                continue
            folder = osp.join(root, mod, 'abc'[i % 2])
            os.makedirs(folder, exist_ok=True)
            bands = sar_bands if mod == 'SAR' else 3
            img = rng.integers(0, 255, (size, size, bands) if bands > 1 else (size, size),
                               dtype=np.uint8)
            path = osp.join(folder, f'{mod}_{100 + i}.png')
            cv2.imwrite(path, img)
            if corrupt == (mod, i):
                with open(path, 'r+b') as f:
                    f.truncate(40)
    return root


PATTERNS = dict(eo=r'EO_(\d+)\.png', sar=r'SAR_(\d+)\.png')


def paired_dataset(root, **kw):
    from mmkd.datasets import PairedClsDataset
    kw.setdefault('pipeline', [dict(type='mmkd.LoadMultiModalImages',
                                    channels=dict(sar=1, eo=3)),
                               dict(type='mmkd.PackMultiModalInputs', task='cls')])
    return PairedClsDataset(modalities=('eo', 'sar'), data_root=root,
                            folders=dict(eo='EO', sar='SAR'), id_patterns=PATTERNS,
                            class_subfolders=True, **kw)


# ----------------------------------------------------------------------------- faults
@fault('data root that does not exist')
def bad_data_root(tmp):
    paired_dataset(osp.join(tmp, 'no_such_folder'))


@fault('a SAR file without its optical partner')
def unpaired_files(tmp):
    paired_dataset(write_pairs(osp.join(tmp, 'd'), drop_sar=(2, )))


@fault('corrupt (truncated) image')
def corrupt_image(tmp):
    ds = paired_dataset(write_pairs(osp.join(tmp, 'd'), corrupt=('SAR', 1)))
    for i in range(len(ds)):
        ds[i]


@fault('wrong band count (3-band SAR where 1 band is expected)')
def wrong_bands(tmp):
    ds = paired_dataset(write_pairs(osp.join(tmp, 'd'), sar_bands=3))
    ds[0]


@fault('teacher checkpoint missing')
def missing_checkpoint(tmp):
    distiller(tmp, teacher=dict(model=classifier(width=16),
                                checkpoint=osp.join(tmp, 'nope.pth')))


@fault("LD (mmdet's KD detector): teacher_ckpt missing",
       expect=(r'^FileNotFoundError: model\.teacher_ckpt: .*epoch_24\.pth\' does not exist',
               r'python tools/train\.py \S*gfl_r50-pafpn_synthetic-det_teacher\.py',
               r'--cfg-options model\.teacher_ckpt='))
def ld_teacher_ckpt_missing(tmp):
    from mmengine.config import Config

    from mmkd.utils.mmdet_kd import check_teacher_ckpt  # what tools/train.py runs
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'det_kd', 'ld',
                                   'ld_gfl_r50-pafpn_r18-fpn_synthetic-det.py'))
    cfg.model.teacher_ckpt = osp.join(tmp, 'work_dirs', 'epoch_24.pth')
    check_teacher_ckpt(cfg)


@fault("cross-modal LD: the pair's images at two sizes",
       expect=(r"^ValueError: the 'infrared' batch is \(2, 1, 64, 64\) and the 'optical' "
               r'batch \(2, 3, 96, 96\)', r'mmkd\.PairedResize'))
def ld_pair_sizes_differ(tmp):
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'det_kd', 'ld', 'ld_gfl_r50-pafpn-'
                                   'optical_r18-fpn-infrared_synthetic-det.py'))
    cfg.model.teacher_ckpt = None  # a random teacher: the sizes are checked first
    model = MODELS.build(cfg.model)
    model.loss(dict(infrared=torch.zeros(2, 1, 64, 64),
                    optical=torch.zeros(2, 3, 96, 96)), [])


@fault('teacher work dir with no checkpoint yet')
def empty_work_dir(tmp):
    distiller(tmp, teacher=dict(model=classifier(width=16), checkpoint=tmp))


@fault('teacher checkpoint of another architecture')
def mismatched_checkpoint(tmp):
    wrong = save_weights(classifier(width=16, depth=34), osp.join(tmp, 'r34.pth'))
    distiller(tmp, teacher=dict(model=classifier(width=16), checkpoint=wrong))


@fault('tap on a module that does not exist')
def unknown_tap(tmp):
    distiller(tmp, taps=dict(TAPS, t_feat='teacher.backbone.layer9'))


@fault('loss reading a name that is neither tap nor connector')
def unknown_feature(tmp):
    distiller(tmp, losses=dict(kd=dict(type='mmkd.KDLoss', inputs=dict(
        student='s_logits', teacher='t_logit'))))


@fault('feature shapes differ, no connector')
def shape_mismatch(tmp):
    d = distiller(tmp, taps=dict(s='student.backbone.layer3', t='teacher.backbone.layer3'),
                  losses=dict(hint=dict(type='mmkd.FeatureMSELoss',
                                        inputs=dict(student='s', teacher='t'))))
    d(**d.data_preprocessor(cls_batch(), True), mode='loss')


@fault("no task loss (student_losses='none') and a student_loss_weight",
       expect=(r"^ValueError: student_losses='none' computes no task loss",
               r'student_loss_weight=0\.1', r"student_losses='supervised'"))
def no_task_loss_with_a_weight(tmp):
    distiller(tmp, student_losses='none', student_loss_weight=0.1)


@fault('dense feature loss (CWD, PKD) given maps of other channels',
       expect=(r'^ValueError', r"loss 'pkd' \(PKDLoss\)", r'mmkd\.ConvConnector'))
def dense_loss_channels(tmp):
    d = distiller(tmp, taps=dict(s='student.backbone.layer3', t='teacher.backbone.layer3'),
                  losses=dict(pkd=dict(type='mmkd.PKDLoss',
                                       inputs=dict(student='s', teacher='t'))))
    d(**d.data_preprocessor(cls_batch(), True), mode='loss')


@fault('MGD / FGD built for other channels than the tapped layers',
       expect=(r'^ValueError', r"loss 'mgd' \(MGDLoss\)",
               r'student_channels=64, teacher_channels=64 .* 32 and 64 channels'))
def mgd_channels(tmp):
    d = distiller(tmp, taps=dict(s='student.backbone.layer3', t='teacher.backbone.layer3'),
                  losses=dict(mgd=dict(type='mmkd.MGDLoss', student_channels=64,
                                       teacher_channels=64,
                                       inputs=dict(student='s', teacher='t'))))
    d(**d.data_preprocessor(cls_batch(), True), mode='loss')


@fault('teacher reads a modality the batch lacks')
def missing_modality(tmp):
    d = distiller(tmp, student_input='sar')
    d.teacher_cfgs['teacher']['input'] = 'optical'
    d(dict(sar=torch.randn(2, 1, 32, 32)), cls_batch()['data_samples'], mode='loss')


@fault('unknown loss type')
def unknown_loss(tmp):
    distiller(tmp, losses=dict(x=dict(type='mmkd.NoSuchLoss', inputs={})))


@fault('detection boxes outside the image (COCO annotation)')
def out_of_range_boxes(tmp):
    from mmdet.datasets import CocoDataset
    os.makedirs(osp.join(tmp, 'img'))
    cv2.imwrite(osp.join(tmp, 'img', 'a.png'), np.zeros((64, 64, 3), np.uint8))
    ann = dict(images=[dict(id=1, file_name='a.png', width=64, height=64)],
               categories=[dict(id=1, name='car')],
               annotations=[dict(id=1, image_id=1, category_id=1, area=400, iscrowd=0,
                                 bbox=[50, 50, 40, 40]),      # half outside
                            dict(id=2, image_id=1, category_id=1, area=400, iscrowd=0,
                                 bbox=[100, 100, 20, 20])]),  # entirely outside
    with open(osp.join(tmp, 'ann.json'), 'w') as f:
        json.dump(ann[0], f)
    ds = CocoDataset(data_root=tmp, ann_file='ann.json', data_prefix=dict(img='img/'),
                     metainfo=dict(classes=('car', )), pipeline=[
                         dict(type='mmdet.LoadImageFromFile'),
                         dict(type='mmdet.LoadAnnotations', with_bbox=True),
                         dict(type='mmdet.PackDetInputs')])
    boxes = ds[0]['data_samples'].gt_instances.bboxes.tensor.tolist()
    return (f'no error: mmdet drops the box entirely outside and keeps the partly '
            f'outside one unclipped: {boxes} on a 64x64 image')


def coco_config(tmp, coco):
    """A config whose mmdet CocoDataset reads ``coco`` (a dict, or bytes as written)."""
    from mmengine.config import Config
    path = osp.join(tmp, 'annotations', 'train.json')
    os.makedirs(osp.dirname(path))
    with open(path, 'wb') as f:
        f.write(coco if isinstance(coco, bytes) else json.dumps(coco).encode())
    return Config(dict(train_dataloader=dict(dataset=dict(
        type='mmdet.CocoDataset', data_root=tmp, ann_file='annotations/train.json',
        data_prefix=dict(img='images/'), metainfo=dict(classes=('ship', )),
        pipeline=[]))))


def build_train_dataset(cfg):
    """What tools/train.py does with the config's training set."""
    from mmkd.datasets.coco_annotations import explain_coco_errors
    from mmkd.registry import DATASETS
    with explain_coco_errors(cfg):
        DATASETS.build(cfg.train_dataloader.dataset)


@fault('empty (0-byte) COCO annotation file')
def empty_coco_file(tmp):
    build_train_dataset(coco_config(tmp, b''))


@fault('COCO annotation file with no images')
def coco_without_images(tmp):
    build_train_dataset(coco_config(tmp, dict(
        images=[], annotations=[], categories=[dict(id=1, name='ship')])))


@fault('a run resumed with no seed set (tools/train.py --resume)')
def unseeded_resume(tmp):
    import importlib.util

    from mmengine.config import Config
    spec = importlib.util.spec_from_file_location('mmkd_train_tool',
                                                  osp.join(REPO, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    ckpt = osp.join(tmp, 'epoch_3.pth')
    torch.save({'meta': {}}, ckpt)
    with open(osp.join(tmp, 'last_checkpoint'), 'w') as f:
        f.write(ckpt)
    msg = train.check_resume_seed(Config(dict(work_dir=tmp, resume=True)))
    return f'a warning, and training goes on: {msg}'


@fault('NaN in a loss during training')
def nan_loss(tmp):
    from mmkd.models.distillers.integrity import check_finite_losses
    check_finite_losses({'loss_kd': torch.tensor(float('nan')),
                         'student.loss': torch.tensor(2.3)}, 1234)


@fault('a frozen teacher changed during training')
def teacher_changed(tmp):
    d = distiller(tmp)
    with torch.no_grad():
        d.teachers['teacher'].head.fc.bias.add_(1)
    d.verify_teachers('during training')


@fault('teacher cache missing or incomplete')
def cache_missing(tmp):
    teacher = classifier(width=16)
    distiller(tmp, teacher=dict(model=teacher, checkpoint=save_weights(
        teacher, osp.join(tmp, 't.pth')), cache=dict(dir=osp.join(tmp, 'no_cache'))))


def small_cache(tmp, flip_prob=0.5):
    """A 2-view teacher cache of 4 paired samples (SAR read by both models)."""
    from mmkd.apis import write_teacher_cache
    root = write_pairs(osp.join(tmp, 'd'))
    d = distiller(tmp, student_input='sar', data_preprocessor=dict(
        type='mmkd.MultiModalDataPreprocessor', preprocessors=dict(
            sar=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=4))))
    d.teacher_cfgs['teacher']['input'] = 'sar'
    write_teacher_cache(d, cache_dataset(root), osp.join(tmp, 'cache'), views=2,
                        log=lambda m: None)
    return root


def cache_dataset(root, flip_prob=0.5):
    return dict(type='mmkd.PairedClsDataset', modalities=('eo', 'sar'), data_root=root,
                folders=dict(eo='EO', sar='SAR'), id_patterns=PATTERNS,
                class_subfolders=True, pipeline=[
                    dict(type='mmkd.LoadMultiModalImages', modalities=['sar']),
                    dict(type='mmkd.PairedRandomFlip', prob=flip_prob),
                    dict(type='mmkd.PairedResize', sizes=32),
                    dict(type='mmkd.PackMultiModalInputs', task='cls')])


@fault('training pipeline changed since the teacher cache was made')
def cache_pipeline_changed(tmp):
    from mmkd.datasets import TeacherCacheDataset
    root = small_cache(tmp)
    ds = TeacherCacheDataset(cache_dataset(root, flip_prob=0.9), osp.join(tmp, 'cache'))
    for i in range(len(ds)):
        for v in range(2):
            ds.get_view(i, v)


@fault('teacher cache made with other teacher weights')
def cache_other_teacher(tmp):
    small_cache(tmp)
    other = save_weights(classifier(width=16), osp.join(tmp, 'other.pth'), seed=1)
    distiller(tmp, teacher=dict(model=classifier(width=16), checkpoint=other,
                                cache=dict(dir=osp.join(tmp, 'cache'))))


# ----------------------------------------------------------------------------- rasters
UTM = 'EPSG:32631'  # UTM 31N, metres
X0, Y0 = 500000., 5600000.


def write_tif(path, data, x0=X0, y0=Y0, res=10., crs=UTM, nodata=None, date=None):
    """A small GeoTIFF (rasterio); ``crs=None`` writes one without georeference."""
    import rasterio
    from rasterio.transform import from_origin
    data = np.asarray(data)
    data = data[None] if data.ndim == 2 else data
    os.makedirs(osp.dirname(path), exist_ok=True)
    profile = dict(driver='GTiff', count=data.shape[0], height=data.shape[1],
                   width=data.shape[2], dtype=data.dtype.name)
    if crs is not None:
        profile.update(crs=crs, transform=from_origin(x0, y0, res, res))
    if nodata is not None:
        profile['nodata'] = nodata
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data)
        if date:
            dst.update_tags(TIFFTAG_DATETIME=date)
    return path


def raster_dataset(root, folders, pipeline=None, **kw):
    """A PairedClsDataset over ``folders`` (modality -> folder spec), read with mmkd's
    loader unless another pipeline is given."""
    from mmkd.datasets import PairedClsDataset
    return PairedClsDataset(modalities=tuple(folders), data_root=root, folders=folders,
                            pipeline=pipeline or [dict(type='mmkd.LoadMultiModalImages')],
                            **kw)


def ones(size=8, dtype=np.float32):
    return np.ones((size, size), dtype)


@fault('a band file missing (Sentinel-1 VV without its VH)',
       expect=(r'^MissingBandError: ', r"band 'vh' \(no file with id '1' in '[^']*S1/vh'",
               r'S1/vv/1\.tif', r"on_unpaired='skip'"))
def missing_band_file(tmp):
    for i in range(2):
        write_tif(osp.join(tmp, 'S1', 'vv', f'{i}.tif'), ones())
        if i != 1:
            write_tif(osp.join(tmp, 'S1', 'vh', f'{i}.tif'), ones())
    raster_dataset(tmp, dict(sar=['S1/vv', 'S1/vh']))


S2_PATTERN = r'(?P<id>T31UFU_\d{8})_B{band}\.tif'


def sentinel2(tmp, bands=('2', '3', '4')):
    for b in bands:
        write_tif(osp.join(tmp, 'S2', f'T31UFU_20200101_B{b}.tif'), ones(dtype=np.uint16))


@fault('a band pattern that matches no file (bands 04, 03, 02; files named _B4)',
       expect=(r'^MissingBandError: ', r'matches no file in \'[^\']*S2\'',
               r'T31UFU_20200101_B2\.tif', r'fix pattern= or bands='))
def band_pattern_matches_nothing(tmp):
    sentinel2(tmp)
    raster_dataset(tmp, dict(eo=dict(folder='S2', pattern=S2_PATTERN,
                                     bands=['04', '03', '02'])))


@fault('a band no file has (B08 asked for, not downloaded)',
       expect=(r'^MissingBandError: ', r"no file in '[^']*S2' matches band '08'",
               r"would be 'T31UFU_20200101_B08\.tif'", r'fix bands='))
def band_not_downloaded(tmp):
    sentinel2(tmp, bands=('02', '03', '04'))
    raster_dataset(tmp, dict(eo=dict(folder='S2', pattern=S2_PATTERN,
                                     bands=['08', '04', '03'])))


@fault('band files of one sample with different sizes (10 m VV, 20 m VH)',
       expect=(r'^ImageReadError: ', r'S1/vv/0\.tif is 16x16', r'S1/vh/0\.tif is 8x8',
               r'resample them onto one pixel grid'))
def band_sizes_differ(tmp):
    write_tif(osp.join(tmp, 'S1', 'vv', '0.tif'), ones(16))
    write_tif(osp.join(tmp, 'S1', 'vh', '0.tif'), ones(8), res=20.)
    raster_dataset(tmp, dict(sar=['S1/vv', 'S1/vh']))[0]


@fault("pairing='footprint': no optical tile overlaps the SAR tile",
       expect=(r'^UnpairedSampleError: ', r'SAR/a\.tif \(sar\) has no eo partner by '
               r'footprint', r'the nearest, [^ ]*EO/b\.tif \(EPSG:32631\), covers 0%',
               r'20 km away', r"on_unpaired='skip'"))
def footprint_no_overlap(tmp):
    write_tif(osp.join(tmp, 'SAR', 'a.tif'), ones())
    write_tif(osp.join(tmp, 'EO', 'b.tif'), ones(), x0=X0 + 20000)
    raster_dataset(tmp, dict(sar='SAR', eo='EO'), pairing='footprint')


@fault("pairing='footprint': no acquisition within max_days",
       expect=(r'^UnpairedSampleError: ', r'S1_20200110\.tif \(sar\) has no eo partner',
               r'S2_20200119\.tif, is 9 days apart \(max_days=3',
               r'a larger pairing max_days accepts it', r"on_unpaired='skip'"))
def footprint_date_tolerance(tmp):
    write_tif(osp.join(tmp, 'SAR', 'S1_20200110.tif'), ones())
    write_tif(osp.join(tmp, 'EO', 'S2_20200119.tif'), ones())
    raster_dataset(tmp, dict(sar='SAR', eo='EO'),
                   id_patterns=dict(sar=r'S1_(?P<date>\d{8})', eo=r'S2_(?P<date>\d{8})'),
                   pairing=dict(by='footprint', max_days=3))


@fault("pairing='footprint' on a GeoTIFF without CRS",
       expect=(r'^GeoreferenceError: ', r'EO/a\.tif \(eo\) has no georeference',
               r"pairing='name'"))
def footprint_without_crs(tmp):
    write_tif(osp.join(tmp, 'SAR', 'a.tif'), ones())
    write_tif(osp.join(tmp, 'EO', 'a.tif'), ones(), crs=None)
    raster_dataset(tmp, dict(sar='SAR', eo='EO'), pairing='footprint')


@fault("pairing='footprint' on tiles turned by 180 degrees (SpaceNet 6 converter output)",
       expect=(r'^GeoreferenceError: ', r'sar/a\.tif \(sar\) is not north-up',
               r"pair such files by name \(pairing='name'", r'--no-rotate'))
def footprint_south_up(tmp):
    import rasterio
    from rasterio.transform import Affine, from_origin
    south_up = from_origin(X0, Y0, 10, 10) * Affine.translation(8, 8) * Affine.scale(-1, -1)
    for mod in ('sar', 'optical'):
        os.makedirs(osp.join(tmp, mod))
        with rasterio.open(osp.join(tmp, mod, 'a.tif'), 'w', driver='GTiff', count=1,
                           height=8, width=8, dtype='float32', crs=UTM,
                           transform=south_up) as dst:
            dst.write(ones()[None])
    raster_dataset(tmp, dict(sar='sar', optical='optical'), pairing='footprint')


@fault("pairing max_days, and a file without acquisition date",
       expect=(r'^GeoreferenceError: ', r'EO/scene\.tif \(eo\): no acquisition date',
               r'\(\?P<date>\.\.\.\) group', r'TIFFTAG_DATETIME'))
def footprint_without_date(tmp):
    write_tif(osp.join(tmp, 'SAR', 'a.tif'), ones(), date='2020:01:10 10:00:00')
    write_tif(osp.join(tmp, 'EO', 'scene.tif'), ones())
    raster_dataset(tmp, dict(sar='SAR', eo='EO'), pairing=dict(by='footprint', max_days=3))


@fault('NaN pixels in a float SAR raster',
       expect=(r'^InvalidPixelsError: ', r'SAR/a\.tif \(sar\): 25 % of pixels '
               r'\(16 of 64\) are NaN', r"on_nonfinite=\.\.\.\) to 'fill' them"))
def nan_pixels(tmp):
    data = ones()
    data[:2] = np.nan
    write_tif(osp.join(tmp, 'SAR', 'a.tif'), data)
    raster_dataset(tmp, dict(sar='SAR'))[0]


@fault("nodata pixels (the GeoTIFF's nodata value) with nodata='raise'",
       expect=(r'^InvalidPixelsError: ', r'SAR/a\.tif \(sar\): 37\.5 % of pixels '
               r'\(24 of 64\) are nodata', r"nodata=\.\.\.\) to 'fill', 'mask'"))
def nodata_pixels(tmp):
    data = np.full((8, 8), 5, np.int16)
    data[:, :3] = -9999
    write_tif(osp.join(tmp, 'SAR', 'a.tif'), data, nodata=-9999)
    raster_dataset(tmp, dict(sar='SAR'), pipeline=[
        dict(type='mmkd.LoadMultiModalImages', nodata='raise')])[0]


@fault("SAR already in dB given to SARIntensityScale(mode='db')",
       expect=(r'^SARUnitError: ', r'SAR/sigma0_db\.tif looks already in dB',
               r"use mode='linear' with clip in dB"))
def sar_db_in_db_mode(tmp):
    db = np.random.default_rng(0).uniform(-25, 3, (16, 16)).astype(np.float32)
    write_tif(osp.join(tmp, 'SAR', 'sigma0_db.tif'), db)
    raster_dataset(tmp, dict(sar='SAR'), pipeline=[
        dict(type='mmkd.LoadMultiModalImages'),
        dict(type='mmkd.SARIntensityScale', mode='db', clip=(-25, 5))])[0]


def two_teachers(tmp, sar_classes=4, **loss):
    """An EO and a SAR teacher of one SAR student, one MultiTeacherKDLoss."""
    from mmkd.models.distillers import Distiller
    eo, sar = classifier(width=16, in_channels=3), classifier(width=16,
                                                              num_classes=sar_classes)
    loss.setdefault('inputs', dict(student='s_logits',
                                   teacher=dict(eo='t_eo', sar='t_sar')))
    return Distiller(
        student=classifier(), student_input='sar',
        teachers=dict(eo=dict(model=eo, input='eo', checkpoint=save_weights(
                          eo, osp.join(tmp, 'eo.pth'))),
                      sar=dict(model=sar, input='sar', checkpoint=save_weights(
                          sar, osp.join(tmp, 'sar.pth')))),
        taps=dict(s_logits='student.head.fc', t_eo='eo.head.fc', t_sar='sar.head.fc'),
        losses=dict(mtkd=dict(type='mmkd.MultiTeacherKDLoss', **loss)))


@fault('a multi-teacher loss names a teacher the distiller does not have',
       expect=(r'^KeyError: ', r"names teacher 'optical'",
               r"the distiller's teachers are \['eo', 'sar'\]"))
def multi_teacher_unknown_teacher(tmp):
    two_teachers(tmp, inputs=dict(student='s_logits',
                                  teacher=dict(optical='t_eo', sar='t_sar')))


@fault('teachers of one multi-teacher loss predict different numbers of classes',
       expect=(r'^ValueError: ', r"teachers 'eo' \(4 classes\) and 'sar' \(6 classes\)"))
def multi_teacher_class_counts(tmp):
    d = two_teachers(tmp, sar_classes=6, aggregation='mean_targets')
    d(dict(eo=torch.randn(2, 3, 32, 32), sar=torch.randn(2, 1, 32, 32)),
      cls_batch()['data_samples'], mode='loss')


def run(name, fn, short=False):
    """Provoke one fault: ``(message, where it was raised)``. ``short`` writes the
    temporary folder as ``...`` (the README's table)."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    with tempfile.TemporaryDirectory() as tmp:
        try:
            result = fn(tmp)
            where = ''
        except Exception as e:  # what the user sees
            tb = traceback.extract_tb(e.__traceback__)[-1]
            result = f'{type(e).__name__}: {e}'
            where = f'{osp.relpath(tb.filename, REPO)}:{tb.lineno}'
        result = result or 'no error raised'
        if short:
            for t in {osp.realpath(tmp), tmp}:
                result = result.replace(t, '...')
        return result, where


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--markdown', action='store_true')
    p.add_argument('--only', nargs='*')
    p.add_argument('--check', action='store_true',
                   help='exit 1 when a message misses what its fault expects (the file '
                        'it names, the fix it gives)')
    args = p.parse_args()
    import contextlib
    import io
    import logging

    from mmengine.logging import MMLogger

    import mmkd  # noqa: F401
    import mmkd.models  # noqa: F401
    MMLogger.get_current_instance().setLevel(logging.ERROR)
    rows, failed = [], 0
    for name, cause, fn in FAULTS:
        if args.only and name not in args.only:
            continue
        if args.markdown:  # libraries' progress prints must not end up in the table
            with contextlib.redirect_stdout(io.StringIO()):
                msg, where = run(name, fn, short=True)
        else:
            msg, where = run(name, fn)
        rows.append((name, cause, msg, where))
        missed = unmet(name, msg)
        failed += bool(missed)
        if not args.markdown:
            print(f'== {cause}  [{name}]\n{msg}\n   raised at {where or "-"}\n'
                  + ''.join(f'   MISSING: {m}\n' for m in missed), flush=True)
    if args.markdown:
        print('| cause | message |\n|---|---|')
        for _, cause, msg, _ in rows:
            one = ' '.join(msg.split()).replace('|', '\\|').replace('`', "'")
            print(f'| {cause} | `{one[:400]}{" ..." if len(one) > 400 else ""}` |')
    if args.check and failed:
        print(f'{failed} message(s) miss what their fault expects', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
