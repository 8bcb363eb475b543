"""The report of a table from its results: the scale, the teacher against the gate, the
table (per seed, median, the paired difference to the baseline with its 95 % interval,
det's per-seed ratio, the step cost, the papers' column), the ratio claims, the rows
against each other, the seed spread, the other metrics and the loss terms; written as
``table.md``, ``results.json``, the figures and the README's evidence block."""
import os
import os.path as osp
import statistics

import _evidence_common as common

from mmkd.utils.paired_stats import (
    format_difference,
    paired_difference,
    paired_ratio,
    ratio_verdict,
    verdict,
)
from .plots import plot_box, plot_diff
from .spread import _spread_section


def _median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def report(ctx, res):
    """table.md, results.json, box.png, paired_diff.png and the README block."""
    args = ctx['args']
    lines = section(ctx, res)
    text = '\n'.join(lines).rstrip() + '\n'
    os.makedirs(args.results_dir, exist_ok=True)
    figures = []
    if res.get('gate_passed'):
        for name, fn in (('box.png', plot_box), ('paired_diff.png', plot_diff)):
            path = osp.join(args.results_dir, name)
            if fn(ctx, res, path):
                figures.append(path)
    def with_figures(where):
        """The text with the figures linked relative to the file in ``where``."""
        return text + ('\n' + ' '.join(
            f'![{osp.splitext(osp.basename(p))[0]}]({osp.relpath(p, where)})'
            for p in figures) + '\n' if figures else '')

    res['figures'] = figures
    with open(osp.join(args.results_dir, 'table.md'), 'w') as fh:
        fh.write(with_figures(args.results_dir))  # table.md sits beside the PNGs
    common.write_json(osp.join(args.results_dir, 'results.json'), res)
    text = with_figures(osp.dirname(args.readme) if args.readme else args.results_dir)
    if args.readme:
        common.update_readme(args.readme, args.block, text)
    print('\n' + text)
    return text


def section(ctx, res):
    """The markdown: scale, teacher and gate, the table, comparisons, claims, extra
    metrics, loss terms; fills ``res['stats']``, ``res['ratios']``,
    ``res['comparisons']``."""
    table, entries = ctx['table'], ctx['entries']
    base_key = entries[0]['key']
    lines = _header_lines(ctx, res)
    if res.get('gate_failure'):
        return lines + ['', f'**Gate failed: the student grid did not run.** '
                        f'{res["gate_failure"]}.']
    lines.append(f'Paper column: {table["paper_source"]}'
                 + (f'; its teacher {table["paper"]["teacher"]}.'
                    if table['paper'].get('teacher') else '.'))
    lines.append('')
    rows, stats, ratios, base_step = _table_lines(ctx, res)
    lines += rows
    res['stats'], res['ratios'] = stats, ratios
    if base_step and res.get('teacher'):
        lines += ['', 'Step cost: the "s / iter" column is the median training step of '
                  'each row (one thread, two runs at a time at the CPU scale); the ratio '
                  'to the baseline is the KD step / student step of each pair.']
    lines += _ratio_claim_lines(table, base_key, stats, ratios)
    comp_lines, res['comparisons'] = _comparison_lines(ctx, res)
    lines += comp_lines
    if table.get('spread_against'):
        spread, res['spread'] = _spread_section(ctx, res)
        lines += spread
    lines += _other_metric_lines(ctx, res)
    lines += _loss_term_lines(entries, res.get('diagnostics', {}))
    return lines


def _gate_text(ctx, teacher_value, med):
    """The teacher's gap (or ratio) to the baseline median, and the gate."""
    args, table = ctx['args'], ctx['table']
    if table['gate']['kind'] == 'gap':
        return f'gap {teacher_value - med:+.2f} {table["unit"]}, gate >= {args.gate:g}'
    return (f'ratio {teacher_value / med:.2f}x' if med > 0 else 'ratio inf') + \
        f', gate >= {args.gate:g}x'


def _header_lines(ctx, res):
    """Scale and command (and the rows kept from earlier calls), then the teacher
    against the baseline median with the gate."""
    table, entries = ctx['table'], ctx['entries']
    base = res.get('runs', {}).get(entries[0]['key'], {})
    med = statistics.median([v['value'] for v in base.values() if v])
    t = res['teacher']
    g = _gate_text(ctx, t['value'], med)
    kept = (res.get('kept') or {}).get('commands', {})
    by_command = {}
    for k, c in kept.items():
        by_command.setdefault(c, []).append(f'`{k}`')
    return [f'Scale: {ctx["scale_text"]}. Command: `{res["command"]}`.' + ''.join(
        f' Rows {", ".join(ks)} are kept from an earlier call (`{c}`), whose teacher and '
        'baseline seeds this call reproduced to the last digit; their step times were '
        "measured in that call and are compared with that call's baseline step."
        for c, ks in by_command.items()), '',
            f'{t["label"]}: **{t["value"]:.2f}** {table["metric_name"]}; '
            f'{entries[0]["label"]}: median **{med:.2f}** ({g}).']


def _table_lines(ctx, res):
    """The main table: head and one row per entry. Returns ``(lines, stats, ratios,
    base_step)``: the paired differences and (det) per-seed ratios to the baseline,
    and the baseline's median s / iter."""
    table, entries = ctx['table'], ctx['entries']
    seeds = ctx['args'].seeds
    base = res.get('runs', {}).get(entries[0]['key'], {})
    ratio_col = table['track'] == 'det'
    head = (['row'] + [f'seed {s}' for s in seeds] +
            ['median', 'vs baseline (paired, 95 % CI)', 'reading'] +
            (['× baseline (per seed, 95 % CI)'] if ratio_col else []) +
            ['s / iter (× baseline)', 'paper'])
    lines = ['| ' + ' | '.join(head) + ' |', '|---' * len(head) + '|']
    stats, ratios = {}, {}
    base_step = _median([v.get('s_per_iter') for v in base.values() if v])
    for e in entries:
        lines.append(_table_row(ctx, res, e, base_step, stats, ratios))
    return lines, stats, ratios, base_step


def _table_row(ctx, res, e, base_step, stats, ratios):
    """One entry's row of the main table; fills ``stats`` and ``ratios`` for it."""
    table, seeds = ctx['table'], ctx['args'].seeds
    base_key = ctx['entries'][0]['key']
    runs = res.get('runs', {})
    base = runs.get(base_key, {})
    ratio_col = table['track'] == 'det'
    key = e['key']
    r = runs.get(key, {})
    vals = [r[s]['value'] if r.get(s) else None for s in seeds]
    cells = ['n/a' if v is None else f'{v:.2f}' for v in vals]
    m = _median(vals)
    diff = read = ratio = ''
    row_vals, base_vals = common.paired_values(r, base, seeds, 'value')
    if key != base_key and len(row_vals) >= 2:
        d = paired_difference(row_vals, base_vals)
        stats[key] = d
        diff, read = format_difference(d, 2), verdict(d)
        nz = [p for p in zip(row_vals, base_vals) if p[1] > 0]
        if ratio_col and len(nz) >= 2:
            q = paired_ratio([p[0] for p in nz], [p[1] for p in nz])
            ratios[key] = q
            ratio = f'{q["mean"]:.2f} ± {q["half_width"]:.2f}'
    step = _median([v.get('s_per_iter') for v in r.values() if v])
    own_base = (res.get('kept') or {}).get('base_step', {}).get(key, base_step)
    step_cell = '' if step is None else (
        f'{step:.2f}' + (f' ({step / own_base:.2f}x)' if own_base else ''))
    label = f'**{e["label"]}**' if key in (base_key, table['main']) else e['label']
    row_cells = [f'`{key}`: {label}'] + cells + \
        ['n/a' if m is None else f'{m:.2f}', diff, read] + \
        ([ratio] if ratio_col else []) + [step_cell, table['paper'].get(key, '')]
    return '| ' + ' | '.join(row_cells) + ' |'


def _ratio_claim_lines(table, base_key, stats, ratios):
    """The table's ``ratio_claims``: each row's per-seed ratio to the baseline against
    its claimed floor."""
    claims = []
    for key, claim in (table.get('ratio_claims') or {}).items():
        q = ratios.get(key)
        if q:
            d = stats[key]
            claims.append(
                f'- `{key}` against `{base_key}`: per-seed ratio **{q["mean"]:.2f} ± '
                f'{q["half_width"]:.2f}** (seeds: ' + ', '.join(
                    f'{x:.2f}' for x in q['ratios']) +
                f'), difference {format_difference(d, 2)} {table["unit"]}; the claim '
                f'>= {claim:g}x: **{ratio_verdict(q, claim)}**.')
    if claims:
        return ['', 'Claims as ratios to the baseline:', ''] + claims
    return []


def _comparison_lines(ctx, res):
    """The table's ``compare`` pairs, paired by seed. Returns ``(lines,
    comparisons)``."""
    table, seeds = ctx['table'], ctx['args'].seeds
    runs = res.get('runs', {})
    comparisons = {}
    comp_lines = []
    for a, b in table.get('compare', ()):
        vals_a, vals_b = common.paired_values(runs.get(a, {}), runs.get(b, {}), seeds,
                                              'value')
        if len(vals_a) >= 2:
            d = paired_difference(vals_a, vals_b)
            comparisons[f'{a} - {b}'] = d
            comp_lines.append(f'- `{a}` against `{b}` (paired by seed): '
                              f'**{format_difference(d, 2)}** ({verdict(d)})')
    if comp_lines:
        return ['', 'Rows against each other:', ''] + comp_lines, comparisons
    return [], comparisons


def _other_metric_lines(ctx, res):
    """Medians over seeds of the table's ``also`` metrics, teacher and rows."""
    table, entries = ctx['table'], ctx['entries']
    runs = res.get('runs', {})
    also = [k for k in table['also']
            if any(v and k in v.get('metrics', {})
                   for r in runs.values() for v in r.values())]
    if not also:
        return []
    lines = ['', 'Medians over seeds of the other metrics (%):', '',
             '| row | ' + ' | '.join(also) + ' |', '|---' * (len(also) + 1) + '|']
    t_m = res['teacher'].get('metrics', {})
    if any(k in t_m for k in also):
        lines.append('| teacher | ' + ' | '.join(
            f'{t_m[k]:.2f}' if k in t_m else '' for k in also) + ' |')
    for e in entries:
        r = runs.get(e['key'], {})
        cells = []
        for k in also:
            m = _median([v['metrics'].get(k) for v in r.values() if v])
            cells.append('' if m is None else f'{m:.2f}')
        if any(cells):
            lines.append(f'| {e["key"]} | ' + ' | '.join(cells) + ' |')
    return lines


def _loss_term_lines(entries, diag):
    """Each row's loss terms at the first steps: value / gradient norm."""
    if not diag:
        return []
    lines = ['', 'Loss terms at the first steps (seed 0, mean of 4 batches, before '
             'any update): value / gradient norm on the student\'s parameters:', '',
             '| row | terms |', '|---|---|']
    for e in entries:
        if diag.get(e['key']):
            lines.append(f'| {e["key"]} | ' + '; '.join(
                f'`{n}` {v["value"]:.3g} / {v["grad_norm"]:.3g}'
                for n, v in diag[e['key']].items()) + ' |')
    return lines
