"""One table's runs: a run's name and written config (``make_run``), its summary from the
logged scalars, a seed's mean over the folds, the time estimate, and the table's order
(``run_table``: teacher, baseline, gate, loss terms, rows; each finished run reused, or
read with ``--summarize``)."""
import math
import os
import os.path as osp
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor

import _evidence_common as common

from mmkd.utils.paired_stats import teacher_gate, teacher_gate_ratio
from .overrides import (
    det_data_overrides,
    det_schedule_overrides,
    model_overrides,
    seg_overrides,
    spacenet6_overrides,
)

WRITER = 'tools/benchmarks/dense_evidence.py'


def run_name(key, seed, fold):
    name = 'teacher' if key == 'teacher' else f'{key}_seed{seed}'
    return name + (f'_fold{fold:02d}' if fold is not None else '')


def make_run(ctx, entry, role, seed, fold):
    """Write the run's config (``<work-dir>/<name>/run_config.py``); the run's record."""
    args, table, scale = ctx['args'], ctx['table'], ctx['scale']
    name = run_name(entry['key'], seed, fold)
    run = dict(name=name, key=entry['key'], seed=seed, fold=fold,
               dir=osp.join(args.work_dir, name))
    os.makedirs(run['dir'], exist_ok=True)
    over = model_overrides(ctx, entry, fold)  # the teacher too: the scale's encoder
    if table['track'] == 'seg':
        if args.full:
            over = spacenet6_overrides(ctx, entry, role, common.merge(
                over, dict(randomness=dict(seed=seed, deterministic=False))), fold)
            run['final_step'] = scale['teacher_epochs' if role == 'teacher' else 'epochs']
        else:
            over = common.merge(seg_overrides(ctx, entry, role, fold), over)
            run['final_step'] = scale['teacher_iters' if role == 'teacher' else 'iters']
    else:
        over = common.merge(common.merge(det_data_overrides(ctx, entry, fold), over),
                            det_schedule_overrides(ctx, role))
        run['final_step'] = scale['teacher_epochs' if role == 'teacher' else 'epochs']
    over = common.merge(over, dict(randomness=dict(seed=seed, deterministic=False)))
    # the fold's files (VEDAI), under everything the benchmark sets itself
    over = common.merge(ctx['fold_options'](entry['config'], fold), over)
    common.write_config(osp.join(run['dir'], 'run_config.py'), entry['config'], over,
                        WRITER)
    return run


def summarise(table):
    """``summarise(run)``: the final validation of a finished run: the table's metric
    (as %), the other metrics, the median seconds per training iteration."""
    metric, factor = table['metric'], table['metric_scale']

    def read(run):
        recs = common.scalars(run['dir'])
        evals = [r for r in recs if 'lr' not in r and r.get('step') == run['final_step']]
        if not evals:
            return None
        last = evals[-1]
        out = dict(step=last['step'])
        if metric in last:
            out['value'] = float(last[metric]) * factor
        elif table['track'] == 'det':  # mmdet: no box above the score threshold
            out.update(value=0.0, empty=True)
        else:
            return None
        out['metrics'] = {k: float(last[k]) * factor for k in (metric, ) + table['also']
                          if k in last}
        times = [r['time'] for r in recs if 'lr' in r and 'time' in r]
        out['s_per_iter'] = statistics.median(times) if times else None
        return out
    return read


def aggregate(summaries):
    """Per seed: one fold's summary as is, several folds' as their mean (the study's
    per-run value is its fold average); None while a fold is missing."""
    if any(s is None for s in summaries):
        return None
    if len(summaries) == 1:
        return summaries[0]
    keys = set.intersection(*(set(s.get('metrics', {})) for s in summaries))
    times = [s['s_per_iter'] for s in summaries if s.get('s_per_iter')]
    return dict(value=statistics.fmean(s['value'] for s in summaries),
                folds=[s['value'] for s in summaries],
                metrics={k: statistics.fmean(s['metrics'][k] for s in summaries)
                         for k in keys},
                s_per_iter=statistics.median(times) if times else None)


def estimate(ctx, entries, measured_step=None):
    """Minutes of the grid at ``--jobs`` runs at a time: each row's iterations x the
    baseline step (measured, or the scale's estimate) x the row's relative cost, plus a
    start-up / evaluation overhead per run; the teacher on all the cores."""
    scale, args = ctx['scale'], ctx['args']
    if 'est_step_s' not in scale:
        return None
    step = measured_step or scale['est_step_s']
    if ctx['table']['track'] == 'seg':
        iters, t_iters = scale['iters'], scale['teacher_iters']
    else:
        per_epoch = math.ceil(ctx['n_train'] / scale['batch'])
        iters, t_iters = scale['epochs'] * per_epoch, scale['teacher_epochs'] * per_epoch
    runs = len(args.seeds) * len(ctx['folds'])
    students = sum(e['cost'] for e in entries) * iters * step * runs
    overhead = scale['est_overhead_s'] * runs * len(entries)
    teacher = t_iters * scale['est_teacher_step_s'] * len(ctx['folds'])
    jobs = max(1, args.jobs)
    return dict(teacher_min=teacher / 60, students_min=(students + overhead) / jobs / 60,
                step_s=step, measured=measured_step is not None)


class _TableRuns:
    """One table's runs and the results they fill (the helpers of :func:`run_table`):
    ``res`` is ``dict(runs={key: {seed: summary}}, diagnostics={key: terms}, ...)``."""

    def __init__(self, ctx):
        self.ctx, self.args, self.table = ctx, ctx['args'], ctx['table']
        self.entries = ctx['entries']
        self.base = self.entries[0]
        self.folds, self.seeds = ctx['folds'], self.args.seeds
        self.read = summarise(self.table)
        self.res = dict(runs={}, diagnostics={})

    def run_all(self, specs, threads=None):
        """Train ``specs`` (``--jobs`` at a time); ``[(run, summary)]`` in their order."""
        with ThreadPoolExecutor(max_workers=max(1, self.args.jobs)) as pool:
            return list(pool.map(
                lambda r: (r, common.train(r, self.args, self.read, threads)), specs))

    def collect(self, key, found):
        """``found``: {(seed, fold): summary} -> res['runs'][key][seed]."""
        self.res['runs'][key] = {s: aggregate([found.get((s, f)) for f in self.folds])
                                 for s in self.seeds}

    def done(self, key, seed, fold):
        """A finished run's summary (its ``final.json``), or None."""
        return common.done(osp.join(self.args.work_dir, run_name(key, seed, fold)))

    def dry_run(self):
        """Write every run's config and print every command; nothing runs."""
        ctx, args, read = self.ctx, self.args, self.read
        for f in self.folds:
            common.train(make_run(ctx, self.table['teacher'], 'teacher', 0, f), args, read)
        for e in self.entries:
            for s in self.seeds:
                for f in self.folds:
                    common.train(make_run(ctx, e, 'student', s, f), args, read)

    def teacher(self):
        """1. The teacher, once per fold, with all the cores (``--summarize``: read);
        its summary over the folds, an exit when it has none."""
        args, teacher, folds = self.args, self.table['teacher'], self.folds
        if args.summarize:
            t_found = [self.done('teacher', 0, f) for f in folds]
        else:
            specs = [make_run(self.ctx, teacher, 'teacher', 0, f) for f in folds]
            t_found = [s for _, s in self.run_all(specs, threads=args.jobs * args.threads)]
        t_sum = aggregate(t_found)
        if t_sum is None:
            sys.exit(f'[evidence] no teacher result: see {args.work_dir}/teacher*/train.log')
        self.res['teacher'] = dict(label=teacher['label'], value=t_sum['value'],
                                   metrics=t_sum.get('metrics', {}),
                                   folds=t_sum.get('folds'))
        return t_sum

    def baseline(self):
        """2. The baseline, every seed (``--summarize``: read); its values, an exit when
        there is none; prints the remaining rows' estimate from its measured step."""
        args, base, seeds, folds = self.args, self.base, self.seeds, self.folds
        if args.summarize:
            found = {(s, f): self.done(base['key'], s, f) for s in seeds for f in folds}
        else:
            specs = [make_run(self.ctx, base, 'student', s, f) for s in seeds for f in folds]
            found = {(r['seed'], r['fold']): v for r, v in self.run_all(specs)}
        self.collect(base['key'], found)
        runs = self.res['runs'][base['key']]
        base_vals = [v['value'] for v in runs.values() if v]
        if not base_vals:
            sys.exit(f'[evidence] no baseline result in {args.work_dir}')
        steps = [v['s_per_iter'] for v in runs.values() if v and v.get('s_per_iter')]
        est = estimate(self.ctx, self.entries[1:],
                       statistics.median(steps) if steps else None)
        if est and not args.summarize:
            print(f'[evidence] estimate from the baseline\'s measured step '
                  f'({est["step_s"]:.2f} s): the remaining rows ~{est["students_min"]:.0f} '
                  f'min', flush=True)
        return base_vals

    def gate(self, t_sum, base_vals):
        """3. The teacher gate (a gap or a ratio over the baseline); records
        ``gate_passed`` (and ``gate_failure``); the reason it failed, or None."""
        gate, args = self.table['gate'], self.args
        if gate['kind'] == 'gap':
            reason = teacher_gate(t_sum['value'], base_vals, args.gate, hint=gate['hint'])
        else:
            reason = teacher_gate_ratio(t_sum['value'], base_vals, args.gate,
                                        hint=gate['hint'])
        self.res['gate_passed'] = reason is None
        if reason:
            self.res['gate_failure'] = reason
        return reason

    def read_rows(self):
        """4. and 5. with ``--summarize``: each row's loss terms (seed 0, first fold)
        and its finished runs, read."""
        first = (self.seeds[0], self.folds[0])
        for e in self.entries:
            terms = common.diagnose(dict(dir=osp.join(self.args.work_dir, run_name(
                e['key'], *first))), self.args)
            if terms:
                self.res['diagnostics'][e['key']] = terms
        for e in self.entries[1:]:
            self.collect(e['key'], {(s, f): self.done(e['key'], s, f)
                                    for s in self.seeds for f in self.folds})

    def train_rows(self):
        """4. The loss terms of the baseline and each row at seed 0, first fold (unless
        ``--no-diagnostics``), then 5. every row's runs, trained."""
        args, seeds, folds = self.args, self.seeds, self.folds
        first = (seeds[0], folds[0])
        specs = [make_run(self.ctx, e, 'student', s, f) for e in self.entries[1:]
                 for s in seeds for f in folds]
        if not args.no_diagnostics:
            diag = [r for r in specs if (r['seed'], r['fold']) == first]
            diag.insert(0, make_run(self.ctx, self.base, 'student', *first))
            with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                for r, terms in zip(diag, pool.map(lambda r: common.diagnose(r, args),
                                                   diag)):
                    if terms:
                        self.res['diagnostics'][r['key']] = terms
        found = {}
        for r, v in self.run_all(specs):
            found.setdefault(r['key'], {})[(r['seed'], r['fold'])] = v
        for e in self.entries[1:]:
            self.collect(e['key'], found.get(e['key'], {}))


def run_table(ctx):
    """Teacher, baseline, gate, diagnostics and rows; the results (no report). With
    ``--dry-run`` every run's config is written and its command printed, and None is
    returned; a failed gate returns before the rows."""
    runs = _TableRuns(ctx)
    if ctx['args'].dry_run:
        runs.dry_run()
        return None
    t_sum = runs.teacher()
    base_vals = runs.baseline()
    if runs.gate(t_sum, base_vals):
        return runs.res
    if ctx['args'].summarize:
        runs.read_rows()
    else:
        runs.train_rows()
    return runs.res
