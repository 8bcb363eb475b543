"""DS-CMKD and its KD zoo on noisy benchmarks: the noise, the configs, a Runner train of
the DS-CMKD config, FSP's initialisation stage, the radar/optics pairs and the
dimensional-structure tool."""
import glob
import importlib.util
import io
import math
import os
import os.path as osp
import re
from contextlib import redirect_stdout

import mmcv
import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmkd.datasets.transforms import SaltPepperNoise

CFG = osp.join(REPO, 'configs', 'ds_cmkd')
MAIN = osp.join(CFG, 'ds-cmkd_resnet32x4_resnet8x4_cifar10-noisy.py')
FSP = osp.join(CFG, 'zoo', 'fsp_resnet32x4_resnet8x4_cifar10-noisy.py')


# ---------------------------------------------------------------------- the noise
def paired(img, idx=0):
    return dict(img=dict(clean=img), img_shape=dict(clean=img.shape[:2]),
                ori_shape=dict(clean=img.shape[:2]), sample_idx=idx)


@pytest.mark.parametrize('snr', [0.1, 0.5, 0.9])
def test_salt_pepper_corrupts_the_stated_fraction_of_pixels(snr):
    rng = np.random.default_rng(0)
    img = rng.integers(1, 255, (200, 300, 3), dtype=np.uint8)  # no 0/255 pixel yet
    out = SaltPepperNoise(snr=snr, deterministic=True)(paired(img))
    noisy = out['img']['noisy']
    assert noisy.dtype == np.uint8 and noisy.shape == img.shape
    assert out['img']['clean'] is img and out['img_shape']['noisy'] == (200, 300)
    changed = (noisy != img).any(2)
    n = changed.size
    sd = math.sqrt(n * snr * (1 - snr))  # binomial standard deviation
    assert abs(changed.sum() - n * (1 - snr)) < 4 * sd
    salt = (noisy == 255).all(2)
    pepper = (noisy == 0).all(2)
    assert np.array_equal(salt | pepper, changed)  # all channels of a pixel together
    assert not (changed & ~salt & ~pepper).any()
    m = changed.sum()
    assert abs(salt.sum() - m / 2) < 4 * math.sqrt(m / 4)  # half salt, half pepper
    assert np.array_equal(noisy[~changed], img[~changed])


def test_salt_pepper_determinism_dtype_and_single_image():
    img = np.random.default_rng(1).uniform(1, 254, (40, 40, 3)).astype(np.float32)
    t = SaltPepperNoise(snr=0.5, deterministic=True, seed=3)
    a = t(paired(img, idx=7))['img']['noisy']
    b = t(paired(img.copy(), idx=7))['img']['noisy']
    c = t(paired(img.copy(), idx=8))['img']['noisy']
    assert a.dtype == np.float32 and np.array_equal(a, b) and not np.array_equal(a, c)
    assert set(np.unique(a[(a != img).any(2)])) <= {0., 255.}
    np.random.seed(0)
    r1 = SaltPepperNoise(snr=0.5)(paired(img))['img']['noisy']
    r2 = SaltPepperNoise(snr=0.5)(paired(img))['img']['noisy']
    assert not np.array_equal(r1, r2)  # training draws change every time
    grey16 = np.full((30, 30, 1), 1000, np.uint16)
    out = SaltPepperNoise(snr=0.0, salt_ratio=1.0)(dict(img=grey16))['img']
    assert out.dtype == np.uint16 and (out == 65535).all()  # in place, dtype's maximum
    assert (SaltPepperNoise(snr=0.0, prob=0.0)(paired(img))['img']['noisy'] == img).all()
    with pytest.raises(ValueError, match='snr must be in'):
        SaltPepperNoise(snr=1.5)


# ---------------------------------------------------------------------- configs
def _losses(path):
    return Config.fromfile(path).model.losses.to_dict()


def test_ablation_configs_each_remove_exactly_their_term():
    main = Config.fromfile(MAIN).model.to_dict()
    expected = {
        'no-ce': ('student_loss_weight', 0.),
        'no-sem-on-diag': ('sem', 'on_diagonal'),
        'no-sem-off-diag': ('sem', 'off_diagonal'),
        'no-dcm-self': ('dcm', 'self_term'), 'no-dcm-cross': ('dcm', 'cross_term')}
    files = sorted(glob.glob(osp.join(CFG, 'ablation', '*.py')))
    assert len(files) == 5
    for path in files:
        name = re.match(r'ds-cmkd_(.+)_resnet32x4', osp.basename(path)).group(1)
        model = Config.fromfile(path).model.to_dict()
        what, key = expected[name]
        diff = {k for k in set(main) | set(model) if main.get(k) != model.get(k)}
        if what == 'student_loss_weight':
            assert diff == {'student_loss_weight'} and model[what] == 0.
            continue
        assert diff == {'losses'}
        assert model['losses'][what].pop(key) is False and key not in main['losses'][what]
        assert model['losses'] == main['losses'], name


def test_combinations_list_both_losses_and_gamma_weights_like_terms():
    sem_dcm = {k: v for k, v in _losses(MAIN).items()}
    assert sem_dcm['sem']['loss_weight'] == pytest.approx(1 / 2048)
    assert sem_dcm['dcm']['loss_weight'] == 1.0
    for path in glob.glob(osp.join(CFG, 'combinations', '*.py')):
        losses = _losses(path)
        other = osp.basename(path).split('+')[0]
        assert set(losses) - {'sem', 'dcm'}, other
        assert losses['sem'] == sem_dcm['sem'] and losses['dcm'] == sem_dcm['dcm']
    assert Config.fromfile(osp.join(CFG, 'combinations',
                                    'kd+ds-cmkd_resnet32x4_resnet8x4_cifar10-noisy.py')
                           ).model.student_loss_weight == 0.1


def test_schedules_and_teacher_checkpoints_are_consistent():
    """The pairs' configs: ShuffleNet/MobileNet students train at lr 0.01, the others at
    0.05 (RepDistiller), 240 epochs of batch 64; each teacher checkpoint is the work dir
    of a shipped teacher config. (Loading every config takes long; the others inherit
    these bases, and tests/test_project/test_package.py builds them all.)"""
    names = {osp.splitext(osp.basename(p))[0]
             for p in glob.glob(osp.join(CFG, '**', '*.py'), recursive=True)}
    for path in sorted(glob.glob(osp.join(CFG, '*.py'))) + [
            osp.join(CFG, 'datasets', 'kd_resnet32x4_resnet8x4_stl10-noisy.py'),
            osp.join(CFG, 'radar_optics', 'ds-cmkd_resnet34_resnet18_radar-optics.py')]:
        cfg = Config.fromfile(path)
        lr = cfg.optim_wrapper.optimizer.lr
        small = any(n in osp.basename(path) for n in ('shufflev', 'mobilenetv2'))
        if 'radar-optics' not in path:
            assert lr == (0.01 if small else 0.05), path
            assert cfg.train_cfg.max_epochs == 240
            assert cfg.train_dataloader.batch_size == 64
        teacher = cfg.model.get('teacher')
        if teacher:
            assert osp.basename(teacher.checkpoint) in names, path
            assert teacher.input in ('clean', 'optical') and \
                cfg.model.student_input in ('noisy', 'radar')


# ---------------------------------------------------------------------- runs
def write_cifar_miniature(root, classes=('airplane', 'automobile', 'bird', 'cat'),
                          per_class=2, size=32):
    """data/cifar10's layout, {train,test}/<class>/<n>.png, with coloured noise."""
    rng = np.random.default_rng(0)
    for split in ('train', 'test'):
        for c, name in enumerate(classes):
            os.makedirs(osp.join(root, split, name), exist_ok=True)
            for i in range(per_class):
                img = rng.integers(0, 60, (size, size, 3)) + 50 * c
                mmcv.imwrite(img.astype(np.uint8), osp.join(root, split, name, f'{i}.png'))
    return root


def small_run_cfg(path, data_root, work_dir, teacher_ckpt, max_epochs=1):
    cfg = Config.fromfile(path)
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[split].update(batch_size=4, num_workers=0, persistent_workers=False)
        cfg[split].dataset.data_root = data_root
    cfg.model.teacher.checkpoint = teacher_ckpt
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = max_epochs
    cfg.randomness = dict(seed=0)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.default_hooks.logger.interval = 1
    cfg.log_level = 'WARNING'
    return cfg


@pytest.fixture(scope='module')
def cifar_root(tmp_path_factory):
    return write_cifar_miniature(str(tmp_path_factory.mktemp('cifar_mini')))


@pytest.fixture(scope='module')
def teacher_resnet32x4(tmp_path_factory):
    from mmengine.registry import DefaultScope

    from mmkd.models.distillers import build_model
    cfg = Config.fromfile(MAIN)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model, _, _ = build_model(cfg.model.teacher.model.to_dict(), 'test teacher')
    path = str(tmp_path_factory.mktemp('teacher') / 'resnet32x4.pth')
    torch.save({'state_dict': model.state_dict()}, path)
    return path


class RecordLosses(Hook):
    """Each training iteration's logged losses and the student's classifier weight."""

    def __init__(self):
        self.records = []
        self.initial = None

    def before_train(self, runner):  # after the runner's init_weights()
        student = runner.model.student
        self.initial = dict(head=student.head.fc.weight.detach().clone(),
                            conv=student.backbone.conv1.weight.detach().clone())

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        model = runner.model
        self.records.append(dict(
            epoch=runner.epoch, losses={k: float(v.detach()) for k, v in outputs.items()},
            head=model.student.head.fc.weight.detach().clone(),
            conv=model.student.backbone.conv1.weight.detach().clone()))


@pytest.fixture(scope='module')
def ds_cmkd_run(cifar_root, teacher_resnet32x4, tmp_path_factory):
    """Two iterations (one epoch of 8 pairs) of the shipped DS-CMKD config."""
    work_dir = tmp_path_factory.mktemp('ds_cmkd_run')
    cfg = small_run_cfg(MAIN, cifar_root, work_dir, teacher_resnet32x4)
    rec = RecordLosses()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(rec)
    runner.train()
    return runner, rec, work_dir


def test_ds_cmkd_config_trains_with_the_runner(ds_cmkd_run):
    runner, rec, work_dir = ds_cmkd_run
    assert len(rec.records) == 2
    for r in rec.records:
        keys = set(r['losses'])
        assert {'student.loss', 'loss_sem.on_diag', 'loss_sem.off_diag',
                'loss_dcm.self', 'loss_dcm.cross'} <= keys
        assert all(math.isfinite(v) for v in r['losses'].values())
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    assert osp.isfile(osp.join(work_dir, 'student', 'student.pth'))
    assert 'val/accuracy/top1' in runner.message_hub.log_scalars  # the student validated


def test_fsp_initialisation_stage_runs_first_then_switches(cifar_root,
                                                          teacher_resnet32x4, tmp_path):
    """FSP alone (no CE) in the init epoch, which leaves the classifier untouched; CE
    alone (FSP weight 0) afterwards, with the lr schedule shifted by the init stage."""
    cfg = small_run_cfg(FSP, cifar_root, tmp_path / 'fsp', teacher_resnet32x4,
                        max_epochs=2)
    assert cfg.model.losses.fsp.schedule == dict(end=30, by_epoch=True)
    assert cfg.model.student_loss_schedule == dict(begin=30, by_epoch=True)
    assert cfg.param_scheduler.milestones == [180, 210, 240]
    cfg.model.losses.fsp.schedule.end = 1
    cfg.model.student_loss_schedule.begin = 1
    cfg.custom_hooks = []
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    runner = Runner.from_cfg(cfg)
    rec = RecordLosses()
    runner.register_hook(rec)
    runner.train()
    head0, conv0 = rec.initial['head'], rec.initial['conv']
    init = [r for r in rec.records if r['epoch'] == 0]
    main = [r for r in rec.records if r['epoch'] == 1]
    assert len(init) == len(main) == 2
    for r in init:
        assert 'student.loss' not in r['losses'] and r['losses']['loss_fsp'] > 0
        assert torch.equal(r['head'], head0)  # no gradient, no weight decay
    assert not torch.equal(init[-1]['conv'], conv0)  # the feature layers did train
    for r in main:
        assert r['losses']['student.loss'] > 0 and r['losses']['loss_fsp'] == 0
    assert not torch.equal(main[-1]['head'], head0)


# ---------------------------------------------------------------------- radar / optics
def test_radar_optics_miniature_loads_as_pairs(tmp_path):
    from mmengine.registry import DefaultScope

    from mmkd.registry import DATASETS
    from mmkd.testing.radar_optics_miniature import CLASSES, make_radar_optics_miniature
    root = make_radar_optics_miniature(str(tmp_path / 'ro'), train_per_class=2,
                                       test_per_class=1, size=48)
    cfg = Config.fromfile(osp.join(CFG, '_base_/datasets/radar_optics_8cls.py'))
    assert tuple(cfg.classes) == CLASSES
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        for split, n in (('train_dataloader', 2), ('val_dataloader', 1)):
            ds_cfg = cfg[split].dataset
            ds_cfg.data_root = root
            ds = DATASETS.build(ds_cfg)
            assert len(ds) == n * 8 and tuple(ds.metainfo['classes']) == CLASSES
            for i in range(len(ds)):
                info = ds.get_data_info(i)
                opt, rad = info['img_path']['optical'], info['img_path']['radar']
                assert osp.basename(opt) == osp.basename(rad)
                assert '/optical/' in opt and '/radar/' in rad
                cls = osp.basename(osp.dirname(opt))
                assert CLASSES[info['gt_label']] == cls == osp.basename(osp.dirname(rad))
            sample = ds[0]
            assert set(sample['inputs']) == {'optical', 'radar'}
            assert sample['inputs']['radar'].shape == (3, 224, 224)


# ---------------------------------------------------------------------- the tool
def _load_tool():
    path = osp.join(REPO, 'tools', 'analysis', 'vis_dimensional_structure.py')
    spec = importlib.util.spec_from_file_location('vis_dimensional_structure', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_vis_dimensional_structure_draws_and_prints_the_right_numbers(
        ds_cmkd_run, cifar_root, teacher_resnet32x4, tmp_path):
    from mmengine.registry import DefaultScope
    from mmengine.runner import load_checkpoint

    from mmkd.registry import MODELS
    _, _, work_dir = ds_cmkd_run
    ckpt = osp.join(work_dir, 'epoch_1.pth')
    opts = [f'test_dataloader.dataset.data_root={cifar_root}',
            f'model.teacher.checkpoint={teacher_resnet32x4}']
    out_dir = str(tmp_path / 'vis')
    buf = io.StringIO()
    with redirect_stdout(buf):
        summary = _load_tool().main([MAIN, ckpt, '--out-dir', out_dir, '--num-samples',
                                     '6', '--batch-size', '4', '--cfg-options', *opts])
    printed = buf.getvalue()
    assert osp.getsize(osp.join(out_dir, 'dimensional_structure.png')) > 1000
    rows = {line.split()[0]: line.split() for line in printed.splitlines()
            if line.split() and line.split()[0] in ('teacher', 'student')}
    assert rows['teacher'][1] == 'clean' and rows['student'][1] == 'noisy'
    assert summary['models']['student']['layer'] == 'backbone.layer2'  # DCM's layer

    # the same features, computed here with forward hooks and textbook formulas
    cfg = Config.fromfile(MAIN)
    cfg.model.teacher.checkpoint = teacher_resnet32x4
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
        load_checkpoint(model, ckpt, map_location='cpu')
        loader_cfg = dict(cfg.test_dataloader, batch_size=6, num_workers=0,
                          persistent_workers=False)
        loader_cfg['dataset'] = dict(loader_cfg['dataset'], data_root=cifar_root)
        batch = next(iter(Runner.build_dataloader(loader_cfg)))
    data = model.data_preprocessor(batch, False)
    model.eval()
    for name, net, modality in (('teacher', model.teachers['teacher'], 'clean'),
                                ('student', model.student, 'noisy')):
        got = {}
        h1 = net.neck.register_forward_hook(lambda m, a, o: got.update(pool=o[0]))
        h2 = net.backbone.layer2.register_forward_hook(lambda m, a, o: got.update(mid=o))
        with torch.no_grad():
            net(data['inputs'][modality], mode='tensor')
        h1.remove()
        h2.remove()
        pool = got['pool'].numpy().astype(np.float64)
        live = pool.std(0) > 1e-12
        c = np.corrcoef(pool[:, live], rowvar=False)
        d = c.shape[0]
        mean_abs = sum(abs(c[i, j]) for i in range(d) for j in range(d) if i != j) / (
            d * (d - 1))
        x = got['mid'].flatten(1).numpy().astype(np.float64)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        pairs = [math.exp(-2 * ((x[i] - x[j])**2).sum())
                 for i in range(6) for j in range(6) if i != j]
        uni = math.log(sum(pairs) / len(pairs))
        row = rows[name]
        assert int(row[3]) == int((~live).sum())
        assert float(row[4]) == pytest.approx(mean_abs, abs=2e-6)
        assert float(row[5]) == pytest.approx(uni, abs=2e-6)
        assert summary['models'][name]['uniformity'] == pytest.approx(uni, rel=1e-6)

    # two configs + checkpoints (the teacher's own run, the distilled student): the same
    teacher_cfg = osp.join(CFG, 'resnet32x4_cifar10-clean_teacher.py')
    with redirect_stdout(io.StringIO()):
        two = _load_tool().main([
            teacher_cfg, teacher_resnet32x4, '--second-config', MAIN,
            '--second-checkpoint', ckpt, '--layer', 'backbone.layer2', '--out-dir',
            str(tmp_path / 'vis2'), '--num-samples', '6', '--batch-size', '4',
            '--cfg-options', opts[0]])
    got = list(two['models'].values())
    assert [g['modality'] for g in got] == ['clean', 'noisy']
    for g, name in zip(got, ('teacher', 'student')):
        for k in ('mean_abs_offdiag_corr', 'uniformity'):
            assert g[k] == pytest.approx(summary['models'][name][k], rel=1e-6)


def test_schedule_keys_are_checked_at_build(teacher_ckpt):
    """A misspelt schedule key (by_epochs) would silently schedule by iteration."""
    from conftest import tiny_classifier

    from mmkd.models.distillers import Distiller
    teacher = tiny_classifier(width=8)
    kw = dict(student=tiny_classifier(width=8),
              teacher=dict(model=teacher, checkpoint=teacher_ckpt(teacher)),
              taps=dict(s='student.head.fc', t='teacher.head.fc'))
    kd = dict(type='mmkd.KDLoss', inputs=dict(student='s', teacher='t'))
    with pytest.raises(KeyError, match=r"loss 'kd': schedule keys are"):
        Distiller(**kw, losses=dict(kd=dict(kd, schedule=dict(end=3, by_epochs=True))))
    with pytest.raises(KeyError, match='student_loss_schedule: schedule keys'):
        Distiller(**kw, losses=dict(kd=kd), student_loss_schedule=dict(start=3))
