"""Instance-mask PNGs -> COCO (tools/dataset_converters/instance_masks_to_coco.py) on
fixtures written here in the formats such sets ship (8-bit and 16-bit instance ids,
RGB colours, a class map), and the SAR ship detection KD example that reads the result
(configs/det_kd/sar_ship/)."""
import importlib.util
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image
from pycocotools import mask as mask_utils

SHIP = osp.join(REPO, 'configs', 'det_kd', 'sar_ship')


def load_tool():
    path = osp.join(REPO, 'tools', 'dataset_converters', 'instance_masks_to_coco.py')
    spec = importlib.util.spec_from_file_location('instance_masks_to_coco', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def _mmdet_scope(_mmpretrain_scope):
    init_default_scope('mmdet')
    yield


H, W = 40, 48


def fixture_ids():
    """An instance-id image: 1 and 2 touch (no background between them), 3 is a ring
    (a hole in the middle), 4 is one pixel, 5 is split into two separate parts."""
    ids = np.zeros((H, W), np.uint16)
    ids[3:11, 2:12] = 1            # 10 x 8
    ids[3:11, 12:20] = 2           # 8 x 8, right next to 1
    ids[18:30, 4:16] = 3           # 12 x 12 ring ...
    ids[22:26, 8:12] = 0           # ... with a 4 x 4 hole
    ids[35, 40] = 4                # one pixel
    ids[15:20, 30:36] = 5          # two parts of one instance
    ids[25:31, 38:44] = 5
    return ids


def bbox_of(mask):
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1),
            float(ys.max() - ys.min() + 1)]


def write_set(root, ids_by_stem, rgb_stems=(), sixteen_bit=()):
    """images/<stem>.jpg (the image) and masks/<stem>.png (the mask)."""
    (root / 'images').mkdir(parents=True, exist_ok=True)
    (root / 'masks').mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for stem, ids in ids_by_stem.items():
        cv2.imwrite(str(root / 'images' / f'{stem}.jpg'),
                    rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
        if ids is None:
            continue
        if stem in rgb_stems:  # one colour per instance, black background
            palette = {0: (0, 0, 0), 1: (255, 0, 0), 2: (0, 255, 0), 3: (0, 0, 255),
                       4: (255, 255, 0), 5: (0, 255, 255)}
            rgb = np.zeros((H, W, 3), np.uint8)
            for v, c in palette.items():
                rgb[ids == v] = c
            Image.fromarray(rgb, 'RGB').save(root / 'masks' / f'{stem}.png')
        elif stem in sixteen_bit:
            Image.fromarray(ids.astype(np.uint16)).save(root / 'masks' / f'{stem}.png')
        else:
            Image.fromarray(ids.astype(np.uint8), 'L').save(
                root / 'masks' / f'{stem}.png')
    return root


def by_image(coco):
    out = {}
    names = {im['id']: osp.splitext(im['file_name'])[0] for im in coco['images']}
    for a in coco['annotations']:
        out.setdefault(names[a['image_id']], []).append(a)
    return out


def test_instance_ids_become_exact_coco_boxes_areas_and_masks(tmp_path, capsys):
    tool = load_tool()
    ids = fixture_ids()
    big = ids.astype(np.int64)
    big[big == 1], big[big == 2] = 300, 1000  # 16-bit ids above 255
    root = write_set(tmp_path, {'a': ids, 'b': big, 'empty': np.zeros((H, W))},
                     sixteen_bit={'b'})
    out = str(tmp_path / 'ann' / 'train.json')
    tool.main([str(root / 'images'), str(root / 'masks'), '--out', out])
    printed = capsys.readouterr().out
    assert '3 images, 10 instances' in printed
    assert '1 images without instances (kept)' in printed
    coco = json.load(open(out))
    assert coco['categories'] == [dict(id=1, name='ship', supercategory='ship')]
    assert [(im['file_name'], im['width'], im['height']) for im in coco['images']] == [
        ('a.jpg', W, H), ('b.jpg', W, H), ('empty.jpg', W, H)]
    anns = by_image(coco)
    assert 'empty' not in anns
    for stem, arr in (('a', ids), ('b', big)):
        values = [v for v in np.unique(arr) if v]
        assert len(anns[stem]) == len(values) == 5
        for a, v in zip(anns[stem], values):  # instances in increasing id order
            want = (arr == v).astype(np.uint8)
            got = mask_utils.decode(a['segmentation'])
            assert np.array_equal(got, want), (stem, v)
            assert a['bbox'] == bbox_of(want)
            assert a['area'] == want.sum()
            assert a['category_id'] == 1 and a['iscrowd'] == 0
    one_pixel = anns['a'][3]
    assert one_pixel['bbox'] == [40.0, 35.0, 1.0, 1.0] and one_pixel['area'] == 1
    ring = anns['a'][2]
    assert ring['area'] == 12 * 12 - 16 and ring['bbox'] == [4.0, 18.0, 12.0, 12.0]
    split = anns['a'][4]
    assert split['bbox'] == [30.0, 15.0, 14.0, 16.0] and split['area'] == 30 + 36
    # the touching pair stays two instances that share no pixel
    m1, m2 = (mask_utils.decode(anns['a'][i]['segmentation']) for i in (0, 1))
    assert (m1.sum(), m2.sum()) == (80, 64) and not (m1 & m2).any()

    # mmdet reads the file back: the boxes (x1, y1, x2, y2) and bitmap masks as written
    from mmdet.datasets import CocoDataset
    ds = CocoDataset(data_root=str(root), ann_file=out, data_prefix=dict(img='images/'),
                     metainfo=dict(classes=('ship', )), pipeline=[
                         dict(type='LoadImageFromFile'),
                         dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                         dict(type='PackDetInputs')])
    gt = ds[0]['data_samples'].gt_instances
    assert torch.equal(gt.bboxes.tensor, torch.tensor(
        [[b[0], b[1], b[0] + b[2], b[1] + b[3]] for b in
         (a['bbox'] for a in anns['a'])]))
    assert np.array_equal(gt.masks.masks,
                          np.stack([ids == v for v in range(1, 6)]).astype(np.uint8))


def test_polygons_decode_to_the_exact_mask_holes_stay_rle(tmp_path):
    tool = load_tool()
    ids = fixture_ids()
    ids[12, 22:30] = 6                            # a 1-px line
    ids[32, 20] = ids[33, 21] = ids[34, 22] = 7   # pixels touching at corners only
    root = write_set(tmp_path, {'a': ids})
    out = str(tmp_path / 'poly.json')
    s = tool.convert(str(root / 'images'), str(root / 'masks'), out,
                     mask_format='polygon')
    assert s['notes'] == {'instances with a hole kept as RLE': 1}
    anns = by_image(json.load(open(out)))['a']
    kinds = ['rle' if isinstance(a['segmentation'], dict) else 'polygon' for a in anns]
    assert kinds == ['polygon', 'polygon', 'rle', 'polygon', 'polygon', 'polygon',
                     'polygon']  # the ring (3) keeps an RLE
    for v, a in zip(range(1, 8), anns):
        want = (ids == v).astype(np.uint8)
        assert a['bbox'] == bbox_of(want) and a['area'] == want.sum()
        seg = a['segmentation']
        if isinstance(seg, list):
            assert len(seg) == (2 if v == 5 else 1)  # one polygon per separate part
            assert all(len(p) >= 6 for p in seg)     # COCO's minimum: 3 points
            seg = mask_utils.merge(mask_utils.frPyObjects(seg, H, W))
        assert np.array_equal(mask_utils.decode(seg), want), v
    # what mmdet's LoadAnnotations makes of the polygons: the masks again
    from mmdet.datasets import CocoDataset
    ds = CocoDataset(data_root=str(root), ann_file=out, data_prefix=dict(img='images/'),
                     metainfo=dict(classes=('ship', )), pipeline=[
                         dict(type='LoadImageFromFile'),
                         dict(type='LoadAnnotations', with_bbox=True, with_mask=True,
                              poly2mask=True)])
    assert np.array_equal(ds[0]['gt_masks'].masks,
                          np.stack([ids == v for v in range(1, 8)]).astype(np.uint8))


def test_colour_masks_with_a_class_map(tmp_path):
    tool = load_tool()
    ids = fixture_ids()
    root = write_set(tmp_path, {'c': ids}, rgb_stems={'c'})
    cmap = tmp_path / 'classes.txt'
    cmap.write_text('# colour -> class\n255,0,0 ship\n0,255,0 ship\n0,0,255 oil tank\n'
                    '255,255,0 buoy\n')
    out = str(tmp_path / 'c.json')
    with pytest.raises(tool.MaskFormatError,
                       match=r'c\.png: instance value 0,255,255 is not in the class map'):
        tool.convert(str(root / 'images'), str(root / 'masks'), out,
                     class_map=str(cmap))
    s = tool.convert(str(root / 'images'), str(root / 'masks'), out,
                     class_map=str(cmap), on_unmapped='skip')
    assert s['classes'] == {'ship': 2, 'oil tank': 1, 'buoy': 1}
    assert s['notes'] == {'instances of values not in the class map left out': 1}
    coco = json.load(open(out))
    assert [(c['id'], c['name']) for c in coco['categories']] == [
        (1, 'ship'), (2, 'oil tank'), (3, 'buoy')]
    got = {tuple(a['bbox']): a['category_id'] for a in coco['annotations']}
    assert got == {tuple(bbox_of(ids == 1)): 1, tuple(bbox_of(ids == 2)): 1,
                   tuple(bbox_of(ids == 3)): 2, tuple(bbox_of(ids == 4)): 3}
    with pytest.raises(ValueError, match='but no class map'):
        tool.convert(str(root / 'images'), str(root / 'masks'), out,
                     classes=['ship', 'boat'])


def test_bad_input_is_named(tmp_path):
    tool = load_tool()
    root = write_set(tmp_path, {'a': fixture_ids(), 'nomask': None})
    imgs, masks, out = str(root / 'images'), str(root / 'masks'), str(tmp_path / 'o.json')
    with pytest.raises(FileNotFoundError, match=r'nomask\.jpg has no mask: .*'
                                                r'masks/nomask\.png does not exist'):
        tool.convert(imgs, masks, out)
    s = tool.convert(imgs, masks, out, on_missing_mask='empty')
    assert s['images'] == 2 and s['instances'] == 5
    s = tool.convert(imgs, masks, out, on_missing_mask='skip', min_area=2)
    assert s['images'] == 1 and s['instances'] == 4
    assert s['notes'] == {'images without a mask left out': 1,
                          'instances under 2 px dropped': 1}
    Image.fromarray(np.zeros((H, W + 1), np.uint8)).save(root / 'masks' / 'nomask.png')
    with pytest.raises(tool.MaskFormatError, match=r'nomask\.png is 49x40 but its image '
                                                   r'.*nomask\.jpg is 48x40'):
        tool.convert(imgs, masks, out)
    ids_file = tmp_path / 'split.txt'
    ids_file.write_text('a\n')
    assert tool.convert(imgs, masks, out, ids_file=str(ids_file))['images'] == 1


def test_sar_ship_kd_config_builds_on_converted_data(tmp_path):
    """The example's three files (data, teacher, KD) and the student baseline parse,
    set one class everywhere, and build their dataset and models on converted data."""
    from mmkd.models.distillers import build_model
    from mmkd.registry import DATASETS, MODELS
    tool = load_tool()
    root = write_set(tmp_path / 'sar_ship', {'a': fixture_ids(), 'b': fixture_ids()})
    for split in ('train', 'test'):
        tool.convert(str(root / 'images'), str(root / 'masks'),
                     str(root / 'annotations' / f'{split}.json'))
    teacher_cfg = Config.fromfile(
        osp.join(SHIP, 'retinanet_r50-pafpn_sar-ship_teacher.py'))
    student_cfg = Config.fromfile(osp.join(SHIP, 'retinanet_r18-fpn_sar-ship.py'))
    cfg = Config.fromfile(osp.join(SHIP, 'kd_hard+pdf_r50-pafpn_r18-fpn_sar-ship.py'))
    assert cfg.randomness == dict(seed=0)
    for c in (teacher_cfg, student_cfg):
        assert c.model.bbox_head.num_classes == 1
    assert cfg.model.student.bbox_head.num_classes == 1
    assert cfg.model.student.backbone.depth == 18
    assert teacher_cfg.model.neck.type == 'PAFPN' and student_cfg.model.neck.type == 'FPN'
    assert student_cfg.model.to_dict() == cfg.model.student.to_dict()  # the baseline
    assert cfg.model.student.bbox_head.anchor_generator == \
        teacher_cfg.model.bbox_head.anchor_generator  # same anchors: logits align
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        assert loader.dataset.metainfo['classes'] == ('ship', )
    data_root = str(root) + '/'
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = data_root
    ds = DATASETS.build(ds_cfg)
    assert len(ds) == 2
    assert ds[0]['data_samples'].gt_instances.labels.tolist() == [0] * 5
    val_cfg = cfg.val_dataloader.dataset
    val_cfg.data_root = data_root
    item = DATASETS.build(val_cfg)[0]  # the test pipeline: resized, not flipped
    assert item['inputs'].shape[-2:] == (667, 800)  # 48 x 40 px, long side to 800
    x, y, w, h = bbox_of(fixture_ids() == 1)  # evaluation boxes: the image's frame
    assert item['data_samples'].gt_instances.bboxes.tensor[0].tolist() == [
        x, y, x + w, y + h]

    torch.manual_seed(0)
    teacher, _, _ = build_model(teacher_cfg.model, 'test teacher')
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save({'state_dict': teacher.state_dict(), 'meta': {}}, ckpt)
    cfg.model.teacher.checkpoint = ckpt
    distiller = MODELS.build(cfg.model)
    assert distiller.student.bbox_head.num_classes == 1
    assert distiller.teachers['teacher'].bbox_head.num_classes == 1
    assert sorted(distiller.connectors) == [f's_p{lvl}_adapted' for lvl in range(3, 8)]
