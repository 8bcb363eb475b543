"""The mmkd demo: train a teacher, a student baseline and a distilled student, side by side.

    python tools/demo.py                    # bundled synthetic SAR chips (generated here)
    python tools/demo.py --data mstar       # real MSTAR chips (needs mstar10.tar.gz)
    python tools/demo.py --epochs 30 --work-dir work_dirs/demo

Every run goes through the same configs and mmengine runners as ``tools/train.py``; the
distilled student is evaluated from its *exported* checkpoint with a plain mmpretrain
runner (no distiller), which is how users load it.
"""
import argparse
import os
import os.path as osp
import tarfile
import time

from mmengine.config import Config
from mmengine.runner import Runner

from mmengine.config import DictAction

import mmkd  # noqa: F401
from mmkd.datasets.synthetic_sar import make_synthetic_sar
from mmkd.models.distillers.model_config import load_weights_strict

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    'synthetic': dict(
        teacher='configs/kd/resnet34_synthetic-sar_teacher.py',
        baseline='configs/kd/resnet18-w32_synthetic-sar_baseline.py',
        kd='configs/kd/kd_resnet34_resnet18-w32_synthetic-sar.py'),
    'mstar': dict(
        teacher='configs/kd/resnet34_mstar10_teacher.py',
        baseline='configs/kd/resnet18-w32_mstar10_baseline.py',
        kd='configs/kd/kd_resnet34_resnet18-w32_mstar10.py'),
}


def find_config(rel):
    """Configs next to this script's repo, or inside the installed package (mim)."""
    for base in (REPO, osp.join(osp.dirname(mmkd.__file__), '.mim')):
        if osp.isfile(osp.join(base, rel)):
            return osp.join(base, rel)
    raise FileNotFoundError(rel)


def prepare_data(kind, data_dir, shared):
    if kind == 'synthetic':
        root = osp.join(data_dir, 'synthetic_sar')
        print(f'[demo] synthetic SAR chips (generated, not real radar data) in {root}')
        return make_synthetic_sar(root)
    root = osp.join(data_dir, 'mstar10')
    if not osp.isdir(osp.join(root, 'train')):
        archive = osp.join(shared, 'mstar10.tar.gz')
        if not osp.isfile(archive):
            raise SystemExit(f'[demo] MSTAR archive {archive} not found; run the default '
                             f'demo (synthetic data) or pass --shared')
        print(f'[demo] extracting {archive} to {data_dir}')
        with tarfile.open(archive) as tar:
            tar.extractall(data_dir, filter='data')
    return root


def run(config, work_dir, data_root, epochs, seed, extra=None, train=True):
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[split].dataset.data_root = data_root
    if epochs:
        cfg.train_cfg.max_epochs = epochs
        cfg.train_cfg.val_interval = epochs
        cfg.param_scheduler.T_max = epochs
    if extra:
        cfg.merge_from_dict(extra)
    runner = Runner.from_cfg(cfg)
    if train:
        runner.train()
    return runner


def count_params(model):
    return sum(p.numel() for p in model.parameters()) / 1e6


def main():
    parser = argparse.ArgumentParser(description='mmkd demo: teacher vs student vs KD')
    parser.add_argument('--data', choices=sorted(CONFIGS), default='synthetic')
    parser.add_argument('--data-dir', default=osp.join(REPO, 'data'))
    parser.add_argument('--shared', default=osp.join(REPO, '..', 'shared', 'data'),
                        help='folder holding mstar10.tar.gz (for --data mstar)')
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'demo'))
    parser.add_argument('--epochs', type=int, default=None,
                        help='epochs per run (default: the configs\' own)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--teacher-checkpoint',
                        help='reuse a trained teacher instead of training one')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides applied to all three runs (key=value)')
    args = parser.parse_args()

    configs = {k: find_config(v) for k, v in CONFIGS[args.data].items()}
    data_root = prepare_data(args.data, args.data_dir, args.shared)
    results, times = {}, {}

    t0 = time.time()
    teacher_dir = osp.join(args.work_dir, 'teacher')
    if args.teacher_checkpoint:
        runner = run(configs['teacher'], teacher_dir, data_root, args.epochs, args.seed,
                     extra=args.cfg_options, train=False)
        load_weights_strict(runner.model, args.teacher_checkpoint, 'teacher')
        teacher_ckpt = args.teacher_checkpoint
    else:
        runner = run(configs['teacher'], teacher_dir, data_root, args.epochs, args.seed,
                     extra=args.cfg_options)
        teacher_ckpt = teacher_dir  # its last checkpoint
    results['teacher (ResNet-34)'] = (runner.test(), count_params(runner.model))
    times['teacher (ResNet-34)'] = time.time() - t0

    t0 = time.time()
    runner = run(configs['baseline'], osp.join(args.work_dir, 'student_baseline'),
                 data_root, args.epochs, args.seed, extra=args.cfg_options)
    results['student baseline (ResNet-18 w32)'] = (runner.test(), count_params(runner.model))
    times['student baseline (ResNet-18 w32)'] = time.time() - t0

    t0 = time.time()
    kd_dir = osp.join(args.work_dir, 'student_kd')
    run(configs['kd'], kd_dir, data_root, args.epochs, args.seed,
        extra={**args.cfg_options, 'model.teacher.checkpoint': teacher_ckpt})
    # Evaluate the exported student with a plain mmpretrain runner: no distiller.
    exported = Config.fromfile(osp.join(kd_dir, 'student', 'student_config.py'))
    exported.work_dir = osp.join(kd_dir, 'exported_test')
    exported.merge_from_dict({k: v for k, v in args.cfg_options.items()
                              if k.startswith(('test_dataloader', 'val_dataloader'))})
    runner = Runner.from_cfg(exported)
    load_weights_strict(runner.model, osp.join(kd_dir, 'student', 'student.pth'),
                        'exported student')
    results['student + KD (exported)'] = (runner.test(), count_params(runner.model))
    times['student + KD (exported)'] = time.time() - t0

    key = 'accuracy/top1'
    base = results['student baseline (ResNet-18 w32)'][0][key]
    print('\n' + '=' * 78)
    print(f'mmkd demo on {args.data} data'
          + (' (synthetic: generated chips, not real radar)' if args.data == 'synthetic'
             else ' (MSTAR SOC, real SAR)') + f', seed {args.seed}')
    print(f'{"model":36s} {"params (M)":>10s} {"top-1 (%)":>10s} {"vs baseline":>12s} '
          f'{"time (s)":>8s}')
    for name, (metrics, params) in results.items():
        acc = metrics[key]
        print(f'{name:36s} {params:10.2f} {acc:10.2f} {acc - base:+12.2f} '
              f'{times[name]:8.0f}')
    print(f'exported student: {osp.join(kd_dir, "student")}')
    print('=' * 78)


if __name__ == '__main__':
    main()
