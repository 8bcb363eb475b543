"""Evidence that a dense-prediction distillation method beats its baseline: one
resumable command per table, a teacher gate, >= 3 seeds, medians and paired per-seed
differences with 95 % intervals (the protocol of ``cls_evidence.py``, for the
segmentation and detection tracks).

    python tools/benchmarks/dense_evidence.py {disoptnet,det-kd,det-kd-generic,det-ld,
                                               det-ld-cross-modal}
        [--seeds 0 1 2]
        [--methods ...] [--extra] [--jobs 2] [--threads 1] [--work-dir DIR]
        [--readme README] [--results-dir DIR] [--full [--dataset ...] [--folds ...]]
        [--dry-run] [--summarize]

What it does, in order (every step reuses what an earlier, interrupted call finished):

1. generates the synthetic benchmark at the table's scale (CPU scale; ``--full`` reads
   the real data the README says how to prepare);
2. trains the teacher **once** (seed 0; one per fold with ``--folds``) on its own
   modality / data, with all the cores, and reads its score on its own test set;
3. trains the student baseline for every seed;
4. **the gate** (``results.json`` records it; exit status 3): ``disoptnet``: the optical
   teacher's building IoU on optical images must beat the SAR baseline's median by at
   least ``--gate`` points (5); ``det-kd``: the teacher's mAP must be at least
   ``--gate`` times the hard-label student's median (1.5x). A teacher that knows no
   more than its student cannot show a distillation effect: the student grid does not
   run;
5. logs each loss term's value and student-gradient norm at the first steps
   (``tools/analysis/loss_terms.py``, seed 0, 4 batches) for every row;
6. trains every row for every seed, with the baseline's seeds, data and schedule; each
   run's config is written next to it (``<run>/run_config.py``: the shipped config as
   base plus the benchmark's overrides: scale, teacher checkpoint, the row's loss
   settings), trained with ``tools/train.py --resume`` (an interrupted run continues
   from its last checkpoint; a finished one has ``final.json`` and is not run again);
7. reports each row as the median over seeds and as the paired per-seed difference to
   the baseline with its 95 % t interval (``mmkd.utils.paired_stats``; ``det-kd`` also
   as the per-seed ratio to the hard student, the "soft alone >= 0.8x hard" claim),
   the step time against the baseline's, the paper's numbers for the same rows, and
   writes ``results.json``, ``table.md``, ``box.png`` (per-seed values per row, the
   detection study's Fig. 2 style: boxes with 1.5 IQR whiskers, each seed a point) and
   ``paired_diff.png`` (mean paired difference, 95 % interval, each seed a point) into
   ``--results-dir`` and the block between ``<!-- evidence:<table> begin -->`` and
   ``<!-- evidence:<table> end -->`` of ``--readme``.

Tables (``TABLES`` in ``dense_evidence_lib/tables.py``):

- ``disoptnet``: synthetic SAR/optical buildings (``configs/disoptnet``): optical
  EfficientNet U-Net teacher; the same-architecture SAR-only EfficientNet U-Net
  (no teacher, alpha = beta = 0) as the baseline; DisOptNet k = 3; Fine-tune from the
  optical model, DML and Structured KD (the talk's comparison rows); the split
  positions k = 1, 2, 4. ``--extra`` adds the DisOptNet network trained on SAR alone
  (same two branches and fusion, no teacher), the authors'-code objective and mmseg's
  U-Net.
- ``det-kd``: synthetic detection (``configs/det_kd``): RetinaNet R50-PAFPN teacher,
  R18-FPN student; cells hard, hard + MSE / PDF-Distil / DeFeat, soft alone with each
  soft-target normalisation (``teacher_pos``, the default; ``hard_pos``;
  ``target_sum``, the default before), soft + MSE / PDF-Distil / DeFeat;
  ``--extra`` adds hard + soft (the study's Table 1 row).
- ``det-kd-generic`` (issue #12): the generic counterpart of ``det-kd``, for the
  study's "generic -> remote sensing" reading: the same classes, renderings, networks,
  scale and protocol on the synthetic *generic* scenes (``make_synthetic_det(...,
  style='generic')``: 1-3 objects per scene, each 25-70 % of the side, VOC-like;
  ``configs/det_kd/generic``, mmdet's default anchors, ``octave_base_scale`` 4); rows
  hard, hard + PDF-Distil, hard + MSE, soft alone (``teacher_pos``); the same gate
  (1.5x) and claim (soft >= 0.8x hard). Its report adds the seed spread (seeds,
  range, IQR, range / median) of each shared row and the per-seed soft / hard ratio
  beside ``det-kd``'s, read from ``configs/det_kd/evidence/results.json`` (never
  rerun): the study's "stable on generic data, varying run to run on remote-sensing
  data". No ``--full``: the generic set at full scale is VOC (``configs/det_kd/voc``).
- ``det-ld`` (issue #14): LD as mmdet ships it (``configs/det_kd/ld``: mmdet's
  ``KnowledgeDistillationSingleStageDetector`` with an ``LDHead``), on ``det-kd``'s data,
  scale, schedule and gate (1.5x): its own GFL R50-PAFPN teacher (LD distils GFL's box
  distributions, which the RetinaNet teacher has not), the GFL R18-FPN student on the
  labels alone as the baseline, and LD. No ``--full``: LD's full scale is mmdet's COCO
  recipe (``mmdet::ld/ld_r18-gflv1-r101_fpn_1x_coco.py``).
- ``det-ld-cross-modal`` (issue #14): cross-modal LD, declared after ``det-ld``'s gate
  refused the same-modality pair: ``det-ld``'s GFL R50-PAFPN teacher on the optical
  rendering (64 epochs, the longer of the two ``det-ld`` measured) teaches the GFL
  R18-FPN that reads the infrared rendering of the same scenes
  (``mmkd.PairedKDSingleStageDetector``: mmdet's KD detector and ``LDHead`` with the
  student and the teacher reading two modalities of the paired batch); the baseline is
  that student on infrared alone. ``det-kd``'s data, scale, student schedule and gate
  (the optical teacher on optical test images >= 1.5x the infrared baseline's median).

CPU scale (the default; sized for 2 cores, ``--jobs 2 --threads 1``; how it was
estimated: the ``cpu`` entries of ``TABLES`` and ``estimate()`` in
``dense_evidence_lib/runs.py``; the script prints its own estimate, and again from the
measured baseline step once the baselines are done):

- ``disoptnet``: scenes generated at 64 px (EfficientNet's stride-16 and stride-32
  stages are 4x4 and 2x2, not 1x1 as at 32 px), SAR speckle of 1 look, 400 training /
  500 test scenes (~0.5 M building pixels; the per-scene IoU spread of ~10-15 points
  over sqrt(500) puts the test set's own standard error under 1 IoU point, and every
  row is read on the same scenes), EfficientNet-**B0** encoders (the configs' B3 costs
  ~2x a step here), batch 8, AdamW 3e-3 poly as the configs; teacher 2,000 iterations,
  every student 600 iterations. Estimate: a SAR baseline step of ~0.24 s on one
  thread, from the two step times measured before on this machine (0.14 s at 32 px
  with B0, ~2 s at 128 px with B3, 300 iterations each) fitted as a fixed per-step
  cost plus one proportional to pixels x the encoder's FLOPs; DisOptNet ~2.1x the
  baseline's step (measured at 32 px), DML ~2x (two networks), Structured KD ~1.4x
  (a teacher forward). Teacher ~5 min, the 24 student runs ~50 min of steps plus
  ~5 min of start-up and evaluation: ~1 hour.
- ``det-kd``: scenes generated at 128 px (objects 10-28 px, the synthetic-det anchors
  of ``octave_base_scale`` 1.5), 200 training / 300 test scenes (~1,000 boxes),
  batch 8, SGD 0.01 with a warm-up of a fifth of the run (at most 200 iterations) and
  steps at 2/3 and 11/12 of the epochs; teacher 32 epochs (800 iterations), every
  student 16 epochs (400 iterations; at 8 epochs the hard students reached only
  0.7-5.6 mAP against the teacher's 22.7, too far from converged to compare cells).
  Measured: a hard-student step of ~0.75 s on one thread, KD steps 1.6-1.8x that, a
  teacher step of ~0.74 s on two threads. Teacher ~10 min; each row's 3 seeds ~15-25
  min on the 2 cores (the main cells hard, hard+mse, hard+pdf, hard+defeat, soft,
  soft+pdf ~80 min; all 10 rows ~2 h 10 min: run them in two or three calls, each
  resumes what the others finished).
- ``det-kd-generic``: ``det-kd``'s scale on the generic scenes (128 px, 200 training /
  300 test scenes, ~600 boxes against the aerial set's ~1,000, as VOC has fewer
  objects per image than VEDAI; teacher 32 / students 16 epochs), so that the two
  tables differ in the scenes only. Estimate with ``det-kd``'s assumed steps (0.75 s a
  hard step, KD rows 1.6-1.7x): teacher ~10 min, the 12 student runs (4 rows x 3
  seeds, ``--jobs 2 --threads 1``) ~48 min: ~1 hour. With the step ``det-kd``'s own
  measured call saw under load (1.11 s; its teacher took 17 min) ~75 min.

``--full`` runs the same table at the papers' scale on a GPU: ``disoptnet`` on
SpaceNet 6 (``data/spacenet6_512``, EfficientNet-B3, the authors' SGD schedule of 200
epochs; every row's shipped synthetic config with the SpaceNet 6 pipelines,
preprocessors and schedule of ``configs/_base_/datasets/spacenet6_sar_optical.py`` and
``configs/disoptnet/_base_/schedule_spacenet6.py``); ``det-kd`` on VEDAI
(``--dataset vedai25`` 512 px or ``vedai12`` 1024 px, the ``configs/det_kd/vedai``
configs, ``--folds`` 1..5 as the study: each seed's value is its mean over the folds,
one teacher per fold) or xView (``--dataset xview``: the synthetic configs pointed at
``data/xView/coco_chips_512``, 60 classes, ``--folds`` when converted with folds).
"""
import argparse
import os
import os.path as osp
import sys

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
import _evidence_common as common  # noqa: E402

REPO = common.REPO
sys.path.insert(0, REPO)
# the benchmark lives in dense_evidence_lib/ (one module per responsibility: its
# __init__); this file is the command line (parse_args, main) and the module the tests
# import (which read aggregate, summarise, spread_comparison and spread_lines here)
from dense_evidence_lib.context import keep_rows, make_data, setup  # noqa: E402
from dense_evidence_lib.overrides import STAGES  # noqa: E402
from dense_evidence_lib.report import report  # noqa: E402
from dense_evidence_lib.runs import (  # noqa: E402
    WRITER,
    aggregate,  # noqa: F401
    estimate,
    run_table,
    summarise,  # noqa: F401
)
from dense_evidence_lib.spread import spread_comparison, spread_lines  # noqa: E402,F401
from dense_evidence_lib.tables import TABLES  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('table', choices=sorted(TABLES))
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--methods', nargs='+',
                   help='a subset of the rows (the baseline always runs); optional rows '
                   'may be named here')
    p.add_argument('--extra', action='store_true', help='also the optional rows')
    p.add_argument('--full', action='store_true',
                   help="the papers' data and schedules (GPU): SpaceNet 6, VEDAI, xView")
    p.add_argument('--dataset', help='--full det-kd: vedai25 (default), vedai12, xview')
    p.add_argument('--folds', type=int, nargs='+',
                   help='--full det-kd: folds (VEDAI default 1..5, as the study)')
    p.add_argument('--size', type=int, help='scene side (px) of the synthetic data')
    p.add_argument('--looks', type=float, help='disoptnet: SAR speckle looks')
    p.add_argument('--sar-cell', type=int,
                   help='disoptnet: SAR resolution cell in optical pixels (default 1; 2: '
                   'the SAR image at half the optical resolution)')
    p.add_argument('--num-labelled', type=int,
                   help='disoptnet: only N training scenes keep their masks (the others '
                   "ignored, 255): the teacher and the teacher-free rows train on the N, "
                   'the distillation rows on every pair')
    p.add_argument('--tag', help='a named variant of the table: its own work dir, results '
                   'dir (<results_dir>_<tag>) and README block (evidence:<table>_<tag>)')
    p.add_argument('--arch', choices=sorted(STAGES), help='disoptnet: EfficientNet')
    p.add_argument('--num-train', type=int, help='training scenes')
    p.add_argument('--num-test', type=int, help='test scenes')
    p.add_argument('--iters', type=int, help='disoptnet: student iterations')
    p.add_argument('--teacher-iters', type=int, help='disoptnet: teacher iterations')
    p.add_argument('--epochs', type=int,
                   help='det-kd: student epochs (disoptnet --full: epochs)')
    p.add_argument('--teacher-epochs', type=int)
    p.add_argument('--gate', type=float,
                   help='disoptnet: IoU points the teacher must beat the median baseline '
                   'by (5); det-kd: the ratio of its mAP to the median hard student\'s '
                   '(1.5; 1.05 with --full, the study\'s teachers being ~1.1x)')
    common.add_run_arguments(
        p, 'the data (default: generated under data/; --full: data/spacenet6_512, '
        'data/VEDAI, data/xView/coco_chips_512)',
        'where results.json, table.md and the PNGs go')
    p.add_argument('--keep-rows', action='store_true',
                   help="keep the rows of the results.json already in --results-dir that "
                   "this call does not run, when this call's teacher and baseline "
                   "reproduce that file's to the last digit (the runs are deterministic);"
                   " refused otherwise")
    p.add_argument('--dry-run', action='store_true', help='write configs, print commands')
    args = p.parse_args(argv)
    table = TABLES[args.table]
    if args.full and not table.get('full'):
        sys.exit(f'--full: {args.table} has no full scale (TABLES[{args.table!r}]'
                 f"['full']); {table.get('full_hint', '')}")
    suffix = '_full' + (f'_{args.dataset}' if args.dataset else '') if args.full else ''
    if args.tag:
        if not args.tag.replace('-', '').replace('_', '').isalnum():
            p.error(f'--tag {args.tag!r}: letters, digits, - and _ only')
        suffix += '_' + args.tag
    args.block = args.table + ('_' + args.tag if args.tag else '')
    args.work_dir = osp.abspath(args.work_dir or osp.join(
        REPO, 'work_dirs', 'evidence', args.table + suffix))
    args.results_dir = osp.abspath(args.results_dir or osp.join(
        REPO, table['results_dir'] + suffix))
    args.readme = None if args.no_readme else (
        args.readme or (None if args.full else osp.join(REPO, table['readme'])))
    if args.gate is None:
        args.gate = table['gate']['full' if args.full else 'value']
    return args


def main(argv=None):
    args = parse_args(argv)
    ctx = setup(args)
    table, scale = ctx['table'], ctx['scale']
    if len(args.seeds) < 3:
        print(f'[evidence] warning: {len(args.seeds)} seed(s); the protocol asks for >= 3',
              flush=True)
    if scale.get('num_test') is not None and scale['num_test'] < scale['min_test']:
        sys.exit(f'{scale["num_test"]} test scenes: the protocol asks for >= '
                 f'{scale["min_test"]} (--num-test) to resolve a few '
                 f'{table["unit"]}')
    est = estimate(ctx, ctx['entries'])
    if est and not args.summarize:
        print(f'[evidence] estimate (step {est["step_s"]:.2f} s assumed): teacher '
              f'~{est["teacher_min"]:.0f} min, then ~{est["students_min"]:.0f} min for '
              f'{len(ctx["entries"])} rows x {len(args.seeds)} seeds at --jobs '
              f'{args.jobs}', flush=True)
    if not (args.dry_run or args.summarize):
        make_data(ctx)
    os.makedirs(args.work_dir, exist_ok=True)
    res = run_table(ctx)
    if args.dry_run:
        return None
    res.update(table=args.table, title=table['title'], scale=scale, seeds=args.seeds,
               folds=ctx['folds'], gate=dict(table['gate'], value=args.gate),
               rows=[e['key'] for e in ctx['entries']], estimate=est,
               command=' '.join(['python', WRITER] + (sys.argv[1:] if argv is None
                                                     else list(argv))))
    if args.keep_rows and res.get('gate_passed'):
        keep_rows(ctx, res)
    report(ctx, res)
    if res.get('gate_passed') is False:
        print('[evidence] ' + res['gate_failure'], flush=True)
        sys.exit(3)
    return res


if __name__ == '__main__':
    main()
