"""The report's figures: ``box.png`` (each row's per-seed values, the detection study's
Fig. 2) and ``paired_diff.png`` (each row's paired difference to the baseline with its
95 % interval); none without matplotlib."""


def _pyplot():
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        print('[evidence] matplotlib missing: no plot', flush=True)
        return None


def plot_box(ctx, res, path):
    """Per-seed values of each row as a box (whiskers at 1.5 IQR, each seed a point),
    the teacher as a dashed line: the detection study's Fig. 2."""
    plt = _pyplot()
    table, seeds = ctx['table'], ctx['args'].seeds
    rows = [(e['key'], [res['runs'][e['key']][s]['value'] for s in seeds
                        if res['runs'].get(e['key'], {}).get(s)]) for e in ctx['entries']]
    rows = [r for r in rows if r[1]]
    if plt is None or not rows:
        return False
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(rows) + 2), 4.2))
    ax.boxplot([r[1] for r in rows], whis=1.5, widths=0.55, showfliers=False)
    for i, (_, vals) in enumerate(rows, 1):
        ax.scatter([i + 0.08 * (j - (len(vals) - 1) / 2) for j in range(len(vals))], vals,
                   s=14, color='k', alpha=0.6, zorder=3)
    ax.axhline(res['teacher']['value'], color='tab:blue', ls='--', lw=1,
               label=f'teacher {res["teacher"]["value"]:.1f}')
    ax.set_xticks(range(1, len(rows) + 1), [r[0] for r in rows], rotation=35,
                  ha='right', fontsize=8)
    ax.set_ylabel(table['metric_name'])
    ax.set_title(f'{table["title"]}: {len(seeds)} seeds', fontsize=9)
    ax.legend(fontsize=8, loc='best')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_diff(ctx, res, path):
    """Each row's mean paired difference to the baseline as a bar with its 95 %
    interval, each seed's difference a point."""
    plt = _pyplot()
    table = ctx['table']
    rows = [(e['key'], res['stats'][e['key']]) for e in ctx['entries']
            if e['key'] in res.get('stats', {})]
    if plt is None or not rows:
        return False
    fig, ax = plt.subplots(figsize=(7, 0.42 * len(rows) + 1.4))
    for i, (_, d) in enumerate(rows):
        color = 'tab:green' if d['low'] > 0 else 'tab:red' if d['high'] < 0 else 'tab:gray'
        ax.barh(i, d['mean'], color=color, alpha=0.55, height=0.6)
        ax.errorbar(d['mean'], i, xerr=d['half_width'], fmt='none', ecolor='k', capsize=3)
        ax.scatter(d['diffs'], [i] * len(d['diffs']), s=10, color='k', alpha=0.5, zorder=3)
    ax.axvline(0, color='k', lw=0.8)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f'difference to {ctx["entries"][0]["key"]} ({table["unit"]}; mean, '
                  '95 % CI, seeds)')
    ax.set_title(table['title'], fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
