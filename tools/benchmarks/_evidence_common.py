"""Generic pieces of the evidence benchmarks: their common options, written run configs,
resumable training subprocesses, the loss-term diagnostic, scalars, values paired by
seed, the README block.

The run steps of both benchmarks, written once: ``cls_evidence_lib`` and
``dense_evidence_lib`` give ``train`` their own summary of a finished run (accuracy and
its curve; any metric of the dense tracks) and ``write_config`` their script's name.
What the dense tracks needed besides serves both: a parse cache (a dry run writes ~60
configs) and the ``loss_terms`` work dir kept out of the run's scalars.
"""
import copy
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

_CONFIGS = {}


def add_run_arguments(p, data_root_help, results_dir_help):
    """The options both scripts share, added to the parser ``p`` (what the shared steps
    and reports read): runs at a time, threads per run, the data, work and results
    folders, the README block, the diagnostic and ``--summarize``."""
    p.add_argument('--jobs', type=int, default=2, help='runs at a time')
    p.add_argument('--threads', type=int, default=1, help='torch threads per run')
    p.add_argument('--data-root', help=data_root_help)
    p.add_argument('--work-dir')
    p.add_argument('--results-dir', help=results_dir_help)
    p.add_argument('--readme', help='README whose evidence block is rewritten')
    p.add_argument('--no-readme', action='store_true')
    p.add_argument('--no-diagnostics', action='store_true')
    p.add_argument('--summarize', action='store_true',
                   help='report from the finished runs only, train nothing')


def load_config(config):
    """``configs/<config>`` parsed, cached; a copy."""
    from mmengine.config import Config
    if config not in _CONFIGS:
        path = config if osp.isabs(config) else osp.join(REPO, 'configs', config)
        _CONFIGS[config] = Config.fromfile(path)
    return copy.deepcopy(_CONFIGS[config])


def write_config(path, base, overrides, writer):
    """The shipped config with the overrides merged in (mmengine's ``merge_from_dict``,
    as ``--cfg-options`` would; digit keys index lists, ``_delete_`` replaces), dumped
    whole so the run folder says exactly what ran. Its header names ``writer`` and the
    overrides as given, ``_delete_`` keys included (mmengine pops them from the dict it
    merges: a copy, so the header's overrides rebuild the config)."""
    cfg = load_config(base)
    cfg.merge_from_dict(copy.deepcopy(overrides), allow_list_keys=True)
    cfg.dump(path)
    with open(path) as fh:
        body = fh.read()
    with open(path, 'w') as fh:
        fh.write(f'# Written by {writer}: configs/{base}\n'
                 f"# with the benchmark's overrides {overrides!r}\n" + body)


def merge(a, b):
    """``b`` merged into ``a`` (nested dicts; a dict with ``_delete_`` replaces)."""
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(
            out.get(k), dict) and not v.get('_delete_') else v
    return out


def scalars(work_dir, skip=('loss_terms', )):
    """Every record of the run's scalars.json files, oldest log first (folders named in
    ``skip`` left out: the diagnostic's runner writes there)."""
    logs = []
    for root, dirs, files in os.walk(work_dir):
        dirs[:] = [d for d in dirs if d not in skip]
        logs += [osp.join(root, f) for f in files if f == 'scalars.json']
    recs = []
    for path in sorted(logs, key=osp.getmtime):
        with open(path) as fh:
            recs += [json.loads(line) for line in fh if line.strip()]
    return recs


def done(run_dir):
    """The run's ``final.json`` (its summary) or None."""
    path = osp.join(run_dir, 'final.json')
    if osp.isfile(path):
        with open(path) as fh:
            return json.load(fh)
    return None


def run_logged(cmd, log, threads, mode='w'):
    """``cmd`` run from the repository (on ``PYTHONPATH``) with ``threads`` OpenMP and
    MKL threads, its output into the file ``log`` (``mode`` ``'a'``: appended); its
    exit status."""
    threads = str(threads)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS=threads,
               MKL_NUM_THREADS=threads)
    with open(log, mode) as fh:
        return subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env,
                              cwd=REPO).returncode


def train(run, args, summarise, threads=None, key='value'):
    """Train one run unless it finished before (``final.json``); an interrupted run
    continues from its last checkpoint (``tools/train.py --resume``). ``summarise(run)``
    reads the finished run's logs (its summary's ``key`` is the number printed);
    returns its summary (None on failure)."""
    finished = done(run['dir'])
    if finished is not None:
        return finished
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'),
           osp.join(run['dir'], 'run_config.py'), '--work-dir', run['dir'], '--resume']
    print(f'[evidence] train {run["name"]}: ' + ' '.join(cmd), flush=True)
    if args.dry_run:
        return None
    t0 = time.time()
    rc = run_logged(cmd, osp.join(run['dir'], 'train.log'), threads or args.threads, 'a')
    if rc:
        print(f'[evidence] FAILED ({rc}): {run["dir"]}/train.log', flush=True)
        return None
    summary = summarise(run)
    if summary is None:
        print(f'[evidence] no final result in {run["dir"]} (see train.log)', flush=True)
        return None
    summary['wall_s'] = time.time() - t0
    with open(osp.join(run['dir'], 'final.json'), 'w') as fh:
        json.dump(summary, fh)
    print(f'[evidence] {run["name"]}: {summary[key]:.2f}', flush=True)
    return summary


def diagnose(run, args, batches=4):
    """Each loss term's value and gradient norm on the student at the first steps
    (``tools/analysis/loss_terms.py`` on the run's config), cached in the run folder."""
    out = osp.join(run['dir'], 'loss_terms.json')
    if osp.isfile(out):
        with open(out) as fh:
            return json.load(fh)['terms']
    if args.dry_run or args.summarize:
        return None
    cmd = [sys.executable, osp.join(REPO, 'tools', 'analysis', 'loss_terms.py'),
           osp.join(run['dir'], 'run_config.py'), '--batches', str(batches), '--out', out,
           '--work-dir', osp.join(run['dir'], 'loss_terms')]
    if run_logged(cmd, osp.join(run['dir'], 'loss_terms.log'), args.threads):
        print(f'[evidence] loss_terms FAILED: {run["dir"]}/loss_terms.log', flush=True)
        return None
    with open(out) as fh:
        return json.load(fh)['terms']


def paired_values(a, b, seeds, key):
    """Two rows' values under ``key`` (``a``, ``b``: {seed: summary or None}) at the
    seeds both finished, in the order of ``seeds``: ``(a's, b's)``, paired by seed."""
    both = [s for s in seeds if a.get(s) and b.get(s)]
    return [a[s][key] for s in both], [b[s][key] for s in both]


def write_json(path, obj):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as fh:
        json.dump(obj, fh, indent=1, sort_keys=True, default=str)


def update_readme(path, name, text):
    """Replace the text between ``<!-- evidence:<name> begin -->`` and ``... end -->``."""
    begin, end = f'<!-- evidence:{name} begin -->', f'<!-- evidence:{name} end -->'
    with open(path) as fh:
        doc = fh.read()
    if begin not in doc or end not in doc:
        print(f'[evidence] {path} has no {begin} ... {end} block: README not updated',
              flush=True)
        return False
    pre, rest = doc.split(begin, 1)
    _, post = rest.split(end, 1)
    with open(path, 'w') as fh:
        fh.write(pre + begin + '\n' + text + end + post)
    return True
