"""Detection distillation data and tools: the paired COCO dataset and the cross-modal
grid (optical teacher -> infrared student), the VEDAI and xView converters on
miniatures written in the real formats, bad input, the seeds x folds tool and the
distillation visualisation tool."""
import copy
import csv
import glob
import importlib.util
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmkd.datasets import PairedCocoDataset, UnpairedSampleError

CFG = osp.join(REPO, 'configs', 'det_kd')
XM_CELL = osp.join(CFG, 'cross_modal',
                   'kd_hard+defeat_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py')
TEACHER = osp.join(CFG, 'retinanet_r50-pafpn_synthetic-det_teacher.py')


def load_tool(rel):
    """A tools/ script as a module (tools/ is not a package)."""
    path = osp.join(REPO, rel)
    spec = importlib.util.spec_from_file_location(osp.splitext(osp.basename(path))[0],
                                                  path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def _mmdet_scope(_mmpretrain_scope):
    init_default_scope('mmdet')
    yield


@pytest.fixture(scope='module', autouse=True)
def _one_thread():
    """Small tensors on shared cores: one intra-op thread is fastest."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope='module', autouse=True)
def _memoised_mmdet_metafiles():
    """mmengine reads all of mmdet's metafiles for every `mmdet::` base (see
    test_det_kd.py); remember the answers while this module parses configs."""
    import mmengine.config.utils as utils
    original, cache = utils._get_cfg_metainfo, {}

    def memoised(package_path, cfg_path):
        key = (package_path, cfg_path)
        if key not in cache:
            try:
                cache[key] = (original(package_path, cfg_path), None)
            except ValueError as e:
                cache[key] = (None, str(e))
        found, error = cache[key]
        if error is not None:
            raise ValueError(error)
        return found

    utils._get_cfg_metainfo = memoised
    yield
    utils._get_cfg_metainfo = original


@pytest.fixture
def logged(monkeypatch):
    """The messages the paired COCO dataset logs (mmengine's logger writes to the
    stream it found when it was created, which capsys does not see)."""
    import mmkd.datasets.paired_coco_dataset as module
    messages = []
    original = module.print_log

    def record(msg, *args, **kwargs):
        messages.append(msg)
        return original(msg, *args, **kwargs)

    monkeypatch.setattr(module, 'print_log', record)
    return messages


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    from mmkd.testing import make_synthetic_det
    root = str(tmp_path_factory.mktemp('data') / 'synthetic_det')
    return make_synthetic_det(root, num_train=4, num_val=2, size=64, seed=3)


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    """The grid's R50-PAFPN optical teacher, freshly initialised."""
    from mmkd.models.distillers import build_model
    torch.manual_seed(0)
    model, _, _ = build_model(Config.fromfile(TEACHER).model, 'test teacher')
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def small(cfg, data_root, size=64):
    """A det_kd config on the tiny generated set: paths, 64 px, no workers."""
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.data_root = data_root
        for t in loader.dataset.pipeline:
            if t['type'].endswith('PairedResize'):
                t['sizes'] = (size, size)
            elif t['type'] == 'Resize':
                t['scale'] = (size, size)
    for k in ('val_evaluator', 'test_evaluator'):
        if cfg.get(k):
            cfg[k].ann_file = osp.join(data_root, 'annotations', 'val.json')
    return cfg


# --------------------------------------------------------------------- PairedCocoDataset
def test_paired_coco_dataset_gives_both_renderings_one_set_of_boxes(synthetic):
    from mmkd.registry import DATASETS
    cfg = small(Config.fromfile(XM_CELL), synthetic)
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ds_cfg.pipeline = [t for t in ds_cfg.pipeline if 'Flip' not in t['type']]
    ds = DATASETS.build(ds_cfg)
    coco = json.load(open(osp.join(synthetic, 'annotations', 'train.json')))
    assert len(ds) == len(coco['images']) == 4
    info = ds.get_data_info(1)
    name = coco['images'][1]['file_name']
    assert info['img_path'] == {'optical': osp.join(synthetic, 'optical', name),
                                'infrared': osp.join(synthetic, 'infrared', name)}
    item = ds[1]
    assert tuple(item['inputs']['optical'].shape) == (3, 64, 64)
    assert tuple(item['inputs']['infrared'].shape) == (1, 64, 64)
    want = [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
             a['bbox'][1] + a['bbox'][3]]
            for a in coco['annotations'] if a['image_id'] == 1]
    assert torch.allclose(item['data_samples'].gt_instances.bboxes, torch.tensor(want))
    assert item['data_samples'].metainfo['img_id'] == 1
    # a template with entry fields and a plain folder both work
    ds2 = PairedCocoDataset(modalities=dict(ir='infrared', eo='optical/{stem}{ext}'),
                            data_root=synthetic, ann_file='annotations/val.json',
                            metainfo=dict(classes=('car', 'truck', 'boat', 'plane')),
                            test_mode=True)
    assert ds2.get_data_info(0)['img_path']['ir'].endswith('infrared/val/000000.png')
    assert ds2.get_data_info(0)['ref_modality'] == 'ir'
    with pytest.raises(KeyError, match='vedai_id'):
        PairedCocoDataset(modalities=dict(ir='x/{vedai_id}_ir.png'), data_root=synthetic,
                          ann_file='annotations/val.json', test_mode=True)


def copy_synthetic(src, dst):
    shutil.copytree(src, dst)
    return str(dst)


def test_unpaired_infrared_file_is_named_or_skipped_and_logged(synthetic, tmp_path,
                                                                logged):
    root = copy_synthetic(synthetic, tmp_path / 'd')
    os.remove(osp.join(root, 'optical', 'train', '000002.png'))
    kw = dict(modalities=dict(optical='optical/', infrared='infrared/'), data_root=root,
              ann_file='annotations/train.json',
              metainfo=dict(classes=('car', 'truck', 'boat', 'plane')))
    with pytest.raises(UnpairedSampleError,
                       match=r'infrared/train/000002\.png \(infrared\) has no optical '
                             r'partner: .*optical/train/000002\.png does not exist'):
        PairedCocoDataset(**kw)
    ds = PairedCocoDataset(on_unpaired='skip', **kw)
    assert len(ds) == 3
    assert ds.notes == {'image(s) without their optical partner skipped': 1}
    assert 'image(s) without their optical partner skipped' in logged[-1]
    # the student's modality alone (test time) does not need the partner
    assert len(PairedCocoDataset(**dict(kw, modalities=dict(infrared='infrared/')))) == 4
    # nothing there at all: the data root is wrong, whatever on_unpaired says
    with pytest.raises(FileNotFoundError, match='no file in any modality'):
        PairedCocoDataset(on_unpaired='skip', **dict(
            kw, data_root=str(tmp_path), ann_file=osp.join(root, kw['ann_file'])))


def test_boxes_outside_the_image_and_empty_annotations(tmp_path, logged):
    """Boxes outside the image are dropped (as mmdet does) and counted, boxes across
    the border clipped; images left without boxes are out of training, in testing."""
    from mmdet.datasets import CocoDataset
    root = str(tmp_path)
    os.makedirs(osp.join(root, 'optical'))
    for i in range(3):
        cv2.imwrite(osp.join(root, 'optical', f'{i}.png'),
                    np.zeros((40, 50, 3), np.uint8))
    boxes = {0: [[5, 5, 10, 10], [45, 30, 20, 20], [60, 5, 10, 10], [5, 5, 0.5, 8]],
             1: [],                      # an image without annotations
             2: [[-30, -30, 10, 10]]}    # its only box lies outside the image
    coco = dict(images=[dict(id=i, file_name=f'{i}.png', width=50, height=40)
                        for i in range(3)],
                annotations=[dict(id=10 * i + k, image_id=i, category_id=1, bbox=b,
                                  area=b[2] * b[3], iscrowd=0)
                             for i, bs in boxes.items() for k, b in enumerate(bs)],
                categories=[dict(id=1, name='car')])
    with open(osp.join(root, 'ann.json'), 'w') as f:
        json.dump(coco, f)
    kw = dict(data_root=root, ann_file='ann.json', metainfo=dict(classes=('car', )),
              filter_cfg=dict(filter_empty_gt=True))
    ds = PairedCocoDataset(modalities=dict(optical='optical/'), **kw)
    log = '\n'.join(logged)
    assert '2 box(es) entirely outside their image dropped' in log
    assert '1 box(es) under 1 px dropped' in log
    assert '1 box(es) crossing the image border clipped to it' in log
    assert '2 image(s) without boxes' in log
    assert len(ds) == 1
    assert [i['bbox'] for i in ds.get_data_info(0)['instances']] == [
        [5, 5, 15, 15], [45.0, 30.0, 50.0, 40.0]]
    # mmdet's own filter keeps image 2, whose only box it dropped
    plain = CocoDataset(data_prefix=dict(img='optical/'), **kw)
    assert [plain.get_data_info(i)['img_id'] for i in range(len(plain))] == [0, 2]
    # evaluation keeps every image, as mmdet does
    assert len(PairedCocoDataset(modalities=dict(optical='optical/'), test_mode=True,
                                 **kw)) == 3
    # classes the annotation file lacks: named, instead of silently empty
    with pytest.raises(ValueError, match=r"no categories named \['plane'\].*\['car'\]"):
        PairedCocoDataset(modalities=dict(optical='optical/'),
                          **dict(kw, metainfo=dict(classes=('car', 'plane'))))


# --------------------------------------------------------------------- cross-modal grid
def test_cross_modal_grid_is_complete_and_reads_the_two_modalities():
    from test_det_kd import CELLS
    names = os.listdir(osp.join(CFG, 'cross_modal'))
    for cell in CELLS:
        assert f'kd_{cell}_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py' in names
        assert f'kd_{cell}_r50-pafpn_r18-fpn_vedai.py' in os.listdir(osp.join(CFG,
                                                                             'vedai'))
        assert f'kd_{cell}_r50-pafpn-co_r18-fpn-ir_vedai.py' in os.listdir(
            osp.join(CFG, 'vedai'))
    cfg = Config.fromfile(XM_CELL)
    assert cfg.model.student_input == 'infrared'
    assert cfg.model.teacher.input == 'optical'
    assert cfg.model.student.backbone.in_channels == 1
    assert set(cfg.model.data_preprocessor.preprocessors) == {'optical', 'infrared'}
    assert cfg.val_dataloader.dataset.modalities == dict(infrared='infrared/{}')


def test_cross_modal_kd_trains_and_its_student_tests_on_infrared_with_mmdet_alone(
        synthetic, teacher_ckpt, tmp_path):
    from mmdet.registry import DATASETS as MMDET_DATASETS
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmengine.runner import Runner
    cfg = small(Config.fromfile(XM_CELL), synthetic)
    cfg.merge_from_dict({'model.teacher.checkpoint': teacher_ckpt,
                         'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
                         'default_hooks.checkpoint.interval': 1, 'randomness.seed': 0,
                         'model.student.test_cfg.score_thr': 0.0})
    cfg.work_dir = str(tmp_path / 'kd')
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = [json.loads(line) for line in open(
        next(p for p in (tmp_path / 'kd').rglob('scalars.json')))]
    assert any('loss_defeat.fg' in s for s in scalars)   # the teacher read optical,
    assert any('coco/bbox_mAP' in s for s in scalars)    # validation infrared only
    student_cfg = Config.fromfile(str(tmp_path / 'kd' / 'student' / 'student_config.py'))
    text = student_cfg.pretty_text
    assert 'mmkd' not in text
    for split in ('train', 'val', 'test'):
        ds = student_cfg[f'{split}_dataloader'].dataset
        assert ds.type == 'CocoDataset' and ds.data_prefix == dict(img='infrared/')
    assert student_cfg.model.data_preprocessor.mean == [101.8]
    # mmdet builds the exported config's test set and model; they read infrared alone
    ds = MMDET_DATASETS.build(student_cfg.test_dataloader.dataset)
    item = ds[0]
    assert item['data_samples'].img_path.endswith('infrared/val/000000.png')
    assert tuple(item['inputs'].shape) == (1, 64, 64)
    model = MMDET_MODELS.build(student_cfg.model)
    state = torch.load(tmp_path / 'kd' / 'student' / 'student.pth',
                       weights_only=True)['state_dict']
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        batch = model.data_preprocessor(dict(inputs=[item['inputs']],
                                             data_samples=[item['data_samples']]))
        out = model(batch['inputs'], batch['data_samples'], mode='predict')
    assert len(out[0].pred_instances) > 0


# --------------------------------------------------------------------- VEDAI
def write_vedai(root, ids=('00000000', '00000001', '00000003', '00000004'),
                resolutions=(512, 1024), sizes=None, drop_ir=()):
    """A VEDAI miniature in the distribution's layout and formats (images at 64/128 px
    stand for 512/1024)."""
    sizes = sizes or {512: 64, 1024: 128}
    rng = np.random.default_rng(0)
    for res in resolutions:
        s = sizes[res]
        k = s / 64
        img_dir = osp.join(root, f'Vehicules{res}')
        ann_dir = osp.join(root, f'Annotations{res}')
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for vid in ids:
            cv2.imwrite(osp.join(img_dir, f'{vid}_co.png'),
                        rng.integers(0, 255, (s, s, 3), dtype=np.uint8))
            if vid not in drop_ir:
                cv2.imwrite(osp.join(img_dir, f'{vid}_ir.png'),
                            rng.integers(0, 255, (s, s), dtype=np.uint8))

        def line(cx, cy, ori, cls, xs, ys, contained=1, occluded=0):
            xs, ys = [x * k for x in xs], [y * k for y in ys]
            return ' '.join(f'{v:.6f}' if isinstance(v, float) else str(v) for v in
                            [cx * k, cy * k, ori, cls, contained, occluded, *[
                                int(round(x)) for x in xs], *[int(round(y)) for y in ys]])
        with open(osp.join(ann_dir, '00000000.txt'), 'w') as f:
            # a car (rotated), a truck crossing the right border, a 5-field line
            f.write(line(20.5, 20.5, 0.5, 1, [10, 30, 31, 11], [15, 14, 26, 27]) + '\n')
            f.write(line(60.0, 40.0, 0.0, 2, [56, 70, 70, 56], [36, 36, 44, 44],
                         contained=0) + '\n')
            f.write(f'{30 * k:.6f} {30 * k:.6f} 23 1 0\n')
        with open(osp.join(ann_dir, '00000001.txt'), 'w') as f:
            f.write(line(40.0, 10.0, 1.2, 31, [35, 45, 45, 35], [5, 5, 15, 15]) + '\n')
        # 00000003 has no per-image file: it is in the combined one; 00000004 has none
        with open(osp.join(ann_dir, f'annotation{res}.txt'), 'w') as f:
            f.write(f'00000003 {12 * k:.6f} {50 * k:.6f} 0.1 '
                    + ' '.join(str(int(v * k)) for v in [8, 16, 16, 8, 46, 46, 54, 54])
                    + ' 11 1 0\n')
        for n, (train, test) in enumerate([(['0', '00000001'], ['3', '4']),
                                           (['3', '4'], ['00000000', '1'])], 1):
            with open(osp.join(ann_dir, f'fold{n:02d}.txt'), 'w') as f:
                f.write('\n'.join(train) + '\n')
            with open(osp.join(ann_dir, f'fold{n:02d}test.txt'), 'w') as f:
                f.write('\n'.join(test) + '\n')
    return root


def test_vedai_converter_writes_paired_coco_folds_at_both_resolutions(tmp_path, capsys):
    conv = load_tool('tools/dataset_converters/vedai_to_coco.py')
    root = write_vedai(str(tmp_path / 'VEDAI'))
    conv.main([root, '--folds', '1', '2'])
    out = capsys.readouterr().out
    assert '1 objects without corners skipped' in out
    assert '1 boxes crossing the image border clipped' in out
    assert 'images without an annotation file (kept, no boxes)' in out
    for res, k in ((512, 1), (1024, 2)):
        coco = json.load(open(osp.join(root, 'coco', f'vedai{res}_all.json')))
        assert coco['info']['gsd_cm'] == {512: 25.0, 1024: 12.5}[res]
        by_id = {im['vedai_id']: im for im in coco['images']}
        assert sorted(by_id) == ['00000000', '00000001', '00000003', '00000004']
        assert by_id['00000000'] == dict(id=0, file_name='00000000_co.png',
                                         width=64 * k, height=64 * k, vedai_id='00000000')
        anns = {(a['image_id'], a['category_id']): a for a in coco['annotations']}
        assert anns[(0, 1)]['bbox'] == [10 * k, 14 * k, 21 * k, 13 * k]  # corner hull
        assert anns[(0, 2)]['bbox'] == [56 * k, 36 * k, 8 * k, 8 * k]    # clipped at 64
        assert anns[(0, 1)]['vedai']['corners_x'] == [10 * k, 30 * k, 31 * k, 11 * k]
        assert anns[(1, 31)]['bbox'] == [35 * k, 5 * k, 10 * k, 10 * k]
        assert anns[(3, 11)]['bbox'] == [8 * k, 46 * k, 8 * k, 8 * k]    # combined file
        assert len(coco['annotations']) == 4
        cats = {c['id']: c['name'] for c in coco['categories']}
        assert cats[1] == 'car' and cats[11] == 'pickup' and cats[31] == 'plane'
        for n, train, test in ((1, [0, 1], [3, 4]), (2, [3, 4], [0, 1])):
            for split, ids in (('train', train), ('test', test)):
                c = json.load(open(osp.join(root, 'coco',
                                            f'vedai{res}_fold{n:02d}_{split}.json')))
                assert sorted(im['id'] for im in c['images']) == ids
    # the cross-modal VEDAI configs read the pair, at the fold the converter's options name
    from mmkd.registry import DATASETS
    cfg = Config.fromfile(osp.join(CFG, 'vedai',
                                   'kd_soft+pdf_r50-pafpn-co_r18-fpn-ir_vedai.py'))
    cfg.merge_from_dict(conv.fold_options(cfg, 2))
    assert cfg.fold == 2 and cfg.model.teacher.checkpoint.endswith('seed0_fold02')
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = root
    ds_cfg.pipeline = [t for t in ds_cfg.pipeline if 'Flip' not in t['type']]
    ds_cfg.pipeline[2]['sizes'] = 64
    ds = DATASETS.build(ds_cfg)
    assert ds_cfg.ann_file == 'coco/vedai512_fold02_train.json'
    assert len(ds) == 1  # of 00000003 and 00000004, only 3 has boxes (of these classes)
    item = ds[0]
    assert set(item['inputs']) == {'optical', 'infrared'}
    assert item['inputs']['infrared'].shape[0] == 1
    assert item['data_samples'].gt_instances.bboxes.tolist() == [[8., 46., 16., 54.]]
    assert ds.get_data_info(0)['img_path']['infrared'].endswith(
        'Vehicules512/00000003_ir.png')


def _strings(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


def _sizes(cfg):
    return [t.get('scale', t.get('sizes')) for split in ('train', 'val', 'test')
            for t in cfg[f'{split}_dataloader'].dataset.pipeline
            if t['type'] in ('Resize', 'mmkd.PairedResize')]


@pytest.mark.parametrize('name', sorted(
    osp.basename(p) for p in glob.glob(osp.join(CFG, 'vedai', '*.py'))))
def test_vedai_fold_options_move_every_fold_field(name):
    """The configs read fold 1 at 512 px (no environment variable); the converter's
    fold_options, which the grid tools apply, change nothing at that fold and leave no
    field of fold 1 or 512 px behind at another."""
    conv = load_tool('tools/dataset_converters/vedai_to_coco.py')
    grid = load_tool('tools/analysis/seed_fold_grid.py')
    path = osp.join(CFG, 'vedai', name)
    shipped = Config.fromfile(path)
    assert (shipped.fold, shipped.resolution) == (1, 512)
    same = copy.deepcopy(shipped)
    same.merge_from_dict(conv.fold_options(shipped, 1))
    assert same.to_dict() == shipped.to_dict()
    moved = copy.deepcopy(shipped)
    moved.merge_from_dict(conv.fold_options(shipped, 3, 1024))
    left = [t for t in _strings(moved.to_dict())
            if 'fold01' in t or 'Vehicules512' in t or 'vedai512' in t]
    assert not left, left
    assert set(map(str, _sizes(shipped))) <= {'(512, 512)', '512'}
    assert set(map(str, _sizes(moved))) <= {'(1024, 1024)', '1024'} and _sizes(moved)
    assert moved.fold == 3 and moved.train_dataloader.dataset.ann_file == \
        'coco/vedai1024_fold03_train.json'
    assert moved.val_evaluator.ann_file == 'data/VEDAI/coco/vedai1024_fold03_test.json'
    if moved.model.type == 'mmkd.Distiller':
        assert moved.model.teacher.checkpoint.endswith(
            'retinanet_r50-pafpn_vedai-co_teacher/seed0_fold03')
    # the seeds x folds tool's --fold-rule gives the same options, flat
    args = grid.parse_args([path, '--seeds', '0', '--work-dir', 'unused',
                            '--fold-rule', 'vedai:1024'])
    flat = copy.deepcopy(shipped)
    flat.merge_from_dict(grid.fold_rule_options(args, 3))
    assert flat.to_dict() == moved.to_dict()


def test_vedai_unpaired_colour_image_is_named_or_skipped(tmp_path, capsys):
    conv = load_tool('tools/dataset_converters/vedai_to_coco.py')
    root = write_vedai(str(tmp_path / 'VEDAI'), resolutions=(512, ),
                       drop_ir=('00000001', ))
    with pytest.raises(FileNotFoundError,
                       match=r'00000001_co\.png has no infrared partner'):
        conv.main([root, '--folds'])
    conv.main([root, '--folds', '1', '--on-unpaired', 'skip'])
    out = capsys.readouterr().out
    assert '1 images without their colour/infrared partner skipped' in out
    assert '1 fold ids without an image pair (fold01 train)' in out
    with open(osp.join(root, 'Annotations512', '00000000.txt'), 'w') as f:
        f.write('1 2 3 4 5 6 7\n')
    with pytest.raises(conv.VEDAIFormatError, match=r'00000000\.txt:1: expected 14'):
        conv.main([root, '--folds', '--on-unpaired', 'skip'])


# --------------------------------------------------------------------- xView
def write_xview(root):
    """Scenes as GeoTIFFs (one band-first) and an xView_train.geojson."""
    import tifffile
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'train_images'))
    scenes = {'100.tif': (200, 300), '101.tif': (130, 130), '102.tif': (100, 100)}
    for name, (h, w) in scenes.items():
        img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        if name == '101.tif':
            img = np.ascontiguousarray(img.transpose(2, 0, 1))  # band-first
        tifffile.imwrite(osp.join(root, 'train_images', name), img)
    feats = [('100.tif', 18, '10,10,30,40'),      # a small car, in chip (0, 0)
             ('100.tif', 73, '110,20,140,60'),    # a building across chips x0=0, 96
             ('100.tif', 73, '120,150,160,199'),  # 84 % of it in chip (96, 72), 16 %
                                                  # in chip (0, 72): dropped from that
             ('100.tif', 23, '250,180,300,200'),  # a truck at the bottom right corner
             ('100.tif', 75, '50,50,60,60'),      # code 75: not one of the 60 classes
             ('101.tif', 11, '5,5,60,60'),
             ('102.tif', 86, '0,0,20,20')]
    features = [dict(type='Feature', geometry=dict(type='Polygon', coordinates=[]),
                     properties=dict(image_id=img, type_id=t, bounds_imcoords=b,
                                     cat_id=i, feature_id=1000 + i, edited_by='x'))
                for i, (img, t, b) in enumerate(feats)]
    features.append(dict(type='Feature', geometry=None,
                         properties=dict(image_id='100.tif', type_id=18,
                                         bounds_imcoords=[], cat_id=99)))
    with open(osp.join(root, 'xView_train.geojson'), 'w') as f:
        json.dump(dict(type='FeatureCollection', features=features), f)
    return root


def test_xview_converter_tiles_scenes_into_coco_chips(tmp_path, capsys):
    conv = load_tool('tools/dataset_converters/xview_to_coco.py')
    assert len(conv.XVIEW_CLASSES) == 60
    assert conv.chip_origins(300, 128, 32) == [0, 96, 172]
    assert conv.chip_origins(100, 128, 32) == [0]
    root = write_xview(str(tmp_path / 'xView'))
    conv.main([root, '--chip-size', '128', '--overlap', '32', '--folds', '3'])
    out = capsys.readouterr().out
    assert '1 boxes of codes outside the 60 classes dropped (75)' in out
    assert '1 features without coordinates dropped' in out
    assert 'chips without boxes left out' in out
    cdir = osp.join(root, 'coco_chips_128')
    rows = list(csv.reader(open(osp.join(cdir, 'xview_class_map.txt'))))
    assert rows[0] == ['type_id', 'category_id', 'name'] and len(rows) == 61
    assert rows[1] == ['11', '1', 'Fixed-wing Aircraft'] and rows[-1] == ['94', '60',
                                                                         'Tower']
    cat = {int(r[0]): int(r[1]) for r in rows[1:]}
    chips, anns = {}, []
    for k in (1, 2, 3):
        val = json.load(open(osp.join(cdir, f'xview_fold{k:02d}_val.json')))
        train = json.load(open(osp.join(cdir, f'xview_fold{k:02d}_train.json')))
        scenes_val = {im['source_image'] for im in val['images']}
        assert len(scenes_val) == 1  # one scene per fold, never in its train split
        assert not scenes_val & {im['source_image'] for im in train['images']}
        assert len(val['categories']) == 60
        chips.update({im['id']: im for im in val['images']})
        anns += [dict(a, chip=chips[a['image_id']]) for a in val['annotations']]
    in_scene = lambda s: [a for a in anns if a['chip']['source_image'] == s]  # noqa
    car = [a for a in in_scene('100.tif') if a['category_id'] == cat[18]]
    assert [(a['chip']['chip_x0'], a['chip']['chip_y0'], a['bbox']) for a in car] == [
        (0, 0, [10, 10, 20, 30])]
    building = sorted((a['chip']['chip_x0'], a['chip']['chip_y0'], a['bbox'])
                      for a in in_scene('100.tif') if a['bbox'][1] < 60
                      and a['category_id'] == cat[73])
    assert building == [(0, 0, [110, 20, 18, 40]), (96, 0, [14, 20, 30, 40])]
    assert [(a['chip']['chip_x0'], a['chip']['chip_y0'], a['bbox'])
            for a in in_scene('100.tif')
            if a['bbox'][1] > 60 and a['category_id'] == cat[73]] == [(96, 72,
                                                                   [24, 78, 40, 49])]
    assert '1 boxes mostly outside a chip dropped from it' in out
    truck = [a for a in in_scene('100.tif') if a['category_id'] == cat[23]]
    assert {(a['chip']['chip_x0'], a['chip']['chip_y0']) for a in truck} == {(172, 72)}
    assert all(a['bbox'][2] >= 1 and a['bbox'][3] >= 1 for a in anns)
    # the band-first scene and the chips read back as mmdet reads them
    from mmdet.datasets import CocoDataset
    ds = CocoDataset(data_root=cdir, ann_file='xview_fold01_val.json',
                     data_prefix=dict(img='images/'), test_mode=True,
                     metainfo=dict(classes=tuple(conv.XVIEW_CLASSES.values())),
                     pipeline=[dict(type='LoadImageFromFile')])
    assert ds[0]['img'].shape[2] == 3
    # a box with half of it or more outside a chip is left out of that chip
    counts = conv.Counter()
    kept = conv.chip_boxes([(18, [0, 0, 10, 10])], 6, 0, 128, 128, 0.5, counts)
    assert kept == [] and counts['boxes mostly outside a chip dropped from it'] == 1


# --------------------------------------------------------------------- seeds x folds
TINY = """
_base_ = [{base!r}]
fold = 1
data_root = {data!r}
model = dict(
    backbone=dict(base_channels=8, stem_channels=8),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=16),
    bbox_head=dict(in_channels=16, feat_channels=16),
    test_cfg=dict(score_thr=0.0))
pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
            dict(type='Resize', scale=(64, 64), keep_ratio=True),
            dict(type='PackDetInputs')]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler'), batch_sampler=None,
    dataset=dict(data_root=data_root, ann_file=f'annotations/fold{{fold}}_train.json',
                 pipeline=pipeline))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file=f'annotations/fold{{fold}}_val.json',
                 pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + f'/annotations/fold{{fold}}_val.json')
test_evaluator = val_evaluator
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=1, val_interval=1)
param_scheduler = []
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=1),
                     logger=dict(interval=1))
log_processor = dict(by_epoch=False)
"""


def write_folds(root):
    """Two folds of the generated set: each trains on two scenes, validates on two."""
    coco = json.load(open(osp.join(root, 'annotations', 'train.json')))
    for k, (tr, va) in enumerate([((0, 1), (2, 3)), ((2, 3), (0, 1))], 1):
        for split, ids in (('train', tr), ('val', va)):
            sub = dict(coco, images=[im for im in coco['images'] if im['id'] in ids],
                       annotations=[a for a in coco['annotations']
                                    if a['image_id'] in ids])
            with open(osp.join(root, 'annotations', f'fold{k}_{split}.json'), 'w') as f:
                json.dump(sub, f)


def test_seed_fold_grid_runs_summarises_and_resumes(synthetic, tmp_path, capsys):
    grid = load_tool('tools/analysis/seed_fold_grid.py')
    data = copy_synthetic(synthetic, tmp_path / 'data')
    write_folds(data)
    config = tmp_path / 'tiny.py'
    base = osp.join(CFG, 'retinanet_r18-fpn_synthetic-det.py')
    config.write_text(TINY.format(base=base, data=data + '/'))
    work = str(tmp_path / 'grid')
    folds = ['--fold-options', 'fold={fold}'] + [
        f'{split}_dataloader.dataset.ann_file=annotations/fold{{fold}}_{ann}.json'
        for split, ann in (('train', 'train'), ('val', 'val'), ('test', 'val'))] + [
        f'{split}_evaluator.ann_file={data}/annotations/fold{{fold}}_val.json'
        for split in ('val', 'test')]
    argv = [str(config), '--seeds', '0', '1', '--folds', '1..2', '--work-dir', work,
            '--cfg-options', 'train_dataloader.dataset.data_prefix.img=optical/',
            'val_dataloader.dataset.data_prefix.img=optical/'] + folds
    first = grid.main(argv)
    assert first['ran'] == ['seed0_fold01', 'seed1_fold01', 'seed0_fold02',
                            'seed1_fold02'] and not first['failed']
    for name in first['ran']:
        cfg_dump = Config.fromfile(osp.join(work, name, 'tiny.py'))
        assert cfg_dump.randomness.seed == int(name[4])            # the run's seed
        assert cfg_dump.fold == int(name[-1])                      # and fold
    rows = list(csv.DictReader(open(first['csv'])))
    assert [(r['seed'], r['fold']) for r in rows] == [('0', '1'), ('1', '1'), ('0', '2'),
                                                      ('1', '2')]
    values = [float(r['coco/bbox_mAP']) for r in rows]
    assert all(r['source'] == 'final validation' for r in rows)
    table = open(first['table']).read()
    assert '| fold 1 | 2 |' in table and '| fold 2 | 2 |' in table
    assert f'| all | 4 | {np.median(values):.4f} | {min(values):.4f} |' in table
    assert open(first['plot'], 'rb').read(8) == b'\x89PNG\r\n\x1a\n'
    # a second invocation runs nothing
    again = grid.main(argv)
    assert again['ran'] == [] and len(again['skipped']) == 4
    # an interrupted run (checkpoint, no result) resumes; the others are kept
    os.remove(osp.join(work, 'seed1_fold02', 'result.json'))
    third = grid.main(argv + ['--drop-checkpoints'])
    assert third['ran'] == ['seed1_fold02']
    resumed = json.load(open(osp.join(work, 'seed1_fold02', 'result.json')))
    assert resumed['resumed'] and resumed['value'] == values[3]
    assert not [f for f in os.listdir(osp.join(work, 'seed1_fold02'))
                if f.endswith('.pth') or f == 'last_checkpoint']
    # a grid whose folds are all the same run (no fold options) is refused; so is another
    # config in this work dir
    (tmp_path / 'nofold.py').write_text(TINY.format(base=base, data=data + '/'))
    with pytest.raises(SystemExit, match='does not depend on the fold'):
        grid.main([str(tmp_path / 'nofold.py'), '--seeds', '0', '--folds', '1', '2',
                   '--work-dir', str(tmp_path / 'g2')])
    with pytest.raises(SystemExit, match='holds the grid of'):
        grid.main([str(tmp_path / 'nofold.py'), '--seeds', '0', '--work-dir', work])


# --------------------------------------------------------------------- visualisation
def test_vis_det_distill_draws_the_losses_own_weights_and_masks(synthetic, teacher_ckpt,
                                                                tmp_path):
    from mmkd.registry import MODELS
    vis = load_tool('tools/analysis/vis_det_distill.py')
    cfg = Config.fromfile(XM_CELL)
    cfg.model.teacher.checkpoint = teacher_ckpt
    torch.manual_seed(1)
    distiller = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'kd.pth')
    torch.save({'state_dict': distiller.state_dict(), 'meta': {}}, ckpt)
    coco = json.load(open(osp.join(synthetic, 'annotations', 'val.json')))
    name = coco['images'][0]['file_name']
    out = str(tmp_path / 'vis.png')
    res = vis.main([XM_CELL, ckpt, osp.join(synthetic, 'infrared', name),
                    '--teacher-image', osp.join(synthetic, 'optical', name), '--out', out,
                    '--ann-file', osp.join(synthetic, 'annotations', 'val.json'),
                    '--teacher-checkpoint', teacher_ckpt,
                    '--cfg-options', 'val_dataloader.dataset.pipeline.2.sizes=(64,64)',
                    'test_dataloader.dataset.pipeline.2.sizes=(64,64)'])
    assert open(out, 'rb').read(8) == b'\x89PNG\r\n\x1a\n'
    maps, samples = res['maps'], res['samples']
    want = [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
             a['bbox'][1] + a['bbox'][3]]
            for a in coco['annotations'] if a['image_id'] == 0]
    assert np.allclose(res['boxes'], want)
    # the drawn masks are the config's DeFeat loss's own, level by level
    defeat = distiller.losses['defeat']
    sizes = [m.shape for m in maps['defeat']]
    assert sizes == [(8, 8), (4, 4), (2, 2), (1, 1), (1, 1)]
    expect = defeat.gt_masks(samples, sizes)
    for drawn, m in zip(maps['defeat'], expect):
        assert np.array_equal(drawn, m[0].numpy())
    # ... marking each box's centre on the level the box is assigned to
    boxes = torch.tensor(want)
    for box, k in zip(want, defeat.level_of(boxes, len(sizes)).tolist()):
        s = maps['strides'][k]
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        assert maps['defeat'][k][int(cy // s), int(cx // s)] == 1
    assert maps['strides'] == [8, 16, 32, 64, 128]
    # PDF-Distil weights (a default loss: this cell has none) sum to one over the image
    assert sum(w.sum() for w in maps['pdf']) == pytest.approx(1.0, abs=1e-5)
    # mmdet test pipelines load boxes after resizing (they stay in the image's frame);
    # the tool loads them first, so they follow the image to the network's input size
    plain = Config.fromfile(osp.join(CFG, 'retinanet_r18-fpn_synthetic-det.py'))
    data = vis.build_pipeline(plain, paired=False)(dict(
        img_path=osp.join(synthetic, 'optical', name), img_id=0,
        instances=[dict(bbox=b, bbox_label=0, ignore_flag=0) for b in want]))
    assert data['data_samples'].img_shape == (256, 256)   # 64 px scene, Resize to 256
    assert np.allclose(data['data_samples'].gt_instances.bboxes.tensor.numpy(),
                       np.array(want) * 4, atol=1e-3)
