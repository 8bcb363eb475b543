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

Tables (``TABLES`` below):

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
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
from mmkd.utils.paired_stats import format_difference, paired_difference, teacher_gate, verdict  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from _evidence_common import merge, update_readme  # noqa: E402,F401

CHANNELS = {'resnet8': (16, 16, 32, 64), 'resnet14': (16, 16, 32, 64),
            'resnet20': (16, 16, 32, 64), 'resnet32': (16, 16, 32, 64),
            'resnet56': (16, 16, 32, 64), 'resnet8x4': (32, 64, 128, 256),
            'resnet32x4': (32, 64, 128, 256)}


# --------------------------------------------------------------------------- tables
def _ds_cmkd_methods():
    """(key, label, shipped config, overrides builder) of the DS-CMKD table."""
    d = 'ds_cmkd/'
    ds = d + 'ds-cmkd_resnet32x4_resnet8x4_cifar10-noisy.py'
    return [  # the main comparisons first: a grid cut short still answers them
        ('baseline', 'ResNet student on noisy images (no teacher)',
         d + 'resnet8x4_cifar10-noisy_baseline.py'),
        ('kd', 'KD (T 4, 0.9 KD + 0.1 CE)', d + 'kd_resnet32x4_resnet8x4_cifar10-noisy.py'),
        ('ds-cmkd', 'DS-CMKD (SEM + DCM; teacher projector frozen, Eq. 12)', ds),
        ('ds-cmkd_tproj', 'DS-CMKD, teacher projector trained too', ds),
        ('ds-cmkd_plus', "DS-CMKD, Eq. 10's cross term with + (as printed)", ds),
        ('fitnets', 'FitNets', d + 'zoo/fitnets_resnet32x4_resnet8x4_cifar10-noisy.py'),
        ('crd', 'CRD', d + 'zoo/crd_resnet32x4_resnet8x4_cifar10-noisy.py'),
        ('at', 'AT', d + 'zoo/at_resnet32x4_resnet8x4_cifar10-noisy.py'),
        ('nst', 'NST', d + 'zoo/nst_resnet32x4_resnet8x4_cifar10-noisy.py'),
        ('vid', 'VID', d + 'zoo/vid_resnet32x4_resnet8x4_cifar10-noisy.py'),
        ('rkd', 'RKD', d + 'zoo/rkd_resnet32x4_resnet8x4_cifar10-noisy.py'),
        ('semckd', 'SemCKD', d + 'zoo/semckd_resnet32x4_resnet8x4_cifar10-noisy.py'),
        ('sem-only', 'SEM only', ds),
        ('dcm-only', 'DCM only', ds),
        ('no-dcm-self', 'DS-CMKD without DCM-1 (self term)',
         d + 'ablation/ds-cmkd_no-dcm-self_resnet32x4_resnet8x4_cifar10-noisy.py'),
        ('no-dcm-cross', 'DS-CMKD without DCM-2 (cross term)',
         d + 'ablation/ds-cmkd_no-dcm-cross_resnet32x4_resnet8x4_cifar10-noisy.py'),
    ]


def _cmkd_parts():
    """The two directions of CMKD-s, each with its own teacher, start points, baseline."""
    c = 'cmkd/ablation/'
    sup = c + 'simsar_mixup-autoaug.py'  # supervised, MixUp 0.4 + AutoAugment
    kd = c + 'simsar_mixup-autoaug_cmkd-s.py'  # CMKD-s with the same augmentation
    common = dict(curve=('baseline', 'cmkd-s'), main='cmkd-s',
                  compare=(('cmkd-s', 'cmkd-s_hinton'), ),
                  paper_source=('Yang & Xu Table 2: NTIRE 2021 EO test set, SAR teacher -> '
                                'EO student, MixUp + AutoAugment, 120 epochs'))
    return [
        dict(common, name='eo2sar', modality=('sar', 'eo'),
             paper_source=('none: the paper measures only SAR -> EO (the next part) and '
                           'CMKD-m'),
             title='CMKD-s, EO teacher -> simulated-SAR student',
             teacher=('teacher', 'EO teacher (supervised, trained once)', sup),
             start=('start', "SAR model, supervised: every student's start", sup),
             methods=[
                 ('baseline', 'SAR model, supervised, continued as long', sup),
                 ('cmkd-s', "CMKD-s (authors' alpha 0.2, T 2, element-mean KL)", kd),
                 ('cmkd-s_hinton', "CMKD-s (alpha 0.5, T 4, KL x T^2: mmkd's earlier)",
                  kd)],
             paper={}),
        dict(common, name='sar2eo', modality=('eo', 'sar'),
             title="CMKD-s in the paper's direction, SAR teacher -> EO student",
             teacher=('teacher', 'SAR teacher (supervised, trained once)', sup),
             start=('start', "EO model, supervised: every student's start", sup),
             methods=[
                 ('baseline', 'EO model, supervised, continued as long', sup),
                 ('cmkd-s', "CMKD-s (authors' alpha 0.2, T 2, element-mean KL)", kd)],
             paper=dict(baseline=(22.34, None), **{'cmkd-s': (31.17, 8.83)})),
        dict(name='cmkd-m', kind='mutual', title='CMKD-m: the EO and SAR models take '
             'turns as teacher and student, each from its supervised start',
             config='cmkd/ablation/simsar_mixup-autoaug_cmkd-m.py',
             # member -> (the part holding its start points and baseline, label, alpha
             # when it is the student: the authors' 0.2 for EO, 0.8 for SAR)
             members=dict(eo=('sar2eo', 'EO model', 0.2), sar=('eo2sar', 'SAR model', 0.8)),
             gate_part='eo2sar',
             methods=[('sar', 'CMKD-m: SAR model', None), ('eo', 'CMKD-m: EO model', None)],
             paper_source=('Yang & Xu Table 1: CMKD-m 23.38 on the NTIRE 2021 SAR test '
                           'set against 22.34 for the supervised SAR model'),
             paper=dict(sar=(23.38, 1.04))),
    ]


def _kd_few_label_parts(title, n_chips, data, students=''):
    """Hinton KD with few labels: a ResNet-34 teacher on all ``n_chips`` training chips,
    a half-width ResNet-18 student with ``per_class`` labelled chips per class (the
    shipped ``configs/kd/*_<data>*`` configs; ``students``: the students' config suffix)."""
    k = 'kd/'
    return [dict(
        name='', title=title, main='kd', curve=('baseline', 'kd'),
        teacher=('teacher', f'ResNet-34 teacher (all {n_chips} training chips, trained '
                 'once)', k + f'resnet34_{data}_teacher.py'),
        methods=[
            ('baseline', 'ResNet-18 w32 student alone (its labelled subset)',
             k + f'resnet18-w32_{data}{students}_baseline.py'),
            ('kd', 'KD (T 4, 0.9 KD + 0.1 CE) on the same subset',
             k + f'kd_resnet34_resnet18-w32_{data}{students}.py')],
        paper={})]


def _kd_mstar_parts():
    """Real SAR (MSTAR-10); the shipped configs read every label, the table's data
    overrides give the student its draw."""
    return _kd_few_label_parts('KD on MSTAR-10 (real SAR), few labelled chips for the '
                               'student', '2,746', 'mstar10')


def _kd_synthetic_parts():
    """The demo's setting: the bundled synthetic SAR chips and the shipped 10-shot
    configs."""
    return _kd_few_label_parts('KD on the synthetic SAR chips (the demo), few labelled '
                               'chips', '1,000', 'synthetic-sar', '-10shot')


def _mtkd_synthetic_parts():
    """One teacher against two, the demo's few-label setting: the ResNet-34 teacher of
    ``kd-synthetic`` and a VGG-8 (another architecture, about the same cost at 32 px),
    each trained once on all 1,000 training chips and gated; KD from each alone and from
    both, with the three aggregations of ``mmkd.MultiTeacherKDLoss``."""
    k = 'kd/'
    mt = 'resnet34+vgg8_resnet18-w32_synthetic-sar-10shot.py'
    both = dict(resnet34='teacher-resnet34', vgg8='teacher-vgg8')
    return [dict(
        name='', title='One teacher against two on the synthetic SAR chips (the demo)',
        main='mtkd-ensemble', curve=('baseline', 'kd', 'mtkd-ensemble'),
        teachers=[
            ('teacher-resnet34', 'ResNet-34 teacher (all 1,000 training chips, trained '
             'once)', k + 'resnet34_synthetic-sar_teacher.py'),
            ('teacher-vgg8', 'VGG-8 teacher (all 1,000 training chips, trained once)',
             k + 'vgg8_synthetic-sar_teacher.py')],
        methods=[
            ('baseline', 'ResNet-18 w32 student alone (its labelled subset)',
             k + 'resnet18-w32_synthetic-sar-10shot_baseline.py'),
            ('kd', 'KD from the ResNet-34 alone (T 4, 0.9 KD + 0.1 CE)',
             k + 'kd_resnet34_resnet18-w32_synthetic-sar-10shot.py'),
            ('kd-vgg8', 'KD from the VGG-8 alone (T 4, 0.9 KD + 0.1 CE)',
             k + 'kd_vgg8_resnet18-w32_synthetic-sar-10shot.py'),
            ('mtkd-ensemble', 'Both teachers: averaged soft targets (0.9 KD)',
             k + 'mtkd-ensemble_' + mt),
            ('mtkd-sum', 'Both teachers: one KD term each (0.9 + 0.9)', k + 'mtkd-sum_' + mt),
            ('mtkd-camkd', 'Both teachers: CA-MKD confidence weights (0.9 KD)',
             k + 'mtkd-camkd_' + mt)],
        # the distiller's teacher slot(s) each method reads -> the part's teacher runs
        reads={'kd': dict(teacher='teacher-resnet34'),
               'kd-vgg8': dict(teacher='teacher-vgg8'),
               'mtkd-ensemble': both, 'mtkd-sum': both, 'mtkd-camkd': both},
        # each two-teacher row against whichever single teacher did better (mean over
        # the seeds), paired by seed
        compare_best=dict(single=('kd', 'kd-vgg8'),
                          multi=('mtkd-ensemble', 'mtkd-sum', 'mtkd-camkd')),
        # bench_distill.py on these rows' seed-0 configs, after the training
        step_cost=('mtkd-ensemble', 'mtkd-sum', 'mtkd-camkd'),
        paper={})]


# The demo's data and configs unchanged (kd-synthetic, mtkd-synthetic): 100 training
# chips per class for the teacher(s) (15 epochs), a seeded draw of 10 per class for each
# student seed (the same draw for every row of that seed, 60 epochs), 200 test chips per
# class; the students validated every 10th epoch
_SYNTHETIC_CHIPS = dict(
    overrides=lambda *a: kd_synthetic_overrides(*a),
    data=lambda *a: synthetic_data(*a), sizes=lambda *a: synthetic_sizes(*a),
    generate=lambda args, scale: synthetic_generate(args, scale),
    data_root=osp.join('data', 'synthetic_sar'),
    readme='configs/kd/README.md',
    cpu=dict(per_class=10, train_per_class=100, test_per_class=200, teacher_epochs=15,
             epochs=60, val_every=10),
    full=dict(per_class=10, train_per_class=100, test_per_class=200,
              teacher_epochs=15, epochs=60, val_every=10),
)

TABLES = {
    'ds-cmkd': dict(
        title='DS-CMKD on noisy CIFAR-10 (SNR 0.1)',
        overrides=lambda *a: ds_cmkd_overrides(*a),
        parts=[dict(
            name='', title='DS-CMKD on noisy CIFAR-10 (SNR 0.1)', main='ds-cmkd',
            teacher=('teacher', 'ResNet teacher on clean images',
                     'ds_cmkd/resnet32x4_cifar10-clean_teacher.py'),
            methods=_ds_cmkd_methods(),
            curve=('baseline', 'kd', 'ds-cmkd'),
            compare=(('ds-cmkd', 'kd'), ('ds-cmkd', 'ds-cmkd_tproj'),
                     ('ds-cmkd', 'ds-cmkd_plus')),
            # the paper's numbers for the same rows: Table 3 (CIFAR-10 at SNR 0.1,
            # ResNet32x4 -> ResNet8x4, 300 epochs) and, for the term ablation, Table 6
            # (its real radar/optics set, same pair): (top-1, difference to its reference)
            paper_source=('Si et al. Table 3, CIFAR-10 SNR 0.1, ResNet32x4 -> ResNet8x4 '
                          '(ablation rows: Table 6, their radar/optics set, vs full '
                          'DS-CMKD)'),
            paper=dict(teacher=(93.60, None), baseline=(81.40, None), kd=(83.50, 2.10),
                       **{'ds-cmkd': (84.70, 3.30), 'no-dcm-self': (88.95, -0.92),
                          'no-dcm-cross': (89.26, -0.61)},
                       fitnets=(83.52, 2.12), at=(83.71, 2.31), nst=(83.79, 2.39),
                       vid=(83.82, 2.42), rkd=(82.96, 1.56), crd=(84.01, 2.61),
                       semckd=(84.20, 2.80)))],
        readme='configs/ds_cmkd/README.md',
        results_dir='configs/ds_cmkd/evidence',
        # sized for 2 CPU cores: 48 student runs of ~470 steps in about 75 minutes
        cpu=dict(teacher_arch='resnet20', student_arch='resnet8', per_class=500,
                 test_per_class=300, teacher_epochs=20, epochs=6, projector_dim=512,
                 snr=0.1, lr=0.1),
        full=dict(teacher_arch='resnet32x4', student_arch='resnet8x4', per_class=None,
                  test_per_class=None, teacher_epochs=300, epochs=300,
                  projector_dim=2048, snr=0.1, lr=0.1),
    ),
    'cmkd': dict(
        title='CMKD-s on CIFAR-10 EO / simulated SAR',
        overrides=lambda *a: cmkd_overrides(*a),
        parts=_cmkd_parts(),
        readme='configs/cmkd/README.md',
        results_dir='configs/cmkd/evidence',
        # CIFAR-stem ResNet-20 for both modalities (the paper: one ResNet-34 for both);
        # students start from their modality's supervised model (start_epochs), then
        # baseline and CMKD-s train `epochs` more from that same start
        # SAR read at 32 px instead of 48 (SimulateSAR halves the resolution first, so
        # both sizes carry the same 16 px of detail; 48 px costs 2.25x the compute)
        cpu=dict(arch='resnet20', per_class=300, test_per_class=300, teacher_epochs=20,
                 start_epochs=10, epochs=5, sar_size=32),
        full=dict(arch=None, per_class=None, test_per_class=None, teacher_epochs=60,
                  start_epochs=60, epochs=60),
    ),
    'kd-mstar': dict(
        title='KD on MSTAR-10 (real SAR)',
        overrides=lambda *a: kd_mstar_overrides(*a),
        data=lambda *a: mstar_data(*a), sizes=lambda *a: mstar_sizes(*a),
        data_root=osp.join('data', 'mstar10'), archive='mstar10.tar.gz',
        parts=_kd_mstar_parts(),
        readme='configs/kd/README.md',
        results_dir='configs/kd/evidence',
        # the shipped 64 px configs; the teacher on the whole SOC training split (17 deg),
        # each student on `per_class` labelled chips per class (a different draw per
        # seed, the same draw for the baseline and KD of that seed); all 2,425 test chips
        # at 32 px (the 64 px ResNet-34 costs ~3 min an epoch here); the curve methods
        # validated every 5th epoch (2,425 test chips each time)
        cpu=dict(per_class=30, test_per_class=None, teacher_epochs=15, epochs=40, size=32,
                 val_every=5),
        full=dict(per_class=None, test_per_class=None, teacher_epochs=100, epochs=100),
    ),
    'kd-synthetic': dict(
        _SYNTHETIC_CHIPS,
        title='KD on the synthetic SAR chips (the demo)',
        parts=_kd_synthetic_parts(),
        results_dir='configs/kd/evidence-synthetic',
    ),
    # kd-synthetic's scale: both teachers 15 epochs on the 1,000 chips (side by side,
    # one core each), every student 60 epochs on its seed's draw of 10 chips per class,
    # 2,000 test chips; 2 teachers + 18 student runs, ~13 minutes on 2 CPU cores
    'mtkd-synthetic': dict(
        _SYNTHETIC_CHIPS,
        title='One teacher against two on the synthetic SAR chips (the demo)',
        parts=_mtkd_synthetic_parts(),
        results_dir='configs/kd/evidence-mtkd',
    ),
}


def _load(config):
    from mmengine.config import Config
    return Config.fromfile(osp.join(REPO, 'configs', config))


DS_CMKD_KEYS = ('ds-cmkd', 'ds-cmkd_tproj', 'ds-cmkd_plus', 'sem-only', 'dcm-only',
                'no-dcm-self', 'no-dcm-cross')


def ds_cmkd_overrides(key, config, scale, n_train, role, part=None):
    """The written overrides of one DS-CMKD-table run (a dict of top-level keys): the
    CPU-scale networks and every width that follows them, the noise level, and the
    paper's schedule (SGD 0.9, wd 5e-4, lr 0.1 -> 1e-6; cosine here)."""
    s_arch = scale['teacher_arch'] if role == 'teacher' else scale['student_arch']
    t_arch = scale['teacher_arch']
    sc, tc = CHANNELS[s_arch], CHANNELS[t_arch]
    model = dict(student=dict(backbone=dict(arch=s_arch), head=dict(in_channels=sc[3])))
    if role != 'teacher' and key != 'baseline':
        model['teacher'] = dict(model=dict(backbone=dict(arch=t_arch),
                                           head=dict(in_channels=tc[3])))
    losses = {}
    if key in DS_CMKD_KEYS:
        d = scale['projector_dim']
        # SEM weighted gamma / d (a mean over the d channels; see the pair's base)
        sem = dict(student_channels=sc[3], teacher_channels=tc[3],
                   projector_dims=(d, d, d), loss_weight=1.0 / d)
        if key == 'ds-cmkd_tproj':
            sem['teacher_projector'] = 'trainable'
        losses['sem'] = sem
        if key == 'ds-cmkd_plus':
            losses['dcm'] = dict(cross_sign='plus')
        if key in ('sem-only', 'dcm-only'):
            full = _load(config).model.losses
            keep = 'sem' if key == 'sem-only' else 'dcm'
            kept = dict(full[keep].to_dict() if hasattr(full[keep], 'to_dict')
                        else full[keep])
            kept.update(losses.get(keep, {}))
            losses = {'_delete_': True, keep: kept}
    elif key == 'fitnets':
        model['connectors'] = dict(s_feat2_adapted=dict(in_channels=sc[2],
                                                        out_channels=tc[2]))
    elif key == 'vid':
        losses['vid'] = dict(student_channels=sc[1:], teacher_channels=tc[1:])
    elif key == 'crd':
        losses['crd'] = dict(student_channels=sc[3], teacher_channels=tc[3],
                             n_data=n_train,
                             # RepDistiller's 16384 negatives of 50,000, same ratio
                             nce_k=min(16384, n_train * 16384 // 50000))
    elif key == 'semckd':
        losses['semckd'] = dict(student_channels=list(sc[1:]),
                                teacher_channels=list(tc[1:]))
    if losses:
        model['losses'] = losses
    snr = scale['snr']
    return dict(
        model=model,
        train_dataloader=dict(dataset=dict(pipeline={'2': dict(snr=snr)})),
        val_dataloader=dict(dataset=dict(pipeline={'1': dict(snr=snr)})),
        test_dataloader=dict(dataset=dict(pipeline={'1': dict(snr=snr)})),
        optim_wrapper=dict(optimizer=dict(lr=scale['lr'], momentum=0.9,
                                          weight_decay=5e-4)),
        param_scheduler=dict(_delete_=True, type='CosineAnnealingLR', by_epoch=True,
                             T_max=scale['_epochs'], eta_min=1e-6,
                             convert_to_iter_based=True))


IN_CHANNELS = dict(eo=3, sar=1)



def cmkd_overrides(key, config, scale, n_train, role, part):
    """The written overrides of one CMKD-table run: which modality the trained model
    reads (``part['modality']`` = (student, teacher)), CIFAR-stem networks at the CPU
    scale (the shipped ImageNet-stem ResNet-34 with ``--full``), the CMKD-s variant, and
    the paper's schedule shape (SGD 0.01, momentum 0.9, lr halved every third of the
    run, as its "every 20 of 60 epochs")."""
    student_mod, teacher_mod = part['modality']
    mod = teacher_mod if role == 'teacher' else student_mod

    def net(m):
        if not scale.get('arch'):
            return {}
        return dict(backbone=dict(_delete_=True, type='mmkd.CifarResNet', arch=scale['arch'],
                                  in_channels=IN_CHANNELS[m]),
                    head=dict(in_channels=CHANNELS[scale['arch']][3]))
    model = dict(student=dict(net(mod)), student_input=mod)
    if role == 'student' and key != part['methods'][0][0]:
        model['teacher'] = dict(model=net(teacher_mod), input=teacher_mod)
        if not scale.get('arch') and teacher_mod != 'eo':
            raise SystemExit('--full CMKD with a SAR teacher needs a one-band teacher '
                             'config (cmkd-s_resnet34_mavoc.py)')
    if key == 'cmkd-s_hinton':
        model['losses'] = dict(cmkd=dict(alpha=0.5, temperature=4.0,
                                         kl_reduction='sample'))
    # the paper's class-balanced post-processing (k = 4 capped classes, n = N / 10) read
    # beside the plain top-1 on the same predictions: `balanced/accuracy_{before,after}`
    evaluator = [dict(type='Accuracy', topk=(1, )),
                 dict(type='mmkd.BalancedPostProcessMetric', k=4)]
    over = dict(model=model, val_evaluator=evaluator, test_evaluator=evaluator,
                param_scheduler=dict(step_size=max(1, round(scale['_epochs'] / 3))))
    if scale.get('sar_size'):  # SAR read at this size (the shipped 48 px with --full)
        cfg = _load(config)
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            pipe = cfg[loader].dataset.pipeline
            i = next(i for i, t in enumerate(pipe) if t.type == 'mmkd.PairedResize')
            over[loader] = dict(dataset=dict(pipeline={str(i): dict(sizes=dict(
                eo=pipe[i].sizes.eo, sar=scale['sar_size']))}))
    return over


def kd_mstar_overrides(key, config, scale, n_train, role, part):
    """The written overrides of one MSTAR-table run: the shipped configs' cosine
    schedule stretched over the run's epochs and, at the CPU scale, the chips read at
    ``size`` px instead of 64 (the centre 128 px crop is kept)."""
    over = dict(param_scheduler=dict(T_max=scale['_epochs']))
    if scale.get('size'):
        cfg = _load(config)
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            pipe = cfg[loader].dataset.pipeline
            i = next(i for i, t in enumerate(pipe) if t.type == 'Resize')
            over[loader] = dict(dataset=dict(pipeline={
                str(i): dict(scale=(scale['size'], scale['size']))}))
    return over


def kd_synthetic_overrides(key, config, scale, n_train, role, part):
    """The shipped configs' cosine schedule stretched over the run's epochs."""
    return dict(param_scheduler=dict(T_max=scale['_epochs']))


# --------------------------------------------------------------------------- data
def synthetic_generate(args, scale):
    """Write the demo's synthetic chips (reused when already complete)."""
    from mmkd.testing import make_synthetic_sar
    make_synthetic_sar(args.data_root, scale['train_per_class'], scale['test_per_class'])


def synthetic_data(args, scale, role, seed):
    """The teacher reads every training chip; each student seed its own draw of
    ``per_class`` labelled chips per class (``mmkd.ClassSubsetDataset``, seeded with
    the run's seed); every run is tested on the whole test split."""
    if role == 'teacher':
        train = dict(data_root=args.data_root)
    else:
        train = dict(per_class=scale['per_class'], seed=seed,
                     dataset=dict(data_root=args.data_root))
    return train, dict(data_root=args.data_root)


def synthetic_sizes(args, scale):
    return 10 * scale['per_class'], 10 * scale['test_per_class']


def cifar_data(args, scale, role, seed):
    """Train and test dataset overrides: a balanced subset of the CIFAR folders."""
    return (dict(data_root=args.data_root, max_per_class=scale['per_class']),
            dict(data_root=args.data_root, max_per_class=scale['test_per_class']))


def cifar_sizes(args, scale):
    return 10 * (scale['per_class'] or 5000), 10 * (scale['test_per_class'] or 1000)


def class_files(root, split):
    """``{class: [relative paths]}`` of an ImageNet-style ``root/split/<class>/`` tree."""
    base = osp.join(root, split)
    return {c: sorted(osp.join(c, f) for f in os.listdir(osp.join(base, c)))
            for c in sorted(os.listdir(base)) if osp.isdir(osp.join(base, c))}


def write_subset(root, split, per_class, seed, path):
    """An mmpretrain ``CustomDataset`` annotation file (``<class>/<file> <label>`` per
    line) with ``per_class`` files per class drawn with ``seed``; labels index the sorted
    class folders, as mmpretrain's folder scan does."""
    import random
    rng = random.Random(seed)
    files = class_files(root, split)
    lines = []
    for label, (cls, paths) in enumerate(files.items()):
        if len(paths) < per_class:
            sys.exit(f'{root}/{split}/{cls} has {len(paths)} images, fewer than '
                     f'--per-class {per_class}')
        lines += [f'{p} {label}' for p in sorted(rng.sample(paths, per_class))]
    if not osp.isfile(path):
        with open(path, 'w') as fh:
            fh.write('\n'.join(lines) + '\n')
    return path, list(files)


def mstar_data(args, scale, role, seed):
    """The teacher reads every training chip; each student seed reads its own draw of
    ``per_class`` labelled chips per class; every run is tested on the whole test split."""
    train = dict(data_root=args.data_root)
    if role != 'teacher' and scale['per_class']:
        path, classes = write_subset(
            args.data_root, 'train', scale['per_class'], seed,
            osp.join(args.work_dir, f'train_{scale["per_class"]}-per-class_seed{seed}.txt'))
        train.update(ann_file=path, metainfo=dict(classes=classes))
    return train, dict(data_root=args.data_root)


def mstar_sizes(args, scale):
    n_test = sum(len(v) for v in class_files(args.data_root, 'test').values())
    n_all = sum(len(v) for v in class_files(args.data_root, 'train').values())
    return (10 * scale['per_class'] if scale['per_class'] else n_all), n_test


# --------------------------------------------------------------------------- runs
def common_overrides(args, scale, epochs, curve, data):
    """Data (``data`` = train and test dataset overrides), loaders, epochs and
    checkpointing, the same for every run."""
    loader = dict(num_workers=0, persistent_workers=False)
    train = dict(loader, dataset=data[0])
    test = dict(loader, dataset=data[1])
    return dict(
        train_dataloader=train, val_dataloader=test, test_dataloader=test,
        train_cfg=dict(max_epochs=epochs,
                       val_interval=scale.get('val_every', 1) if curve else epochs),
        default_hooks=dict(checkpoint=dict(interval=max(1, epochs // 5), max_keep_ckpts=1,
                                           save_best=None),
                           logger=dict(interval=20)))


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


def diagnose(run, args):
    """Loss terms' values and student-gradient norms at the first steps."""
    out = osp.join(run['dir'], 'loss_terms.json')
    if osp.isfile(out):
        with open(out) as fh:
            return json.load(fh)['terms']
    if args.dry_run or args.summarize:
        return None
    cmd = [sys.executable, osp.join(REPO, 'tools', 'analysis', 'loss_terms.py'),
           osp.join(run['dir'], 'run_config.py'), '--batches', '4', '--out', out,
           '--work-dir', osp.join(run['dir'], 'loss_terms')]
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS=str(args.threads))
    with open(osp.join(run['dir'], 'loss_terms.log'), 'w') as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    if proc.returncode:
        print(f'[evidence] loss_terms FAILED: {run["dir"]}/loss_terms.log', flush=True)
        return None
    with open(out) as fh:
        return json.load(fh)['terms']


# --------------------------------------------------------------------------- report
def time_to_accuracy(method_runs, base_runs, seeds):
    """Epochs (and wall time) at which the method first reaches the baseline's final
    accuracy, per seed, as a ratio to the baseline's epochs and wall time."""
    rows = []
    for s in seeds:
        m, b = method_runs.get(s), base_runs.get(s)
        if not m or not b or len(m['curve']) < 2:
            continue
        target, n_base = b['acc'], max(int(k) for k in b['curve'])
        reached = [int(e) for e, a in sorted(m['curve'].items(), key=lambda x: int(x[0]))
                   if a >= target]
        e = reached[0] if reached else None
        row = dict(seed=s, target=target, epoch=e, baseline_epochs=n_base)
        if e is not None:
            row['epoch_ratio'] = e / n_base
            if m.get('s_per_iter') and b.get('s_per_iter'):
                row['wall_ratio'] = e * m['s_per_iter'] / (n_base * b['s_per_iter'])
        rows.append(row)
    return rows


def part_section(part, args, res):
    """The markdown of one part (teacher line, table, time to accuracy, loss terms);
    fills ``res['stats']`` and ``res['time_to_accuracy']`` (and ``res['comparisons']``,
    ``res['balanced']``). Each block is one of the ``*_lines`` helpers below, in the
    order they appear; a failed gate stops after the teacher line."""
    seeds = args.seeds
    methods = [m for m in part['methods'] if m[0] in res.get('runs', {})]
    base_key = part['methods'][0][0]
    base = res['runs'][base_key]
    base_accs = [base[s]['acc'] for s in seeds if base.get(s)]
    lines = teacher_lines(args, res, base_accs)
    if res.get('gate_failure'):
        return lines + ['', f'**Gate failed: the student grid did not run.** '
                        f'{res["gate_failure"]}.']
    if part.get('paper_source'):
        p = part['paper'].get('teacher')
        lines.append(f'Paper column: {part["paper_source"]}' +
                     (f'; its teacher {p[0]:.2f}.' if p else '.'))
    lines.append('')
    lines += method_table_lines(part, methods, res, base_key, seeds)
    lines += comparison_lines(part, res, seeds)
    lines += teacher_weight_lines(methods, res['runs'], seeds)
    lines += step_cost_lines(part, methods, res, seeds)
    lines += balanced_lines(methods, res, base_key, seeds)
    lines += time_to_accuracy_lines(part, res, base_key, seeds)
    lines += diagnostic_lines(methods, res)
    return lines


def teacher_lines(args, res, base_accs):
    """The line above the table: the teacher's (or each gated teacher's) accuracy, the
    student baseline's median and the gap, against the gate."""
    t = res['teacher']
    gap = t['acc'] - statistics.median(base_accs)
    if res.get('teachers'):  # several teachers, each gated
        return [f'Student baseline median **{statistics.median(base_accs):.2f}**; each '
                f'teacher gated (gate >= {args.gate:g}): ' + '; '.join(
                    f'{v["label"]}: **{v["acc"]:.2f}** (gap '
                    f'{v["acc"] - statistics.median(base_accs):+.2f}'
                    + ('' if v.get('gate_passed', True) else ', failed') + ')'
                    for v in res['teachers'].values()) + '.']
    return [f'{t["label"]}: **{t["acc"]:.2f}** on its own modality; student baseline '
            f'median **{statistics.median(base_accs):.2f}** (gap {gap:+.2f}, gate >= '
            f'{args.gate:g}).']


def method_table_lines(part, methods, res, base_key, seeds):
    """The table: per method its accuracy per seed, the median, the paired difference
    to the baseline with its reading, and the paper's number; fills ``res['stats']``
    (the paired differences)."""
    base = res['runs'][base_key]
    paper = part.get('paper', {})
    head = '| method | ' + ' | '.join(f'seed {s}' for s in seeds) + \
        ' | median | vs baseline (paired, 95 % CI) | reading | paper |'
    lines = [head, '|---' * (len(seeds) + 5) + '|']
    stats = {}
    for key, label, _ in methods:
        runs = res['runs'].get(key, {})
        accs = [runs[s]['acc'] if runs.get(s) else None for s in seeds]
        cells = ' | '.join('n/a' if a is None else f'{a:.2f}' for a in accs)
        ok = [a for a in accs if a is not None]
        med = f'{statistics.median(ok):.2f}' if ok else 'n/a'
        diff, read = '', ''
        paired = [(runs[s]['acc'], base[s]['acc']) for s in seeds
                  if runs.get(s) and base.get(s)]
        if key != base_key and len(paired) >= 2:
            d = paired_difference([p[0] for p in paired], [p[1] for p in paired])
            stats[key] = d
            diff, read = format_difference(d, 2), verdict(d)
        name = f'**{label}**' if key in (base_key, part.get('main')) else label
        p = paper.get(key)
        pcell = '' if p is None else (f'{p[0]:.2f}' if p[1] is None
                                      else f'{p[0]:.2f} ({p[1]:+.2f})')
        lines.append(f'| {name} | {cells} | {med} | {diff} | {read} | {pcell} |')
    res['stats'] = stats
    return lines


def comparison_lines(part, res, seeds):
    """The part's paired comparisons between two rows (``part['compare']``) and of each
    multi-teacher row against the better single teacher (``part['compare_best']``);
    fills ``res['comparisons']`` (and ``res['best_single']`` when there is one)."""
    lines, comparisons = [], {}
    for a_key, b_key in part.get('compare', ()):
        ra, rb = res['runs'].get(a_key, {}), res['runs'].get(b_key, {})
        pairs = [(ra[x]['acc'], rb[x]['acc']) for x in seeds if ra.get(x) and rb.get(x)]
        if len(pairs) >= 2:
            d = paired_difference([q[0] for q in pairs], [q[1] for q in pairs])
            comparisons[f'{a_key} - {b_key}'] = d
            lines += ['', f'{a_key} against {b_key} (paired by seed): '
                      f'**{format_difference(d, 2)}** ({verdict(d)}).']
    best = best_single(part.get('compare_best'), res['runs'], seeds)
    if best:
        res['best_single'] = best
        for m_key in part['compare_best']['multi']:
            ra, rb = res['runs'].get(m_key, {}), res['runs'][best]
            pairs = [(ra[x]['acc'], rb[x]['acc']) for x in seeds if ra.get(x) and rb.get(x)]
            if len(pairs) >= 2:
                d = paired_difference([q[0] for q in pairs], [q[1] for q in pairs])
                comparisons[f'{m_key} - {best}'] = d
                lines += ['', f'{m_key} against the better single teacher, {best} (higher '
                          f'mean over the seeds; paired by seed): '
                          f'**{format_difference(d, 2)}** ({verdict(d)}).']
    res['comparisons'] = comparisons
    return lines


def balanced_lines(methods, res, base_key, seeds):
    """The class-balanced post-processing table (before / after, the paired change,
    against the balanced baseline), when the runs logged it; fills
    ``res['balanced']``."""
    balanced = balanced_rows(methods, res['runs'], base_key, seeds)
    res['balanced'] = balanced
    if not balanced:
        return []
    lines = ['', 'Class-balanced post-processing (the paper\'s, k = 4 capped classes, '
             'n = N / 10; `mmkd.BalancedPostProcessMetric` on the same final '
             'predictions): median top-1 before / after, the per-seed change, and '
             'the method against the balanced baseline:', '',
             '| method | before | after | after - before (paired, 95 % CI) | '
             'vs balanced baseline |', '|---|---|---|---|---|']
    for key, label, _ in methods:
        b = balanced.get(key)
        if b:
            vs = format_difference(b['vs_baseline'], 2) if b.get('vs_baseline') else ''
            lines.append(f'| {label} | {b["before"]:.2f} | {b["after"]:.2f} | '
                         f'{format_difference(b["change"], 2)} | {vs} |')
    return lines


def time_to_accuracy_lines(part, res, base_key, seeds):
    """Per row of ``part['curve']``, the epoch (and wall time) at which each seed
    reached the baseline's final accuracy; fills ``res['time_to_accuracy']``."""
    base = res['runs'][base_key]
    tta = {}
    for key in part.get('curve', ()):
        if key != base_key:
            rows = time_to_accuracy(res['runs'].get(key, {}), base, seeds)
            if rows:
                tta[key] = rows
    res['time_to_accuracy'] = tta
    if not tta:
        return []
    lines = ['', 'Time to the baseline\'s final accuracy (per seed: epoch reached / '
             'baseline epochs; wall-time ratio from the median step time):', '']
    for key, rows in tta.items():
        cells = []
        for r in rows:
            if r['epoch'] is None:
                cells.append(f'seed {r["seed"]}: not reached')
            else:
                w = f', wall {r["wall_ratio"]:.2f}x' if 'wall_ratio' in r else ''
                cells.append(f'seed {r["seed"]}: epoch {r["epoch"]}/'
                             f'{r["baseline_epochs"]} ({r["epoch_ratio"]:.2f}x{w})')
        lines.append(f'- {key}: ' + '; '.join(cells))
    return lines


def diagnostic_lines(methods, res):
    """The loss terms at the first steps (value / gradient norm), per row that has
    them."""
    diag = res.get('diagnostics', {})
    if not diag:
        return []
    lines = ['', 'Loss terms at the first steps (seed 0, mean of 4 batches): value / '
             'gradient norm on the student\'s parameters:', '',
             '| method | terms |', '|---|---|']
    for key, _, _ in methods:
        if diag.get(key):
            lines.append(f'| {key} | ' + '; '.join(
                f'`{n}` {v["value"]:.3g} / {v["grad_norm"]:.3g}'
                for n, v in diag[key].items()) + ' |')
    return lines


def best_single(spec, runs, seeds):
    """Of ``spec['single']`` (the one-teacher rows), the one with the higher mean
    accuracy over the seeds that ran; None without ``spec`` or results."""
    if not spec:
        return None
    means = {}
    for key in spec['single']:
        accs = [runs[key][s]['acc'] for s in seeds if runs.get(key, {}).get(s)]
        if len(accs) >= 2:
            means[key] = statistics.mean(accs)
    return max(means, key=means.get) if means else None


def teacher_weight_lines(methods, runs, seeds):
    """The teachers' weights the multi-teacher loss logged, per row: the mean over each
    run's logged steps, the median over the seeds."""
    rows = []
    for key, _, _ in methods:
        per = [runs[key][s]['teacher_weights'] for s in seeds
               if runs.get(key, {}).get(s) and runs[key][s].get('teacher_weights')]
        if per:
            names = sorted({k for w in per for k in w})
            rows.append(f'- {key}: ' + ', '.join(
                f'`{n}` {statistics.median(w[n] for w in per if n in w):.3f}'
                for n in names))
    if not rows:
        return []
    return ['', "Teacher weights as logged (the loss's `<loss>.weight_<teacher>`: mean over "
            "each run's logged steps, median over the seeds; CA-MKD's are per-sample, "
            'computed from the labels):', ''] + rows


def step_cost_lines(part, methods, res, seeds):
    """The KD step with two teachers against its floor r* = 1 + sum_k t(teacher_k) /
    t(student), from bench_distill.py (``res['step_cost']``), beside each row's
    training-log seconds per iteration against the baseline's."""
    cost = res.get('step_cost') or {}
    base_key = methods[0][0]

    def s_iter(key):
        v = [res['runs'][key][s]['s_per_iter'] for s in seeds
             if res['runs'].get(key, {}).get(s) and res['runs'][key][s].get('s_per_iter')]
        return statistics.median(v) if v else None
    base = s_iter(base_key)
    lines = []
    if cost:
        one = next(iter(cost.values()))
        names = list(one['teachers'])
        lines += ['', f'Step cost (`tools/benchmarks/bench_distill.py --config` on each '
                  f'row\'s seed-{seeds[0]} config, after the training, '
                  f'nothing else running: the student\'s training step, each frozen '
                  f'teacher\'s forward and the distillation step interleaved in '
                  f'{one["repeats"]} rounds on one batch of {one["batch_size"]}, medians, '
                  f'{one["threads"]} thread(s)). The floor r* = 1 + Σ t(teacher) / '
                  f't(student): a step with these teachers cannot cost less.', '',
                  '| method | student step (ms) | ' + ' | '.join(
                      f'{n} forward (ms)' for n in names) + ' | KD step (ms) | KD / '
                  'student | floor r* | over the floor |',
                  '|---' * (len(names) + 6) + '|']
        for key, _, _ in methods:
            c = cost.get(key)
            if not c:
                continue
            lines.append(f'| {key} | {1e3 * c["student"]:.1f} | ' + ' | '.join(
                f'{1e3 * c["teachers"][n]:.1f}' if n in c['teachers'] else ''
                for n in names) + f' | {1e3 * c["kd"]:.1f} | {c["kd_over_student"]:.2f} | '
                f'{c["floor_r_star"]:.2f} | '
                f'{100 * (c["kd_over_student"] / c["floor_r_star"] - 1):+.1f} % |')
        if len(names) > 1:
            lines += ['', 'One teacher\'s floor from the same measurements: ' + '; '.join(
                f'{n} alone 1 + t({n}) / t(student) = {one["floor_each"][n]:.2f}'
                for n in names) + f'; both {one["floor_r_star"]:.2f}.']
    if base and part.get('step_cost'):
        cells = []
        for key, _, _ in methods:
            v = s_iter(key)
            if v:
                cells.append(f'{key} {v:.3f}' + ('' if key == base_key else
                                                  f' ({v / base:.2f}x)'))
        lines += ['', 'Seconds per iteration in training (median over the seeds of '
                  "each run's median; runs two at a time, one thread each; ratio to the "
                  'baseline): ' + ', '.join(cells) + '.']
    return lines


def balanced_rows(methods, runs, base_key, seeds):
    """Per method: median accuracy before / after balanced post-processing, the paired
    change it makes, and the balanced method against the balanced baseline."""
    def pairs(key):
        r = runs.get(key, {})
        return {s: r[s]['balanced'] for s in seeds if r.get(s) and r[s].get('balanced')}
    base = pairs(base_key)
    out = {}
    for key, _, _ in methods:
        b = pairs(key)
        if len(b) < 2:
            continue
        ss = sorted(b)
        row = dict(before=statistics.median(b[s]['before'] for s in ss),
                   after=statistics.median(b[s]['after'] for s in ss),
                   change=paired_difference([b[s]['after'] for s in ss],
                                            [b[s]['before'] for s in ss]))
        common = [s for s in ss if s in base]
        if key != base_key and len(common) >= 2:
            row['vs_baseline'] = paired_difference([b[s]['after'] for s in common],
                                                   [base[s]['after'] for s in common])
        out[key] = row
    return out


def report(table, args, results):
    """results.json, table.md, accuracy.png, and the README block."""
    parts = table['parts']
    if len(parts) == 1:
        lines = part_section(parts[0], args, results)
        panels = [(parts[0], results)]
    else:
        lines, panels = [], []
        for part in parts:
            res = results['parts'][part['name']]
            if not res:
                continue
            section = mutual_section if part.get('kind') == 'mutual' else part_section
            lines += [f'**{part["title"]}**', ''] + section(part, args, res) + ['']
            panels.append((part, res))
    text = '\n'.join(lines).rstrip() + '\n'
    os.makedirs(args.results_dir, exist_ok=True)
    with open(osp.join(args.results_dir, 'table.md'), 'w') as fh:
        fh.write(text)
    _write_json(args, results)
    plot(table['title'], panels, osp.join(args.results_dir, 'accuracy.png'))
    if args.readme:
        update_readme(args.readme, args.table, text)
    print('\n' + text)


def plot(title, panels, path):
    """Each method's paired difference to its baseline: mean, 95 % CI, the seeds."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print('[evidence] matplotlib missing: no plot', flush=True)
        return
    rows = [((part['name'] + ': ' if part['name'] else '') + key, res['stats'][key])
            for part, res in panels for key, _, _ in part['methods']
            if key in res.get('stats', {})]
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(7, 0.42 * len(rows) + 1.4))
    for i, (_, d) in enumerate(rows):
        color = 'tab:green' if d['low'] > 0 else 'tab:red' if d['high'] < 0 else 'tab:gray'
        ax.errorbar(d['mean'], i, xerr=d['half_width'], fmt='o', color=color, capsize=3)
        ax.scatter(d['diffs'], [i] * len(d['diffs']), s=10, color='k', alpha=0.4,
                   zorder=3)
    ax.axvline(0, color='k', lw=0.8)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel('top-1 difference to the baseline (points; mean, 95 % CI, seeds)')
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)




# --------------------------------------------------------------------------- main
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
    p.add_argument('--jobs', type=int, default=2, help='runs at a time')
    p.add_argument('--threads', type=int, default=1, help='torch threads per run')
    p.add_argument('--data-root', help='the table\'s image folders (default: data/cifar10; '
                   'data/mstar10 for kd-mstar)')
    p.add_argument('--work-dir')
    p.add_argument('--results-dir', help='where results.json, table.md, accuracy.png go')
    p.add_argument('--readme', help='README whose evidence block is rewritten')
    p.add_argument('--no-readme', action='store_true')
    p.add_argument('--no-diagnostics', action='store_true')
    p.add_argument('--summarize', action='store_true',
                   help='report from the finished runs only, train nothing')
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


def _write_json(args, results):
    os.makedirs(args.results_dir, exist_ok=True)
    with open(osp.join(args.results_dir, 'results.json'), 'w') as fh:
        json.dump(results, fh, indent=1, sort_keys=True, default=str)


class _PartRuns:
    """One part's runs: where they live, their written configs, and training them
    (the helpers of :func:`run_part`)."""

    def __init__(self, ctx, part):
        self.ctx, self.part = ctx, part
        self.args, self.table, self.scale = ctx['args'], ctx['table'], ctx['scale']
        args = self.args
        self.root = (osp.join(args.work_dir, part['name']) if part['name']
                     else args.work_dir)
        methods = part['methods']
        if args.methods:
            methods = [m for m in methods if m is methods[0] or m[0] in args.methods]
        self.methods = methods
        self.start = part.get('start')
        self.teachers = part_teachers(part)

    def run_dir(self, name):
        return dict(name=name, dir=osp.join(self.root, name))

    def make_run(self, key, config, seed, epochs, role, curve=False):
        args, scale, part, root = self.args, self.scale, self.part, self.root
        name = {'teacher': key, 'start': f'start_seed{seed}'}.get(
            role, f'{key}_seed{seed}')
        run = dict(name=(part['name'] + '/' if part['name'] else '') + name, key=key,
                   seed=seed, epochs=epochs, dir=osp.join(root, name))
        os.makedirs(run['dir'], exist_ok=True)
        data = self.table.get('data', cifar_data)(args, scale, role, seed)
        over = merge(common_overrides(args, scale, epochs, curve, data),
                     self.table['overrides'](key, config, dict(scale, _epochs=epochs),
                                             self.ctx['n_train'], role, part))
        over['randomness'] = dict(seed=seed, deterministic=False)
        if role == 'student' and key != self.methods[0][0]:
            for slot, t_key in teachers_read(part, key).items():
                ckpt = dict(checkpoint=osp.join(root, t_key))
                over = merge(over, dict(model=dict(teacher=ckpt) if slot == 'teacher'
                                        else dict(teachers={slot: ckpt})))
        if role == 'student' and self.start:
            ckpt = osp.join(root, f'start_seed{seed}', f'epoch_{scale["start_epochs"]}.pth')
            over = merge(over, dict(model=dict(student=dict(init_cfg=dict(
                type='Pretrained', checkpoint=ckpt, prefix='student.')))))
        write_config(osp.join(run['dir'], 'run_config.py'), config, over)
        return run

    def student_runs(self, entries):
        return [self.make_run(key, config, s, self.scale['epochs'], 'student',
                              key in self.part['curve'])
                for key, _, config in entries for s in self.args.seeds]

    def start_runs(self):
        return [self.make_run(self.start[0], self.start[2], s,
                              self.scale['start_epochs'], 'start')
                for s in self.args.seeds]

    def teacher_runs(self):
        return [self.make_run(t_key, t_config, 0, self.scale['teacher_epochs'], 'teacher')
                for t_key, _, t_config in self.teachers]

    def step_cost_runs(self):
        keys = {m[0] for m in self.methods}
        return [(key, self.run_dir(f'{key}_seed{self.args.seeds[0]}'))
                for key in self.part.get('step_cost', ()) if key in keys]

    def run_all(self, specs):
        args = self.args
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            return list(pool.map(lambda r: (r, train(r, args)), specs))

    def read(self, key, seed):
        return _done(self.run_dir(f'{key}_seed{seed}'))


def run_part(ctx, part):
    """One teacher, (start points,) baseline, gate, diagnostics and methods."""
    p = _PartRuns(ctx, part)
    if p.args.dry_run:  # every run's config written, every command printed, nothing run
        _dry_run_part(p)
        return {}
    out = dict(runs={}, diagnostics={})
    t_sums = _part_teacher_results(p)
    if t_sums is None:  # summarize, several parts: this part has not run yet
        return {}
    out['teacher'] = dict(label=p.teachers[0][1], acc=t_sums[0]['acc'])
    if len(p.teachers) > 1:
        out['teachers'] = {t_key: dict(label=t_label, acc=t_sum['acc'])
                           for (t_key, t_label, _), t_sum in zip(p.teachers, t_sums)}
    _part_starts(p, out)
    base_accs = _part_baseline(p, out)
    if not _part_gate(p, out, t_sums, base_accs):
        return out
    if p.args.summarize:  # read what earlier calls measured, write nothing
        _summarize_part_methods(p, out)
    else:
        _train_part_methods(p, out)
    return out


def _dry_run_part(p):
    """Every run's config written and every command printed; nothing run."""
    args = p.args
    for r in p.teacher_runs():
        train(r, args)
    if p.start:
        for seed in args.seeds:
            train(p.make_run(p.start[0], p.start[2], seed, p.scale['start_epochs'],
                             'start'), args)
    for r in p.student_runs(p.methods):
        train(r, args)
    for _, r in p.step_cost_runs():
        step_cost(r, args)


def _part_teacher_results(p):
    """Each teacher's result: read (summarize), or trained alone on all the cores
    (side by side when several). None when a summarize call with several parts
    finds this part not run yet; exits when a teacher has no result otherwise."""
    args = p.args
    if args.summarize:
        t_sums = [_done(p.run_dir(t[0])) for t in p.teachers]
    else:  # the teachers train alone: all the cores (side by side when several)
        t_runs = p.teacher_runs()
        workers = max(1, min(len(t_runs), args.jobs))
        threads = max(1, args.jobs * args.threads // workers)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            t_sums = list(pool.map(lambda r: train(r, args, threads=threads), t_runs))
    missing = [t[0] for t, t_sum in zip(p.teachers, t_sums) if t_sum is None]
    if missing:
        if args.summarize and len(p.table['parts']) > 1:  # this part has not run yet
            print(f'[evidence] {p.part["name"]}: no teacher result yet, part left out',
                  flush=True)
            return None
        sys.exit(f'[evidence] no teacher result: see '
                 f'{osp.join(p.root, missing[0])}/train.log')
    return t_sums


def _part_starts(p, out):
    """The start points (a part with ``start``), trained or read, per seed."""
    if p.start and not p.args.summarize:
        for r, summary in p.run_all(p.start_runs()):
            out['runs'].setdefault('start', {})[r['seed']] = summary
    elif p.start:
        out['runs']['start'] = {s: _done(p.run_dir(f'start_seed{s}'))
                                for s in p.args.seeds}


def _part_baseline(p, out):
    """The baseline (the first method), trained or read; its accuracies, or exit."""
    args, base_key = p.args, p.methods[0][0]
    if args.summarize:
        out['runs'][base_key] = {s: p.read(base_key, s) for s in args.seeds}
    else:
        for r, summary in p.run_all(p.student_runs(p.methods[:1])):
            out['runs'].setdefault(base_key, {})[r['seed']] = summary
    base_accs = [v['acc'] for v in out['runs'][base_key].values() if v]
    if not base_accs:
        sys.exit(f'[evidence] no baseline result in {p.root}')
    return base_accs


def _part_gate(p, out, t_sums, base_accs):
    """The gate, for every teacher: the grid runs only when each passes. Records it
    in ``out``; True when passed."""
    teachers = p.teachers
    reasons = [teacher_gate(t_sum['acc'], base_accs, p.args.gate) for t_sum in t_sums]
    if len(teachers) > 1:
        for (t_key, _, _), why in zip(teachers, reasons):
            out['teachers'][t_key]['gate_passed'] = why is None
        reason = '; '.join(f'{t_label}: {why}' for (_, t_label, _), why in
                           zip(teachers, reasons) if why) or None
    else:
        reason = reasons[0]
    out['gate_passed'] = reason is None
    if reason:
        out['gate_failure'] = reason
    return reason is None


def _summarize_part_methods(p, out):
    """Summarize: the loss terms, the methods' results and the step costs that
    earlier calls measured, read; nothing written."""
    args = p.args
    for key, _, _ in p.methods:
        path = osp.join(p.root, f'{key}_seed{args.seeds[0]}', 'loss_terms.json')
        if osp.isfile(path):
            with open(path) as fh:
                out['diagnostics'][key] = json.load(fh)['terms']
    for key, _, _ in p.methods[1:]:
        out['runs'][key] = {s: p.read(key, s) for s in args.seeds}
    costs = {key: step_cost(r, args) for key, r in p.step_cost_runs()}
    if any(costs.values()):
        out['step_cost'] = {k: v for k, v in costs.items() if v}


def _train_part_methods(p, out):
    """The diagnostics (first seed), the methods, then the step cost last, one row
    at a time, nothing else running."""
    args, scale = p.args, p.scale
    if not args.no_diagnostics:
        diag_runs = [p.make_run(key, config, args.seeds[0], scale['epochs'], 'student',
                                key in p.part['curve']) for key, _, config in p.methods]
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for r, terms in zip(diag_runs, pool.map(lambda r: diagnose(r, args),
                                                    diag_runs)):
                if terms:
                    out['diagnostics'][r['key']] = terms
    for r, summary in p.run_all(p.student_runs(p.methods[1:])):
        out['runs'].setdefault(r['key'], {})[r['seed']] = summary
    # the step cost last, one row at a time, nothing else running
    costs = {key: step_cost(r, args) for key, r in p.step_cost_runs()
             if out['runs'].get(key, {}).get(args.seeds[0])}  # trained: its config works
    if any(costs.values()):
        out['step_cost'] = {k: v for k, v in costs.items() if v}


def part_teachers(part):
    """``[(key, label, config)]``: a part's teachers (``teachers``), or its one
    ``teacher``. Each is trained once, in ``<work dir>/<key>``, and gated."""
    return list(part['teachers']) if part.get('teachers') else [part['teacher']]


def teachers_read(part, key):
    """``{distiller slot: teacher key}`` of a method: ``part['reads'][key]``, or the
    part's one teacher in the distiller's ``teacher`` slot. A slot ``'teacher'`` is
    ``model.teacher`` of the method's config, any other ``model.teachers.<slot>``; the
    run's config points that slot's ``checkpoint`` at the teacher's work dir."""
    reads = part.get('reads', {})
    return dict(reads[key]) if key in reads else {'teacher': part_teachers(part)[0][0]}


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


def mutual_overrides(part, scale, seed, starts, epochs):
    """The written overrides of one CMKD-m run: CIFAR-stem members, each loaded from its
    modality's supervised start point of ``seed``, ``epochs`` rounds of one epoch per
    member (so each member trains ``epochs`` epochs, as its baseline), the schedule
    shape of the CMKD-s parts over the ``2 * epochs`` of the run."""
    models = {}
    for name, (_, _, _) in part['members'].items():
        m = dict(checkpoint=starts[name])
        if scale.get('arch'):
            m['model'] = dict(backbone=dict(_delete_=True, type='mmkd.CifarResNet',
                                            arch=scale['arch'],
                                            in_channels=IN_CHANNELS[name]),
                              head=dict(in_channels=CHANNELS[scale['arch']][3]))
        models[name] = m
    phases = [dict(student='eo', teacher='sar', epochs=1, alpha=part['members']['eo'][2]),
              dict(student='sar', teacher='eo', epochs=1, alpha=part['members']['sar'][2])]
    total = 2 * epochs
    over = cmkd_overrides('cmkd-m', part['config'], dict(scale, _epochs=total), None,
                          'mutual', dict(modality=('sar', 'eo'), methods=[('-', )]))
    over['model'] = dict(models=models, phases=phases, rounds=epochs, eval_model='sar')
    return over


def run_mutual(ctx, part):
    """CMKD-m from the start points of the two CMKD-s parts, read for both members."""
    args, scale = ctx['args'], ctx['scale']
    root = osp.join(args.work_dir, part['name'])
    done = ctx.get('done', {})
    gate = done.get(part['gate_part'], {})
    if not args.dry_run and not gate.get('gate_passed'):
        print(f'[evidence] {part["name"]}: needs part {part["gate_part"]} run and its gate '
              f'passed first', flush=True)
        return {}
    epochs = scale['epochs']
    runs = []
    for seed in args.seeds:
        starts = {name: osp.join(args.work_dir, src, f'start_seed{seed}',
                                 f'epoch_{scale["start_epochs"]}.pth')
                  for name, (src, _, _) in part['members'].items()}
        run = dict(name=f'{part["name"]}/cmkd-m_seed{seed}', key='cmkd-m', seed=seed,
                   epochs=2 * epochs, dir=osp.join(root, f'cmkd-m_seed{seed}'))
        os.makedirs(run['dir'], exist_ok=True)
        data = cifar_data(args, scale, 'student', seed)
        over = merge(common_overrides(args, dict(scale, val_every=2), 2 * epochs, True,
                                      data),
                     mutual_overrides(part, scale, seed, starts, epochs))
        over['randomness'] = dict(seed=seed, deterministic=False)
        write_config(osp.join(run['dir'], 'run_config.py'), part['config'], over)
        runs.append(run)
    if args.dry_run:
        for r in runs:
            train(r, args)
        return {}

    def one(r):
        summary = _done(r) if args.summarize else train(r, args)
        if not summary or args.summarize:
            return r, summary
        members = dict(sar=dict(acc=summary['acc'], balanced=summary.get('balanced')))
        members['eo'] = test_member(r, 'eo', args)
        summary['members'] = members
        with open(osp.join(r['dir'], 'final.json'), 'w') as fh:
            json.dump(summary, fh)
        return r, summary
    out = dict(runs={}, gate_part=part['gate_part'])
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for r, summary in pool.map(one, runs):
            out['runs'][r['seed']] = summary
    return out


def test_member(run, member, args):
    """Top-1 (and the balanced reading) of one member of a finished CMKD-m run, with
    ``tools/test.py --member`` on its last checkpoint."""
    ckpt = osp.join(run['dir'], f'epoch_{run["epochs"]}.pth')
    cmd = [sys.executable, osp.join(REPO, 'tools', 'test.py'),
           osp.join(run['dir'], 'run_config.py'), ckpt, '--member', member,
           '--work-dir', osp.join(run['dir'], f'test_{member}')]
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS=str(args.threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    with open(osp.join(run['dir'], f'test_{member}.log'), 'w') as fh:
        fh.write(proc.stdout + proc.stderr)
    text = proc.stdout + proc.stderr
    found = {k: re.findall(rf'{re.escape(k)}: ([0-9.]+)', text)
             for k in ('accuracy/top1', 'balanced/accuracy_before',
                       'balanced/accuracy_after')}
    if proc.returncode or not found['accuracy/top1']:
        raise SystemExit(f'[evidence] testing member {member} failed: '
                         f'{run["dir"]}/test_{member}.log')
    out = dict(acc=float(found['accuracy/top1'][-1]))
    if found['balanced/accuracy_after']:
        out['balanced'] = dict(before=float(found['balanced/accuracy_before'][-1]),
                               after=float(found['balanced/accuracy_after'][-1]))
    return out


def mutual_section(part, args, res):
    """Each CMKD-m member against its modality's supervised start and baseline (the
    start trained as many more epochs), paired by seed; fills ``res['stats']``."""
    seeds = args.seeds
    done = {}
    for name, (src, _, _) in part['members'].items():
        src_dir = osp.join(args.work_dir, src)
        done[name] = dict(
            start={s: _done(dict(dir=osp.join(src_dir, f'start_seed{s}'))) for s in seeds},
            baseline={s: _done(dict(dir=osp.join(src_dir, f'baseline_seed{s}')))
                      for s in seeds})
    lines = [f'Both members start from the supervised models of the CMKD-s parts (seed by '
             f'seed) and train {args_epochs(res)} more epochs each, in rounds of one epoch '
             f'per member (EO as student with alpha {part["members"]["eo"][2]}, then SAR '
             f'with {part["members"]["sar"][2]}); each is compared with its own '
             f'supervised start and with the baseline that continued that start as many '
             f'epochs.', '']
    if part.get('paper_source'):
        lines += [f'Paper: {part["paper_source"]}.', '']
    lines += ['| model | ' + ' | '.join(f'seed {s}' for s in seeds) +
              ' | median | vs baseline (paired, 95 % CI) | reading | vs its start | '
              'balanced: vs balanced baseline | paper |',
              '|---' * (len(seeds) + 7) + '|']
    stats, extra = {}, {}
    for name, label, _ in part['methods']:
        src_label = part['members'][name][1]
        base, start = done[name]['baseline'], done[name]['start']
        for what, runs in (('start', start), ('baseline', base)):
            accs = [runs[s]['acc'] if runs.get(s) else None for s in seeds]
            ok = [a for a in accs if a is not None]
            lines.append(f'| {src_label}, supervised {what} | ' + ' | '.join(
                'n/a' if a is None else f'{a:.2f}' for a in accs) +
                f' | {statistics.median(ok):.2f} | | | | | |' if ok else
                f'| {src_label}, supervised {what} | ' + ' | '.join('n/a' for _ in seeds) +
                ' | n/a | | | | | |')
        mem = {s: res['runs'][s]['members'][name] for s in seeds
               if res['runs'].get(s) and res['runs'][s].get('members')}
        accs = [mem[s]['acc'] if s in mem else None for s in seeds]
        ok = [a for a in accs if a is not None]
        diff = read = vs_start = bal = ''
        common = [s for s in seeds if s in mem and base.get(s)]
        if len(common) >= 2:
            d = paired_difference([mem[s]['acc'] for s in common],
                                  [base[s]['acc'] for s in common])
            stats[name] = d
            diff, read = format_difference(d, 2), verdict(d)
        cs = [s for s in seeds if s in mem and start.get(s)]
        if len(cs) >= 2:
            d = paired_difference([mem[s]['acc'] for s in cs], [start[s]['acc'] for s in cs])
            extra[name + ' - start'] = d
            vs_start = f'{format_difference(d, 2)} ({verdict(d)})'
        cb = [s for s in common if mem[s].get('balanced') and base[s].get('balanced')]
        if len(cb) >= 2:
            d = paired_difference([mem[s]['balanced']['after'] for s in cb],
                                  [base[s]['balanced']['after'] for s in cb])
            extra[name + ' balanced - balanced baseline'] = d
            bal = format_difference(d, 2)
        p = part.get('paper', {}).get(name)
        pcell = '' if p is None else f'{p[0]:.2f} ({p[1]:+.2f})'
        lines.append(f'| **{label}** | ' + ' | '.join(
            'n/a' if a is None else f'{a:.2f}' for a in accs) +
            f' | {statistics.median(ok):.2f} | {diff} | {read} | {vs_start} | {bal} | '
            f'{pcell} |' if ok else f'| **{label}** | not run |')
    res['stats'], res['comparisons'] = stats, extra
    return lines


def args_epochs(res):
    r = next((v for v in res.get('runs', {}).values() if v), None)
    return r and max(int(k) for k in r['curve']) // 2


def _done(run):
    path = osp.join(run['dir'], 'final.json')
    if osp.isfile(path):
        with open(path) as fh:
            return json.load(fh)
    return None


if __name__ == '__main__':
    main()
