"""One part of a table, in order: its teacher(s) trained once, the start points, the
baseline per seed, the gate, the loss-term diagnostic, the methods per seed and the step
cost last (``run_part``); or, with ``--summarize``, the same read from earlier calls."""
import json
import os
import os.path as osp
import sys
from concurrent.futures import ThreadPoolExecutor

from _evidence_common import diagnose, done, merge

from mmkd.utils.paired_stats import teacher_gate
from .data import cifar_data
from .overrides import common_overrides
from .runs import step_cost, train, write_config


class _PartRuns:
    """One part's runs: where they live, their written configs, and training them
    (the helpers of :func:`run_part`)."""

    def __init__(self, ctx, part):
        self.ctx, self.part = ctx, part
        self.args, self.table, self.scale = ctx['args'], ctx['table'], ctx['scale']
        args = self.args
        self.root = (osp.join(args.work_dir, part['name']) if part['name']
                     else args.work_dir)
        methods = part['methods']
        if args.methods:
            methods = [m for m in methods if m is methods[0] or m[0] in args.methods]
        self.methods = methods
        self.start = part.get('start')
        self.teachers = part_teachers(part)

    def run_dir(self, name):
        return dict(name=name, dir=osp.join(self.root, name))

    def make_run(self, key, config, seed, epochs, role, curve=False):
        args, scale, part, root = self.args, self.scale, self.part, self.root
        name = {'teacher': key, 'start': f'start_seed{seed}'}.get(
            role, f'{key}_seed{seed}')
        run = dict(name=(part['name'] + '/' if part['name'] else '') + name, key=key,
                   seed=seed, epochs=epochs, dir=osp.join(root, name))
        os.makedirs(run['dir'], exist_ok=True)
        data = self.table.get('data', cifar_data)(args, scale, role, seed)
        over = merge(common_overrides(args, scale, epochs, curve, data),
                     self.table['overrides'](key, config, dict(scale, _epochs=epochs),
                                             self.ctx['n_train'], role, part))
        over['randomness'] = dict(seed=seed, deterministic=False)
        if role == 'student' and key != self.methods[0][0]:
            for slot, t_key in teachers_read(part, key).items():
                ckpt = dict(checkpoint=osp.join(root, t_key))
                over = merge(over, dict(model=dict(teacher=ckpt) if slot == 'teacher'
                                        else dict(teachers={slot: ckpt})))
        if role == 'student' and self.start:
            ckpt = osp.join(root, f'start_seed{seed}', f'epoch_{scale["start_epochs"]}.pth')
            over = merge(over, dict(model=dict(student=dict(init_cfg=dict(
                type='Pretrained', checkpoint=ckpt, prefix='student.')))))
        write_config(osp.join(run['dir'], 'run_config.py'), config, over)
        return run

    def student_runs(self, entries):
        return [self.make_run(key, config, s, self.scale['epochs'], 'student',
                              key in self.part['curve'])
                for key, _, config in entries for s in self.args.seeds]

    def start_runs(self):
        return [self.make_run(self.start[0], self.start[2], s,
                              self.scale['start_epochs'], 'start')
                for s in self.args.seeds]

    def teacher_runs(self):
        return [self.make_run(t_key, t_config, 0, self.scale['teacher_epochs'], 'teacher')
                for t_key, _, t_config in self.teachers]

    def step_cost_runs(self):
        keys = {m[0] for m in self.methods}
        return [(key, self.run_dir(f'{key}_seed{self.args.seeds[0]}'))
                for key in self.part.get('step_cost', ()) if key in keys]

    def run_all(self, specs):
        args = self.args
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            return list(pool.map(lambda r: (r, train(r, args)), specs))

    def read(self, key, seed):
        return done(osp.join(self.root, f'{key}_seed{seed}'))


def run_part(ctx, part):
    """One teacher, (start points,) baseline, gate, diagnostics and methods."""
    p = _PartRuns(ctx, part)
    if p.args.dry_run:  # every run's config written, every command printed, nothing run
        _dry_run_part(p)
        return {}
    out = dict(runs={}, diagnostics={})
    t_sums = _part_teacher_results(p)
    if t_sums is None:  # summarize, several parts: this part has not run yet
        return {}
    out['teacher'] = dict(label=p.teachers[0][1], acc=t_sums[0]['acc'])
    if len(p.teachers) > 1:
        out['teachers'] = {t_key: dict(label=t_label, acc=t_sum['acc'])
                           for (t_key, t_label, _), t_sum in zip(p.teachers, t_sums)}
    _part_starts(p, out)
    base_accs = _part_baseline(p, out)
    if not _part_gate(p, out, t_sums, base_accs):
        return out
    if p.args.summarize:  # read what earlier calls measured, write nothing
        _summarize_part_methods(p, out)
    else:
        _train_part_methods(p, out)
    return out


def _dry_run_part(p):
    """Every run's config written and every command printed; nothing run."""
    args = p.args
    for r in p.teacher_runs():
        train(r, args)
    if p.start:
        for seed in args.seeds:
            train(p.make_run(p.start[0], p.start[2], seed, p.scale['start_epochs'],
                             'start'), args)
    for r in p.student_runs(p.methods):
        train(r, args)
    for _, r in p.step_cost_runs():
        step_cost(r, args)


def _part_teacher_results(p):
    """Each teacher's result: read (summarize), or trained alone on all the cores
    (side by side when several). None when a summarize call with several parts
    finds this part not run yet; exits when a teacher has no result otherwise."""
    args = p.args
    if args.summarize:
        t_sums = [done(osp.join(p.root, t[0])) for t in p.teachers]
    else:  # the teachers train alone: all the cores (side by side when several)
        t_runs = p.teacher_runs()
        workers = max(1, min(len(t_runs), args.jobs))
        threads = max(1, args.jobs * args.threads // workers)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            t_sums = list(pool.map(lambda r: train(r, args, threads=threads), t_runs))
    missing = [t[0] for t, t_sum in zip(p.teachers, t_sums) if t_sum is None]
    if missing:
        if args.summarize and len(p.table['parts']) > 1:  # this part has not run yet
            print(f'[evidence] {p.part["name"]}: no teacher result yet, part left out',
                  flush=True)
            return None
        sys.exit(f'[evidence] no teacher result: see '
                 f'{osp.join(p.root, missing[0])}/train.log')
    return t_sums


def _part_starts(p, out):
    """The start points (a part with ``start``), trained or read, per seed."""
    if p.start and not p.args.summarize:
        for r, summary in p.run_all(p.start_runs()):
            out['runs'].setdefault('start', {})[r['seed']] = summary
    elif p.start:
        out['runs']['start'] = {s: done(osp.join(p.root, f'start_seed{s}'))
                                for s in p.args.seeds}


def _part_baseline(p, out):
    """The baseline (the first method), trained or read; its accuracies, or exit."""
    args, base_key = p.args, p.methods[0][0]
    if args.summarize:
        out['runs'][base_key] = {s: p.read(base_key, s) for s in args.seeds}
    else:
        for r, summary in p.run_all(p.student_runs(p.methods[:1])):
            out['runs'].setdefault(base_key, {})[r['seed']] = summary
    base_accs = [v['acc'] for v in out['runs'][base_key].values() if v]
    if not base_accs:
        sys.exit(f'[evidence] no baseline result in {p.root}')
    return base_accs


def _part_gate(p, out, t_sums, base_accs):
    """The gate, for every teacher: the grid runs only when each passes. Records it
    in ``out``; True when passed."""
    teachers = p.teachers
    reasons = [teacher_gate(t_sum['acc'], base_accs, p.args.gate) for t_sum in t_sums]
    if len(teachers) > 1:
        for (t_key, _, _), why in zip(teachers, reasons):
            out['teachers'][t_key]['gate_passed'] = why is None
        reason = '; '.join(f'{t_label}: {why}' for (_, t_label, _), why in
                           zip(teachers, reasons) if why) or None
    else:
        reason = reasons[0]
    out['gate_passed'] = reason is None
    if reason:
        out['gate_failure'] = reason
    return reason is None


def _summarize_part_methods(p, out):
    """Summarize: the loss terms, the methods' results and the step costs that
    earlier calls measured, read; nothing written."""
    args = p.args
    for key, _, _ in p.methods:
        path = osp.join(p.root, f'{key}_seed{args.seeds[0]}', 'loss_terms.json')
        if osp.isfile(path):
            with open(path) as fh:
                out['diagnostics'][key] = json.load(fh)['terms']
    for key, _, _ in p.methods[1:]:
        out['runs'][key] = {s: p.read(key, s) for s in args.seeds}
    costs = {key: step_cost(r, args) for key, r in p.step_cost_runs()}
    if any(costs.values()):
        out['step_cost'] = {k: v for k, v in costs.items() if v}


def _train_part_methods(p, out):
    """The diagnostics (first seed), the methods, then the step cost last, one row
    at a time, nothing else running."""
    args, scale = p.args, p.scale
    if not args.no_diagnostics:
        diag_runs = [p.make_run(key, config, args.seeds[0], scale['epochs'], 'student',
                                key in p.part['curve']) for key, _, config in p.methods]
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for r, terms in zip(diag_runs, pool.map(lambda r: diagnose(r, args),
                                                    diag_runs)):
                if terms:
                    out['diagnostics'][r['key']] = terms
    for r, summary in p.run_all(p.student_runs(p.methods[1:])):
        out['runs'].setdefault(r['key'], {})[r['seed']] = summary
    # the step cost last, one row at a time, nothing else running
    costs = {key: step_cost(r, args) for key, r in p.step_cost_runs()
             if out['runs'].get(key, {}).get(args.seeds[0])}  # trained: its config works
    if any(costs.values()):
        out['step_cost'] = {k: v for k, v in costs.items() if v}


def part_teachers(part):
    """``[(key, label, config)]``: a part's teachers (``teachers``), or its one
    ``teacher``. Each is trained once, in ``<work dir>/<key>``, and gated."""
    return list(part['teachers']) if part.get('teachers') else [part['teacher']]


def teachers_read(part, key):
    """``{distiller slot: teacher key}`` of a method: ``part['reads'][key]``, or the
    part's one teacher in the distiller's ``teacher`` slot. A slot ``'teacher'`` is
    ``model.teacher`` of the method's config, any other ``model.teachers.<slot>``; the
    run's config points that slot's ``checkpoint`` at the teacher's work dir."""
    reads = part.get('reads', {})
    return dict(reads[key]) if key in reads else {'teacher': part_teachers(part)[0][0]}
