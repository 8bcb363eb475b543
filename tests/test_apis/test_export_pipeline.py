"""The exported student's data pipeline reads what the student was distilled on.

``student_config`` turns a paired pipeline into the host library's own where it can
(mmdet's ``CocoDataset`` / mmpretrain's ``CustomDataset`` with ``LoadImageFromFile``);
band selection, nodata handling and GeoTIFF reading have no host equivalent, so there
the paired dataset and mmkd's loader are kept, packed as the host packs one image.
Tiny rasters, no training."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from conftest import tiny_classifier
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmkd.apis.export import student_config

rasterio = pytest.importorskip('rasterio')


def write_tif(path, bands):
    from rasterio.transform import from_origin
    data = np.stack(bands).astype(np.float32)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with rasterio.open(path, 'w', driver='GTiff', count=data.shape[0],
                       height=data.shape[1], width=data.shape[2], dtype='float32',
                       crs='EPSG:32631', transform=from_origin(5e5, 5.6e6, 10, 10)) as dst:
        dst.write(data)


def cls_pairs(root, sar_tif=True):
    """Two classes x two pairs: SAR 3-band GeoTIFFs (band b holds 10 * (b + 1) + the
    class index) or 1-band PNGs, EO 3-band PNGs."""
    for c, cls in enumerate(('a', 'b')):
        for i in range(2):
            if sar_tif:
                write_tif(osp.join(root, 'SAR', cls, f'{i}.tif'),
                          [np.full((16, 16), 10 * (b + 1) + c) for b in range(3)])
            else:
                os.makedirs(osp.join(root, 'SAR', cls), exist_ok=True)
                cv2.imwrite(osp.join(root, 'SAR', cls, f'{i}.png'),
                            np.full((16, 16), 100 + c, np.uint8))
            os.makedirs(osp.join(root, 'EO', cls), exist_ok=True)
            cv2.imwrite(osp.join(root, 'EO', cls, f'{i}.png'),
                        np.zeros((16, 16, 3), np.uint8))
    return str(root)


def kd_config(root, load, extra=()):
    """A classification KD config: an EO teacher, a 1-band SAR student."""
    pipeline = [load, *extra, dict(type='mmkd.PairedResize', sizes=dict(sar=32, eo=32)),
                dict(type='mmkd.PackMultiModalInputs', task='cls')]
    dataset = dict(type='mmkd.PairedClsDataset', modalities=('eo', 'sar'), data_root=root,
                   folders=dict(eo='EO', sar='SAR'), class_subfolders=True,
                   pipeline=pipeline)
    student = tiny_classifier(num_classes=2)
    return Config(dict(
        default_scope='mmpretrain',
        model=dict(type='mmkd.Distiller', student=student, student_input='sar',
                   teacher=dict(model=tiny_classifier(in_channels=3, num_classes=2),
                                input='eo', checkpoint='teacher.pth'),
                   losses=dict()),
        test_dataloader=dict(batch_size=2, dataset=dataset)))


def build_and_predict(out):
    """Build the exported test set and student as the host library would, and run the
    student on two samples. Returns the samples."""
    from mmengine.registry import init_default_scope

    from mmkd.registry import DATASETS, MODELS
    init_default_scope(out.default_scope)
    ds = DATASETS.build(out.test_dataloader.dataset)
    samples = [ds[0], ds[len(ds) - 1]]
    model = MODELS.build(out.model).eval()
    with torch.no_grad():
        pred = model.test_step(pseudo_collate(samples))
    assert len(pred) == 2 and pred[0].pred_score.shape == (2, )
    return samples


def test_band_selection_survives_the_export(tmp_path):
    """bands=dict(sar=[2]): the exported student reads band 2 (before: mmpretrain's
    CustomDataset with LoadImageFromFile, every band through OpenCV)."""
    root = cls_pairs(tmp_path)
    cfg = kd_config(root, dict(type='mmkd.LoadMultiModalImages', bands=dict(sar=[2]),
                               channels=dict(sar=1, eo=3)))
    out = student_config(cfg)
    ds = out.test_dataloader.dataset
    assert ds.type == 'mmkd.PairedClsDataset' and list(ds.modalities) == ['sar']
    assert ds.pipeline[0].bands == dict(sar=[2]) and ds.pipeline[0].modalities == ['sar']
    assert [t['type'] for t in ds.pipeline[-2:]] == ['mmkd.SelectModality', 'PackInputs']
    samples = build_and_predict(out)
    first, last = samples
    assert tuple(first['inputs'].shape) == (1, 32, 32)  # one band, a tensor (not a dict)
    assert torch.all(first['inputs'] == 30) and torch.all(last['inputs'] == 31)
    assert int(first['data_samples'].gt_label) == 0


def test_geotiffs_keep_mmkds_loader_and_pngs_go_to_the_host(tmp_path):
    """Without bands=, GeoTIFFs still need mmkd's loader (rasterio: band order as
    stored); PNG data exports to mmpretrain's CustomDataset, the loader's options and
    the paired flip translated."""
    root = cls_pairs(tmp_path / 'tif')
    cfg = kd_config(root, dict(type='mmkd.LoadMultiModalImages'))
    cfg.model.student.backbone.in_channels = 3
    cfg.model.student.data_preprocessor.update(mean=[0.] * 3, std=[1.] * 3)
    out = student_config(cfg)
    assert out.test_dataloader.dataset.type == 'mmkd.PairedClsDataset'
    first, _ = build_and_predict(out)
    assert first['inputs'][:, 0, 0].tolist() == [10, 20, 30]  # bands as stored

    root = cls_pairs(tmp_path / 'png', sar_tif=False)
    cfg = kd_config(root, dict(type='mmkd.LoadMultiModalImages', to_float32=True,
                               color_type=dict(sar='grayscale', eo='color')),
                    extra=[dict(type='mmkd.PairedRandomFlip', prob=0.5)])
    out = student_config(cfg)
    ds = out.test_dataloader.dataset
    assert ds.type == 'CustomDataset' and ds.data_prefix == 'SAR'
    assert ds.pipeline == [
        dict(type='LoadImageFromFile', color_type='grayscale', to_float32=True),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False, interpolation='bilinear'),
        dict(type='PackInputs')]
    assert "'mmkd." not in out.pretty_text
    first, last = build_and_predict(out)
    assert torch.all(first['inputs'] == 100) and torch.all(last['inputs'] == 101)


def det_config(root, load):
    """A detection KD config: optical teacher, infrared student, PNG files."""
    pipeline = [load, dict(type='LoadAnnotations', with_bbox=True, box_type=None),
                dict(type='mmkd.PairedResize', sizes=(64, 64)),
                dict(type='mmkd.PackMultiModalInputs', task='det')]
    return Config(dict(
        default_scope='mmdet',
        model=dict(type='mmkd.Distiller', student=dict(type='mmdet.RetinaNet'),
                   student_input='infrared', teacher=dict(model=dict(
                       type='mmdet.RetinaNet'), input='optical', checkpoint='t.pth')),
        test_dataloader=dict(dataset=dict(
            type='mmkd.PairedCocoDataset', data_root=root, ann_file='ann.json',
            modalities=dict(optical='optical/{}', infrared='infrared/{}'),
            ref_modality='infrared', pipeline=pipeline))))


def test_detection_export_shares_the_translation(tmp_path):
    """The detection dataset's export goes through the same translation: mmdet's
    CocoDataset for a plain loader, the paired dataset (bands kept, mmdet's packer)
    when the loader selects bands."""
    root = str(tmp_path)
    os.makedirs(osp.join(root, 'infrared'))
    cv2.imwrite(osp.join(root, 'infrared', '0.png'), np.zeros((8, 8), np.uint8))
    out = student_config(det_config(root, dict(type='mmkd.LoadMultiModalImages',
                                               color_type='grayscale')))
    ds = out.test_dataloader.dataset
    assert ds.type == 'CocoDataset' and ds.data_prefix == dict(img='infrared/')
    assert [t['type'] for t in ds.pipeline] == ['LoadImageFromFile', 'LoadAnnotations',
                                                'Resize', 'PackDetInputs']
    assert 'box_type' not in ds.pipeline[1] and 'ref_modality' not in \
        ds.pipeline[-1]['meta_keys']
    out = student_config(det_config(root, dict(type='mmkd.LoadMultiModalImages',
                                               bands=dict(infrared=[0]))))
    ds = out.test_dataloader.dataset
    assert ds.type == 'mmkd.PairedCocoDataset'
    assert ds.modalities == dict(infrared='infrared/{}') and ds.ref_modality == 'infrared'
    assert ds.pipeline[0].bands == dict(infrared=[0])
    assert [t['type'] for t in ds.pipeline[-2:]] == ['mmkd.SelectModality',
                                                     'PackDetInputs']


def test_host_loader_refusals_name_the_option():
    from mmkd.datasets.host_pipeline import loader_needs_mmkd
    load = dict(type='mmkd.LoadMultiModalImages', bands=dict(eo=[0, 1]),
                nodata=dict(sar='mask'))
    assert 'nodata' in loader_needs_mmkd(load, 'sar')
    assert 'bands [0, 1]' in loader_needs_mmkd(load, 'eo')
    assert loader_needs_mmkd(dict(load, nodata='keep'), 'sar') is None
    assert '(Geo)TIFF' in loader_needs_mmkd(dict(type='x'), 'sar', raster_files=True)


def test_detection_export_paired_by_footprint(tmp_path):
    """A student of the boxes' (reference) modality reads its files alone, without the
    pairing; a student of a partner modality keeps the reference files, its grid."""
    root = str(tmp_path)
    write_tif(osp.join(root, 'infrared', '0.tif'), [np.zeros((8, 8))])
    cfg = det_config(root, dict(type='mmkd.LoadMultiModalImages'))
    cfg.test_dataloader.dataset.update(
        pairing=dict(by='footprint', max_days=3),
        date_patterns=dict(infrared=r'(?P<date>\d{8})'),
        modalities=dict(optical=dict(folder='S2'), infrared='infrared/{}'))
    out = student_config(cfg)
    ds = out.test_dataloader.dataset
    assert ds.type == 'mmkd.PairedCocoDataset'  # GeoTIFFs: mmkd's loader
    assert ds.modalities == dict(infrared='infrared/{}')
    assert 'pairing' not in ds and 'date_patterns' not in ds
    cfg.model.student_input = 'optical'
    ds = student_config(cfg).test_dataloader.dataset
    assert ds.modalities == dict(infrared='infrared/{}', optical=dict(folder='S2'))
    assert ds.ref_modality == 'infrared' and ds.pairing.max_days == 3
    assert ds.pipeline[0].modalities == ['optical']
