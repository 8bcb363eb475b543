"""docs/your_own_data.md works as written: its config files (the ```python blocks that
start with ``# file: <path>``) are written beside the repository's configs, parsed, and
their datasets and models built on small generated data; every repository path the page
names exists."""
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import init_default_scope

DOC = osp.join(REPO, 'docs', 'your_own_data.md')


def doc_files():
    """path -> text of each ``# file:`` block of the page."""
    text = open(DOC, encoding='utf-8').read()
    out = {}
    for block in re.findall(r'```python\n(.*?)```', text, re.S):
        first, _, body = block.partition('\n')
        m = re.fullmatch(r'# file: (\S+)', first.strip())
        if m:
            out[m.group(1)] = body
    return out


@pytest.fixture(scope='module')
def configs(tmp_path_factory):
    """A ``configs/`` folder holding the repository's configs (linked) and the page's
    files, as a user's checkout would; returns the folder above it."""
    root = tmp_path_factory.mktemp('checkout')
    (root / 'configs').mkdir()
    for name in os.listdir(osp.join(REPO, 'configs')):
        os.symlink(osp.join(REPO, 'configs', name), root / 'configs' / name)
    files = doc_files()
    assert len(files) == 7, sorted(files)
    for rel, body in files.items():
        assert rel.startswith('configs/my_sar/'), rel
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return root


def test_every_repository_path_the_page_names_exists():
    text = open(DOC, encoding='utf-8').read()
    written = set(doc_files())
    named = set(re.findall(r'(?:configs|tools|tests|docs)/[\w./+\-]+\.(?:py|md)', text))
    named |= {f'configs/det_kd/sar_ship/{n}' for n in re.findall(
        r'`((?:_base_/)?[\w+\-]+_sar-ship[\w\-]*\.py|_base_/sar_ship\.py)`', text)}
    assert len(named) > 15
    missing = sorted(p for p in named - written if not osp.exists(osp.join(REPO, p)))
    assert not missing


def test_classification_files_share_one_class_count_and_build(configs, teacher_ckpt):
    from mmkd.registry import DATASETS, MODELS
    init_default_scope('mmpretrain')
    d = configs / 'configs' / 'my_sar'
    teacher = Config.fromfile(str(d / 'resnet34_my-chips_teacher.py'))
    kd = Config.fromfile(str(d / 'kd_resnet34_resnet18_my-chips.py'))
    base = Config.fromfile(str(d / 'resnet18_my-chips_baseline.py'))
    assert teacher.model.head.num_classes == kd.model.student.head.num_classes == \
        base.model.head.num_classes == teacher.data_preprocessor.num_classes == 3
    assert kd.model.student.backbone.depth == 18 and teacher.model.backbone.depth == 34
    assert base.model.to_dict() == kd.model.student.to_dict()
    assert kd.randomness.seed == 0

    # chips in class folders (alphabetical: cargo 0, fishing 1, tanker 2)
    data = configs / 'data' / 'my_chips'
    rng = np.random.default_rng(0)
    for split in ('train', 'test'):
        for c in ('cargo', 'fishing', 'tanker'):
            (data / split / c).mkdir(parents=True)
            for i in range(2):
                cv2.imwrite(str(data / split / c / f'{i}.png'),
                            rng.integers(0, 255, (140, 150), dtype=np.uint8))
    ds_cfg = kd.train_dataloader.dataset
    ds_cfg.data_root = str(data)
    ds = DATASETS.build(ds_cfg)
    assert ds.metainfo['classes'] == ('cargo', 'fishing', 'tanker') and len(ds) == 6
    tanker = next(i for i in range(len(ds)) if '/tanker/' in ds.get_data_info(i)['img_path'])
    assert ds.get_data_info(tanker)['gt_label'] == 2

    ckpt = teacher_ckpt(dict(teacher.model, data_preprocessor=teacher.data_preprocessor))
    model = dict(kd.model, data_preprocessor=kd.data_preprocessor)  # as the Runner does
    model['teacher'] = dict(model['teacher'], checkpoint=ckpt)
    distiller = MODELS.build(model)
    batch = dict(inputs=[ds[i]['inputs'] for i in range(4)],
                 data_samples=[ds[i]['data_samples'] for i in range(4)])
    losses = distiller(**distiller.data_preprocessor(batch, True), mode='loss')
    assert set(losses) >= {'loss_kd', 'student.loss'}
    assert all(torch.isfinite(v) for v in losses.values())


def test_segmentation_files_share_one_class_count_and_build(configs):
    from mmkd.models.distillers import build_model
    from mmkd.registry import DATASETS
    from mmkd.testing import make_synthetic_buildings
    init_default_scope('mmseg')
    d = configs / 'configs' / 'my_sar'
    teacher = Config.fromfile(str(d / 'effnet-b3-unet_my-scenes-optical_teacher.py'))
    kd = Config.fromfile(str(d / 'kd_effnet-b3-unet_my-scenes.py'))
    assert teacher.model.decode_head.num_classes == 3
    assert kd.model.student.decode_head.num_classes == 3
    assert kd.model.student.backbone.in_channels == 4
    assert teacher.model.backbone.in_channels == 3
    assert kd.val_evaluator.classes == ('building', 'road')
    assert kd.train_dataloader.dataset.modalities == ('sar', 'optical')
    assert kd.val_dataloader.dataset.modalities == ('sar', )

    root = make_synthetic_buildings(str(configs / 'data' / 'my_scenes'), 2, 1, 1,
                                    size=32, seed=0)
    for loader in (kd.train_dataloader, kd.val_dataloader, teacher.train_dataloader):
        ds_cfg = loader.dataset
        ds_cfg.data_root = root
        ds = DATASETS.build(ds_cfg)
        assert ds.metainfo['classes'] == ('background', 'building', 'road')
        ds[0]
    student, _, _ = build_model(kd.model.student, 'student')
    assert student.decode_head.num_classes == 3
