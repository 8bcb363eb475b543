"""One run: its written config, training it with ``tools/train.py --resume`` (reused
once ``final.json`` exists), its summary from the logged scalars, the loss-term
diagnostic and the step cost (``bench_distill.py --config``)."""
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

from _evidence_common import REPO


def write_config(path, base, overrides):
    """The shipped config with the overrides merged in (mmengine's ``merge_from_dict``,
    as ``--cfg-options`` would; digit keys index lists, ``_delete_`` replaces), dumped
    whole so the run folder says exactly what ran."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', base))
    cfg.merge_from_dict(overrides, allow_list_keys=True)
    cfg.dump(path)
    with open(path) as fh:
        body = fh.read()
    with open(path, 'w') as fh:
        fh.write(f'# Written by tools/benchmarks/cls_evidence.py: configs/{base}\n'
                 f"# with the benchmark's overrides {overrides!r}\n" + body)


def scalars(work_dir):
    """Every record of the run's scalars.json files, oldest log first."""
    logs = sorted((osp.join(root, f) for root, _, files in os.walk(work_dir)
                   for f in files if f == 'scalars.json'), key=osp.getmtime)
    recs = []
    for path in logs:
        with open(path) as fh:
            recs += [json.loads(line) for line in fh if line.strip()]
    return recs


def summarise_run(work_dir, epochs):
    """Final accuracy, the per-epoch accuracy curve and seconds per iteration."""
    recs = scalars(work_dir)
    curve = {}
    times = []
    for r in recs:
        if 'accuracy/top1' in r:
            curve[int(r.get('step', len(curve) + 1))] = r['accuracy/top1']
        if 'time' in r and 'loss' in r:
            times.append(r['time'])
    if epochs not in curve:
        return None
    out = dict(acc=curve[epochs], curve=curve,
               s_per_iter=statistics.median(times) if times else None)
    last = [r for r in recs if 'balanced/accuracy_after' in r]
    if last:  # the final validation's class-balanced post-processing
        out['balanced'] = dict(before=last[-1]['balanced/accuracy_before'],
                               after=last[-1]['balanced/accuracy_after'])
    # the teachers' weights a multi-teacher loss logs (`<loss>.weight_<teacher>`): the
    # mean over the run's logged training steps
    weights = {}
    for r in recs:
        if 'loss' in r:
            for k, v in r.items():
                if '.weight_' in k:
                    weights.setdefault(k, []).append(v)
    if weights:
        out['teacher_weights'] = {k: statistics.mean(v) for k, v in weights.items()}
    return out


def train(run, args, threads=None):
    """Train one run unless it finished before; returns its summary."""
    done = osp.join(run['dir'], 'final.json')
    if osp.isfile(done):
        with open(done) as fh:
            return json.load(fh)
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'),
           osp.join(run['dir'], 'run_config.py'), '--work-dir', run['dir'], '--resume']
    print(f'[evidence] train {run["name"]}: ' + ' '.join(cmd), flush=True)
    if args.dry_run:
        return None
    threads = str(threads or args.threads)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    t0 = time.time()
    with open(osp.join(run['dir'], 'train.log'), 'a') as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    if proc.returncode:
        print(f'[evidence] FAILED ({proc.returncode}): {run["dir"]}/train.log', flush=True)
        return None
    summary = summarise_run(run['dir'], run['epochs'])
    if summary is None:
        print(f'[evidence] no final accuracy in {run["dir"]}', flush=True)
        return None
    summary['wall_s'] = time.time() - t0
    with open(done, 'w') as fh:
        json.dump(summary, fh)
    print(f'[evidence] {run["name"]}: {summary["acc"]:.2f}', flush=True)
    return summary


STEP_REPEATS, STEP_WARMUP = 15, 3


def step_cost(run, args):
    """The KD step against its floor, on a finished run's written config:
    ``tools/benchmarks/bench_distill.py --config`` (the student's training step, each
    frozen teacher's forward and the distillation step, interleaved in rounds on one
    training batch, medians; random teacher weights, as timing does not depend on
    them), ``args.threads`` threads, nothing else running. Cached in
    ``<run>/step_cost.json``; returns the medians and ratios, or None."""
    out = osp.join(run['dir'], 'step_cost.json')
    if osp.isfile(out):
        with open(out) as fh:
            return _step_summary(json.load(fh))
    cmd = [sys.executable, osp.join(REPO, 'tools', 'benchmarks', 'bench_distill.py'),
           '--config', osp.join(run['dir'], 'run_config.py'), '--threads',
           str(args.threads), '--repeats', str(STEP_REPEATS), '--warmup',
           str(STEP_WARMUP), '--no-memory', '--no-loader', '--no-cache', '--json', out]
    if args.summarize:
        return None
    print(f'[evidence] step cost {run["name"]}: ' + ' '.join(cmd), flush=True)
    if args.dry_run:
        return None
    threads = str(args.threads)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    with open(osp.join(run['dir'], 'step_cost.log'), 'w') as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    if proc.returncode or not osp.isfile(out):
        print(f'[evidence] step cost FAILED: {run["dir"]}/step_cost.log', flush=True)
        return None
    with open(out) as fh:
        return _step_summary(json.load(fh))


def _step_summary(bench):
    """What the report reads of a bench_distill.py JSON: seconds of the student step,
    of each teacher's forward and of the KD step (medians), the ratios."""
    med = bench['seconds']['median']
    each = bench['seconds'].get('teacher_each') or {'teacher': med['teacher']}
    return dict(student=med['student'], kd=med['kd'], teacher=med['teacher'],
                teachers=each, batch_size=bench.get('batch_size'),
                threads=bench.get('threads'), repeats=bench.get('repeats'),
                kd_over_student=med['kd'] / med['student'],
                floor_r_star=1 + med['teacher'] / med['student'],
                floor_each={k: 1 + v / med['student'] for k, v in each.items()})


def _done(run):
    path = osp.join(run['dir'], 'final.json')
    if osp.isfile(path):
        with open(path) as fh:
            return json.load(fh)
    return None
