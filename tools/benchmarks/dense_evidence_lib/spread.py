"""The seed spread of a table's rows beside another table's (``spread_against``:
``det-kd-generic`` beside ``det-kd``, whose ``results.json`` is read, never rerun): per
shared row its seeds, median, range, IQR and range / median, the per-seed ratio and the
paired differences to the base row, as a dict and as markdown."""
import json
import os.path as osp
import statistics

from _evidence_common import REPO

from mmkd.utils.paired_stats import format_difference


def seed_spread(runs, key):
    """Row ``key`` of a results' ``runs`` (``{key: {seed: summary}}``, seeds as ints or
    as JSON's strings): its per-seed values, median, range (max - min), interquartile
    range (inclusive quartiles, the box of the study's Fig. 2) and range / median; None
    without a finished seed."""
    vals = {int(s): v['value'] for s, v in (runs.get(key) or {}).items() if v}
    if not vals:
        return None
    xs = sorted(vals.values())
    q1, _, q3 = (statistics.quantiles(xs, n=4, method='inclusive') if len(xs) > 1
                 else (xs[0], xs[0], xs[0]))
    med = statistics.median(xs)
    return dict(seeds=dict(sorted(vals.items())), median=med, range=xs[-1] - xs[0],
                iqr=q3 - q1, rel_range=(xs[-1] - xs[0]) / med if med > 0 else None)


def seed_ratios(runs, key, base):
    """Row ``key`` / row ``base`` seed by seed (seeds both finished, base > 0): the
    ratios, their mean and range; None with no such seed."""
    a, b = runs.get(key) or {}, runs.get(base) or {}
    ratios = {int(s): a[s]['value'] / b[s]['value'] for s in a
              if a[s] and b.get(s) and b[s]['value'] > 0}
    if not ratios:
        return None
    xs = list(ratios.values())
    return dict(seeds=dict(sorted(ratios.items())), mean=statistics.fmean(xs),
                range=max(xs) - min(xs))


def spread_comparison(this, other, rows, base='hard', ratio='soft'):
    """The seed spread of each shared row and the ``ratio`` / ``base`` per-seed ratio in
    two results (``this``: this table's, ``other``: the one it is set beside; both as
    ``results.json`` holds them), with each row's paired difference to ``base`` where
    the results carry it (``stats``). ``missing``: the rows (and the ratio) one of them
    lacks, by side."""
    out = dict(rows={}, ratio={}, missing=dict(this=[], other=[]))
    for side, res in (('this', this), ('other', other)):
        runs = res.get('runs') or {}
        for key in rows:
            sp = seed_spread(runs, key)
            if sp is not None and key in (res.get('stats') or {}):
                sp['diff'] = res['stats'][key]
            out['rows'].setdefault(key, {})[side] = sp
            if sp is None:
                out['missing'][side].append(key)
        out['ratio'][side] = seed_ratios(runs, ratio, base)
    return out


def _spread_section(ctx, res):
    """This table's seed spread beside the table named in ``spread_against`` (its
    ``results.json``, read only). Returns ``(lines, comparison)``."""
    spec = ctx['table']['spread_against']
    path = osp.join(REPO, spec['results'])
    head = ['', f'Seed spread beside `{spec["table"]}` ({spec["results"]}, read, not '
            'rerun): the study\'s reading "stable on generic data, varying run to run on '
            'remote-sensing data":', '']
    if not osp.isfile(path):
        return head + [f'- {spec["results"]} not found: no `{spec["table"]}` results to '
                       'set beside these.'], None
    with open(path) as fh:
        other = json.load(fh)
    comp = spread_comparison(res, other, spec['rows'], spec['base'], spec['ratio'])
    comp.update(other=spec['table'], other_results=spec['results'])
    return head + spread_lines(comp, ctx['args'].table, spec['table'],
                               ctx['table']['unit'], spec['ratio'], spec['base']), comp


def _spread_cells(sp):
    if sp is None:
        return ['n/a'] * 5
    return [', '.join(f'{v:.2f}' for v in sp['seeds'].values()), f'{sp["median"]:.2f}',
            f'{sp["range"]:.2f}', f'{sp["iqr"]:.2f}',
            'n/a' if sp['rel_range'] is None else f'{sp["rel_range"]:.2f}']


def spread_lines(comp, this_name, other_name, unit, ratio='soft', base='hard'):
    """The markdown of ``spread_comparison``'s result: one row per shared row (seeds,
    median, range, IQR, range / median in each setting), the per-seed ratio, the
    paired differences to ``base``, the rows one side lacks, a count of the rows whose
    seeds spread less here."""
    cols = ['seeds', 'median', 'range', 'IQR', 'range / median']
    head = ['row'] + [f'{this_name}: {c}' for c in cols] + [f'{other_name}: {c}'
                                                              for c in cols]
    lines = ['| ' + ' | '.join(head) + ' |', '|---' * len(head) + '|']
    for key, sides in comp['rows'].items():
        lines.append('| ' + ' | '.join([f'`{key}`'] + _spread_cells(sides['this']) +
                                       _spread_cells(sides['other'])) + ' |')
    lines.append('')
    lines += _spread_ratio_lines(comp, this_name, other_name, ratio, base, unit)
    for side, name in (('this', this_name), ('other', other_name)):
        if comp['missing'][side]:
            lines.append(f'- The `{name}` results lack the rows ' + ', '.join(
                f'`{k}`' for k in comp['missing'][side]) + ' (no finished seed).')
    both = [(k, s['this'], s['other']) for k, s in comp['rows'].items()
            if s['this'] and s['other']]
    if both:
        less = sum(a['range'] < b['range'] for _, a, b in both)
        rel = sum(a['rel_range'] is not None and b['rel_range'] is not None and
                  a['rel_range'] < b['rel_range'] for _, a, b in both)
        lines.append(f'- Seeds spread less on `{this_name}` than on `{other_name}` for '
                     f'**{less} of {len(both)}** shared rows by range ({unit}), {rel} of '
                     f'{len(both)} relative to the median ({len(both[0][1]["seeds"])} vs '
                     f'{len(both[0][2]["seeds"])} seeds: a range is a rough spread, no '
                     'test is made).')
    return lines


def _spread_ratio_lines(comp, this_name, other_name, ratio, base, unit):
    """The ``ratio`` / ``base`` per-seed ratio, and each row's paired difference to
    ``base``, in both settings."""
    lines = []
    parts = []
    for side, name in (('this', this_name), ('other', other_name)):
        q = comp['ratio'][side]
        parts.append(f'`{name}` ' + ('n/a' if q is None else ', '.join(
            f'{v:.2f}' for v in q['seeds'].values()) + f' (mean {q["mean"]:.2f}, range '
            f'{q["range"]:.2f})'))
    lines.append(f'- `{ratio}` / `{base}` per seed: ' + '; '.join(parts) + '.')
    for key, sides in comp['rows'].items():
        if key == base:
            continue
        cells = [f'`{name}` ' + (format_difference(sides[side]['diff'], 2)
                                 if sides[side] and sides[side].get('diff') else 'n/a')
                 for side, name in (('this', this_name), ('other', other_name))]
        lines.append(f'- `{key}` − `{base}` (paired, 95 % CI, {unit}): '
                     + '; '.join(cells) + '.')
    return lines
