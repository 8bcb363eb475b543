"""Measure DS-CMKD against the baseline, KD and three zoo methods on noisy CIFAR-10.

    python tools/benchmarks/ds_cmkd_cifar10.py [--seeds 0 1 2] [--per-class 200]
        [--test-per-class 100] [--teacher-epochs 30] [--epochs 15] [--jobs 2]
        [--threads 1] [--snr 0.5] [--methods baseline kd ds-cmkd fitnets at crd]
        [--work-dir work_dirs/ds_cmkd_table] [--dry-run]

A CPU-sized version of the paper's noisy CIFAR-10 table, run with the shipped configs
and ``tools/train.py`` (exactly what a user runs), for the VGG13 -> VGG8 pair: on two
CPU cores one iteration (batch 64) of the main pair ResNet32x4 -> ResNet8x4 took 4.7 s
for DS-CMKD and 8.9 s for the teacher, against 2.1 s and 2.3 s for VGG13 -> VGG8
(measured with one thread per process on a shared, loaded machine).

The schedule (defaults): a balanced subset of ``--per-class`` 200 training pairs per
class (2000 images, 32 iterations per epoch at batch 64) and ``--test-per-class`` 100
test images per class (1000); the VGG13 teacher trains once on the clean images for
``--teacher-epochs`` 30, then each method trains the VGG8 student on the noisy images
(SNR 0.5: half of the pixels salt or pepper) for ``--epochs`` 15, for every seed.
RepDistiller's optimiser (SGD lr 0.05, momentum 0.9, weight decay 5e-4, batch 64) with
its step schedule compressed (lr x0.1 at 150/240, 180/240 and 210/240 of the run).
Everything else is the configs' (loss weights, augmentation, the deterministic test
noise). CRD's memory bank gets ``n_data`` = the subset's size.

It prints a markdown table of each run's final test accuracy per seed and the median
over seeds, and writes it to ``<work-dir>/table.md``. Finished runs are reused when the
script is started again (a run counts as finished when it logged its final accuracy).
Runs go ``--jobs`` at a time, each with ``--threads`` threads (2 x 1 on two cores).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(REPO, 'configs', 'ds_cmkd')
TEACHER = osp.join(CFG, 'vgg13_cifar10-clean_teacher.py')
METHODS = {
    'baseline': ('VGG8 on noisy images (no teacher)', 'vgg8_cifar10-noisy_baseline.py'),
    'kd': ('KD', 'kd_vgg13_vgg8_cifar10-noisy.py'),
    'ds-cmkd': ('DS-CMKD (SEM + DCM)', 'ds-cmkd_vgg13_vgg8_cifar10-noisy.py'),
    'fitnets': ('FitNets', 'zoo/fitnets_vgg13_vgg8_cifar10-noisy.py'),
    'at': ('AT', 'zoo/at_vgg13_vgg8_cifar10-noisy.py'),
    'crd': ('CRD', 'zoo/crd_vgg13_vgg8_cifar10-noisy.py'),
}


def data_opts(args):
    opts = [f'{split}.dataset.data_root={args.data_root}'
            for split in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    opts += [f'train_dataloader.dataset.max_per_class={args.per_class}',
             f'val_dataloader.dataset.max_per_class={args.test_per_class}',
             f'test_dataloader.dataset.max_per_class={args.test_per_class}',
             'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
             'test_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
             'val_dataloader.persistent_workers=False',
             'test_dataloader.persistent_workers=False',
             # the noise level: the SaltPepperNoise entry of each pipeline
             f'train_dataloader.dataset.pipeline.2.snr={args.snr}',
             f'val_dataloader.dataset.pipeline.1.snr={args.snr}',
             f'test_dataloader.dataset.pipeline.1.snr={args.snr}']
    return opts


def schedule_opts(epochs):
    """RepDistiller's 240-epoch step schedule compressed to ``epochs``."""
    steps = sorted({max(1, round(epochs * f)) for f in (150 / 240, 180 / 240, 210 / 240)})
    return [f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
            'param_scheduler.milestones=[' + ','.join(map(str, steps)) + ']',
            f'default_hooks.checkpoint.interval={epochs}',
            'default_hooks.checkpoint.save_best=None',
            'default_hooks.logger.interval=10']


def final_accuracy(work_dir, key='accuracy/top1'):
    """The last ``key`` logged in the run's scalars.json files (newest log last)."""
    found = None
    logs = sorted((osp.join(root, f) for root, _, files in os.walk(work_dir)
                   for f in files if f == 'scalars.json'), key=osp.getmtime)
    for path in logs:
        with open(path) as fh:
            for line in fh:
                rec = json.loads(line)
                if key in rec:
                    found = rec[key]
    return found


def train(config, work_dir, opts, args):
    if final_accuracy(work_dir) is not None and osp.isfile(
            osp.join(work_dir, 'last_checkpoint')):
        print(f'[ds-cmkd-table] reuse {work_dir}', flush=True)
        return final_accuracy(work_dir)
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config, '--work-dir',
           work_dir, '--cfg-options'] + opts
    print('[ds-cmkd-table] ' + ' '.join(cmd), flush=True)
    if args.dry_run:
        return None
    os.makedirs(work_dir, exist_ok=True)
    threads = str(args.threads)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS=threads,
               MKL_NUM_THREADS=threads)
    with open(work_dir + '.log', 'w') as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    if proc.returncode:
        print(f'[ds-cmkd-table] FAILED ({proc.returncode}): see {work_dir}.log', flush=True)
        return None
    return final_accuracy(work_dir)


def print_table(rows, teacher_acc, args):
    lines = [
        f'Noisy CIFAR-10 (SNR {args.snr}), VGG13 (clean) -> VGG8 (noisy): '
        f'{args.per_class}/class train, {args.test_per_class}/class test, teacher '
        f'{args.teacher_epochs} epochs (seed 0), students {args.epochs} epochs; final '
        f'top-1 test accuracy (%).', '',
        f'VGG13 teacher on clean images: '
        f'{"n/a" if teacher_acc is None else f"{teacher_acc:.2f}"}', '',
        '| method | ' + ' | '.join(f'seed {s}' for s in args.seeds) + ' | median |',
        '|---|' + '---|' * (len(args.seeds) + 1)]
    for name, vals in rows.items():
        ok = [v for v in vals if v is not None]
        med = f'{statistics.median(ok):.2f}' if ok else 'n/a'
        cells = ' | '.join('n/a' if v is None else f'{v:.2f}' for v in vals)
        lines.append(f'| {name} | {cells} | {med} |')
    text = '\n'.join(lines)
    print('\n' + text)
    if not args.dry_run:
        with open(osp.join(args.work_dir, 'table.md'), 'w') as fh:
            fh.write(text + '\n')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--per-class', type=int, default=200)
    p.add_argument('--test-per-class', type=int, default=100)
    p.add_argument('--teacher-epochs', type=int, default=30)
    p.add_argument('--epochs', type=int, default=15)
    p.add_argument('--snr', type=float, default=0.5)
    p.add_argument('--methods', nargs='+', default=list(METHODS), choices=list(METHODS))
    p.add_argument('--jobs', type=int, default=2, help='runs at a time')
    p.add_argument('--threads', type=int, default=1, help='torch threads per run')
    p.add_argument('--data-root', default=osp.join(REPO, 'data', 'cifar10'))
    p.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'ds_cmkd_table'))
    p.add_argument('--dry-run', action='store_true', help='print the commands only')
    args = p.parse_args()
    if not osp.isdir(osp.join(args.data_root, 'train')):
        sys.exit(f'{args.data_root}/train not found: extract cifar10-jpg.tar.gz there')
    if not args.dry_run:
        os.makedirs(args.work_dir, exist_ok=True)

    common = data_opts(args)
    teacher_dir = osp.join(args.work_dir, 'vgg13_teacher')
    teacher_acc = train(TEACHER, teacher_dir, common + schedule_opts(args.teacher_epochs)
                        + ['randomness.seed=0'], args)

    jobs = []
    for method in args.methods:
        _, config = METHODS[method]
        for seed in args.seeds:
            opts = common + schedule_opts(args.epochs) + [f'randomness.seed={seed}']
            if method != 'baseline':
                opts.append(f'model.teacher.checkpoint={teacher_dir}')
            if method == 'crd':
                opts.append(f'model.losses.crd.n_data={10 * args.per_class}')
            jobs.append((method, seed, osp.join(CFG, config),
                         osp.join(args.work_dir, f'{method}_seed{seed}'), opts))
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda j: train(j[2], j[3], j[4], args), jobs))
    rows = {METHODS[m][0]: [] for m in args.methods}
    for (method, _, _, _, _), acc in zip(jobs, results):
        rows[METHODS[method][0]].append(acc)
    print_table(rows, teacher_acc, args)


if __name__ == '__main__':
    main()
