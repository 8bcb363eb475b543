"""Run one config over N seeds x K folds, collect each run's final metric, summarise.

    python tools/analysis/seed_fold_grid.py CONFIG --seeds 0 1 2 [--folds 1..10]
        --work-dir DIR [--metric coco/bbox_mAP] [--cfg-options k=v ...]
        [--fold-options KEY=TEMPLATE ...] [--fold-rule vedai[:RES]]
        [--launcher none|pytorch|slurm|mpi --gpus G]

Each (seed, fold) is its own mmengine run in ``DIR/seed<S>_fold<NN>`` (``DIR/seed<S>``
without folds), seeded with ``randomness.seed=S``. The fold reaches the config as
``--cfg-options`` (configs read no environment variable: the file and the options decide
the run), two ways:

- ``--fold-options KEY=TEMPLATE``: options formatted with the fold, e.g.
  ``train_dataloader.dataset.ann_file=annotations/fold{fold:02d}_train.json``;
- ``--fold-rule vedai`` (``vedai:1024`` at 1024 px): the options that
  ``tools/dataset_converters/vedai_to_coco.py``'s ``fold_options`` derives from the
  parsed ``configs/det_kd/vedai/`` config (annotation files, image folder, sizes, the
  fold's colour teacher).

A config that depends on neither is refused (its folds would all be the same run).

Runs go one after the other: in this process with ``--launcher none`` (``--subprocess``
runs each through ``tools/train.py`` instead), or through ``tools/train.py`` under
mmengine's launchers where there are more devices (``pytorch``: ``torch.distributed.run``
with ``--gpus`` processes; ``slurm``: ``srun`` with ``--srun-args``; ``mpi``: ``mpirun``).

The grid resumes: a run with a ``result.json`` is not run again; a run whose work dir
has a checkpoint but no result (interrupted) resumes from it (mmengine ``resume=True``).
``--drop-checkpoints`` deletes a run's checkpoints once its result is written.

The metric of a run is that of its final evaluation: mmengine validates after the last
epoch/iteration, and the last validation in the run's ``vis_data/scalars.json`` is
taken; a config without validation is tested on its last checkpoint instead (as
``tools/test.py`` does: distillation configs test their student). Written to ``DIR``:

- ``results.csv``: seed, fold, the metric, seconds, run dir;
- ``results.md``: per fold and overall, the number of runs, median, min and max;
- ``results.png``: a box plot per fold and one over all runs, each seed a point (the
  layout of Fig. 2 of Lê & Pham, arXiv:2307.09264).
"""
import argparse
import csv
import glob
import importlib.util
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
import traceback
from typing import Dict, List, Optional, Sequence, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if osp.isdir(osp.join(REPO, 'mmkd')) and REPO not in sys.path:
    sys.path.insert(0, REPO)  # this checkout's mmkd, as tools/dist_train.sh does
TRAIN = osp.join(REPO, 'tools', 'train.py')
TEST = osp.join(REPO, 'tools', 'test.py')
RESULT = 'result.json'


# ---------------------------------------------------------------------- arguments
def parse_folds(tokens: Optional[Sequence[str]]) -> List[Optional[int]]:
    """``['1..3', '7']`` -> ``[1, 2, 3, 7]``; no tokens: one run without a fold."""
    if not tokens:
        return [None]
    folds = []
    for tok in tokens:
        if '..' in tok:
            a, b = tok.split('..')
            folds.extend(range(int(a), int(b) + 1))
        else:
            folds.append(int(tok))
    if len(set(folds)) != len(folds):
        raise SystemExit(f'--folds lists a fold twice: {folds}')
    return folds


def parse_kv(items: Optional[Sequence[str]], what: str) -> Dict[str, str]:
    out = {}
    for item in items or []:
        if '=' not in item:
            raise SystemExit(f'{what}: {item!r} is not KEY=VALUE')
        k, v = item.split('=', 1)
        out[k] = v
    return out


def run_name(seed: int, fold: Optional[int]) -> str:
    return f'seed{seed}' if fold is None else f'seed{seed}_fold{fold:02d}'


def _value(text: str):
    """A --cfg-options value as mmengine's DictAction reads it (ints, floats, bools,
    None, lists/tuples), so in-process and tools/train.py runs see the same config."""
    from mmengine.config import DictAction
    return DictAction._parse_iterable(text)


def _flatten(nested: dict, prefix: str = '') -> Dict[str, object]:
    """``{'a': {'b': 1}}`` -> ``{'a.b': 1}`` (the --cfg-options form)."""
    out = {}
    for k, v in nested.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f'{prefix}{k}.'))
        else:
            out[f'{prefix}{k}'] = v
    return out


def fold_rule_options(args, fold: Optional[int]) -> Dict[str, object]:
    """The --fold-rule's options for ``fold`` (flat keys, values as python objects),
    derived from the config as shipped."""
    if fold is None or not args.fold_rule:
        return {}
    from mmengine.config import Config
    name, _, res = args.fold_rule.partition(':')
    if name != 'vedai':
        raise SystemExit(f'--fold-rule {args.fold_rule}: the rules are vedai[:RES]')
    spec = importlib.util.spec_from_file_location(
        '_vedai_to_coco', osp.join(REPO, 'tools', 'dataset_converters', 'vedai_to_coco.py'))
    vedai = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vedai)
    cfg = Config.fromfile(args.config)
    missing = [k for k in ('fold', 'resolution', 'colour_teacher') if k not in cfg]
    if missing:
        raise SystemExit(f'--fold-rule vedai: {args.config} is not a VEDAI config of '
                         f'configs/det_kd/vedai/ (it has no {missing})')
    return _flatten(vedai.fold_options(cfg, fold, int(res) if res else None))


def run_options(args, seed: int, fold: Optional[int]) -> Dict[str, object]:
    """The --cfg-options of one run: the seed, the fold's options, the user's."""
    opts = {'randomness.seed': seed}
    opts.update(fold_rule_options(args, fold))
    if fold is not None:
        for k, template in args.fold_options.items():
            opts[k] = _value(template.format(fold=fold))
    opts.update({k: _value(v) for k, v in args.cfg_options.items()})
    return opts


def load_config(args, seed: int, fold: Optional[int]):
    from mmengine.config import Config
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(run_options(args, seed, fold))
    return cfg


def check_folds_matter(args, folds: List[Optional[int]]) -> None:
    """Two folds of a config must differ (else every fold is the same run)."""
    if len(folds) < 2 or args.fold_options:
        return
    a, b = (load_config(args, 0, f).to_dict() for f in folds[:2])
    if a == b:
        raise SystemExit(
            f'{args.config} does not depend on the fold: no --fold-options were given '
            f'(e.g. --fold-options '
            f'train_dataloader.dataset.ann_file=ann/fold{{fold:02d}}_train.json) and no '
            f'--fold-rule (vedai: the configs/det_kd/vedai/ configs)')


# ---------------------------------------------------------------------- one run
def has_checkpoint(run_dir: str) -> bool:
    return last_checkpoint(run_dir) is not None


def last_checkpoint(run_dir: str) -> Optional[str]:
    path = osp.join(run_dir, 'last_checkpoint')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        ckpt = f.read().strip()
    return ckpt if osp.isfile(ckpt) else None


def final_validation(run_dir: str, metric: str) -> Optional[Dict[str, float]]:
    """The metrics of the last validation the run logged (its final evaluation: the
    train loops validate after the last epoch/iteration)."""
    last = None
    for path in sorted(glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                entry = json.loads(line)
                if metric in entry:
                    last = entry
    return last


def _own_instances(cfg, run_dir: str, what: str) -> None:
    """Runs in one process share mmengine's named singletons (logger, message hub,
    visualizer, whose files live in the first run's work dir) unless each run names
    its own."""
    tag = f'{osp.basename(run_dir)}_{what}_{time.strftime("%Y%m%d_%H%M%S")}_' \
          f'{time.perf_counter_ns()}'
    cfg.experiment_name = tag
    if cfg.get('visualizer'):
        cfg.visualizer.name = f'visualizer_{tag}'


def train_in_process(args, seed: int, fold: Optional[int], run_dir: str,
                     resume: bool) -> None:
    from mmengine.runner import Runner

    import mmkd  # noqa: F401  (registries; the checkpoint loader for resuming)
    cfg = load_config(args, seed, fold)
    cfg.work_dir = run_dir
    cfg.launcher = 'none'
    _own_instances(cfg, run_dir, 'train')
    if resume:
        cfg.resume, cfg.load_from = True, None
    Runner.from_cfg(cfg).train()


def test_in_process(args, seed: int, fold: Optional[int], run_dir: str
                    ) -> Dict[str, float]:
    """Evaluate the run's last checkpoint on its test split (tools/test.py's way)."""
    from mmengine.model import is_model_wrapper
    from mmengine.runner import Runner

    from mmkd.apis.export import is_distillation_config, student_config
    from mmkd.models.distillers.model_config import load_weights_strict
    ckpt = last_checkpoint(run_dir)
    if ckpt is None:
        raise RuntimeError(f'{run_dir} has no checkpoint to test')
    cfg = load_config(args, seed, fold)
    if is_distillation_config(cfg):
        cfg = student_config(cfg)
    cfg.work_dir = osp.join(run_dir, 'final_test')
    cfg.launcher, cfg.load_from, cfg.resume = 'none', None, False
    _own_instances(cfg, run_dir, 'test')
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    load_weights_strict(model, ckpt, 'the student', 'student.')
    return dict(runner.test())


def _command(args, script: str, script_args: List[str]) -> List[str]:
    launcher = args.launcher
    if launcher == 'none':
        return [sys.executable, script] + script_args
    tail = script_args + ['--launcher', launcher]
    if launcher == 'pytorch':
        return [sys.executable, '-m', 'torch.distributed.run',
                f'--nproc_per_node={args.gpus}', f'--master_port={args.port}',
                script] + tail
    if launcher == 'slurm':
        return ['srun', f'--ntasks={args.gpus}'] + args.srun_args.split() + [
            sys.executable, '-u', script] + tail
    return ['mpirun', '-n', str(args.gpus), sys.executable, script] + tail


def _subprocess(args, cmd: List[str], log_path: str) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [REPO] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    with open(log_path, 'a') as log:
        log.write('$ ' + ' '.join(cmd) + '\n')
        log.flush()
        proc = subprocess.run(cmd, cwd=os.getcwd(), env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise RuntimeError(f'{cmd[0]} ... exited with {proc.returncode}; see {log_path}')


def _cli_value(v) -> str:
    """A python value as a --cfg-options string mmengine's DictAction reads back."""
    if isinstance(v, tuple):
        return '(' + ','.join(_cli_value(x) for x in v) + ')'
    if isinstance(v, list):
        return '[' + ','.join(_cli_value(x) for x in v) + ']'
    return str(v)


def _cli_options(args, seed: int, fold: Optional[int]) -> List[str]:
    opts = {'randomness.seed': str(seed)}
    opts.update({k: _cli_value(v) for k, v in fold_rule_options(args, fold).items()})
    if fold is not None:
        opts.update({k: t.format(fold=fold) for k, t in args.fold_options.items()})
    opts.update(args.cfg_options)
    return ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]


def run_cell(args, seed: int, fold: Optional[int]) -> dict:
    """Train (or resume) one run and return its result record."""
    run_dir = osp.join(args.work_dir, run_name(seed, fold))
    os.makedirs(run_dir, exist_ok=True)
    resume = has_checkpoint(run_dir)
    t0 = time.time()
    if args.launcher == 'none' and not args.subprocess:
        train_in_process(args, seed, fold, run_dir, resume)
    else:
        cmd = _command(args, TRAIN, [args.config, '--work-dir', run_dir] + (
            ['--resume'] if resume else []) + _cli_options(args, seed, fold))
        _subprocess(args, cmd, osp.join(run_dir, 'grid_train.log'))
    metrics, source = final_validation(run_dir, args.metric), 'final validation'
    if metrics is None:
        source = 'test of the last checkpoint'
        if args.launcher == 'none' and not args.subprocess:
            metrics = test_in_process(args, seed, fold, run_dir)
        else:
            test_dir = osp.join(run_dir, 'final_test')
            cmd = _command(args, TEST, [args.config, last_checkpoint(run_dir) or '',
                                        '--work-dir', test_dir] +
                           _cli_options(args, seed, fold))
            _subprocess(args, cmd, osp.join(run_dir, 'grid_test.log'))
            dumps = sorted(glob.glob(osp.join(test_dir, '*', '*.json')))
            metrics = json.load(open(dumps[-1])) if dumps else {}
    if args.metric not in metrics and args.metric.startswith('coco/') and not any(
            k.startswith('coco/') for k in metrics):
        # mmdet's CocoMetric returns nothing when the model detects nothing above its
        # score threshold (it logs 'The testing results of the whole dataset is empty')
        metrics = dict(metrics, **{args.metric: 0.0})
        source += ' (no detections: 0)'
    if args.metric not in metrics:
        raise KeyError(f'{run_dir}: the run\'s evaluation has no {args.metric!r}; it '
                       f'has {sorted(k for k in metrics if "/" in k) or sorted(metrics)}')
    record = dict(seed=seed, fold=fold, metric=args.metric,
                  value=float(metrics[args.metric]), source=source,
                  resumed=resume, seconds=round(time.time() - t0, 1), run_dir=run_dir,
                  metrics={k: v for k, v in metrics.items()
                           if isinstance(v, (int, float)) and k not in ('step', 'time',
                                                                        'data_time')})
    with open(osp.join(run_dir, RESULT), 'w') as f:
        json.dump(record, f, indent=1)
    if args.drop_checkpoints:  # the run is recorded; keep its log and exported student
        for ckpt in glob.glob(osp.join(run_dir, '*.pth')) + [
                osp.join(run_dir, 'last_checkpoint')]:
            if osp.isfile(ckpt):
                os.remove(ckpt)
    return record


# ---------------------------------------------------------------------- summary
def collect(work_dir: str, seeds: Sequence[int], folds: Sequence[Optional[int]]
            ) -> List[dict]:
    out = []
    for fold in folds:
        for seed in seeds:
            path = osp.join(work_dir, run_name(seed, fold), RESULT)
            if osp.isfile(path):
                with open(path) as f:
                    out.append(json.load(f))
    return out


def _stats(values: List[float]) -> Tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def write_summary(work_dir: str, config: str, metric: str, results: List[dict],
                  seeds: Sequence[int], folds: Sequence[Optional[int]]) -> dict:
    """results.csv, results.md and results.png in ``work_dir``."""
    csv_path = osp.join(work_dir, 'results.csv')
    with open(csv_path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['seed', 'fold', metric, 'source', 'seconds', 'run_dir'])
        for r in results:
            w.writerow([r['seed'], '' if r['fold'] is None else r['fold'], r['value'],
                        r['source'], r['seconds'], osp.relpath(r['run_dir'], work_dir)])
    groups = []  # (label, values, seeds)
    for fold in folds:
        rs = [r for r in results if r['fold'] == fold]
        groups.append(('all' if fold is None else f'fold {fold}',
                       [r['value'] for r in rs], [r['seed'] for r in rs]))
    if len(folds) > 1:
        groups.append(('all', [r['value'] for r in results],
                       [r['seed'] for r in results]))
    name = osp.splitext(osp.basename(config))[0]
    lines = [f'# {name}: {metric} over seeds x folds', '',
             f'{len(results)} of {len(seeds) * len(folds)} runs done (seeds '
             f'{list(seeds)}, folds {[f for f in folds if f is not None] or "-"}).', '',
             '| | runs | median | min | max | per seed |', '|---|---|---|---|---|---|']
    for label, values, run_seeds in groups:
        if values:
            med, lo, hi = _stats(values)
            per_seed = ', '.join(f's{s}: {v:.4f}' for s, v in zip(run_seeds, values))
            stats_cells = f'{med:.4f} | {lo:.4f} | {hi:.4f}'
        else:
            per_seed, stats_cells = '', '– | – | –'
        lines.append(f'| {label} | {len(values)} | {stats_cells} | '
                     f'{per_seed if label != "all" or len(folds) == 1 else ""} |')
    md_path = osp.join(work_dir, 'results.md')
    with open(md_path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    png_path = osp.join(work_dir, 'results.png')
    box_plot(png_path, groups, metric, name, seeds)
    return dict(csv=csv_path, table=md_path, plot=png_path)


def box_plot(path: str, groups, metric: str, title: str, seeds: Sequence[int]) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    fig, ax = plt.subplots(figsize=(max(4.0, 1.0 * len(groups) + 2), 4.0))
    labels = [g[0] for g in groups]
    data = [g[1] if g[1] else [float('nan')] for g in groups]
    ax.boxplot(data, showfliers=False, widths=0.5, medianprops=dict(color='black'))
    ax.set_xticks(range(1, len(labels) + 1), labels)
    colours = plt.get_cmap('tab10')
    rng = np.random.default_rng(0)
    for i, (_, values, run_seeds) in enumerate(groups):
        for v, s in zip(values, run_seeds):
            ax.scatter(i + 1 + rng.uniform(-0.12, 0.12), v, s=18, zorder=3,
                       color=colours(list(seeds).index(s) % 10))
    for k, s in enumerate(seeds):
        ax.scatter([], [], s=18, color=colours(k % 10), label=f'seed {s}')
    ax.legend(fontsize=7, loc='best')
    ax.set_ylabel(metric)
    ax.set_title(title, fontsize=9)
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('--seeds', type=int, nargs='+', required=True)
    p.add_argument('--folds', nargs='*', help='fold numbers, a..b for a range')
    p.add_argument('--work-dir', required=True)
    p.add_argument('--metric', default='coco/bbox_mAP')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                   help='for every run')
    p.add_argument('--fold-options', nargs='+', default=[], metavar='KEY=TEMPLATE',
                   help='per fold: TEMPLATE formatted with {fold}')
    p.add_argument('--fold-rule', metavar='vedai[:RES]',
                   help='per fold: the options of a dataset\'s fold rule (vedai: '
                   'tools/dataset_converters/vedai_to_coco.py fold_options; :RES another '
                   'resolution)')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                   default='none')
    p.add_argument('--gpus', type=int, default=1, help='processes per run (launchers)')
    p.add_argument('--port', type=int, default=29512, help='pytorch launcher port')
    p.add_argument('--srun-args', default='', help='extra srun arguments (slurm)')
    p.add_argument('--subprocess', action='store_true',
                   help='launcher none: run each through tools/train.py')
    p.add_argument('--drop-checkpoints', action='store_true',
                   help='delete a run\'s training checkpoints once its result is written '
                   '(large grids; the exported student/ and the logs stay)')
    p.add_argument('--report-only', action='store_true',
                   help='only collect the finished runs and write the summary')
    args = p.parse_args(argv)
    args.cfg_options = parse_kv(args.cfg_options, '--cfg-options')
    args.fold_options = parse_kv(args.fold_options, '--fold-options')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    args.config = osp.abspath(args.config)
    if not osp.isfile(args.config):
        raise SystemExit(f'config {args.config} does not exist')
    folds = parse_folds(args.folds)
    os.makedirs(args.work_dir, exist_ok=True)
    grid_file = osp.join(args.work_dir, 'grid.json')
    grid = dict(config=args.config, metric=args.metric, seeds=args.seeds,
                folds=folds, cfg_options=args.cfg_options,
                fold_options=args.fold_options, fold_rule=args.fold_rule)
    if osp.isfile(grid_file):
        with open(grid_file) as f:
            before = json.load(f)
        if before.get('config') != args.config:
            raise SystemExit(f'{args.work_dir} holds the grid of {before.get("config")}; '
                             f'give another --work-dir for {args.config}')
    with open(grid_file, 'w') as f:
        json.dump(grid, f, indent=1)

    ran, skipped, failed = [], [], []
    if not args.report_only:
        check_folds_matter(args, folds)
        for fold in folds:
            for seed in args.seeds:
                name = run_name(seed, fold)
                if osp.isfile(osp.join(args.work_dir, name, RESULT)):
                    skipped.append(name)
                    print(f'[grid] {name}: done before, skipped', flush=True)
                    continue
                resuming = has_checkpoint(osp.join(args.work_dir, name))
                print(f'[grid] {name}: {"resuming" if resuming else "running"}',
                      flush=True)
                try:
                    r = run_cell(args, seed, fold)
                    ran.append(name)
                    print(f'[grid] {name}: {args.metric} = {r["value"]:.4f} '
                          f'({r["seconds"]:.0f} s)', flush=True)
                except Exception:  # keep going: the other runs are independent
                    failed.append(name)
                    print(f'[grid] {name}: FAILED\n{traceback.format_exc()}', flush=True)
    results = collect(args.work_dir, args.seeds, folds)
    out = write_summary(args.work_dir, args.config, args.metric, results, args.seeds,
                        folds) if results else {}
    if out:
        print(open(out['table']).read())
        print(f'[grid] wrote {out["csv"]}, {out["table"]}, {out["plot"]}')
    if failed:
        print(f'[grid] {len(failed)} run(s) failed: {failed}; run the same command '
              f'again to retry (finished runs are kept)', flush=True)
    return dict(ran=ran, skipped=skipped, failed=failed, results=results, **out)


if __name__ == '__main__':
    summary = main()
    sys.exit(1 if summary['failed'] else 0)
