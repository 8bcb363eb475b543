"""The report of a table from its finished runs: per method the median over seeds and the
paired per-seed difference to the baseline with its 95 % interval, the comparisons, the
step cost, the class-balanced reading, the time to accuracy, the loss terms; written as
``table.md``, ``results.json``, ``accuracy.png`` and the README's evidence block."""
import json
import os
import os.path as osp
import statistics

from _evidence_common import paired_values, update_readme

from mmkd.utils.paired_stats import format_difference, paired_difference, verdict
from .mutual import mutual_section


def time_to_accuracy(method_runs, base_runs, seeds):
    """Epochs (and wall time) at which the method first reaches the baseline's final
    accuracy, per seed, as a ratio to the baseline's epochs and wall time."""
    rows = []
    for s in seeds:
        m, b = method_runs.get(s), base_runs.get(s)
        if not m or not b or len(m['curve']) < 2:
            continue
        target, n_base = b['acc'], max(int(k) for k in b['curve'])
        reached = [int(e) for e, a in sorted(m['curve'].items(), key=lambda x: int(x[0]))
                   if a >= target]
        e = reached[0] if reached else None
        row = dict(seed=s, target=target, epoch=e, baseline_epochs=n_base)
        if e is not None:
            row['epoch_ratio'] = e / n_base
            if m.get('s_per_iter') and b.get('s_per_iter'):
                row['wall_ratio'] = e * m['s_per_iter'] / (n_base * b['s_per_iter'])
        rows.append(row)
    return rows


def part_section(part, args, res):
    """The markdown of one part (teacher line, table, time to accuracy, loss terms);
    fills ``res['stats']`` and ``res['time_to_accuracy']`` (and ``res['comparisons']``,
    ``res['balanced']``). Each block is one of the ``*_lines`` helpers below, in the
    order they appear; a failed gate stops after the teacher line."""
    seeds = args.seeds
    methods = [m for m in part['methods'] if m[0] in res.get('runs', {})]
    base_key = part['methods'][0][0]
    base = res['runs'][base_key]
    base_accs = [base[s]['acc'] for s in seeds if base.get(s)]
    lines = teacher_lines(args, res, base_accs)
    if res.get('gate_failure'):
        return lines + ['', f'**Gate failed: the student grid did not run.** '
                        f'{res["gate_failure"]}.']
    if part.get('paper_source'):
        p = part['paper'].get('teacher')
        lines.append(f'Paper column: {part["paper_source"]}' +
                     (f'; its teacher {p[0]:.2f}.' if p else '.'))
    lines.append('')
    lines += method_table_lines(part, methods, res, base_key, seeds)
    lines += comparison_lines(part, res, seeds)
    lines += teacher_weight_lines(methods, res['runs'], seeds)
    lines += step_cost_lines(part, methods, res, seeds)
    lines += balanced_lines(methods, res, base_key, seeds)
    lines += time_to_accuracy_lines(part, res, base_key, seeds)
    lines += diagnostic_lines(methods, res)
    return lines


def teacher_lines(args, res, base_accs):
    """The line above the table: the teacher's (or each gated teacher's) accuracy, the
    student baseline's median and the gap, against the gate."""
    t = res['teacher']
    gap = t['acc'] - statistics.median(base_accs)
    if res.get('teachers'):  # several teachers, each gated
        return [f'Student baseline median **{statistics.median(base_accs):.2f}**; each '
                f'teacher gated (gate >= {args.gate:g}): ' + '; '.join(
                    f'{v["label"]}: **{v["acc"]:.2f}** (gap '
                    f'{v["acc"] - statistics.median(base_accs):+.2f}'
                    + ('' if v.get('gate_passed', True) else ', failed') + ')'
                    for v in res['teachers'].values()) + '.']
    return [f'{t["label"]}: **{t["acc"]:.2f}** on its own modality; student baseline '
            f'median **{statistics.median(base_accs):.2f}** (gap {gap:+.2f}, gate >= '
            f'{args.gate:g}).']


def method_table_lines(part, methods, res, base_key, seeds):
    """The table: per method its accuracy per seed, the median, the paired difference
    to the baseline with its reading, and the paper's number; fills ``res['stats']``
    (the paired differences)."""
    base = res['runs'][base_key]
    paper = part.get('paper', {})
    head = '| method | ' + ' | '.join(f'seed {s}' for s in seeds) + \
        ' | median | vs baseline (paired, 95 % CI) | reading | paper |'
    lines = [head, '|---' * (len(seeds) + 5) + '|']
    stats = {}
    for key, label, _ in methods:
        runs = res['runs'].get(key, {})
        accs = [runs[s]['acc'] if runs.get(s) else None for s in seeds]
        cells = ' | '.join('n/a' if a is None else f'{a:.2f}' for a in accs)
        ok = [a for a in accs if a is not None]
        med = f'{statistics.median(ok):.2f}' if ok else 'n/a'
        diff, read = '', ''
        accs_m, accs_b = paired_values(runs, base, seeds, 'acc')
        if key != base_key and len(accs_m) >= 2:
            d = paired_difference(accs_m, accs_b)
            stats[key] = d
            diff, read = format_difference(d, 2), verdict(d)
        name = f'**{label}**' if key in (base_key, part.get('main')) else label
        p = paper.get(key)
        pcell = '' if p is None else (f'{p[0]:.2f}' if p[1] is None
                                      else f'{p[0]:.2f} ({p[1]:+.2f})')
        lines.append(f'| {name} | {cells} | {med} | {diff} | {read} | {pcell} |')
    res['stats'] = stats
    return lines


def comparison_lines(part, res, seeds):
    """The part's paired comparisons between two rows (``part['compare']``) and of each
    multi-teacher row against the better single teacher (``part['compare_best']``);
    fills ``res['comparisons']`` (and ``res['best_single']`` when there is one)."""
    lines, comparisons = [], {}
    for a_key, b_key in part.get('compare', ()):
        accs_a, accs_b = paired_values(res['runs'].get(a_key, {}),
                                       res['runs'].get(b_key, {}), seeds, 'acc')
        if len(accs_a) >= 2:
            d = paired_difference(accs_a, accs_b)
            comparisons[f'{a_key} - {b_key}'] = d
            lines += ['', f'{a_key} against {b_key} (paired by seed): '
                      f'**{format_difference(d, 2)}** ({verdict(d)}).']
    best = best_single(part.get('compare_best'), res['runs'], seeds)
    if best:
        res['best_single'] = best
        for m_key in part['compare_best']['multi']:
            accs_m, accs_b = paired_values(res['runs'].get(m_key, {}), res['runs'][best],
                                           seeds, 'acc')
            if len(accs_m) >= 2:
                d = paired_difference(accs_m, accs_b)
                comparisons[f'{m_key} - {best}'] = d
                lines += ['', f'{m_key} against the better single teacher, {best} (higher '
                          f'mean over the seeds; paired by seed): '
                          f'**{format_difference(d, 2)}** ({verdict(d)}).']
    res['comparisons'] = comparisons
    return lines


def balanced_lines(methods, res, base_key, seeds):
    """The class-balanced post-processing table (before / after, the paired change,
    against the balanced baseline), when the runs logged it; fills
    ``res['balanced']``."""
    balanced = balanced_rows(methods, res['runs'], base_key, seeds)
    res['balanced'] = balanced
    if not balanced:
        return []
    lines = ['', 'Class-balanced post-processing (the paper\'s, k = 4 capped classes, '
             'n = N / 10; `mmkd.BalancedPostProcessMetric` on the same final '
             'predictions): median top-1 before / after, the per-seed change, and '
             'the method against the balanced baseline:', '',
             '| method | before | after | after - before (paired, 95 % CI) | '
             'vs balanced baseline |', '|---|---|---|---|---|']
    for key, label, _ in methods:
        b = balanced.get(key)
        if b:
            vs = format_difference(b['vs_baseline'], 2) if b.get('vs_baseline') else ''
            lines.append(f'| {label} | {b["before"]:.2f} | {b["after"]:.2f} | '
                         f'{format_difference(b["change"], 2)} | {vs} |')
    return lines


def time_to_accuracy_lines(part, res, base_key, seeds):
    """Per row of ``part['curve']``, the epoch (and wall time) at which each seed
    reached the baseline's final accuracy; fills ``res['time_to_accuracy']``."""
    base = res['runs'][base_key]
    tta = {}
    for key in part.get('curve', ()):
        if key != base_key:
            rows = time_to_accuracy(res['runs'].get(key, {}), base, seeds)
            if rows:
                tta[key] = rows
    res['time_to_accuracy'] = tta
    if not tta:
        return []
    lines = ['', 'Time to the baseline\'s final accuracy (per seed: epoch reached / '
             'baseline epochs; wall-time ratio from the median step time):', '']
    for key, rows in tta.items():
        cells = []
        for r in rows:
            if r['epoch'] is None:
                cells.append(f'seed {r["seed"]}: not reached')
            else:
                w = f', wall {r["wall_ratio"]:.2f}x' if 'wall_ratio' in r else ''
                cells.append(f'seed {r["seed"]}: epoch {r["epoch"]}/'
                             f'{r["baseline_epochs"]} ({r["epoch_ratio"]:.2f}x{w})')
        lines.append(f'- {key}: ' + '; '.join(cells))
    return lines


def diagnostic_lines(methods, res):
    """The loss terms at the first steps (value / gradient norm), per row that has
    them."""
    diag = res.get('diagnostics', {})
    if not diag:
        return []
    lines = ['', 'Loss terms at the first steps (seed 0, mean of 4 batches): value / '
             'gradient norm on the student\'s parameters:', '',
             '| method | terms |', '|---|---|']
    for key, _, _ in methods:
        if diag.get(key):
            lines.append(f'| {key} | ' + '; '.join(
                f'`{n}` {v["value"]:.3g} / {v["grad_norm"]:.3g}'
                for n, v in diag[key].items()) + ' |')
    return lines


def best_single(spec, runs, seeds):
    """Of ``spec['single']`` (the one-teacher rows), the one with the higher mean
    accuracy over the seeds that ran; None without ``spec`` or results."""
    if not spec:
        return None
    means = {}
    for key in spec['single']:
        accs = [runs[key][s]['acc'] for s in seeds if runs.get(key, {}).get(s)]
        if len(accs) >= 2:
            means[key] = statistics.mean(accs)
    return max(means, key=means.get) if means else None


def teacher_weight_lines(methods, runs, seeds):
    """The teachers' weights the multi-teacher loss logged, per row: the mean over each
    run's logged steps, the median over the seeds."""
    rows = []
    for key, _, _ in methods:
        per = [runs[key][s]['teacher_weights'] for s in seeds
               if runs.get(key, {}).get(s) and runs[key][s].get('teacher_weights')]
        if per:
            names = sorted({k for w in per for k in w})
            rows.append(f'- {key}: ' + ', '.join(
                f'`{n}` {statistics.median(w[n] for w in per if n in w):.3f}'
                for n in names))
    if not rows:
        return []
    return ['', "Teacher weights as logged (the loss's `<loss>.weight_<teacher>`: mean over "
            "each run's logged steps, median over the seeds; CA-MKD's are per-sample, "
            'computed from the labels):', ''] + rows


def step_cost_lines(part, methods, res, seeds):
    """The KD step with two teachers against its floor r* = 1 + sum_k t(teacher_k) /
    t(student), from bench_distill.py (``res['step_cost']``), beside each row's
    training-log seconds per iteration against the baseline's."""
    cost = res.get('step_cost') or {}
    base_key = methods[0][0]

    def s_iter(key):
        v = [res['runs'][key][s]['s_per_iter'] for s in seeds
             if res['runs'].get(key, {}).get(s) and res['runs'][key][s].get('s_per_iter')]
        return statistics.median(v) if v else None
    base = s_iter(base_key)
    lines = []
    if cost:
        one = next(iter(cost.values()))
        names = list(one['teachers'])
        lines += ['', f'Step cost (`tools/benchmarks/bench_distill.py --config` on each '
                  f'row\'s seed-{seeds[0]} config, after the training, '
                  f'nothing else running: the student\'s training step, each frozen '
                  f'teacher\'s forward and the distillation step interleaved in '
                  f'{one["repeats"]} rounds on one batch of {one["batch_size"]}, medians, '
                  f'{one["threads"]} thread(s)). The floor r* = 1 + Σ t(teacher) / '
                  f't(student): a step with these teachers cannot cost less.', '',
                  '| method | student step (ms) | ' + ' | '.join(
                      f'{n} forward (ms)' for n in names) + ' | KD step (ms) | KD / '
                  'student | floor r* | over the floor |',
                  '|---' * (len(names) + 6) + '|']
        for key, _, _ in methods:
            c = cost.get(key)
            if not c:
                continue
            lines.append(f'| {key} | {1e3 * c["student"]:.1f} | ' + ' | '.join(
                f'{1e3 * c["teachers"][n]:.1f}' if n in c['teachers'] else ''
                for n in names) + f' | {1e3 * c["kd"]:.1f} | {c["kd_over_student"]:.2f} | '
                f'{c["floor_r_star"]:.2f} | '
                f'{100 * (c["kd_over_student"] / c["floor_r_star"] - 1):+.1f} % |')
        if len(names) > 1:
            lines += ['', 'One teacher\'s floor from the same measurements: ' + '; '.join(
                f'{n} alone 1 + t({n}) / t(student) = {one["floor_each"][n]:.2f}'
                for n in names) + f'; both {one["floor_r_star"]:.2f}.']
    if base and part.get('step_cost'):
        cells = []
        for key, _, _ in methods:
            v = s_iter(key)
            if v:
                cells.append(f'{key} {v:.3f}' + ('' if key == base_key else
                                                  f' ({v / base:.2f}x)'))
        lines += ['', 'Seconds per iteration in training (median over the seeds of '
                  "each run's median; runs two at a time, one thread each; ratio to the "
                  'baseline): ' + ', '.join(cells) + '.']
    return lines


def balanced_rows(methods, runs, base_key, seeds):
    """Per method: median accuracy before / after balanced post-processing, the paired
    change it makes, and the balanced method against the balanced baseline."""
    def pairs(key):
        r = runs.get(key, {})
        return {s: r[s]['balanced'] for s in seeds if r.get(s) and r[s].get('balanced')}
    base = pairs(base_key)
    out = {}
    for key, _, _ in methods:
        b = pairs(key)
        if len(b) < 2:
            continue
        ss = sorted(b)
        row = dict(before=statistics.median(b[s]['before'] for s in ss),
                   after=statistics.median(b[s]['after'] for s in ss),
                   change=paired_difference([b[s]['after'] for s in ss],
                                            [b[s]['before'] for s in ss]))
        common = [s for s in ss if s in base]
        if key != base_key and len(common) >= 2:
            row['vs_baseline'] = paired_difference([b[s]['after'] for s in common],
                                                   [base[s]['after'] for s in common])
        out[key] = row
    return out


def report(table, args, results):
    """results.json, table.md, accuracy.png, and the README block."""
    parts = table['parts']
    if len(parts) == 1:
        lines = part_section(parts[0], args, results)
        panels = [(parts[0], results)]
    else:
        lines, panels = [], []
        for part in parts:
            res = results['parts'][part['name']]
            if not res:
                continue
            section = mutual_section if part.get('kind') == 'mutual' else part_section
            lines += [f'**{part["title"]}**', ''] + section(part, args, res) + ['']
            panels.append((part, res))
    text = '\n'.join(lines).rstrip() + '\n'
    os.makedirs(args.results_dir, exist_ok=True)
    with open(osp.join(args.results_dir, 'table.md'), 'w') as fh:
        fh.write(text)
    _write_json(args, results)
    plot(table['title'], panels, osp.join(args.results_dir, 'accuracy.png'))
    if args.readme:
        update_readme(args.readme, args.table, text)
    print('\n' + text)


def plot(title, panels, path):
    """Each method's paired difference to its baseline: mean, 95 % CI, the seeds."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print('[evidence] matplotlib missing: no plot', flush=True)
        return
    rows = [((part['name'] + ': ' if part['name'] else '') + key, res['stats'][key])
            for part, res in panels for key, _, _ in part['methods']
            if key in res.get('stats', {})]
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(7, 0.42 * len(rows) + 1.4))
    for i, (_, d) in enumerate(rows):
        color = 'tab:green' if d['low'] > 0 else 'tab:red' if d['high'] < 0 else 'tab:gray'
        ax.errorbar(d['mean'], i, xerr=d['half_width'], fmt='o', color=color, capsize=3)
        ax.scatter(d['diffs'], [i] * len(d['diffs']), s=10, color='k', alpha=0.4,
                   zorder=3)
    ax.axvline(0, color='k', lw=0.8)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel('top-1 difference to the baseline (points; mean, 95 % CI, seeds)')
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _write_json(args, results):
    os.makedirs(args.results_dir, exist_ok=True)
    with open(osp.join(args.results_dir, 'results.json'), 'w') as fh:
        json.dump(results, fh, indent=1, sort_keys=True, default=str)
