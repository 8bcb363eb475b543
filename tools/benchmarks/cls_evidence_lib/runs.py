"""One run, what of it is this benchmark's own: its summary from the logged scalars
(accuracy, the curve, the class-balanced reading, the teachers' weights) and its step
cost (``bench_distill.py --config``). Writing its config and training it
(``tools/train.py --resume``, reused once ``final.json`` exists) are
``_evidence_common``'s steps, bound here to this script and this summary; so is the
loss-term diagnostic (``_evidence_common.diagnose``)."""
import json
import os.path as osp
import statistics
import sys

import _evidence_common as common
from _evidence_common import REPO

WRITER = 'tools/benchmarks/cls_evidence.py'


def write_config(path, base, overrides):
    """``_evidence_common.write_config`` with this benchmark's name in the header."""
    common.write_config(path, base, overrides, WRITER)


def summarise_run(work_dir, epochs):
    """Final accuracy, the per-epoch accuracy curve and seconds per iteration (and the
    class-balanced reading, the teachers' weights, when logged)."""
    recs = common.scalars(work_dir)
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
    """``_evidence_common.train`` with this benchmark's summary (:func:`summarise_run`);
    the run's summary, or None."""
    return common.train(run, args, lambda r: summarise_run(r['dir'], r['epochs']),
                        threads, key='acc')


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
    rc = common.run_logged(cmd, osp.join(run['dir'], 'step_cost.log'), args.threads)
    if rc or not osp.isfile(out):
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

