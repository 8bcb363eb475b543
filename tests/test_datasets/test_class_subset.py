"""mmkd.ClassSubsetDataset (the few-label students of the demo and kd-synthetic) and how
the demo wires it."""
import importlib.util
import os.path as osp
from collections import Counter

import pytest
from conftest import REPO


@pytest.fixture(scope='module')
def chips(tmp_path_factory):
    from mmkd.testing import make_synthetic_sar
    return make_synthetic_sar(str(tmp_path_factory.mktemp('chips')), 6, 1, size=16)


def subset(root, **kw):
    from mmkd.registry import DATASETS
    return DATASETS.build(dict(
        type='mmkd.ClassSubsetDataset',
        dataset=dict(type='CustomDataset', data_root=root, data_prefix='train',
                     pipeline=[]), **kw))


def test_draw_is_balanced_seeded_and_reproducible(chips):
    a, b, c = subset(chips, per_class=4, seed=0), subset(chips, per_class=4, seed=0), \
        subset(chips, per_class=4, seed=1)
    assert len(a) == 40
    assert Counter(a.get_cat_ids(i)[0] for i in range(len(a))) == {k: 4 for k in range(10)}
    assert a.indices == b.indices and a.indices == sorted(a.indices)
    assert a.indices != c.indices
    assert a.metainfo['classes'] == c.metainfo['classes']
    # a sample is the wrapped dataset's sample
    assert a[0]['img_path'] == a.dataset[a.indices[0]]['img_path']
    first = subset(chips, per_class=2, seed=None)
    per_class = [i % 6 for i in first.indices]  # 6 chips a class, in class order
    assert per_class == [0, 1] * 10


def test_too_few_samples_names_the_class_and_count(chips):
    with pytest.raises(ValueError, match=r"per_class=7 .*'aa_gun' \(0\): 6"):
        subset(chips, per_class=7)
    with pytest.raises(ValueError, match='per_class must be >= 1'):
        subset(chips, per_class=0)


def test_demo_draws_the_students_subset_with_its_seed(tmp_path):
    spec = importlib.util.spec_from_file_location('mmkd_demo_tool',
                                                  osp.join(REPO, 'tools', 'demo.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    cfgs = demo.CONFIGS['synthetic']
    keep = lambda cfg: cfg  # noqa: E731  (build: return the config, train nothing)
    kd = demo.run(osp.join(REPO, cfgs['kd']), str(tmp_path / 'kd'), '/data/x', None, 3,
                  train=False, build=keep)
    ds = kd.train_dataloader.dataset
    assert ds.type == 'mmkd.ClassSubsetDataset' and ds.seed == 3 and ds.per_class == 10
    assert ds.dataset.data_root == '/data/x'
    assert kd.test_dataloader.dataset.data_root == '/data/x'
    base = demo.run(osp.join(REPO, cfgs['baseline']), str(tmp_path / 'b'), '/data/x',
                    None, 3, train=False, build=keep, labels_per_class=5)
    assert base.train_dataloader.dataset.per_class == 5
    assert base.train_dataloader.dataset.seed == 3
    teacher = demo.run(osp.join(REPO, cfgs['teacher']), str(tmp_path / 't'), '/data/x',
                       None, 3, train=False, build=keep)
    assert teacher.train_dataloader.dataset.type == 'CustomDataset'  # every label
    # any other student config is wrapped when a count is asked for
    full = demo.CONFIGS['synthetic-all-labels']['baseline']
    wrapped = demo.run(osp.join(REPO, full), str(tmp_path / 'f'), '/data/x', None, 1,
                       train=False, build=keep, labels_per_class=20)
    assert wrapped.train_dataloader.dataset.type == 'mmkd.ClassSubsetDataset'
    assert wrapped.train_dataloader.dataset.dataset.data_root == '/data/x'
