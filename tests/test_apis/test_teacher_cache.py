"""Cached teacher outputs: stored views reproduce exactly, lookups match the online
teacher, mismatches are errors, and a run trains from the cache without the teacher."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import REPO, tiny_classifier
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from test_end_to_end import KD, run_tool, shrink
from test_paired_data import PATTERNS, write_challenge_layout

from mmkd.apis import write_teacher_cache
from mmkd.datasets import TeacherCacheDataset, TeacherCacheError
from mmkd.models.distillers import Distiller

TAPS = dict(s_logits='student.head.fc', t_logits='teacher.head.fc',
            t_feat='teacher.backbone.layer4')
LOSSES = dict(kd=dict(type='mmkd.KDLoss', temperature=4.0,
                      inputs=dict(student='s_logits', teacher='t_logits')))
RANDOM_PIPELINE = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]


def dataset_cfg(root, pipeline=RANDOM_PIPELINE):
    return dict(type='mmpretrain.CustomDataset', data_root=root, data_prefix='train',
                with_label=True, pipeline=pipeline)


@pytest.fixture(scope='module')
def cache(tmp_path_factory, synthetic_sar_root):
    """A teacher, its checkpoint, and a 2-view cache of its taps over the training set."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    root = tmp_path_factory.mktemp('cache')
    torch.manual_seed(0)
    teacher = tiny_classifier(width=16)
    d = Distiller(student=tiny_classifier(width=8), teacher=dict(
        model=teacher, checkpoint=_save_weights(teacher, str(root / 't.pth'))),
        taps=TAPS, losses=LOSSES)
    meta = write_teacher_cache(d, dataset_cfg(synthetic_sar_root), str(root / 'c'),
                               views=2, seed=3, batch_size=16)
    return dict(dir=str(root / 'c'), ckpt=str(root / 't.pth'), teacher=teacher,
                online=d, meta=meta, data=synthetic_sar_root, root=root)


def _save_weights(model_cfg, path, seed=0):
    from mmkd.models.distillers import build_model
    torch.manual_seed(seed)
    m, _, _ = build_model(model_cfg, 'teacher')
    with torch.no_grad():  # non-trivial BN statistics
        m.train()
        m.extract_feat(torch.randn(8, 1, 32, 32) * 2 + 1)
    torch.save({'state_dict': m.state_dict()}, path)
    return path


def cached_distiller(c, **teacher):
    return Distiller(student=tiny_classifier(width=8), teacher=dict(
        model=c['teacher'], checkpoint=c['ckpt'], cache=dict(dir=c['dir']), **teacher),
        taps=TAPS, losses=LOSSES)


def test_cache_layout_and_float16_error(cache):
    meta = cache['meta']
    assert meta['num_samples'] == 40 and meta['views'] == 2
    taps = meta['teachers']['teacher']['taps']
    assert set(taps) == {'head.fc:output'}  # t_feat is tapped but no loss reads it
    logits = taps['head.fc:output']['calls'][0]['elements'][0]
    assert logits['dtype'] == 'float16' and logits['shape'] == [10]
    assert logits['fp16_error']['rel_err'] < 1e-3
    arr = np.load(osp.join(cache['dir'], 'teacher', logits['file']), mmap_mode='r')
    assert arr.shape == (40, 2, 10) and arr.dtype == np.float16
    with open(osp.join(cache['dir'], 'views.json')) as f:
        records = json.load(f)
    assert {'crc', 'flip', 'flip_direction'} <= set(records[0][0])


def test_views_reproduce_exactly_and_differ(cache):
    ds = TeacherCacheDataset(dataset_cfg(cache['data']), cache['dir'])
    a, b = ds.get_view(5, 1), ds.get_view(5, 1)
    assert torch.equal(a['inputs'], b['inputs'])
    crops = {tuple(ds.get_view(i, v)['inputs'].flatten()[:64].tolist())
             for i in (5, 6) for v in (0, 1)}
    assert len(crops) == 4  # different views and samples are different images
    # drawing a view leaves the caller's random streams untouched
    import random
    random.seed(1)
    ds.get_view(2, 0)
    after = random.random()
    random.seed(1)
    assert random.random() == after


def test_lookup_matches_online_teacher_and_loss(cache):
    online = cache['online']
    d = cached_distiller(cache)
    assert all(p.is_meta for p in d._cached_teachers['teacher'].parameters())
    assert d.frozen_teacher_names == [] and 'teacher' in d.teacher_caches
    d.student.load_state_dict(online.student.state_dict())
    online.eval(), d.eval()
    ds = TeacherCacheDataset(dataset_cfg(cache['data']), cache['dir'])
    data = d.data_preprocessor(pseudo_collate([ds[i] for i in range(8)]), True)
    stored = d.teacher_caches['teacher'].lookup(
        {'t_logits': d.recorder.taps['t_logits']}, data['data_samples'],
        torch.device('cpu'))
    fresh = online.teacher_features('teacher', data['inputs'], data['data_samples'])
    assert set(stored) == set(fresh) == {'t_logits'}
    for tap in ('t_logits', ):
        x, y = stored[tap][0], fresh[tap][0]
        assert x.dtype == torch.float32 and x.shape == y.shape
        assert (x - y).abs().max() <= 1e-3 * y.abs().max()
    lc = d(**data, mode='loss')
    lo = online(**data, mode='loss')
    assert lc['loss_kd'].item() == pytest.approx(lo['loss_kd'].item(), rel=1e-3)
    assert torch.equal(lc['student.loss'], lo['student.loss'])


def test_changed_pipeline_or_dataset_is_an_error(cache):
    other = [dict(t) for t in RANDOM_PIPELINE]
    other[1]['crop_ratio_range'] = (0.3, 1.0)
    ds = TeacherCacheDataset(dataset_cfg(cache['data'], other), cache['dir'])
    with pytest.raises(TeacherCacheError, match=r'sample 0, view 1 differs from the view '
                       r'stored'):
        ds.get_view(0, 1)
    with pytest.raises(TeacherCacheError, match='made for 40 samples'):
        TeacherCacheDataset(dict(dataset_cfg(cache['data']), indices=10), cache['dir'])


def test_cache_errors_name_what_is_wrong(cache, tmp_path):
    with pytest.raises(TeacherCacheError, match=r"no stored features for taps "
                       r"\{'t_feat': 'teacher.backbone.layer4:output'\}"):
        Distiller(student=tiny_classifier(), teacher=dict(
            model=cache['teacher'], checkpoint=cache['ckpt'], cache=dict(dir=cache['dir'])),
            taps=dict(TAPS, s_feat='student.backbone.layer4'), losses=dict(
                LOSSES, at=dict(type='mmkd.ATLoss',
                                inputs=dict(student='s_feat', teacher='t_feat'))))
    other = _save_weights(cache['teacher'], str(tmp_path / 'other.pth'), seed=1)
    with pytest.raises(TeacherCacheError, match='made with other teacher weights'):
        Distiller(student=tiny_classifier(), teacher=dict(
            model=cache['teacher'], checkpoint=other, cache=dict(dir=cache['dir'])),
            taps=TAPS, losses=LOSSES)
    with pytest.raises(TeacherCacheError, match='does not exist'):
        cached_distiller(dict(cache, dir=str(tmp_path / 'nope')))
    os.makedirs(tmp_path / 'partial')
    with pytest.raises(TeacherCacheError, match='incomplete'):
        cached_distiller(dict(cache, dir=str(tmp_path / 'partial')))
    d = cached_distiller(cache)
    from conftest import batch
    data = d.data_preprocessor(batch(n=2), True)
    with pytest.raises(TeacherCacheError, match='carries no cache_index'):
        d(**data, mode='loss')


def test_batch_augments_cannot_be_cached(cache, tmp_path):
    student = tiny_classifier(width=8)
    student['data_preprocessor']['batch_augments'] = dict(
        augments=[dict(type='Mixup', alpha=0.2)])
    d = Distiller(student=student, teacher=dict(model=cache['teacher'],
                                                 checkpoint=cache['ckpt']),
                  taps=TAPS, losses=LOSSES)
    with pytest.raises(TeacherCacheError, match='batch augmentations'):
        write_teacher_cache(d, dataset_cfg(cache['data']), str(tmp_path / 'c'), views=1)


def test_paired_views_record_their_flip(tmp_path):
    """Paired data: both modalities of a view are reproduced; the flip is recorded."""
    root = write_challenge_layout(str(tmp_path), n=4)
    ds = dict(type='mmkd.PairedClsDataset', modalities=('eo', 'sar'), data_root=root,
              folders=dict(eo='EO', sar='SAR'), id_patterns=PATTERNS,
              class_subfolders=True, pipeline=[
                  dict(type='mmkd.LoadMultiModalImages'),
                  dict(type='mmkd.PairedRandomFlip', prob=0.5),
                  dict(type='mmkd.PairedResize', sizes=dict(eo=32, sar=48)),
                  dict(type='mmkd.PackMultiModalInputs', task='cls')])
    wrapped = TeacherCacheDataset(ds, views=8, seed=0)
    flips = set()
    for v in range(8):
        a, b = wrapped.get_view(1, v), wrapped.get_view(1, v)
        assert all(torch.equal(a['inputs'][m], b['inputs'][m]) for m in ('eo', 'sar'))
        rec = a['data_samples'].cache_record
        assert set(rec['crc']) == {'eo', 'sar'}
        flips.add(rec['flip'])
    assert flips == {True, False}


def test_cache_tool_then_training_without_the_teacher(cache, tmp_path):
    cfg = Config.fromfile(KD)
    cfg.merge_from_dict(shrink(cache['data']))
    student = tiny_classifier(width=8)
    student.pop('data_preprocessor')  # normalised by the config's top-level one
    cfg.model.student = student
    cfg.model.teacher = dict(model=cache['teacher'], checkpoint=cache['ckpt'])
    cfg.model.taps = dict(s_logits='student.head.fc', t_logits='teacher.head.fc')
    cfg.train_dataloader.dataset.pipeline = RANDOM_PIPELINE
    cfg.custom_hooks = []
    path = str(tmp_path / 'kd.py')
    cfg.dump(path)
    out = run_tool([sys.executable, 'tools/misc/cache_teacher.py', path, '--out',
                    str(tmp_path / 'c'), '--views', '2', '--num-workers', '0'])
    assert 'float16 error' in out and 'train with' in out
    derived = Config.fromfile(str(tmp_path / 'c' / 'train_config.py'))
    assert derived.train_dataloader.dataset.type == 'mmkd.TeacherCacheDataset'
    assert derived.model.teacher.cache.dir == str(tmp_path / 'c')
    # the stored outputs are the online teacher's as training sees it: inputs normalised
    # by the config's top-level data_preprocessor (a cache of unnormalised inputs
    # trained MSTAR students to chance level)
    assert cfg.get('data_preprocessor') and not cfg.model.get('data_preprocessor')
    from mmengine.registry import init_default_scope

    from mmkd.apis import runner_model_cfg
    from mmkd.registry import DATASETS, MODELS
    init_default_scope('mmpretrain')
    batch = pseudo_collate([DATASETS.build(derived.train_dataloader.dataset)[i]
                            for i in range(4)])
    losses = {}
    for name, c in (('cached', derived), ('online', cfg)):
        torch.manual_seed(0)
        model = MODELS.build(runner_model_cfg(c))
        with torch.no_grad():
            losses[name] = model(**model.data_preprocessor(batch, True), mode='loss')
    assert torch.allclose(losses['cached']['loss_kd'], losses['online']['loss_kd'],
                          rtol=1e-3)
    run_tool([sys.executable, 'tools/train.py', str(tmp_path / 'c' / 'train_config.py'),
              '--work-dir', str(tmp_path / 'run')])
    logs = [osp.join(dp, f) for dp, _, fs in os.walk(tmp_path / 'run') for f in fs
            if f == 'scalars.json']
    first = json.loads(open(logs[0]).readline())
    assert 'loss_kd' in first and np.isfinite(first['loss_kd'])


def test_exported_student_config_reads_the_wrapped_dataset(tmp_path):
    """The cache serves the distillation run only: the exported student's config reads
    the dataset the cache wraps, so it trains and tests without mmkd's cache."""
    from mmkd.apis.export import student_config
    cfg = Config.fromfile(KD)
    plain = cfg.train_dataloader.dataset.to_dict()
    cfg.train_dataloader.dataset = dict(type='mmkd.TeacherCacheDataset', dataset=plain,
                                        cache_dir=str(tmp_path / 'c'))
    out = student_config(cfg)
    assert out.train_dataloader.dataset.to_dict() == plain
    assert 'TeacherCacheDataset' not in out.pretty_text


def test_options_for_the_wrapped_dataset_name_where_they_go(cache):
    """--cfg-options train_dataloader.dataset.pipeline... on a cached config reaches the
    wrapper: one error saying where the option belongs and that the cache is stale."""
    with pytest.raises(TeacherCacheError, match=r'dataset\.dataset\.pipeline.*new cache'):
        TeacherCacheDataset(dataset_cfg(cache['data']), cache_dir=cache['dir'],
                            pipeline=RANDOM_PIPELINE)


def test_cache_dataset_resolves_through_the_registry_without_model_code():
    """``type='mmkd.TeacherCacheDataset'`` is found through mmkd.registry's locations
    (``mmkd.datasets``), and finding it imports nothing from ``mmkd.models``."""
    code = ('import sys\n'
            'from mmkd.registry import DATASETS\n'
            "cls = DATASETS.get('TeacherCacheDataset')\n"
            "assert cls.__module__ == 'mmkd.datasets.teacher_cache_dataset', cls\n"
            "models = [m for m in sys.modules if m.startswith('mmkd.models')]\n"
            "assert not models, models\n")
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=REPO), timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
