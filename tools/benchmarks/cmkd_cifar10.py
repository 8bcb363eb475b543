"""Measure baseline vs CMKD-s vs CMKD-m on the CIFAR-10 EO / simulated-SAR benchmark.

    python tools/benchmarks/cmkd_cifar10.py [--seeds 0 1 2] [--per-class 200]
        [--test-per-class 100] [--epochs 10] [--work-dir work_dirs/cmkd_table]

Per seed it trains, with the shipped configs and ``tools/train.py`` (so exactly what a
user runs): the EO teacher, the simulated-SAR baseline, CMKD-s (EO teacher -> SAR
student) and CMKD-m (two rounds of EO<-SAR then SAR<-EO, both starting from that seed's
supervised checkpoints). It reads each run's final validation accuracy and prints a
markdown table with the per-seed values and the median, then tests each SAR model
(baseline, CMKD-s, CMKD-m's SAR member) with ``tools/test.py`` and the paper's balanced
post-processing (``mmkd.BalancedPostProcessMetric``, k = 4 capped classes, n = N / 10)
and prints the accuracy before and after it. Finished runs are reused when
the script is started again (a run counts as finished when its final checkpoint exists).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(REPO, 'configs', 'cmkd')


def data_opts(args):
    return [f'train_dataloader.dataset.max_per_class={args.per_class}',
            f'val_dataloader.dataset.max_per_class={args.test_per_class}',
            f'test_dataloader.dataset.max_per_class={args.test_per_class}',
            f'train_dataloader.dataset.data_root={args.data_root}',
            f'val_dataloader.dataset.data_root={args.data_root}',
            f'test_dataloader.dataset.data_root={args.data_root}',
            'train_dataloader.num_workers=1', 'val_dataloader.num_workers=1']


def schedule_opts(epochs):
    # the paper halves the lr every 20 of its epochs: keep that shape on a short run
    step = max(1, round(epochs / 3))
    return [f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
            f'param_scheduler.step_size={step}',
            f'default_hooks.checkpoint.interval={epochs}']


def last_scalar(work_dir, key='accuracy/top1'):
    """The last value of ``key`` in the run's scalars.json files (newest log last)."""
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


def final_accuracy(work_dir):
    return last_scalar(work_dir)


def train(config, work_dir, opts, log):
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')) and final_accuracy(work_dir) \
            is not None:
        print(f'[cmkd-table] reuse {work_dir}', flush=True)
        return final_accuracy(work_dir)
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config, '--work-dir',
           work_dir, '--cfg-options'] + opts
    print('[cmkd-table] ' + ' '.join(cmd), flush=True)
    env = dict(os.environ, PYTHONPATH=REPO)
    with open(log, 'w') as fh:
        subprocess.run(cmd, check=True, stdout=fh, stderr=subprocess.STDOUT, env=env,
                       cwd=REPO)
    return final_accuracy(work_dir)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--per-class', type=int, default=200)
    p.add_argument('--test-per-class', type=int, default=100)
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--data-root', default=osp.join(REPO, 'data', 'cifar10'))
    p.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'cmkd_table'))
    args = p.parse_args()
    if not osp.isdir(osp.join(args.data_root, 'train')):
        sys.exit(f'{args.data_root}/train not found: extract cifar10-jpg.tar.gz there')
    os.makedirs(args.work_dir, exist_ok=True)
    balanced = {}
    rows = {k: [] for k in ('EO teacher', 'SAR baseline', 'CMKD-s (EO->SAR)',
                            'CMKD-m: SAR model', 'CMKD-m: EO model')}
    for seed in args.seeds:
        d = osp.join(args.work_dir, f'seed{seed}')
        os.makedirs(d, exist_ok=True)
        common = data_opts(args) + [f'randomness.seed={seed}']
        sched = schedule_opts(args.epochs)
        eo = osp.join(d, 'eo')
        rows['EO teacher'].append(train(osp.join(CFG, 'resnet34_cifar10-eo_supervised.py'),
                                        eo, common + sched, eo + '.log'))
        sar = osp.join(d, 'sar')
        rows['SAR baseline'].append(train(
            osp.join(CFG, 'resnet34_cifar10-simsar_supervised.py'), sar, common + sched,
            sar + '.log'))
        cs = osp.join(d, 'cmkd_s')
        rows['CMKD-s (EO->SAR)'].append(train(
            osp.join(CFG, 'cmkd-s_resnet34_cifar10_eo2simsar.py'), cs,
            common + sched + [f'model.teacher.checkpoint={eo}'], cs + '.log'))
        cm = osp.join(d, 'cmkd_m')
        per_phase = max(1, args.epochs // 4)
        total = per_phase * 4
        m_opts = common + [
            f'model.models.eo.checkpoint={eo}', f'model.models.sar.checkpoint={sar}',
            'model.rounds=2', f'model.phases.0.epochs={per_phase}',
            f'model.phases.1.epochs={per_phase}', f'train_cfg.max_epochs={total}',
            f'train_cfg.val_interval={total}', f'param_scheduler.step_size={total}',
            f'default_hooks.checkpoint.interval={total}']
        rows['CMKD-m: SAR model'].append(train(
            osp.join(CFG, 'cmkd-m_resnet34_cifar10.py'), cm, m_opts, cm + '.log'))
        rows['CMKD-m: EO model'].append(eo_after_mutual(cm))
        for name, cfg, wd, member in (
                ('SAR baseline', 'resnet34_cifar10-simsar_supervised.py', sar, None),
                ('CMKD-s (EO->SAR)', 'cmkd-s_resnet34_cifar10_eo2simsar.py', cs, None),
                ('CMKD-m: SAR model', 'cmkd-m_resnet34_cifar10.py', cm, 'sar')):
            balanced.setdefault(name, []).append(
                balanced_test(osp.join(CFG, cfg), wd, common, member))
    print_table(rows, args)
    print_balanced(balanced, args)


def balanced_test(config, work_dir, opts, member=None):
    """Test a finished run with the balanced post-processing: (before, after) in %."""
    out_dir = osp.join(work_dir, 'balanced_test')
    result = osp.join(out_dir, 'metrics.json')
    if osp.isfile(result):
        r = json.load(open(result))
        return r['balanced/accuracy_before'], r['balanced/accuracy_after']
    os.makedirs(out_dir, exist_ok=True)
    derived = osp.join(out_dir, 'config.py')
    with open(derived, 'w') as fh:
        fh.write(f"_base_ = ['{config}']\n"
                 "test_evaluator = dict(_delete_=True, type='mmkd.BalancedPostProcessMetric',"
                 " k=4)\n")
    ckpt = open(osp.join(work_dir, 'last_checkpoint')).read().strip()
    cmd = [sys.executable, osp.join(REPO, 'tools', 'test.py'), derived, ckpt, '--work-dir',
           out_dir] + (['--member', member] if member else []) + ['--cfg-options'] + [
        o for o in opts if o.startswith(('test_dataloader', 'randomness'))]
    env = dict(os.environ, PYTHONPATH=REPO)
    with open(osp.join(out_dir, 'test.log'), 'w') as fh:
        subprocess.run(cmd, check=True, stdout=fh, stderr=subprocess.STDOUT, env=env,
                       cwd=REPO)
    found = {}
    for root, _, files in os.walk(out_dir):
        for f in files:
            if f.endswith('.json') and f != 'metrics.json':
                with open(osp.join(root, f)) as fh:
                    for line in fh:
                        try:
                            rec = json.loads(line)
                        except ValueError:
                            continue
                        found.update({k: v for k, v in rec.items() if 'balanced' in k})
    with open(result, 'w') as fh:
        json.dump(found, fh)
    return found['balanced/accuracy_before'], found['balanced/accuracy_after']


def print_balanced(balanced, args):
    print('\nBalanced post-processing at test time (k = 4, n = N / 10), SAR models, '
          'top-1 before -> after (%)\n')
    print('| model | ' + ' | '.join(f'seed {s}' for s in args.seeds)
          + ' | median before | median after |')
    print('|---|' + '---|' * (len(args.seeds) + 2))
    for name, vals in balanced.items():
        cells = ' | '.join(f'{b:.2f} -> {a:.2f}' for b, a in vals)
        print(f'| {name} | {cells} | {statistics.median(b for b, _ in vals):.2f} | '
              f'{statistics.median(a for _, a in vals):.2f} |')


def eo_after_mutual(work_dir):
    """RoleSwapHook logs every model's final accuracy as '<model>/accuracy/top1'."""
    return last_scalar(work_dir, 'eo/accuracy/top1')


def print_table(rows, args):
    seeds = ' | '.join(f'seed {s}' for s in args.seeds)
    print(f'\nCIFAR-10 EO / simulated SAR, {args.per_class}/class train, '
          f'{args.test_per_class}/class test, {args.epochs} epochs (CMKD-m: 2 rounds x 2 '
          f'phases x {max(1, args.epochs // 4)} epochs after the supervised runs)\n')
    print(f'| model | {seeds} | median |')
    print('|---|' + '---|' * (len(args.seeds) + 1))
    for name, vals in rows.items():
        ok = [v for v in vals if v is not None]
        med = f'{statistics.median(ok):.2f}' if ok else 'n/a'
        cells = ' | '.join('n/a' if v is None else f'{v:.2f}' for v in vals)
        print(f'| {name} | {cells} | {med} |')


if __name__ == '__main__':
    main()
