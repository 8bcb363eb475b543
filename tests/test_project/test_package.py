"""Registry wiring, config loading, version checks, checkpoint loading and the demo data."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.config import Config

CONFIGS = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in p)


def test_mmkd_types_resolve_from_a_host_scope():
    """A config with default_scope='mmpretrain' names mmkd types with the prefix, and
    mmengine finds them through mmkd.registry's locations."""
    from mmpretrain.registry import MODELS
    loss = MODELS.build(dict(type='mmkd.KDLoss', temperature=2.0))
    assert type(loss).__module__.startswith('mmkd.models.losses')
    from mmpretrain.registry import HOOKS
    assert HOOKS.get('mmkd.ExportStudentHook').__name__ == 'ExportStudentHook'


_CKPT_CACHE = {}


def _fill_checkpoints(node, tmp_dir):
    """Give every teacher / member that names a checkpoint a freshly built one (one file
    per distinct model config: many configs share a teacher); mmdet's KD detector's
    ``teacher_ckpt`` too (from its ``teacher_config``)."""
    from mmkd.models.distillers.model_config import build_model
    if isinstance(node, dict):
        if 'teacher_config' in node and 'teacher_ckpt' in node:  # mmdet's KD detector (LD)
            key = repr(node['teacher_config'])
            if key not in _CKPT_CACHE:
                model, _, _ = build_model(node['teacher_config'], 'config test')
                path = str(tmp_dir / f'ckpt{len(_CKPT_CACHE)}.pth')
                torch.save({'state_dict': model.state_dict()}, path)
                _CKPT_CACHE[key] = path
            node['teacher_ckpt'] = _CKPT_CACHE[key]
        if 'model' in node and 'checkpoint' in node:
            key = repr(node['model'])
            if key not in _CKPT_CACHE:
                model, _, _ = build_model(node['model'], 'config test')
                path = str(tmp_dir / f'ckpt{len(_CKPT_CACHE)}.pth')
                torch.save({'state_dict': model.state_dict()}, path)
                _CKPT_CACHE[key] = path
            node['checkpoint'] = _CKPT_CACHE[key]
        for v in node.values():
            _fill_checkpoints(v, tmp_dir)
    elif isinstance(node, (list, tuple)):
        for v in node:
            _fill_checkpoints(v, tmp_dir)


@pytest.fixture(scope='module')
def ckpt_dir(tmp_path_factory):
    return tmp_path_factory.mktemp('config_ckpts')


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO))
def test_every_config_loads_and_builds_its_model(path, ckpt_dir):
    """Each shipped config parses, inherits its host bases and builds its model (taps,
    connectors and losses resolve), with random weights in place of teacher files."""
    from mmengine.registry import DefaultScope

    from mmkd.registry import MODELS
    cfg = Config.fromfile(path)
    assert cfg.default_scope in ('mmpretrain', 'mmdet', 'mmseg')
    model_cfg = cfg.model
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        _fill_checkpoints(model_cfg, ckpt_dir)
        model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_version_check_names_the_package(monkeypatch):
    from mmkd.utils import compat
    monkeypatch.setitem(compat.REQUIRED, 'mmengine', ('9.0.0', '10.0.0'))
    with pytest.raises(ImportError, match=r'mmkd needs mmengine>=9.0.0,<10.0.0, but '
                       r'mmengine==0.10.\d+ is installed'):
        compat.check_dependencies()


_WITHOUT_HOSTS = r"""
import sys
for name in ('mmdet', 'mmseg'):  # as if not installed: find_spec() gives None
    sys.modules[name] = None
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

import mmkd.datasets, mmkd.evaluation, mmkd.models  # noqa: E401
from mmkd.registry import DATASETS, METRICS, MODELS
assert MODELS.get('QFLRetinaHead') is None and MODELS.get('DisOptNet') is None
assert DATASETS.get('PairedCocoDataset') is None and METRICS.get('ClassIoUMetric') is None
cfg = Config.fromfile(sys.argv[1])
with DefaultScope.overwrite_default_scope('mmpretrain'):
    model = MODELS.build(cfg.model)
data = dict(inputs=[torch.randint(0, 255, (1, 32, 32), dtype=torch.uint8)] * 2,
            data_samples=[DataSample().set_gt_label(i) for i in (0, 1)])
losses = model(**model.data_preprocessor(data, True), mode='loss')
print(sorted(losses))
"""


def test_classification_needs_neither_mmdet_nor_mmseg(tmp_path):
    """A classification user without mmdet or mmseg imports mmkd, builds a two-teacher
    KD distiller and computes its losses; the mmdet/mmseg components are simply not
    registered (``mmkd.utils.compat.host_installed``)."""
    import os
    import subprocess
    import sys

    from mmengine.registry import DefaultScope
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/kd/mtkd-camkd_resnet34+vgg8_resnet18-w32_synthetic-sar-10shot.py'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        _fill_checkpoints(cfg.model, tmp_path)  # random teacher weights
    cfg.dump(str(tmp_path / 'config.py'))
    (tmp_path / 'no_hosts.py').write_text(_WITHOUT_HOSTS)
    out = subprocess.run([sys.executable, str(tmp_path / 'no_hosts.py'),
                          str(tmp_path / 'config.py')], capture_output=True, text=True,
                         cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO))
    assert out.returncode == 0, out.stderr[-3000:]
    assert "'loss_mtkd'" in out.stdout and "'student.loss'" in out.stdout, out.stdout


def test_full_mmengine_checkpoint_loads_under_torch_weights_only_default(tmp_path):
    """mmengine training checkpoints pickle more than tensors; torch>=2.6 refuses them
    by default. mmkd's local loader (registered on import) loads them."""
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import _load_checkpoint

    import mmkd  # noqa: F401
    path = str(tmp_path / 'full.pth')
    torch.save({'state_dict': {'w': torch.ones(1)}, 'message_hub': HistoryBuffer(),
                'meta': {'np': np.float64(1.0)}}, path)
    with pytest.raises(Exception):
        torch.load(path)  # torch's own default refuses it
    assert _load_checkpoint(path, map_location='cpu')['state_dict']['w'].item() == 1


def test_synthetic_sar_is_deterministic_and_in_custom_dataset_layout(tmp_path):
    from mmkd.testing.synthetic_sar import CLASSES, make_synthetic_sar, render_chip
    a = render_chip('tank_a', np.random.default_rng(3), 32)
    b = render_chip('tank_a', np.random.default_rng(3), 32)
    assert a.dtype == np.uint8 and a.shape == (32, 32) and np.array_equal(a, b)
    root = make_synthetic_sar(str(tmp_path / 's'), 2, 1, size=32)
    assert len(glob.glob(osp.join(root, 'train', '*', '*.png'))) == 2 * len(CLASSES)
    assert len(glob.glob(osp.join(root, 'test', '*', '*.png'))) == len(CLASSES)


def test_student_config_drops_mmkd_parts():
    from mmkd.apis.export import student_config
    cfg = Config.fromfile(osp.join(REPO, 'configs/kd/kd_resnet34_resnet18-w32_synthetic-sar.py'))
    out = student_config(cfg)
    assert out.model.type == 'ImageClassifier'
    assert out.model.backbone.base_channels == 32
    assert out.default_scope == 'mmpretrain'
    assert not out.custom_hooks
    assert 'mmkd' not in out.pretty_text
