"""Evidence that a dense-prediction distillation method beats its baseline: one
resumable command per table, a teacher gate, >= 3 seeds, medians and paired per-seed
differences with 95 % intervals (the protocol of ``cls_evidence.py``, for the
segmentation and detection tracks).

    python tools/benchmarks/dense_evidence.py {disoptnet,det-kd,det-kd-generic}
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

Tables (``TABLES`` below):

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

CPU scale (the default; sized for 2 cores, ``--jobs 2 --threads 1``; how it was
estimated: the ``cpu`` entries below and ``estimate()``; the script prints its own
estimate, and again from the measured baseline step once the baselines are done):

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
import copy
import importlib.util
import json
import math
import os
import os.path as osp
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
import _evidence_common as common  # noqa: E402

REPO = common.REPO
sys.path.insert(0, REPO)
from mmkd.utils.paired_stats import (  # noqa: E402
    format_difference,
    paired_difference,
    paired_ratio,
    ratio_verdict,
    teacher_gate,
    teacher_gate_ratio,
    verdict,
)

WRITER = 'tools/benchmarks/dense_evidence.py'
# EfficientNet stages 1..5 (strides 2..32): the U-Net decoder's in_channels
STAGES = dict(b0=[16, 24, 40, 112, 320], b3=[24, 32, 48, 136, 384],
              b4=[24, 32, 56, 160, 448])


# --------------------------------------------------------------------------- tables
def row(key, label, config, cost=1.0, optional=False, **extra):
    """One row of a table: ``cost`` is its step time relative to the baseline's (for
    the estimate only); ``optional`` rows run with ``--extra`` or when named."""
    return dict(key=key, label=label, config=config, cost=cost, optional=optional,
                **extra)


D = 'disoptnet/'
K3 = D + 'disoptnet_effnet-b3-unet_k3_synthetic-buildings.py'


def _split(k):
    return D + f'ablation/disoptnet_effnet-b3-unet_k{k}_synthetic-buildings.py'


DISOPTNET_ROWS = [  # the main comparisons first: a grid cut short still answers them
    row('baseline', 'SAR-only EfficientNet U-Net (same encoder and decoder; no teacher, '
        'α = β = 0)', D + 'effnet-b3-unet_synthetic-buildings-sar.py'),
    row('k3', 'DisOptNet, k = 3 (stride 8, the authors\' split)', K3, cost=2.1),
    row('finetune', 'Fine-tune: SAR network started from the optical teacher',
        D + 'finetune-from-optical_effnet-b3-unet_synthetic-buildings-sar.py',
        init_from_teacher=True),
    row('dml', 'DML (SAR and optical networks trained together)',
        D + 'dml_effnet-b3-unet_synthetic-buildings.py', cost=2.0),
    row('skd', 'Structured KD (pixel-wise λ 10 + pair-wise λ 1)',
        D + 'skd_effnet-b3-unet_synthetic-buildings.py', cost=1.4),
    row('k1', 'DisOptNet, k = 1 (stride 2)', _split(1), cost=2.3),
    row('k2', 'DisOptNet, k = 2 (stride 4)', _split(2), cost=2.2),
    row('k4', 'DisOptNet, k = 4 (stride 16)', _split(4), cost=1.9),
    row('k3_sar-only', 'DisOptNet network (k = 3) trained on SAR alone: both branches '
        'and the fusion, no teacher, branch from scratch',
        D + 'effnet-b3-unet_synthetic-buildings-sar.py', cost=1.8, optional=True,
        network_from=K3),
    row('k3_authors-code', "DisOptNet, k = 3, the authors' code's objective (raw MSE, "
        'pseudo-labels)', D + 'disoptnet_effnet-b3-unet_k3_synthetic-buildings'
        '_authors-code.py', cost=2.2, optional=True),
    row('unet', "SAR-only mmseg U-Net (another architecture)",
        D + 'unet-s5_synthetic-buildings-sar.py', cost=1.5, optional=True),
    # issue #14: channel-wise distillation of the logits from the frozen optical
    # teacher (TorchDistiller's segmentation settings), beside Structured KD
    row('cwd', 'CWD on the logits (τ 4, weight 3; frozen optical teacher)',
        D + 'cwd_effnet-b3-unet_synthetic-buildings.py', cost=1.4, optional=True),
    # --num-labelled (issue #12): the baseline's network on every training scene, the
    # unlabelled ones' masks ignored: the distillation rows' sampling without a teacher
    row('sar_all-scenes', 'SAR-only EfficientNet U-Net on every training scene (the '
        "unlabelled scenes' masks ignored; no teacher)",
        D + 'effnet-b3-unet_synthetic-buildings-sar.py', optional=True, all_scenes=True),
]

K = 'det_kd/'


def _cell(cell):
    return K + f'kd_{cell}_r50-pafpn_r18-fpn_synthetic-det.py'


DET_ROWS = [
    row('hard', 'hard (ground truth only, no teacher)',
        K + 'retinanet_r18-fpn_synthetic-det.py', cell='hard'),
    row('hard+mse', 'hard + MSE', _cell('hard+mse'), cost=1.65, cell='hard+mse'),
    row('hard+pdf', 'hard + PDF-Distil', _cell('hard+pdf'), cost=1.68, cell='hard+pdf'),
    row('hard+defeat', 'hard + DeFeat', _cell('hard+defeat'), cost=1.77,
        cell='hard+defeat'),
    row('soft', "soft alone (QFL soft targets ÷ teacher-positive anchors, "
        "'teacher_pos', the default)", _cell('soft'), cost=1.6, cell='soft',
        normalize='teacher_pos'),
    row('soft_hard-pos', "soft alone, ÷ the hard loss's positive anchors ('hard_pos')",
        _cell('soft'), cost=1.65, cell='soft', normalize='hard_pos'),
    row('soft_target-sum', "soft alone, ÷ the sum of the teacher's scores "
        "('target_sum', the default before)", _cell('soft'), cost=1.6, cell='soft',
        normalize='target_sum'),
    row('soft+mse', 'soft + MSE', _cell('soft+mse'), cost=1.65, cell='soft+mse'),
    row('soft+pdf', 'soft + PDF-Distil', _cell('soft+pdf'), cost=1.68, cell='soft+pdf'),
    row('soft+defeat', 'soft + DeFeat', _cell('soft+defeat'), cost=1.77,
        cell='soft+defeat'),
    row('hard+soft', 'hard + soft', _cell('hard+soft'), cost=1.6, optional=True,
        cell='hard+soft'),
    # dense-prediction feature losses beyond the study (issue #14), each with its
    # authors' settings; not in the study's tables, so no paper column
    row('hard+cwd', 'hard + CWD (channel-wise distillation)', _cell('hard+cwd'),
        cost=1.7, optional=True, cell='hard+cwd'),
    row('hard+pkd', 'hard + PKD (Pearson imitation)', _cell('hard+pkd'), cost=1.7,
        optional=True, cell='hard+pkd'),
    row('hard+mgd', 'hard + MGD (masked generative)', _cell('hard+mgd'), cost=1.8,
        optional=True, cell='hard+mgd'),
    row('hard+fgd', 'hard + FGD (focal and global)', _cell('hard+fgd'), cost=1.9,
        optional=True, cell='hard+fgd'),
    # MGD with alpha scaled to the input area (declared before it was run: the
    # authors' 2e-5 at 1333x800 summed over 65x fewer positions here)
    row('hard+mgd-area', 'hard + MGD, α × the input-area ratio (1.3e-3)',
        _cell('hard+mgd-area'), cost=1.8, optional=True, cell='hard+mgd-area'),
]

G = K + 'generic/'
# the rows the generic table shares with det-kd (issue #12), in the order they answer
# the study's readings: feature imitation over hard, then soft alone against hard
GENERIC_KEYS = ('hard', 'hard+pdf', 'hard+mse', 'soft')


def _generic_row(key):
    """det-kd's row ``key`` (label, cost, cell, normalisation) on the generic scenes'
    configs (``configs/det_kd/generic/``)."""
    e = next(r for r in DET_ROWS if r['key'] == key)
    config = (G + 'retinanet_r18-fpn_synthetic-det-generic.py' if key == 'hard' else
              G + f'kd_{e["cell"]}_r50-pafpn_r18-fpn_synthetic-det-generic.py')
    return dict(e, config=config, optional=False)


DET_GENERIC_ROWS = [_generic_row(k) for k in GENERIC_KEYS]

TABLES = {
    'disoptnet': dict(
        title='DisOptNet on the synthetic SAR/optical buildings',
        track='seg', metric='IoU.building', metric_scale=1.0,
        metric_name='building IoU (%)', unit='IoU points',
        also=('Dice.building', 'Precision.building', 'Recall.building'),
        teacher=row('teacher', 'Optical EfficientNet U-Net (the teacher, trained once; '
                    'tested on optical images)',
                    D + 'effnet-b3-unet_synthetic-buildings-optical_teacher.py', cost=1.0),
        rows=DISOPTNET_ROWS, main='k3',
        gate=dict(kind='gap', value=5.0, full=5.0,
                  hint='Train the teacher longer (--teacher-iters) or widen the '
                  'optical-SAR gap (fewer SAR looks: --looks, larger scenes: --size)'),
        compare=(('k3', 'finetune'), ('k3', 'dml'), ('k3', 'skd'), ('k1', 'k3'),
                 ('k2', 'k3'), ('k4', 'k3'), ('k3', 'k3_sar-only'), ('cwd', 'skd'),
                 # --num-labelled: each distillation row against the same sampling
                 # without a teacher
                 ('k3', 'sar_all-scenes'), ('dml', 'sar_all-scenes'),
                 ('skd', 'sar_all-scenes'), ('cwd', 'sar_all-scenes')),
        readme='configs/disoptnet/README.md', results_dir='configs/disoptnet/evidence',
        paper_source=("Kang's DisOptNet talk (TGRS 2022 numbers), SpaceNet 6 SAR test "
                      'building IoU (%): T1 = its comparison with extraction networks, '
                      'T2 = its comparison with transfer / distillation methods'),
        paper={
            'baseline': '51.45 (Efficient-UNet, T1); 49.81 (SAR only, T2)',
            'k3': '54.08 (B3, T1); 54.59 (B4, T1 and T2)',
            'finetune': '51.34 (T2)', 'dml': '49.67 (T2)', 'skd': '33.49 (T2)',
            'k1': 'split study: chart only', 'k2': 'split study: chart only',
            'k4': 'split study: chart only', 'unet': '50.52 (UNet, T1)'},
        cpu=dict(size=64, looks=1.0, sar_cell=1, arch='b0', batch=8, num_train=400,
                 num_test=500,
                 teacher_iters=2000, iters=600, min_test=300,
                 est_step_s=0.24, est_teacher_step_s=0.15, est_overhead_s=25),
        full=dict(dataset='spacenet6', arch=None, batch=8, teacher_epochs=200,
                  epochs=200, min_test=0),
    ),
    'det-kd': dict(
        title='Detection KD on the synthetic benchmark (RetinaNet R50-PAFPN -> R18-FPN)',
        track='det', metric='coco/bbox_mAP', metric_scale=100.0,
        metric_name='bbox mAP (%)',
        unit='mAP points', also=('coco/bbox_mAP_50', 'coco/bbox_mAP_s'),
        teacher=row('teacher', 'RetinaNet R50-PAFPN (the teacher, trained once)',
                    K + 'retinanet_r50-pafpn_synthetic-det_teacher.py', cost=1.0),
        rows=DET_ROWS, main='hard+pdf',
        gate=dict(kind='ratio', value=1.5, full=1.05,
                  hint='Train the teacher longer (--teacher-epochs)'),
        compare=(('soft', 'soft_hard-pos'), ('soft', 'soft_target-sum'),
                 ('soft+mse', 'soft'), ('soft+pdf', 'soft'), ('soft+defeat', 'soft'),
                 ('hard+pdf', 'hard+mse'), ('hard+defeat', 'hard+mse')),
        # the claim, soft alone >= 0.8x hard, for every normalisation candidate
        ratio_claims={'soft': 0.8, 'soft_hard-pos': 0.8, 'soft_target-sum': 0.8},
        readme='configs/det_kd/README.md', results_dir='configs/det_kd/evidence',
        paper_source=('Lê & Pham Tables 1-2, bbox mAP (%): VOC / xView / VEDAI25 / '
                      'VEDAI12 (VEDAI25: median of 4 runs of the 5-fold average)'),
        paper={'teacher': '55.67 / 84.02 / 80.91 / 85.46',
               'hard': '50.12 / 76.06 / 72.49 / 76.57',
               'hard+soft': '51.22 / 77.27 / 72.66 / 80.51',
               'hard+mse': '52.29 / 76.84 / 73.22 / 77.75',
               'hard+pdf': '52.94 / 77.99 / 76.68 / 81.10',
               'hard+defeat': '53.91 / 76.73 / 76.63 / 78.36',
               'soft': '50.44 / 70.23 / 66.54 / 78.15',
               'soft+mse': '50.48 / 71.15 / 68.83 / 78.44',
               'soft+pdf': '52.24 / 72.21 / 77.19 / 80.13',
               'soft+defeat': '51.16 / 74.07 / 73.75 / 79.21'},
        cpu=dict(size=128, batch=8, num_train=200, num_test=300, teacher_epochs=32,
                 epochs=16, min_test=200,
                 est_step_s=0.75, est_teacher_step_s=0.74, est_overhead_s=40),
        full=dict(dataset='vedai25', batch=8, teacher_epochs=24, epochs=24, min_test=0),
    ),
}
TABLES['det-kd-generic'] = dict(
    TABLES['det-kd'],
    title='Detection KD on the synthetic generic scenes (RetinaNet R50-PAFPN -> R18-FPN)',
    teacher=row('teacher', 'RetinaNet R50-PAFPN (the teacher, trained once)',
                G + 'retinanet_r50-pafpn_synthetic-det-generic_teacher.py', cost=1.0),
    rows=DET_GENERIC_ROWS, main='hard+pdf',
    compare=(('hard+pdf', 'hard+mse'), ),
    ratio_claims={'soft': 0.8},
    results_dir='configs/det_kd/evidence_generic',
    paper_source=('Lê & Pham Tables 1-2, bbox mAP (%): VOC (generic) / VEDAI25 (remote '
                  'sensing, median of 4 runs of the 5-fold average)'),
    paper={k: ' / '.join(v.split(' / ')[i] for i in (0, 2))
           for k, v in TABLES['det-kd']['paper'].items()
           if k in GENERIC_KEYS + ('teacher', )},
    # the same scale as det-kd's, on the generic scenes: the runs differ in the data only
    cpu=dict(TABLES['det-kd']['cpu'], style='generic'),
    full=None,  # the generic set at full scale is VOC: configs/det_kd/voc/, tools/train.py
    # the seed spread of the shared rows beside the aerial table's (read, never rerun)
    spread_against=dict(table='det-kd', results='configs/det_kd/evidence/results.json',
                        rows=GENERIC_KEYS, base='hard', ratio='soft'),
)

STYLE_TEXT = {'generic': '1-3 objects per scene, each 25-70 % of the side long'}

DET_FULL = {  # --full --dataset: the resolution and the default folds of each dataset
    'vedai25': dict(res=512, default_folds=[1, 2, 3, 4, 5]),
    'vedai12': dict(res=1024, default_folds=[1, 2, 3, 4, 5]),
    'xview': dict(res=512, default_folds=[None]),
}


# --------------------------------------------------------------------------- overrides
def _effnet_arch(model, arch):
    """Overrides giving an EfficientNet U-Net (or DisOptNet) encoder ``arch``, and its
    decoders the matching stage widths."""
    out = {}
    if (model.get('backbone') or {}).get('type') == 'mmkd.EfficientNetEncoder':
        out['backbone'] = dict(arch=arch)
        out['decode_head'] = dict(in_channels=STAGES[arch])
    if model.get('pseudo_optical_backbone'):
        out['pseudo_optical_backbone'] = dict(arch=arch)
        out['pseudo_optical_head'] = dict(in_channels=STAGES[arch])
    return out


def _plain(x):
    return x.to_dict() if hasattr(x, 'to_dict') else copy.deepcopy(x)


def model_overrides(ctx, entry, fold):
    """What every row's model needs from the benchmark: the scale's encoder, the
    teacher trained here (its written config and checkpoint), the row's loss settings."""
    scale = ctx['scale']
    arch = scale.get('arch')
    cfg = common.load_config(entry['config'])
    model = cfg.model
    teacher_dir = ctx['teacher_dir'](fold)
    over = {}
    if entry.get('network_from'):  # another row's network, trained as a plain model
        net = _plain(common.load_config(entry['network_from']).model.student)
        net['pseudo_optical_init'] = None  # no teacher weights either
        if arch:
            net = common.merge(net, _effnet_arch(net, arch))
        return dict(model=dict(_delete_=True, **net))
    if model.get('type') == 'mmkd.Distiller':
        m = {}
        if arch:
            m['student'] = _effnet_arch(model.student, arch)
        if model.student.get('pseudo_optical_init'):
            m.setdefault('student', {})['pseudo_optical_init'] = dict(
                checkpoint=teacher_dir)
        # the teacher as trained here: its own written config (same encoder) and weights;
        # DML's trainable optical peer is that network too, from scratch
        t = dict(model=osp.join(teacher_dir, 'run_config.py'))
        if not model.teacher.get('trainable'):
            t['checkpoint'] = teacher_dir
        m['teacher'] = t
        if 'soft' in (model.get('losses') or {}):
            m['losses'] = dict(soft=soft_overrides(model, entry))
        over['model'] = m
    elif arch:
        over['model'] = _effnet_arch(model, arch)
    if entry.get('init_from_teacher'):
        # the shipped config's load_from is dropped by tools/train.py --resume: start
        # from the teacher's weights through init_cfg instead (non-strict: the stem
        # convolution has 4 SAR bands, not 3)
        over['load_from'] = None
        over.setdefault('model', {})['init_cfg'] = dict(
            type='Pretrained', checkpoint=ctx['teacher_file'](fold))
    return over


def soft_overrides(model, entry):
    """The soft-target loss's normalisation, written out (``'hard_pos'`` with the
    student head's own anchors, assigner and border)."""
    soft = dict(normalize=entry.get('normalize', 'teacher_pos'))
    if soft['normalize'] == 'hard_pos':
        head = model.student.bbox_head
        train_cfg = model.student.get('train_cfg') or {}
        soft['anchor_generator'] = _plain(head.anchor_generator)
        if train_cfg.get('assigner'):
            soft['assigner'] = _plain(train_cfg['assigner'])
        soft['allowed_border'] = train_cfg.get('allowed_border', -1)
    return soft


def seg_overrides(ctx, entry, role, fold):
    """Data, loaders and schedule of a segmentation run at the CPU scale."""
    scale, root = ctx['scale'], ctx['data_root']
    over = {}
    for split in ('train', 'val', 'test'):
        ds = dict(data_root=root)
        if split != 'train':  # measured on the test scenes (val: the same ones)
            ds['split_file'] = 'splits/test.txt'
        over[f'{split}_dataloader'] = dict(num_workers=0, persistent_workers=False,
                                           dataset=ds)
    over['train_dataloader']['batch_size'] = scale['batch']
    if scale.get('num_labelled') and labelled_only(entry, role):
        over['train_dataloader']['dataset']['split_file'] = 'splits/train_labelled.txt'
    iters = scale['teacher_iters' if role == 'teacher' else 'iters']
    over['train_cfg'] = dict(max_iters=iters, val_interval=iters)
    over['param_scheduler'] = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0,
                                    end=iters, by_epoch=False)]
    over['default_hooks'] = dict(
        checkpoint=dict(interval=max(1, iters // 4), max_keep_ckpts=1, by_epoch=False),
        logger=dict(interval=25))
    return over


def labelled_only(entry, role):
    """With ``--num-labelled``: whether a run trains on the labelled scenes only. The
    teacher and every network trained without a teacher (the baseline, fine-tuning,
    ``k3_sar-only``) train on what is labelled, as a user without the optical pairs
    would; the distillation rows on every pair (the teacher's terms need no label, the
    task losses ignore the unlabelled scenes' 255 masks); ``sar_all-scenes`` is the
    baseline's network on every scene (their sampling, no teacher)."""
    if role == 'teacher':
        return True
    if entry.get('all_scenes'):
        return False
    return common.load_config(entry['config']).model.get('type') != 'mmkd.Distiller'


SN6_NAMES = ('paired_train_pipeline', 'paired_test_pipeline', 'sar_train_pipeline',
             'sar_test_pipeline', 'optical_train_pipeline', 'optical_test_pipeline',
             'sar_preprocessor', 'optical_preprocessor', 'paired_preprocessor')


def spacenet6_overrides(ctx, entry, role, over, fold):
    """``--full`` segmentation: the row's synthetic config (with ``over`` merged) moved
    onto SpaceNet 6: each pipeline and preprocessor replaced by its SpaceNet 6
    namesake (``_base_/datasets/spacenet6_sar_optical.py``), the loaders by SpaceNet
    6's, the authors' schedule (``disoptnet/_base_/schedule_spacenet6.py``)."""
    syn = common.load_config('_base_/datasets/synthetic_buildings_sar_optical.py')
    sn6 = common.load_config('_base_/datasets/spacenet6_sar_optical.py')
    sched = common.load_config('disoptnet/_base_/schedule_spacenet6.py')
    pairs = [(_plain(syn[n]), _plain(sn6[n])) for n in SN6_NAMES]

    def swap(x):
        x = _plain(x)
        for a, b in pairs:
            if x == a:
                return copy.deepcopy(b)
        if isinstance(x, dict):
            return {k: swap(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(swap(v) for v in x)
        return x

    cfg = common.load_config(entry['config'])
    cfg.merge_from_dict(copy.deepcopy(over), allow_list_keys=True)
    root = ctx['data_root']
    out = {k: v for k, v in over.items() if k not in ('model', ) and
           not k.endswith('_dataloader')}
    out['model'] = dict(_delete_=True, **swap(cfg.model))
    for split, template in (('train', sn6.train_dataloader), ('val', sn6.val_dataloader),
                            ('test', sn6.val_dataloader)):
        loader = _plain(template)
        ds = cfg[f'{split}_dataloader'].dataset
        loader['dataset'].update(modalities=_plain(ds.modalities), data_root=root,
                                 pipeline=swap(ds.pipeline))
        out[f'{split}_dataloader'] = dict(_delete_=True, **loader)
    epochs = ctx['scale']['teacher_epochs' if role == 'teacher' else 'epochs']
    out['optim_wrapper'] = dict(_delete_=True, **_plain(sched.optim_wrapper))
    out['param_scheduler'] = [dict(_plain(sched.param_scheduler[0]), end=epochs)]
    out['train_cfg'] = dict(_delete_=True, **dict(_plain(sched.train_cfg),
                                                  max_epochs=epochs))
    out['default_hooks'] = dict(_delete_=True, **_plain(sched.default_hooks))
    return out


def det_data_overrides(ctx, entry, fold):
    """Data and loaders of a detection run: the generated synthetic benchmark at the
    CPU scale, the xView chips with ``--full --dataset xview`` (VEDAI: the configs')."""
    scale, root = ctx['scale'], ctx['data_root']
    cfg = common.load_config(entry['config'])
    dataset = ctx['dataset']
    if dataset == 'vedai':
        return {}
    over = {}
    size = scale['size']
    if dataset == 'xview':
        train_ann, test_ann = ((f'xview_fold{fold:02d}_train.json',
                                f'xview_fold{fold:02d}_val.json') if fold else
                               ('xview_train.json', 'xview_val.json'))
        classes = xview_classes()
    else:
        train_ann, test_ann = 'annotations/train.json', 'annotations/val.json'
    for split in ('train', 'val', 'test'):
        pipe = cfg[f'{split}_dataloader'].dataset.pipeline
        i = next(i for i, t in enumerate(pipe) if t['type'] == 'Resize')
        ds = dict(data_root=root + '/', pipeline={str(i): dict(scale=(size, size))},
                  ann_file=train_ann if split == 'train' else test_ann)
        if dataset == 'xview':
            ds.update(data_prefix=dict(img='images/'), metainfo=dict(classes=classes))
        over[f'{split}_dataloader'] = dict(dataset=ds)
        if dataset == 'synthetic':
            over[f'{split}_dataloader'].update(num_workers=0, persistent_workers=False)
    over['train_dataloader']['batch_size'] = scale['batch']
    over['val_evaluator'] = dict(ann_file=osp.join(root, test_ann))
    over['test_evaluator'] = dict(ann_file=osp.join(root, test_ann))
    if dataset == 'xview':
        n = len(classes)
        if cfg.model.get('type') == 'mmkd.Distiller':
            over['model'] = dict(student=dict(bbox_head=dict(num_classes=n)))
        else:
            over['model'] = dict(bbox_head=dict(num_classes=n))
    return over


def det_schedule_overrides(ctx, role):
    """Epochs, warm-up (a fifth of the run, at most the configs' 200 iterations) and
    the steps at 2/3 and 11/12 of the run (the configs' 16 and 22 of 24 epochs)."""
    scale = ctx['scale']
    epochs = scale['teacher_epochs' if role == 'teacher' else 'epochs']
    per_epoch = math.ceil(ctx['n_train'] / scale['batch']) if ctx['n_train'] else 200
    warmup = max(1, min(200, epochs * per_epoch // 5))
    return dict(
        train_cfg=dict(max_epochs=epochs, val_interval=epochs),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=warmup),
            dict(type='MultiStepLR', begin=0, end=epochs, by_epoch=True, gamma=0.1,
                 milestones=[max(1, round(epochs * 2 / 3)),
                             max(1, round(epochs * 11 / 12))])],
        default_hooks=dict(checkpoint=dict(interval=max(1, epochs // 4), max_keep_ckpts=1),
                           logger=dict(interval=10)))


def vedai_fold_options(cfg, fold, resolution):
    """The options that move a ``vedai/`` config to ``fold`` at ``resolution``
    (``tools/dataset_converters/vedai_to_coco.py`` ``fold_options``)."""
    if fold is None:
        return {}
    path = osp.join(REPO, 'tools', 'dataset_converters', 'vedai_to_coco.py')
    spec = importlib.util.spec_from_file_location('_vedai_to_coco', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.fold_options(cfg, fold, resolution)


def xview_classes():
    """The 60 xView class names in the converter's category order (ids 1..60)."""
    path = osp.join(REPO, 'tools', 'dataset_converters', 'xview_to_coco.py')
    spec = importlib.util.spec_from_file_location('_xview_to_coco', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return tuple(mod.XVIEW_CLASSES[t] for t in sorted(mod.XVIEW_CLASSES))


def full_config(table, entry):
    """The config a row runs with ``--full --dataset vedai*``: the ``vedai/`` one."""
    cell = entry.get('cell')
    if entry['key'] == 'teacher':
        return K + 'vedai/retinanet_r50-pafpn_vedai-co_teacher.py'
    if cell == 'hard':
        return K + 'vedai/retinanet_r18-fpn_vedai-co.py'
    return K + f'vedai/kd_{cell}_r50-pafpn_r18-fpn_vedai.py'


# --------------------------------------------------------------------------- runs
def run_name(key, seed, fold):
    name = 'teacher' if key == 'teacher' else f'{key}_seed{seed}'
    return name + (f'_fold{fold:02d}' if fold is not None else '')


def make_run(ctx, entry, role, seed, fold):
    """Write the run's config (``<work-dir>/<name>/run_config.py``); the run's record."""
    args, table, scale = ctx['args'], ctx['table'], ctx['scale']
    name = run_name(entry['key'], seed, fold)
    run = dict(name=name, key=entry['key'], seed=seed, fold=fold,
               dir=osp.join(args.work_dir, name))
    os.makedirs(run['dir'], exist_ok=True)
    over = model_overrides(ctx, entry, fold)  # the teacher too: the scale's encoder
    if table['track'] == 'seg':
        if args.full:
            over = spacenet6_overrides(ctx, entry, role, common.merge(
                over, dict(randomness=dict(seed=seed, deterministic=False))), fold)
            run['final_step'] = scale['teacher_epochs' if role == 'teacher' else 'epochs']
        else:
            over = common.merge(seg_overrides(ctx, entry, role, fold), over)
            run['final_step'] = scale['teacher_iters' if role == 'teacher' else 'iters']
    else:
        over = common.merge(common.merge(det_data_overrides(ctx, entry, fold), over),
                            det_schedule_overrides(ctx, role))
        run['final_step'] = scale['teacher_epochs' if role == 'teacher' else 'epochs']
    over = common.merge(over, dict(randomness=dict(seed=seed, deterministic=False)))
    # the fold's files (VEDAI), under everything the benchmark sets itself
    over = common.merge(ctx['fold_options'](entry['config'], fold), over)
    common.write_config(osp.join(run['dir'], 'run_config.py'), entry['config'], over,
                        WRITER)
    return run


def summarise(table):
    """``summarise(run)``: the final validation of a finished run: the table's metric
    (as %), the other metrics, the median seconds per training iteration."""
    metric, factor = table['metric'], table['metric_scale']

    def read(run):
        recs = common.scalars(run['dir'])
        evals = [r for r in recs if 'lr' not in r and r.get('step') == run['final_step']]
        if not evals:
            return None
        last = evals[-1]
        out = dict(step=last['step'])
        if metric in last:
            out['value'] = float(last[metric]) * factor
        elif table['track'] == 'det':  # mmdet: no box above the score threshold
            out.update(value=0.0, empty=True)
        else:
            return None
        out['metrics'] = {k: float(last[k]) * factor for k in (metric, ) + table['also']
                          if k in last}
        times = [r['time'] for r in recs if 'lr' in r and 'time' in r]
        out['s_per_iter'] = statistics.median(times) if times else None
        return out
    return read


def aggregate(summaries):
    """Per seed: one fold's summary as is, several folds' as their mean (the study's
    per-run value is its fold average); None while a fold is missing."""
    if any(s is None for s in summaries):
        return None
    if len(summaries) == 1:
        return summaries[0]
    keys = set.intersection(*(set(s.get('metrics', {})) for s in summaries))
    times = [s['s_per_iter'] for s in summaries if s.get('s_per_iter')]
    return dict(value=statistics.fmean(s['value'] for s in summaries),
                folds=[s['value'] for s in summaries],
                metrics={k: statistics.fmean(s['metrics'][k] for s in summaries)
                         for k in keys},
                s_per_iter=statistics.median(times) if times else None)


def estimate(ctx, entries, measured_step=None):
    """Minutes of the grid at ``--jobs`` runs at a time: each row's iterations x the
    baseline step (measured, or the scale's estimate) x the row's relative cost, plus a
    start-up / evaluation overhead per run; the teacher on all the cores."""
    scale, args = ctx['scale'], ctx['args']
    if 'est_step_s' not in scale:
        return None
    step = measured_step or scale['est_step_s']
    if ctx['table']['track'] == 'seg':
        iters, t_iters = scale['iters'], scale['teacher_iters']
    else:
        per_epoch = math.ceil(ctx['n_train'] / scale['batch'])
        iters, t_iters = scale['epochs'] * per_epoch, scale['teacher_epochs'] * per_epoch
    runs = len(args.seeds) * len(ctx['folds'])
    students = sum(e['cost'] for e in entries) * iters * step * runs
    overhead = scale['est_overhead_s'] * runs * len(entries)
    teacher = t_iters * scale['est_teacher_step_s'] * len(ctx['folds'])
    jobs = max(1, args.jobs)
    return dict(teacher_min=teacher / 60, students_min=(students + overhead) / jobs / 60,
                step_s=step, measured=measured_step is not None)


class _TableRuns:
    """One table's runs and the results they fill (the helpers of :func:`run_table`):
    ``res`` is ``dict(runs={key: {seed: summary}}, diagnostics={key: terms}, ...)``."""

    def __init__(self, ctx):
        self.ctx, self.args, self.table = ctx, ctx['args'], ctx['table']
        self.entries = ctx['entries']
        self.base = self.entries[0]
        self.folds, self.seeds = ctx['folds'], self.args.seeds
        self.read = summarise(self.table)
        self.res = dict(runs={}, diagnostics={})

    def run_all(self, specs, threads=None):
        """Train ``specs`` (``--jobs`` at a time); ``[(run, summary)]`` in their order."""
        with ThreadPoolExecutor(max_workers=max(1, self.args.jobs)) as pool:
            return list(pool.map(
                lambda r: (r, common.train(r, self.args, self.read, threads)), specs))

    def collect(self, key, found):
        """``found``: {(seed, fold): summary} -> res['runs'][key][seed]."""
        self.res['runs'][key] = {s: aggregate([found.get((s, f)) for f in self.folds])
                                 for s in self.seeds}

    def done(self, key, seed, fold):
        """A finished run's summary (its ``final.json``), or None."""
        return common.done(osp.join(self.args.work_dir, run_name(key, seed, fold)))

    def dry_run(self):
        """Write every run's config and print every command; nothing runs."""
        ctx, args, read = self.ctx, self.args, self.read
        for f in self.folds:
            common.train(make_run(ctx, self.table['teacher'], 'teacher', 0, f), args, read)
        for e in self.entries:
            for s in self.seeds:
                for f in self.folds:
                    common.train(make_run(ctx, e, 'student', s, f), args, read)

    def teacher(self):
        """1. The teacher, once per fold, with all the cores (``--summarize``: read);
        its summary over the folds, an exit when it has none."""
        args, teacher, folds = self.args, self.table['teacher'], self.folds
        if args.summarize:
            t_found = [self.done('teacher', 0, f) for f in folds]
        else:
            specs = [make_run(self.ctx, teacher, 'teacher', 0, f) for f in folds]
            t_found = [s for _, s in self.run_all(specs, threads=args.jobs * args.threads)]
        t_sum = aggregate(t_found)
        if t_sum is None:
            sys.exit(f'[evidence] no teacher result: see {args.work_dir}/teacher*/train.log')
        self.res['teacher'] = dict(label=teacher['label'], value=t_sum['value'],
                                   metrics=t_sum.get('metrics', {}),
                                   folds=t_sum.get('folds'))
        return t_sum

    def baseline(self):
        """2. The baseline, every seed (``--summarize``: read); its values, an exit when
        there is none; prints the remaining rows' estimate from its measured step."""
        args, base, seeds, folds = self.args, self.base, self.seeds, self.folds
        if args.summarize:
            found = {(s, f): self.done(base['key'], s, f) for s in seeds for f in folds}
        else:
            specs = [make_run(self.ctx, base, 'student', s, f) for s in seeds for f in folds]
            found = {(r['seed'], r['fold']): v for r, v in self.run_all(specs)}
        self.collect(base['key'], found)
        runs = self.res['runs'][base['key']]
        base_vals = [v['value'] for v in runs.values() if v]
        if not base_vals:
            sys.exit(f'[evidence] no baseline result in {args.work_dir}')
        steps = [v['s_per_iter'] for v in runs.values() if v and v.get('s_per_iter')]
        est = estimate(self.ctx, self.entries[1:],
                       statistics.median(steps) if steps else None)
        if est and not args.summarize:
            print(f'[evidence] estimate from the baseline\'s measured step '
                  f'({est["step_s"]:.2f} s): the remaining rows ~{est["students_min"]:.0f} '
                  f'min', flush=True)
        return base_vals

    def gate(self, t_sum, base_vals):
        """3. The teacher gate (a gap or a ratio over the baseline); records
        ``gate_passed`` (and ``gate_failure``); the reason it failed, or None."""
        gate, args = self.table['gate'], self.args
        if gate['kind'] == 'gap':
            reason = teacher_gate(t_sum['value'], base_vals, args.gate, hint=gate['hint'])
        else:
            reason = teacher_gate_ratio(t_sum['value'], base_vals, args.gate,
                                        hint=gate['hint'])
        self.res['gate_passed'] = reason is None
        if reason:
            self.res['gate_failure'] = reason
        return reason

    def read_rows(self):
        """4. and 5. with ``--summarize``: each row's loss terms (seed 0, first fold)
        and its finished runs, read."""
        first = (self.seeds[0], self.folds[0])
        for e in self.entries:
            terms = common.diagnose(dict(dir=osp.join(self.args.work_dir, run_name(
                e['key'], *first))), self.args)
            if terms:
                self.res['diagnostics'][e['key']] = terms
        for e in self.entries[1:]:
            self.collect(e['key'], {(s, f): self.done(e['key'], s, f)
                                    for s in self.seeds for f in self.folds})

    def train_rows(self):
        """4. The loss terms of the baseline and each row at seed 0, first fold (unless
        ``--no-diagnostics``), then 5. every row's runs, trained."""
        args, seeds, folds = self.args, self.seeds, self.folds
        first = (seeds[0], folds[0])
        specs = [make_run(self.ctx, e, 'student', s, f) for e in self.entries[1:]
                 for s in seeds for f in folds]
        if not args.no_diagnostics:
            diag = [r for r in specs if (r['seed'], r['fold']) == first]
            diag.insert(0, make_run(self.ctx, self.base, 'student', *first))
            with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                for r, terms in zip(diag, pool.map(lambda r: common.diagnose(r, args),
                                                   diag)):
                    if terms:
                        self.res['diagnostics'][r['key']] = terms
        found = {}
        for r, v in self.run_all(specs):
            found.setdefault(r['key'], {})[(r['seed'], r['fold'])] = v
        for e in self.entries[1:]:
            self.collect(e['key'], found.get(e['key'], {}))


def run_table(ctx):
    """Teacher, baseline, gate, diagnostics and rows; the results (no report). With
    ``--dry-run`` every run's config is written and its command printed, and None is
    returned; a failed gate returns before the rows."""
    runs = _TableRuns(ctx)
    if ctx['args'].dry_run:
        runs.dry_run()
        return None
    t_sum = runs.teacher()
    base_vals = runs.baseline()
    if runs.gate(t_sum, base_vals):
        return runs.res
    if ctx['args'].summarize:
        runs.read_rows()
    else:
        runs.train_rows()
    return runs.res


# --------------------------------------------------------------------------- report
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
    paired = [(r[s]['value'], base[s]['value']) for s in seeds
              if r.get(s) and base.get(s)]
    if key != base_key and len(paired) >= 2:
        d = paired_difference([p[0] for p in paired], [p[1] for p in paired])
        stats[key] = d
        diff, read = format_difference(d, 2), verdict(d)
        nz = [p for p in paired if p[1] > 0]
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
        ra, rb = runs.get(a, {}), runs.get(b, {})
        pairs = [(ra[s]['value'], rb[s]['value']) for s in seeds
                 if ra.get(s) and rb.get(s)]
        if len(pairs) >= 2:
            d = paired_difference([p[0] for p in pairs], [p[1] for p in pairs])
            comparisons[f'{a} - {b}'] = d
            comp_lines.append(f'- `{a}` against `{b}` (paired by seed): '
                              f'**{format_difference(d, 2)}** ({verdict(d)})')
    if comp_lines:
        return ['', 'Rows against each other:', ''] + comp_lines, comparisons
    return [], comparisons


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


# --------------------------------------------------------------------------- main
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
    p.add_argument('--jobs', type=int, default=2, help='runs at a time')
    p.add_argument('--threads', type=int, default=1, help='torch threads per run')
    p.add_argument('--data-root', help='the data (default: generated under data/; '
                   '--full: data/spacenet6_512, data/VEDAI, data/xView/coco_chips_512)')
    p.add_argument('--work-dir')
    p.add_argument('--results-dir', help='where results.json, table.md and the PNGs go')
    p.add_argument('--readme', help='README whose evidence block is rewritten')
    p.add_argument('--no-readme', action='store_true')
    p.add_argument('--no-diagnostics', action='store_true')
    p.add_argument('--summarize', action='store_true',
                   help='report from the finished runs only, train nothing')
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
                 "['full']); its generic full-scale set is Pascal VOC: the "
                 'configs/det_kd/voc/ configs with tools/train.py')
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
