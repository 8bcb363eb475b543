"""The CMKD-m part (``kind='mutual'``): the EO and SAR models take turns as teacher and
student from the CMKD-s parts' start points; its written overrides, its runs, each
member tested on its own (``tools/test.py --member``) and its section of the report."""
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from _evidence_common import REPO, done, merge

from mmkd.utils.paired_stats import format_difference, paired_difference, verdict
from .data import cifar_data
from .overrides import CHANNELS, IN_CHANNELS, cmkd_overrides, common_overrides
from .runs import train, write_config


def mutual_overrides(part, scale, seed, starts, epochs):
    """The written overrides of one CMKD-m run: CIFAR-stem members, each loaded from its
    modality's supervised start point of ``seed``, ``epochs`` rounds of one epoch per
    member (so each member trains ``epochs`` epochs, as its baseline), the schedule
    shape of the CMKD-s parts over the ``2 * epochs`` of the run."""
    models = {}
    for name, (_, _, _) in part['members'].items():
        m = dict(checkpoint=starts[name])
        if scale.get('arch'):
            m['model'] = dict(backbone=dict(_delete_=True, type='mmkd.CifarResNet',
                                            arch=scale['arch'],
                                            in_channels=IN_CHANNELS[name]),
                              head=dict(in_channels=CHANNELS[scale['arch']][3]))
        models[name] = m
    phases = [dict(student='eo', teacher='sar', epochs=1, alpha=part['members']['eo'][2]),
              dict(student='sar', teacher='eo', epochs=1, alpha=part['members']['sar'][2])]
    total = 2 * epochs
    over = cmkd_overrides('cmkd-m', part['config'], dict(scale, _epochs=total), None,
                          'mutual', dict(modality=('sar', 'eo'), methods=[('-', )]))
    over['model'] = dict(models=models, phases=phases, rounds=epochs, eval_model='sar')
    return over


def run_mutual(ctx, part):
    """CMKD-m from the start points of the two CMKD-s parts, read for both members."""
    args, scale = ctx['args'], ctx['scale']
    root = osp.join(args.work_dir, part['name'])
    gate = ctx.get('done', {}).get(part['gate_part'], {})
    if not args.dry_run and not gate.get('gate_passed'):
        print(f'[evidence] {part["name"]}: needs part {part["gate_part"]} run and its gate '
              f'passed first', flush=True)
        return {}
    epochs = scale['epochs']
    runs = []
    for seed in args.seeds:
        starts = {name: osp.join(args.work_dir, src, f'start_seed{seed}',
                                 f'epoch_{scale["start_epochs"]}.pth')
                  for name, (src, _, _) in part['members'].items()}
        run = dict(name=f'{part["name"]}/cmkd-m_seed{seed}', key='cmkd-m', seed=seed,
                   epochs=2 * epochs, dir=osp.join(root, f'cmkd-m_seed{seed}'))
        os.makedirs(run['dir'], exist_ok=True)
        data = cifar_data(args, scale, 'student', seed)
        over = merge(common_overrides(args, dict(scale, val_every=2), 2 * epochs, True,
                                      data),
                     mutual_overrides(part, scale, seed, starts, epochs))
        over['randomness'] = dict(seed=seed, deterministic=False)
        write_config(osp.join(run['dir'], 'run_config.py'), part['config'], over)
        runs.append(run)
    if args.dry_run:
        for r in runs:
            train(r, args)
        return {}

    def one(r):
        summary = done(r['dir']) if args.summarize else train(r, args)
        if not summary or args.summarize:
            return r, summary
        members = dict(sar=dict(acc=summary['acc'], balanced=summary.get('balanced')))
        members['eo'] = test_member(r, 'eo', args)
        summary['members'] = members
        with open(osp.join(r['dir'], 'final.json'), 'w') as fh:
            json.dump(summary, fh)
        return r, summary
    out = dict(runs={}, gate_part=part['gate_part'])
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for r, summary in pool.map(one, runs):
            out['runs'][r['seed']] = summary
    return out


def test_member(run, member, args):
    """Top-1 (and the balanced reading) of one member of a finished CMKD-m run, with
    ``tools/test.py --member`` on its last checkpoint."""
    ckpt = osp.join(run['dir'], f'epoch_{run["epochs"]}.pth')
    cmd = [sys.executable, osp.join(REPO, 'tools', 'test.py'),
           osp.join(run['dir'], 'run_config.py'), ckpt, '--member', member,
           '--work-dir', osp.join(run['dir'], f'test_{member}')]
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS=str(args.threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    with open(osp.join(run['dir'], f'test_{member}.log'), 'w') as fh:
        fh.write(proc.stdout + proc.stderr)
    text = proc.stdout + proc.stderr
    found = {k: re.findall(rf'{re.escape(k)}: ([0-9.]+)', text)
             for k in ('accuracy/top1', 'balanced/accuracy_before',
                       'balanced/accuracy_after')}
    if proc.returncode or not found['accuracy/top1']:
        raise SystemExit(f'[evidence] testing member {member} failed: '
                         f'{run["dir"]}/test_{member}.log')
    out = dict(acc=float(found['accuracy/top1'][-1]))
    if found['balanced/accuracy_after']:
        out['balanced'] = dict(before=float(found['balanced/accuracy_before'][-1]),
                               after=float(found['balanced/accuracy_after'][-1]))
    return out


def mutual_section(part, args, res):
    """Each CMKD-m member against its modality's supervised start and baseline (the
    start trained as many more epochs), paired by seed; fills ``res['stats']``."""
    seeds = args.seeds
    supervised = {}
    for name, (src, _, _) in part['members'].items():
        src_dir = osp.join(args.work_dir, src)
        supervised[name] = dict(
            start={s: done(osp.join(src_dir, f'start_seed{s}')) for s in seeds},
            baseline={s: done(osp.join(src_dir, f'baseline_seed{s}')) for s in seeds})
    lines = [f'Both members start from the supervised models of the CMKD-s parts (seed by '
             f'seed) and train {args_epochs(res)} more epochs each, in rounds of one epoch '
             f'per member (EO as student with alpha {part["members"]["eo"][2]}, then SAR '
             f'with {part["members"]["sar"][2]}); each is compared with its own '
             f'supervised start and with the baseline that continued that start as many '
             f'epochs.', '']
    if part.get('paper_source'):
        lines += [f'Paper: {part["paper_source"]}.', '']
    lines += ['| model | ' + ' | '.join(f'seed {s}' for s in seeds) +
              ' | median | vs baseline (paired, 95 % CI) | reading | vs its start | '
              'balanced: vs balanced baseline | paper |',
              '|---' * (len(seeds) + 7) + '|']
    stats, extra = {}, {}
    for name, label, _ in part['methods']:
        src_label = part['members'][name][1]
        base, start = supervised[name]['baseline'], supervised[name]['start']
        for what, runs in (('start', start), ('baseline', base)):
            accs = [runs[s]['acc'] if runs.get(s) else None for s in seeds]
            ok = [a for a in accs if a is not None]
            lines.append(f'| {src_label}, supervised {what} | ' + ' | '.join(
                'n/a' if a is None else f'{a:.2f}' for a in accs) +
                f' | {statistics.median(ok):.2f} | | | | | |' if ok else
                f'| {src_label}, supervised {what} | ' + ' | '.join('n/a' for _ in seeds) +
                ' | n/a | | | | | |')
        mem = {s: res['runs'][s]['members'][name] for s in seeds
               if res['runs'].get(s) and res['runs'][s].get('members')}
        accs = [mem[s]['acc'] if s in mem else None for s in seeds]
        ok = [a for a in accs if a is not None]
        diff = read = vs_start = bal = ''
        common = [s for s in seeds if s in mem and base.get(s)]
        if len(common) >= 2:
            d = paired_difference([mem[s]['acc'] for s in common],
                                  [base[s]['acc'] for s in common])
            stats[name] = d
            diff, read = format_difference(d, 2), verdict(d)
        cs = [s for s in seeds if s in mem and start.get(s)]
        if len(cs) >= 2:
            d = paired_difference([mem[s]['acc'] for s in cs], [start[s]['acc'] for s in cs])
            extra[name + ' - start'] = d
            vs_start = f'{format_difference(d, 2)} ({verdict(d)})'
        cb = [s for s in common if mem[s].get('balanced') and base[s].get('balanced')]
        if len(cb) >= 2:
            d = paired_difference([mem[s]['balanced']['after'] for s in cb],
                                  [base[s]['balanced']['after'] for s in cb])
            extra[name + ' balanced - balanced baseline'] = d
            bal = format_difference(d, 2)
        p = part.get('paper', {}).get(name)
        pcell = '' if p is None else f'{p[0]:.2f} ({p[1]:+.2f})'
        lines.append(f'| **{label}** | ' + ' | '.join(
            'n/a' if a is None else f'{a:.2f}' for a in accs) +
            f' | {statistics.median(ok):.2f} | {diff} | {read} | {vs_start} | {bal} | '
            f'{pcell} |' if ok else f'| **{label}** | not run |')
    res['stats'], res['comparisons'] = stats, extra
    return lines


def args_epochs(res):
    r = next((v for v in res.get('runs', {}).values() if v), None)
    return r and max(int(k) for k in r['curve']) // 2
