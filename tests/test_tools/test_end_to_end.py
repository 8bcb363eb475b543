"""Whole runs through mmengine runners, the tools and the exported student.

The bundled configs are used as users run them, shrunk by --cfg-options to a handful
of iterations on a generated miniature of the synthetic SAR chips.
"""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.runner import Runner

TEACHER = osp.join(REPO, 'configs/kd/resnet34_synthetic-sar_teacher.py')
BASELINE = osp.join(REPO, 'configs/kd/resnet18-w32_synthetic-sar_baseline.py')
KD = osp.join(REPO, 'configs/kd/kd_resnet34_resnet18-w32_synthetic-sar.py')


def shrink(data_root, epochs=1):
    return {
        'train_dataloader.dataset.data_root': data_root,
        'val_dataloader.dataset.data_root': data_root,
        'test_dataloader.dataset.data_root': data_root,
        'train_dataloader.batch_size': 8,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
        'train_cfg.max_epochs': epochs,
        'train_cfg.val_interval': epochs,
        'param_scheduler.T_max': epochs,
        'default_hooks.checkpoint.interval': 1,
        'default_hooks.checkpoint.max_keep_ckpts': 3,
        'randomness.seed': 0,
        'randomness.deterministic': True,
    }


def cli_options(opts):
    return ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]


def run_cfg(config, work_dir, opts):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(opts)
    cfg.work_dir = str(work_dir)
    return Runner.from_cfg(cfg)


def run_tool(args, cwd=REPO, env=None, timeout=600):
    # tools import mmkd: the checkout under test, not an older installed copy
    # (mim runs the installed package by design; tools/setup_env.sh reinstalls it)
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', PYTHONPATH=REPO)
    full_env.update(env or {})
    proc = subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def trained(tmp_path_factory, synthetic_sar_root):
    """A teacher trained for one epoch, then a KD run of two epochs from it."""
    root = tmp_path_factory.mktemp('runs')
    teacher = run_cfg(TEACHER, root / 'teacher', shrink(synthetic_sar_root))
    teacher.train()
    opts = shrink(synthetic_sar_root, epochs=2)
    opts['model.teacher.checkpoint'] = str(root / 'teacher')
    kd = run_cfg(KD, root / 'kd', opts)
    kd.train()
    return dict(root=root, data=synthetic_sar_root, kd_runner=kd, kd_opts=opts)


def test_kd_run_exports_a_plain_student(trained):
    student_dir = trained['root'] / 'kd' / 'student'
    assert (student_dir / 'student.pth').is_file()
    assert (student_dir / 'student_config.py').is_file()
    ckpt = torch.load(student_dir / 'student.pth', weights_only=True)  # plain content
    assert all(not k.startswith(('student.', 'connectors.', 'teacher'))
               for k in ckpt['state_dict'])
    # the exported weights are the trained student's
    student = trained['kd_runner'].model.student
    for k, v in student.state_dict().items():
        assert torch.equal(ckpt['state_dict'][k], v.cpu())
    text = (student_dir / 'student_config.py').read_text()
    assert 'mmkd' not in text and "default_scope = 'mmpretrain'" in text


def test_exported_student_loads_with_mmpretrain_alone(trained):
    student_dir = trained['root'] / 'kd' / 'student'
    img = sorted((osp.join(dp, f) for dp, _, fs in os.walk(
        osp.join(trained['data'], 'test')) for f in fs if f.endswith('.png')))[0]
    script = f"""
import sys, torch
from mmengine.dataset import pseudo_collate
from mmpretrain.apis import init_model
from mmpretrain.registry import TRANSFORMS
model = init_model({str(student_dir / 'student_config.py')!r},
                   {str(student_dir / 'student.pth')!r}, device='cpu')
data = dict(img_path={img!r})
for t in model._config.test_dataloader.dataset.pipeline:
    data = TRANSFORMS.build(t)(data)
data = pseudo_collate([data])
out = model.test_step(data)[0]
assert 'mmkd' not in sys.modules, 'mmkd was imported'
print('PRED', int(out.pred_label), type(model).__name__)
"""
    out = run_tool([sys.executable, '-c', script], cwd=str(trained['root']),
                   env={'PYTHONPATH': ''})
    assert 'PRED' in out and 'ImageClassifier' in out


def test_tools_test_accepts_distillation_and_exported_checkpoints(trained):
    root, opts = trained['root'], trained['kd_opts']
    last = (root / 'kd' / 'last_checkpoint').read_text().strip()
    common = cli_options({k: v for k, v in opts.items() if 'dataloader' in k})
    out1 = run_tool([sys.executable, 'tools/test.py', KD, last, '--work-dir',
                     str(root / 'test1')] + common)
    out2 = run_tool([sys.executable, 'tools/test.py',
                     str(root / 'kd' / 'student' / 'student_config.py'),
                     str(root / 'kd' / 'student' / 'student.pth'), '--work-dir',
                     str(root / 'test2')] + common)

    def acc(out):
        line = [ln for ln in out.splitlines() if 'accuracy/top1' in ln][-1]
        return float(line.split('accuracy/top1:')[1].split()[0])

    assert acc(out1) == acc(out2)
    # the distillation config tests without the teacher's checkpoint
    out3 = run_tool([sys.executable, 'tools/test.py', KD, last, '--work-dir',
                     str(root / 'test3')] + common + ['model.teacher.checkpoint=/nowhere'])
    assert acc(out3) == acc(out1)


def test_export_tool_matches_the_hook(trained):
    root = trained['root']
    last = (root / 'kd' / 'last_checkpoint').read_text().strip()
    run_tool([sys.executable, 'tools/misc/export_student.py', KD, last, '--out-dir',
              str(root / 'exported')])
    a = torch.load(root / 'exported' / 'student.pth', weights_only=True)['state_dict']
    b = torch.load(root / 'kd' / 'student' / 'student.pth', weights_only=True)['state_dict']
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_continues_training(trained, tmp_path):
    """Resuming reads a full mmengine checkpoint (torch >= 2.6 weights_only change)."""
    opts = dict(trained['kd_opts'])
    opts['train_cfg.max_epochs'] = 1
    opts['param_scheduler.T_max'] = 3
    run_cfg(KD, tmp_path / 'r', opts).train()
    opts['train_cfg.max_epochs'] = 2
    opts['resume'] = True
    runner = run_cfg(KD, tmp_path / 'r', opts)
    runner.train()
    assert runner.iter == 2 * len(runner.train_dataloader)
    assert (tmp_path / 'r' / 'epoch_2.pth').is_file()


def test_error_on_first_batch_keeps_what_was_written(trained, tmp_path):
    opts = dict(trained['kd_opts'])
    run_cfg(KD, tmp_path / 'w', dict(opts, **{'train_cfg.max_epochs': 1})).train()
    # checkpoints, last_checkpoint and the first run's log folder (the runner re-dumps
    # its config file at every start; that is the new run's, not lost work)
    before = {p: os.path.getmtime(tmp_path / 'w' / p) for p in os.listdir(tmp_path / 'w')
              if not p.endswith('.py')}
    assert any(p.endswith('.pth') for p in before)
    opts['model.student_input'] = 'sar'  # the batch has no 'sar' modality
    with pytest.raises(KeyError, match="student reads modality 'sar'"):
        run_cfg(KD, tmp_path / 'w', opts).train()
    for p, t in before.items():
        assert os.path.getmtime(tmp_path / 'w' / p) == t, f'{p} was touched'


def test_mim_train_and_test(trained, tmp_path, venv_bin):
    mim = osp.join(venv_bin, 'mim')
    if not osp.isfile(mim):
        pytest.skip('openmim is not installed in this environment')
    opts = dict(trained['kd_opts'], **{'train_cfg.max_epochs': 1})
    out = run_tool([mim, 'train', 'mmkd', 'configs/kd/kd_resnet34_resnet18-w32_synthetic-sar.py',
                    '--work-dir', str(tmp_path / 'mim')] + cli_options(opts),
                   cwd=str(tmp_path))
    assert (tmp_path / 'mim' / 'student' / 'student.pth').is_file(), out[-2000:]
    out = run_tool([mim, 'test', 'mmkd', 'configs/kd/kd_resnet34_resnet18-w32_synthetic-sar.py',
                    '-C', str(tmp_path / 'mim' / 'epoch_1.pth'), '--work-dir',
                    str(tmp_path / 'mimtest')] + cli_options(opts), cwd=str(tmp_path))
    assert 'accuracy/top1' in out


def test_dist_train_two_processes_on_gloo(trained, tmp_path):
    opts = dict(trained['kd_opts'], **{'train_cfg.max_epochs': 1,
                                       'train_dataloader.batch_size': 4})
    env = {'PORT': '29511', 'OMP_NUM_THREADS': '1',
           'PATH': osp.dirname(sys.executable) + os.pathsep + os.environ['PATH']}
    out = run_tool(['bash', 'tools/dist_train.sh', KD, '2', '--work-dir',
                    str(tmp_path / 'ddp')] + cli_options(opts), env=env)
    assert 'gloo' in out
    assert (tmp_path / 'ddp' / 'student' / 'student.pth').is_file()
    logs = [osp.join(dp, f) for dp, _, fs in os.walk(tmp_path / 'ddp') for f in fs
            if f == 'scalars.json']
    assert logs
    first = json.loads(open(logs[0]).readline())
    assert 'loss_kd' in first
