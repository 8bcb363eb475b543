import os
import os.path as osp
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TESTS = osp.join(REPO, 'tests')


def _test_folders():
    """tests/ mirrors the package (tests/test_models/test_losses/...). The folders have no
    __init__.py: pytest imports each test file under its basename (its default import
    mode, as mmdet's tests), so basenames are unique across folders. Test files share
    helpers by that basename (``from test_end_to_end import shrink``, ``from conftest
    import REPO``), so every folder goes on sys.path here, before collection, wherever
    pytest was started and whichever files it collects."""
    folders, seen = [], {}
    for folder, dirs, files in os.walk(TESTS):
        dirs[:] = sorted(d for d in dirs if d.startswith('test_'))
        folders.append(folder)
        for name in files:
            if name.startswith('test_') and name.endswith('.py'):
                if name in seen:
                    raise RuntimeError(f'two test files named {name}: {seen[name]} and '
                                       f'{folder}; test basenames must be unique')
                seen[name] = folder
    return folders


for _folder in _test_folders():
    if _folder not in sys.path:
        sys.path.append(_folder)


def tiny_classifier(width=8, depth=18, num_classes=10, in_channels=1):
    """A small mmpretrain ImageClassifier (ResNet at reduced width)."""
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


@pytest.fixture(autouse=True)
def _mmpretrain_scope():
    from mmengine.registry import DefaultScope, init_default_scope
    init_default_scope('mmpretrain')
    yield
    DefaultScope._instance_dict.clear()


@pytest.fixture(autouse=True)
def _fresh_visualizers():
    """mmengine names a Runner's visualizer after its experiment (config name and the
    time to the second) and hands an existing instance of that name back unchanged: a
    test whose Runner starts in the same second as an earlier test's, with the same
    config, would log into the earlier run's folder (its scalars.json missing from its
    own work dir); mmdet's runtime even names it 'visualizer' whatever the run. One
    process per training run (tools/train.py) never shares them."""
    yield
    from mmengine.visualization import Visualizer
    classes = [Visualizer]  # each subclass (DetLocalVisualizer, ...) keeps its own dict
    while classes:
        cls = classes.pop()
        cls._instance_dict.clear()
        classes += cls.__subclasses__()


@pytest.fixture
def teacher_ckpt(tmp_path):
    """Factory: save the weights of a freshly built model config and return the path."""
    from mmkd.models.distillers import build_model

    def make(model_cfg, name='teacher.pth', bn_steps=2):
        torch.manual_seed(0)
        model, _, _ = build_model(model_cfg, 'test teacher')
        model.train()
        with torch.no_grad():  # give BN non-trivial running statistics
            for _ in range(bn_steps):
                model.extract_feat(torch.randn(4, model_cfg['backbone']['in_channels'],
                                               32, 32) * 3 + 1)
        path = str(tmp_path / name)
        torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
        return path

    return make


@pytest.fixture(scope='session')
def synthetic_sar_root(tmp_path_factory):
    from mmkd.testing import make_synthetic_sar
    root = str(tmp_path_factory.mktemp('data') / 'synthetic_sar')
    return make_synthetic_sar(root, train_per_class=4, test_per_class=2, size=32, seed=1)


@pytest.fixture(scope='session')
def venv_bin():
    import sys
    return osp.dirname(sys.executable)


def batch(n=4, channels=1, size=32, num_classes=10, seed=0):
    """A data batch as a dataloader yields it (before the data preprocessor)."""
    from mmpretrain.structures import DataSample
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 255, (channels, size, size), generator=g, dtype=torch.uint8)
              for _ in range(n)]
    samples = [DataSample().set_gt_label(int(torch.randint(0, num_classes, (1, ),
                                                            generator=g)))
               for _ in range(n)]
    return dict(inputs=inputs, data_samples=samples)


os.environ.setdefault('PYTHONHASHSEED', '0')
