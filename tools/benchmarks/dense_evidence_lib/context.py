"""What one call works on (``setup``): the table, its scale with the command line's
changes, the track's data (root, folds, scale text), the rows and the teacher's paths;
the synthetic data generated (``make_data``); and ``--keep-rows``: an earlier call's rows
added when this call's teacher and baseline reproduce that call's."""
import json
import math
import os.path as osp
import sys

import _evidence_common as common
from _evidence_common import REPO

from .overrides import full_config, vedai_fold_options
from .report import _median
from .runs import run_name
from .tables import DET_FULL, STYLE_TEXT, TABLES


def _scale(args, table):
    """The table's CPU (or ``--full``) scale with the command line's changes."""
    scale = dict(table['full' if args.full else 'cpu'])
    for k in ('size', 'looks', 'sar_cell', 'num_labelled', 'arch', 'num_train',
              'num_test', 'iters', 'teacher_iters', 'epochs', 'teacher_epochs'):
        if getattr(args, k) is not None:
            scale[k] = getattr(args, k)
    return scale


def _seg_data(ctx):
    """The segmentation track's data root and scale text (SpaceNet 6 with ``--full``,
    else the synthetic buildings at the scale), one fold and the dataset's name."""
    args, scale = ctx['args'], ctx['scale']
    if args.full:
        ctx['data_root'] = osp.abspath(args.data_root or osp.join(
            REPO, 'data', 'spacenet6_512'))
        ctx['scale_text'] = (f'SpaceNet 6 (`{osp.relpath(ctx["data_root"], REPO)}`), '
                             f'EfficientNet-B3, {scale["teacher_epochs"]} teacher / '
                             f'{scale["epochs"]} student epochs (SGD, the authors\')')
    else:
        cell, lab = scale.get('sar_cell', 1), scale.get('num_labelled')
        ctx['data_root'] = osp.abspath(args.data_root or osp.join(
            REPO, 'data', f'synthetic_buildings_{scale["size"]}px_looks'
            f'{scale["looks"]:g}' + (f'_cell{cell}' if cell != 1 else '') +
            f'_{scale["num_train"]}-{scale["num_test"]}' +
            (f'_labelled{lab}' if lab else '')))
        sar = f'SAR {scale["looks"]:g} look' + (
            f', SAR resolution cell {cell} × {cell} optical pixels' if cell != 1 else '')
        labels = (f' (labels on {lab} of them: the teacher and the teacher-free rows '
                  'train on those, the distillation rows on every pair)' if lab else '')
        ctx['scale_text'] = (
            f'synthetic buildings at {scale["size"]} px ({sar}), '
            f'{scale["num_train"]} training{labels} / {scale["num_test"]} test scenes, '
            f'EfficientNet-{scale["arch"].upper()}, batch {scale["batch"]}, teacher '
            f'{scale["teacher_iters"]} / students {scale["iters"]} iterations, '
            f'seeds {" ".join(map(str, args.seeds))}')
    ctx['folds'] = [None]
    ctx['n_train'] = scale.get('num_train')
    ctx['dataset'] = 'spacenet6' if args.full else 'synthetic'


def _det_synthetic_data(ctx):
    """The detection track's synthetic data: its root (by scene style, size and
    counts), one fold and the scale text (epochs and their iterations)."""
    args, scale = ctx['args'], ctx['scale']
    style = scale.get('style', 'aerial')
    name = 'synthetic_det' + ('' if style == 'aerial' else f'_{style}')
    ctx['data_root'] = osp.abspath(args.data_root or osp.join(
        REPO, 'data', f'{name}_{scale["size"]}px_{scale["num_train"]}-'
        f'{scale["num_test"]}'))
    ctx['folds'] = [None]
    per_epoch = math.ceil(scale['num_train'] / scale['batch'])
    scenes = '' if style == 'aerial' else f' ({style} scenes: {STYLE_TEXT[style]})'
    ctx['scale_text'] = (
        f'synthetic detection{scenes} at {scale["size"]} px, {scale["num_train"]} training'
        f' / {scale["num_test"]} test scenes, batch {scale["batch"]}, teacher '
        f'{scale["teacher_epochs"]} epochs ({scale["teacher_epochs"] * per_epoch} '
        f'iterations) / students {scale["epochs"]} epochs '
        f'({scale["epochs"] * per_epoch} iterations), seeds '
        f'{" ".join(map(str, args.seeds))}')


def _det_full_data(ctx, dataset):
    """The detection track's ``--full`` data (``dataset`` of DET_FULL): its folds, the
    scale's image size, the data root (data/VEDAI, which ``--data-root`` cannot move,
    with VEDAI's per-fold config options; else xView's chips) and the scale text."""
    args, scale = ctx['args'], ctx['scale']
    info = DET_FULL[dataset]
    ctx['folds'] = args.folds or info['default_folds']
    scale['size'] = info['res']
    if ctx['dataset'] == 'vedai':
        if args.data_root:
            sys.exit('--full --dataset vedai*: the vedai/ configs read data/VEDAI')
        ctx['data_root'] = osp.join(REPO, 'data', 'VEDAI')
        ctx['fold_options'] = lambda config, fold: vedai_fold_options(
            common.load_config(config), fold, info['res'])
    else:
        ctx['data_root'] = osp.abspath(args.data_root or osp.join(
            REPO, 'data', 'xView', 'coco_chips_512'))
    ctx['scale_text'] = (f'{dataset}, folds {ctx["folds"]}, '
                         f'{scale["teacher_epochs"]} / {scale["epochs"]} epochs')


def _det_data(ctx):
    """The detection track's dataset (``--dataset`` only with ``--full``, one of
    DET_FULL; the synthetic scenes otherwise), its training count, then its data."""
    args, scale = ctx['args'], ctx['scale']
    dataset = (args.dataset or scale['dataset']) if args.full else 'synthetic'
    if args.full and dataset not in DET_FULL:
        sys.exit(f'--dataset {dataset}: one of {sorted(DET_FULL)}')
    if not args.full and args.dataset:
        sys.exit('--dataset goes with --full (the CPU scale is the synthetic data)')
    ctx['dataset'] = 'vedai' if dataset.startswith('vedai') else dataset
    ctx['n_train'] = scale.get('num_train')
    if ctx['dataset'] == 'synthetic':
        _det_synthetic_data(ctx)
    else:
        _det_full_data(ctx, dataset)


def _entries(args, table):
    """The rows to run: the baseline first, then the ``--methods`` (each must be one
    of the table's) or the default ones (the optional too with ``--extra``), in table
    order."""
    rows = table['rows']
    if args.methods:
        known = {e['key'] for e in rows}
        unknown = set(args.methods) - known
        if unknown:
            sys.exit(f'unknown methods {sorted(unknown)}; the table has {sorted(known)}')
        return [e for e in rows if e is rows[0] or e['key'] in args.methods]
    return [e for e in rows if e is rows[0] or args.extra or not e['optional']]


def _teacher_paths(ctx):
    """``teacher_dir(fold)``, the teacher's run folder, and ``teacher_file(fold)``, its
    last checkpoint (the iteration one of the CPU segmentation scale, else the epoch
    one)."""
    args, scale, track = ctx['args'], ctx['scale'], ctx['table']['track']
    ctx['teacher_dir'] = lambda fold: osp.join(args.work_dir, run_name('teacher', 0, fold))

    def teacher_file(fold):
        if track == 'seg' and not args.full:
            name = f'iter_{scale["teacher_iters"]}.pth'
        else:
            name = f'epoch_{scale["teacher_epochs"]}.pth'
        return osp.join(ctx['teacher_dir'](fold), name)
    ctx['teacher_file'] = teacher_file


def setup(args):
    """The table, its scale (with the command line's changes), data, folds, rows.

    The scale, then the track's data (root, folds, scale text), the rows (with the
    ``--full`` VEDAI configs, the teacher's too) and the teacher's paths."""
    table = TABLES[args.table]
    ctx = dict(args=args, table=table, scale=_scale(args, table),
               fold_options=lambda config, fold: {})
    if table['track'] == 'seg':
        _seg_data(ctx)
    else:
        _det_data(ctx)
    entries = _entries(args, table)
    if any(e.get('all_scenes') for e in entries) and not ctx['scale'].get('num_labelled'):
        sys.exit('sar_all-scenes: a row of the --num-labelled setting only (without it, '
                 'it is the baseline)')
    if ctx['scale'].get('num_labelled') and (table['track'] != 'seg' or args.full):
        sys.exit('--num-labelled: the synthetic disoptnet table only')
    if args.full and ctx['dataset'] == 'vedai':
        entries = [dict(e, config=full_config(table, e)) for e in entries]
        teacher = dict(table['teacher'], config=full_config(table, table['teacher']))
        ctx['table'] = dict(table, teacher=teacher)
    ctx['entries'] = entries
    _teacher_paths(ctx)
    return ctx


def make_data(ctx):
    """Generate the synthetic benchmark at the scale (skipped when complete); check
    that the full-scale data is there."""
    scale, root = ctx['scale'], ctx['data_root']
    if ctx['dataset'] == 'synthetic' and ctx['table']['track'] == 'seg':
        from mmkd.testing import make_synthetic_buildings
        make_synthetic_buildings(root, scale['num_train'], 8, scale['num_test'],
                                 scale['size'], seed=0, looks=scale['looks'],
                                 sar_cell=scale.get('sar_cell', 1),
                                 num_labelled=scale.get('num_labelled'))
    elif ctx['dataset'] == 'synthetic':
        from mmkd.testing import make_synthetic_det
        make_synthetic_det(root, scale['num_train'], scale['num_test'], scale['size'],
                           seed=0, style=scale.get('style', 'aerial'))
    elif not osp.isdir(root):
        readme = ctx['table']['readme']
        sys.exit(f'{root} not found: prepare the {ctx["dataset"]} data as {readme} says')


def _same(a, b, tol=1e-6):
    return a is not None and b is not None and abs(float(a) - float(b)) <= tol


def keep_rows(ctx, res):
    """``--keep-rows``: the rows of the results.json already in ``--results-dir`` that
    this call did not run, added to ``res`` (runs, diagnostics, ``res['kept']``: which
    rows and the command that measured them) and to ``ctx['entries']`` in the table's
    order. Refused (exit) unless this call's teacher and every baseline seed equal that
    file's: the rows pair seed by seed with this call's baseline only in the same,
    deterministic setting."""
    args, table = ctx['args'], ctx['table']
    path = osp.join(args.results_dir, 'results.json')
    if not osp.isfile(path):
        sys.exit(f'--keep-rows: no {path} to keep rows from')
    with open(path) as fh:
        old = json.load(fh)
    base_key = ctx['entries'][0]['key']
    problems = []
    if not _same(old.get('teacher', {}).get('value'), res['teacher']['value']):
        problems.append(f"teacher {old.get('teacher', {}).get('value')} there, "
                        f"{res['teacher']['value']} now")
    old_base = old.get('runs', {}).get(base_key, {})
    for s in args.seeds:
        now, then = res['runs'].get(base_key, {}).get(s), old_base.get(str(s))
        if not (now and then and _same(now['value'], then['value'])):
            problems.append(f'{base_key} seed {s}: {then and then["value"]} there, '
                            f'{now and now["value"]} now')
    if problems:
        sys.exit(f'--keep-rows: {path} was measured in another setting ('
                 + '; '.join(problems) + '); run its rows again instead, or report '
                 f"this call's rows on their own: the same command with --tag NAME "
                 f'--work-dir {args.work_dir} --summarize (its runs are kept)')
    running = {e['key'] for e in ctx['entries']}
    rows = {e['key']: e for e in table['rows']}
    kept = [k for k in old.get('rows', []) if k not in running and k in rows
            and all(str(s) in old['runs'].get(k, {}) for s in args.seeds)]
    for k in kept:
        res['runs'][k] = {s: old['runs'][k][str(s)] for s in args.seeds}
        if k in old.get('diagnostics', {}):
            res['diagnostics'][k] = old['diagnostics'][k]
    # each kept row's step is compared with the baseline step of the call that ran it
    earlier = old.get('kept') or {}
    old_step = _median([v.get('s_per_iter') for v in old_base.values() if v])
    res['kept'] = dict(
        rows=kept,
        commands={k: earlier.get('commands', {}).get(k) or old.get('command')
                  for k in kept},
        base_step={k: earlier.get('base_step', {}).get(k) or old_step for k in kept})
    order = [e['key'] for e in table['rows']]
    ctx['entries'] = sorted(ctx['entries'] + [rows[k] for k in kept],
                            key=lambda e: order.index(e['key']))
    res['rows'] = [e['key'] for e in ctx['entries']]
    if kept:
        print(f'[evidence] kept from {path}: {", ".join(kept)} (teacher and baseline '
              'reproduced exactly)', flush=True)
