"""Where data enters: an empty or image-less COCO file is named (PairedCocoDataset,
and mmdet's own CocoDataset under tools/train.py), and a run resumed without a seed is
warned that it will not reproduce the uninterrupted one."""
import importlib.util
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from conftest import REPO
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.registry import init_default_scope

from mmkd.datasets import AnnotationFileError, PairedCocoDataset
from mmkd.datasets.coco_annotations import explain_coco_errors


def load_tool(rel):
    path = osp.join(REPO, rel)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0] + '_tool', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def bad_files(tmp_path):
    """data/empty.json (0 bytes), data/noimg.json (no images), data/ok.json."""
    import cv2
    root = tmp_path / 'data'
    (root / 'img').mkdir(parents=True)
    cv2.imwrite(str(root / 'img' / 'a.png'), np.zeros((16, 16, 3), np.uint8))
    (root / 'empty.json').write_bytes(b'')
    cats = [dict(id=1, name='ship')]
    (root / 'noimg.json').write_text(json.dumps(dict(
        images=[], annotations=[], categories=cats)))
    (root / 'ok.json').write_text(json.dumps(dict(
        images=[dict(id=1, file_name='a.png', width=16, height=16)],
        annotations=[dict(id=1, image_id=1, category_id=1, bbox=[2, 2, 5, 5], area=25,
                          iscrowd=0)], categories=cats)))
    return root


def coco_cfg(root, ann, evaluator_ann='ok.json'):
    dataset = dict(type='CocoDataset', data_root=str(root), ann_file=ann,
                   data_prefix=dict(img='img/'), metainfo=dict(classes=('ship', )),
                   pipeline=[])
    return Config(dict(
        train_dataloader=dict(dataset=dict(type='RepeatDataset', times=2,
                                           dataset=dataset)),
        val_evaluator=dict(type='CocoMetric', ann_file=str(root / evaluator_ann))))


def test_paired_coco_dataset_names_an_empty_or_image_less_file(bad_files):
    kw = dict(modalities=dict(sar='img/'), data_root=str(bad_files),
              metainfo=dict(classes=('ship', )))
    empty = osp.join(str(bad_files), 'empty.json')
    with pytest.raises(AnnotationFileError,
                       match=rf'{empty} is empty \(0 bytes\).*Write it again'):
        PairedCocoDataset(ann_file='empty.json', **kw)
    with pytest.raises(AnnotationFileError, match=r'noimg\.json has no images .*'
                                                  r'1 categories.*converter'):
        PairedCocoDataset(ann_file='noimg.json', **kw)
    (bad_files / 'cut.json').write_text('{"images": [{"id": 1, "file_na')
    with pytest.raises(AnnotationFileError, match=r'cut\.json is not valid JSON'):
        PairedCocoDataset(ann_file='cut.json', **kw)
    assert len(PairedCocoDataset(ann_file='ok.json', **kw)) == 1


def test_mmdet_coco_dataset_errors_are_named_under_explain(bad_files):
    from mmkd.registry import DATASETS
    init_default_scope('mmdet')
    for ann, original, says in (('empty.json', json.JSONDecodeError, 'is empty'),
                                ('noimg.json', ValueError, 'has no images')):
        cfg = coco_cfg(bad_files, ann)
        with pytest.raises(original):  # what mmdet says on its own
            DATASETS.build(cfg.train_dataloader.dataset)
        with pytest.raises(AnnotationFileError) as err:
            with explain_coco_errors(cfg):
                DATASETS.build(cfg.train_dataloader.dataset)
        msg = str(err.value)
        assert msg.startswith('train_dataloader.dataset.dataset.ann_file: COCO '
                              f'annotation file {osp.join(str(bad_files), ann)} {says}')
        assert isinstance(err.value.original, original)
    # the evaluator's file is checked too; other errors pass unchanged
    from mmdet.evaluation import CocoMetric
    cfg = coco_cfg(bad_files, 'ok.json', evaluator_ann='empty.json')
    with pytest.raises(AnnotationFileError, match=r'^val_evaluator\.ann_file: .*empty'):
        with explain_coco_errors(cfg):
            CocoMetric(ann_file=cfg.val_evaluator.ann_file)
    with pytest.raises(ValueError, match='^unrelated$'):
        with explain_coco_errors(coco_cfg(bad_files, 'ok.json')):
            raise ValueError('unrelated')


def test_train_py_names_an_empty_coco_file(bad_files, tmp_path, monkeypatch, capsys):
    """tools/train.py with a config whose mmdet CocoDataset reads a 0-byte file."""
    from conftest import tiny_classifier
    cfg = coco_cfg(bad_files, 'empty.json')
    cfg.train_dataloader.dataset.dataset.type = 'mmdet.CocoDataset'
    cfg.merge_from_dict(dict(  # any model: the data fails before it runs
        default_scope='mmpretrain', model=tiny_classifier(),
        work_dir=str(tmp_path / 'w'),
        train_dataloader=dict(batch_size=1, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        val_evaluator=None))
    path = str(tmp_path / 'cfg.py')
    cfg.dump(path)
    train = load_tool('tools/train.py')
    monkeypatch.setattr(sys, 'argv', ['train.py', path])
    with pytest.raises(AnnotationFileError, match=r'empty\.json is empty \(0 bytes\)'):
        train.main()


# ------------------------------------------------------------------ resume warning
class Toy(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(inputs)
        return dict(loss=(out ** 2).mean()) if mode == 'loss' else out


class Points(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return dict(inputs=torch.tensor([float(i), 1.0]))


def toy_runner(work_dir, seed, epochs, resume=False, rng_hook=True):
    from mmengine.runner import Runner
    return Runner(
        model=Toy(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=Points(), batch_size=2, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=True),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        custom_hooks=[dict(type='mmkd.RNGStateHook')] if rng_hook else [],
        randomness=dict(seed=seed), resume=resume, default_scope='mmengine')


@pytest.fixture
def warnings_logged(monkeypatch):
    """The messages warn_unseeded_resume logs (mmengine's logger writes to the stream
    it found when it was created, which capsys does not see)."""
    import mmkd.engine.hooks.rng_state_hook as module
    messages = []
    original = module.print_log

    def record(msg, *args, **kwargs):
        messages.append(msg)
        return original(msg, *args, **kwargs)

    monkeypatch.setattr(module, 'print_log', record)
    return messages


@pytest.mark.parametrize('seed', [None, 0])
def test_resume_without_a_seed_is_warned_and_does_not_reproduce(tmp_path, seed,
                                                                 warnings_logged):
    first = toy_runner(tmp_path, seed, epochs=1)
    first.train()
    first_sampler_seed = first.train_dataloader.sampler.seed
    assert not warnings_logged  # a fresh run: nothing to say
    resumed = toy_runner(tmp_path, seed, epochs=2, resume=True)
    resumed.train()
    said = [m for m in warnings_logged if 'with no seed set' in m]
    # what the warning claims: the resumed sampler shuffles from another seed
    differs = resumed.train_dataloader.sampler.seed != first_sampler_seed
    if seed is None:
        assert len(said) == 1 and differs
        assert 'will not reproduce the uninterrupted one' in said[0]
        assert 'randomness=dict(seed=0)' in said[0]
        assert 'at epoch 1, iteration 4' in said[0]
    else:
        assert not said and not differs


def test_train_py_warns_on_resume_for_configs_without_the_hook(tmp_path,
                                                               warnings_logged):
    train = load_tool('tools/train.py')
    work = tmp_path / 'w'
    cfg = Config(dict(work_dir=str(work), resume=True, load_from=None,
                      randomness=dict(seed=None)))
    assert not train.check_resume_seed(cfg)  # nothing saved yet: a fresh start
    toy_runner(work, None, epochs=1, rng_hook=False).train()
    assert train.check_resume_seed(cfg)
    assert 'epoch_1.pth with no seed set' in warnings_logged[-1]
    n = len(warnings_logged)
    assert not train.check_resume_seed(Config(dict(cfg, randomness=dict(seed=3))))
    assert not train.check_resume_seed(Config(dict(cfg, resume=False)))
    # the hook warns for configs that have it
    assert not train.check_resume_seed(Config(dict(
        cfg, custom_hooks=[dict(type='mmkd.RNGStateHook')])))
    assert len(warnings_logged) == n
