"""Evidence that a classification distillation method beats its baseline: one resumable
command per table, with a teacher gate, >= 2,000 test images, >= 3 seeds and paired
per-seed differences with 95 % intervals.

    python tools/benchmarks/cls_evidence.py ds-cmkd [--seeds 0 1 2] [--methods ...]
        [--jobs 2] [--threads 1] [--work-dir work_dirs/evidence/ds-cmkd]
        [--readme configs/ds_cmkd/README.md] [--results-dir configs/ds_cmkd/evidence]
        [--full] [--dry-run] [--summarize]

What it does, in order (every step reuses what an earlier, interrupted call finished):

1. trains the teacher **once** (seed 0) on its own modality and reads its test accuracy
   (a part with several ``teachers``: each once, side by side, in ``<work dir>/<key>``;
   ``reads`` says which teacher each method's distiller slot loads);
2. trains the student baseline for every seed;
3. **the gate**: refuses to go on (exit status 3, the reason in ``results.json``) unless
   the teacher's accuracy on its own modality beats the baseline's median by at least
   ``--gate`` points (8 by default): a teacher that knows no more than its student
   cannot show a distillation effect (several teachers: each must pass);
4. trains every method for every seed, with the baseline's seeds, data and schedule;
   each run's config is written next to it (``<run>/run_config.py``: the shipped config
   as ``_base_`` plus the benchmark's overrides, nothing else), trained with
   ``tools/train.py --resume`` (an interrupted run continues from its last checkpoint);
5. logs each loss term's magnitude and gradient norm on the student at the first steps
   (``tools/analysis/loss_terms.py``, seed 0, 4 batches) for every method;
6. for a part's ``step_cost`` rows, once every run is done and nothing else runs, times
   the student's step, each frozen teacher's forward and the KD step on the row's
   seed-0 config (``bench_distill.py --config``, ``<run>/step_cost.json``): the step
   against its floor r* = 1 + sum_k t(teacher_k) / t(student);
7. reports each method as the median over seeds and as the paired per-seed difference
   to the baseline with its 95 % t interval (``mmkd.utils.paired_stats``), the time to
   the baseline's final accuracy for the ``curve`` methods (validated every epoch), and
   writes ``results.json``, ``table.md`` and a plot (``accuracy.png``) into
   ``--results-dir`` and the table between the ``<!-- evidence:<table> -->`` markers of
   ``--readme``.

Tables (``TABLES`` in ``cls_evidence_lib/tables.py``):

- ``ds-cmkd``: noisy CIFAR-10 at the paper's SNR 0.1, a clean teacher and a noisy
  student, DS-CMKD and its variants (teacher projector frozen or trained, both signs of
  Eq. 10's cross term, SEM only, DCM only, each DCM term) beside KD, FitNets, AT, NST,
  VID, RKD, CRD and SemCKD.
- ``cmkd``: CIFAR-10 EO / simulated SAR with MixUp 0.4 + AutoAugment, in two parts,
  each with its own teacher and gate: EO teacher -> SAR student, and the paper's SAR
  teacher -> EO student. Students start from their modality's supervised model
  (``start_epochs``, per seed) and train ``epochs`` more; the baseline is that same
  supervised model trained the same ``epochs`` more, so every comparison has the same
  starting point and the same extra epochs. CMKD-s is measured with the authors'
  alpha 0.2, T 2, element-mean KL and, EO -> SAR, with mmkd's earlier 0.5 / 4 / x T^2.
  A part whose teacher fails the gate is reported as such; the other part still runs.
  Every run is also read after the paper's class-balanced post-processing.
- ``kd-synthetic``: the demo's setting, Hinton KD on the bundled synthetic SAR chips
  (generated; 2,000 test chips): a ResNet-34 teacher on every training chip, a
  half-width ResNet-18 student with 10 labelled chips per class (a ``ClassSubsetDataset``
  draw per seed), the shipped ``*synthetic-sar-10shot*`` configs unchanged.
- ``mtkd-synthetic``: one teacher against two, in ``kd-synthetic``'s setting: its
  ResNet-34 teacher and a VGG-8 (``mmkd.CifarVGG``, about the same cost at 32 px), each
  trained once on every training chip and each gated; KD from each alone and from both
  with the three aggregations of ``mmkd.MultiTeacherKDLoss`` (averaged soft targets, one
  KD term per teacher summed, CA-MKD's confidence weights); every two-teacher row against
  the better single teacher, paired by seed; the teachers' weights as logged; and, once
  the training is done, the two-teacher KD step against its floor r* = 1 + sum_k
  t(teacher_k) / t(student) (``bench_distill.py --config`` on the rows' written configs).
- ``logit-kd``: the logit methods (DKD, logit standardisation on KD and DKD, DIST) and
  ReviewKD beside Hinton KD, the shipped ``configs/ds_cmkd/zoo/`` configs at the
  ``ds-cmkd`` scale with its teacher and baseline; DKD's and ReviewKD's warm-ups (20 of
  the authors' 240 epochs) kept as the same share of the run, in iterations.
- ``mtkd-noisy``: two teachers that read different modalities, one student, at the
  ``ds-cmkd`` scale: a teacher on the clean images and the same network on the noisy
  ones (the student's modality), each trained once and each gated against the noisy
  student; KD from each alone and from both with the three aggregations, each teacher
  reading its own modality of the paired batch; the same report as ``mtkd-synthetic``.
- ``kd-mstar``: Hinton KD on MSTAR-10 (real SAR, 2,425 test chips) with the shipped
  64 px configs: a ResNet-34 teacher trained on every training chip, a half-width
  ResNet-18 student that sees ``per_class`` labelled chips per class (a draw per seed;
  baseline and KD of one seed read the same draw).

The CPU scale (default) keeps the shipped configs and changes, through the written
overrides, the networks to narrow CIFAR ResNets (teacher ResNet-20, student ResNet-8,
both RepDistiller's) and the data to a balanced subset; ``--full`` runs the shipped
configs' networks (ResNet32x4 -> ResNet8x4) on all of CIFAR-10 for the paper's 300
epochs (a GPU machine; the same command otherwise).
"""
import argparse
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
# the benchmark lives in cls_evidence_lib/ (one module per responsibility: its __init__);
# this file is the command line (parse_args, main) and the module the tests import
from _evidence_common import add_run_arguments  # noqa: E402
from cls_evidence_lib.data import cifar_sizes  # noqa: E402
from cls_evidence_lib.mutual import run_mutual  # noqa: E402
from cls_evidence_lib.overrides import CHANNELS  # noqa: E402
from cls_evidence_lib.parts import run_part  # noqa: E402
from cls_evidence_lib.report import _write_json, report  # noqa: E402
from cls_evidence_lib.runs import _step_summary  # noqa: E402,F401 (read here by the tests)
from cls_evidence_lib.tables import TABLES  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('table', choices=sorted(TABLES))
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--methods', nargs='+', help='a subset of the table (baseline always)')
    p.add_argument('--parts', nargs='+', help="a subset of a multi-part table's parts")
    p.add_argument('--full', action='store_true',
                   help="the shipped configs' networks, all the data, the paper's epochs")
    p.add_argument('--per-class', type=int, help='training images per class')
    p.add_argument('--test-per-class', type=int, help='test images per class')
    p.add_argument('--teacher-epochs', type=int)
    p.add_argument('--epochs', type=int)
    p.add_argument('--start-epochs', type=int, help='epochs of the students\' start points')
    p.add_argument('--teacher-arch', choices=sorted(CHANNELS))
    p.add_argument('--student-arch', choices=sorted(CHANNELS))
    p.add_argument('--gate', type=float, default=8.0,
                   help='points the teacher must beat the median baseline by')
    add_run_arguments(p, "the table's image folders (default: data/cifar10; "
                      'data/mstar10 for kd-mstar)',
                      'where results.json, table.md, accuracy.png go')
    p.add_argument('--dry-run', action='store_true', help='write configs, print commands')
    args = p.parse_args(argv)
    table = TABLES[args.table]
    args.data_root = args.data_root or osp.join(REPO, table.get('data_root',
                                                               osp.join('data', 'cifar10')))
    args.work_dir = args.work_dir or osp.join(REPO, 'work_dirs', 'evidence', args.table +
                                              ('_full' if args.full else ''))
    args.results_dir = args.results_dir or osp.join(
        REPO, table['results_dir'] + ('_full' if args.full else ''))
    args.readme = None if args.no_readme else (
        args.readme or (None if args.full else osp.join(REPO, table['readme'])))
    return args


def main(argv=None):
    args = parse_args(argv)
    table = TABLES[args.table]
    scale = dict(table['full' if args.full else 'cpu'])
    for k in ('per_class', 'test_per_class', 'teacher_epochs', 'epochs', 'teacher_arch',
              'student_arch', 'start_epochs'):
        if getattr(args, k) is not None:
            scale[k] = getattr(args, k)
    if len(args.seeds) < 3:
        print(f'[evidence] warning: {len(args.seeds)} seed(s); the protocol asks for >= 3',
              flush=True)
    if table.get('generate') and not (args.dry_run or args.summarize):
        table['generate'](args, scale)  # --summarize reads finished runs: no data needed
    if not osp.isdir(osp.join(args.data_root, 'train')) and not (
            args.summarize and table.get('generate')):
        archive = table.get('archive', 'cifar10-jpg.tar.gz')
        sys.exit(f'{args.data_root}/train not found: extract {archive} (../shared/data) '
                 f'so that {args.data_root}/{{train,test}}/<class>/ exist')
    n_train, n_test = table.get('sizes', cifar_sizes)(args, scale)
    if n_test < 2000:
        sys.exit(f'{n_test} test images: the protocol asks for >= 2,000 '
                 f'(--test-per-class >= 200)')
    parts = table['parts']
    if args.methods:
        known = {m[0] for part in parts for m in part['methods']}
        unknown = set(args.methods) - known
        if unknown:
            sys.exit(f'unknown methods {sorted(unknown)}; the table has {sorted(known)}')
    os.makedirs(args.work_dir, exist_ok=True)
    results = dict(table=args.table, title=table['title'], scale=scale,
                   seeds=args.seeds, gate=args.gate, n_train=n_train, n_test=n_test,
                   command=' '.join([osp.relpath(sys.argv[0], REPO)] + sys.argv[1:]))
    ctx = dict(args=args, table=table, scale=scale, n_train=n_train)
    if len(parts) == 1:
        part_results = run_part(ctx, parts[0])
        results.update(part_results)
        if part_results.get('gate_passed') is False:
            _write_json(args, results)
            print('[evidence] ' + part_results['gate_failure'], flush=True)
            sys.exit(3)
    else:
        if args.parts:
            unknown = set(args.parts) - {p['name'] for p in parts}
            if unknown:
                sys.exit(f'unknown parts {sorted(unknown)}; the table has '
                         f'{[p["name"] for p in parts]}')
        # a part left out now keeps what an earlier call measured (read, not trained)
        results['parts'] = {}
        ctx['done'] = results['parts']
        for p in parts:
            run = run_mutual if p.get('kind') == 'mutual' else run_part
            if not args.parts or p['name'] in args.parts:
                results['parts'][p['name']] = run(ctx, p)
            elif not args.dry_run:
                results['parts'][p['name']] = run(
                    dict(ctx, args=argparse.Namespace(**dict(vars(args), summarize=True))), p)
    if args.dry_run:
        return
    report(table, args, results)


if __name__ == '__main__':
    main()
