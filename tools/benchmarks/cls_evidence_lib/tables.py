"""The tables of the classification evidence (``TABLES``): per table its parts, each
part's teacher(s), rows (key, label, shipped config), comparisons and the paper's
numbers, and the CPU and ``--full`` scales."""
import os.path as osp

from .data import mstar_data, mstar_sizes, synthetic_data, synthetic_generate, synthetic_sizes
from .overrides import cmkd_overrides, ds_cmkd_overrides, kd_mstar_overrides, kd_synthetic_overrides


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


# noisy CIFAR-10 at SNR 0.1 (ds-cmkd, mtkd-noisy): RepDistiller's narrow ResNet-20 ->
# ResNet-8 on a balanced subset at the CPU scale, the shipped networks and all images
# for the paper's 300 epochs with --full
_NOISY_CIFAR_CPU = dict(teacher_arch='resnet20', student_arch='resnet8', per_class=500,
                        test_per_class=300, teacher_epochs=20, epochs=6, projector_dim=512,
                        snr=0.1, lr=0.1)
_NOISY_CIFAR_FULL = dict(teacher_arch='resnet32x4', student_arch='resnet8x4', per_class=None,
                         test_per_class=None, teacher_epochs=300, epochs=300,
                         projector_dim=2048, snr=0.1, lr=0.1)
# what the tables of that scale share: its overrides and both scales
_NOISY_CIFAR = dict(overrides=lambda *a: ds_cmkd_overrides(*a), cpu=_NOISY_CIFAR_CPU,
                    full=_NOISY_CIFAR_FULL)


def _mtkd_noisy_parts():
    """Two teachers that read different modalities, one student: on noisy CIFAR-10 (the
    ``ds-cmkd`` scale) a teacher on the clean images (the ds-cmkd teacher: the optical
    one) and a teacher of the same network on the noisy images (the student's own
    modality: the SAR one), each trained once and gated against the noisy student;
    KD from each alone and from both with the three aggregations of
    ``mmkd.MultiTeacherKDLoss``; each teacher reads its own modality of the pair."""
    d, k = 'ds_cmkd/', 'kd/'
    mt = 'resnet32x4-clean+noisy_resnet8x4_cifar10-noisy.py'
    both = dict(clean='teacher-clean', noisy='teacher-noisy')
    return [dict(
        name='', title='Two teachers, two modalities: clean and noisy teachers of a noisy '
        'student (noisy CIFAR-10, SNR 0.1)',
        main='mtkd-ensemble', curve=('baseline', 'kd', 'mtkd-ensemble'),
        teachers=[
            ('teacher-clean', 'ResNet teacher on the clean images (trained once)',
             d + 'resnet32x4_cifar10-clean_teacher.py'),
            ('teacher-noisy', 'ResNet teacher on the noisy images (trained once)',
             k + 'resnet32x4_cifar10-noisy_teacher.py')],
        methods=[
            ('baseline', 'ResNet student on noisy images (no teacher)',
             d + 'resnet8x4_cifar10-noisy_baseline.py'),
            ('kd', 'KD from the clean-image teacher alone (T 4, 0.9 KD + 0.1 CE)',
             d + 'kd_resnet32x4_resnet8x4_cifar10-noisy.py'),
            ('kd-noisy', 'KD from the noisy-image teacher alone (T 4, 0.9 KD + 0.1 CE)',
             k + 'kd_resnet32x4-noisy_resnet8x4_cifar10-noisy.py'),
            ('mtkd-ensemble', 'Both teachers: averaged soft targets (0.9 KD)',
             k + 'mtkd-ensemble_' + mt),
            ('mtkd-sum', 'Both teachers: one KD term each (0.9 + 0.9)', k + 'mtkd-sum_' + mt),
            ('mtkd-camkd', 'Both teachers: CA-MKD confidence weights (0.9 KD)',
             k + 'mtkd-camkd_' + mt),
            # the sum's controls: one teacher at the sum's KD weight (0.9 + 0.9), so the
            # sum against them differs by the second teacher alone (added after the
            # first call showed the sum ahead; new rows, the others unchanged)
            ('kd_x2', "KD from the clean-image teacher alone at the sum's weight (1.8 KD)",
             d + 'kd_resnet32x4_resnet8x4_cifar10-noisy.py'),
            ('kd-noisy_x2', "KD from the noisy-image teacher alone at the sum's weight "
             '(1.8 KD)', k + 'kd_resnet32x4-noisy_resnet8x4_cifar10-noisy.py')],
        reads={'kd': dict(teacher='teacher-clean'), 'kd-noisy': dict(teacher='teacher-noisy'),
               'kd_x2': dict(teacher='teacher-clean'),
               'kd-noisy_x2': dict(teacher='teacher-noisy'),
               'mtkd-ensemble': both, 'mtkd-sum': both, 'mtkd-camkd': both},
        compare=(('mtkd-sum', 'kd_x2'), ('mtkd-sum', 'kd-noisy_x2'), ('kd_x2', 'kd'),
                 ('kd-noisy_x2', 'kd-noisy')),
        compare_best=dict(single=('kd', 'kd-noisy'),
                          multi=('mtkd-ensemble', 'mtkd-sum', 'mtkd-camkd')),
        step_cost=('mtkd-ensemble', 'mtkd-sum', 'mtkd-camkd'),
        paper={})]


def _logit_kd_parts():
    """The logit methods of issue #14 (DKD, logit standardisation on KD and DKD, DIST)
    and ReviewKD beside Hinton KD, at the authors' weights, with the ds-cmkd teacher,
    baseline and scale; the warm-ups (DKD, ReviewKD) keep the authors' share of the
    schedule (``overrides.warmup_iters``)."""
    d, z = 'ds_cmkd/', 'ds_cmkd/zoo/'
    pair = '_resnet32x4_resnet8x4_cifar10-noisy.py'
    return [dict(
        name='', title='The logit methods and ReviewKD on noisy CIFAR-10 (SNR 0.1)',
        main='dkd', curve=('baseline', 'kd', 'dkd'),
        teacher=('teacher', 'ResNet teacher on clean images',
                 d + 'resnet32x4_cifar10-clean_teacher.py'),
        methods=[
            ('baseline', 'ResNet student on noisy images (no teacher)',
             d + 'resnet8x4_cifar10-noisy_baseline.py'),
            ('kd', 'KD (T 4, 0.9 KD + 0.1 CE)', d + 'kd' + pair),
            ('dkd', 'DKD (alpha 1, beta 8, T 4, 1 CE)', z + 'dkd' + pair),
            ('dkd-ls', 'DKD + logit standardisation (alpha 9, beta 72, base T 2)',
             z + 'dkd-ls' + pair),
            ('kd-ls', 'KD + logit standardisation (9 KD + 1 CE, base T 2)',
             z + 'kd-ls' + pair),
            ('dist', 'DIST (beta 1, gamma 1, tau 1, 1 CE)', z + 'dist' + pair),
            ('reviewkd', 'ReviewKD (ABF + HCL, weight 5, 1 CE)', z + 'reviewkd' + pair)],
        compare=(('dkd', 'kd'), ('dist', 'kd'), ('kd-ls', 'kd'), ('dkd-ls', 'dkd'),
                 ('reviewkd', 'kd')),
        paper_source=('none quoted: the papers measure CIFAR-100 at 240 epochs with '
                      'their released teachers'),
        paper={})]


TABLES = {
    'ds-cmkd': dict(
        _NOISY_CIFAR,
        title='DS-CMKD on noisy CIFAR-10 (SNR 0.1)',
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
        # sized for 2 CPU cores: 48 student runs of ~470 steps in about 75 minutes
        results_dir='configs/ds_cmkd/evidence',
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
    # ds-cmkd's scale: two teachers of 20 epochs side by side, then 24 student runs of
    # 6 epochs (the two-teacher rows run both teachers' forwards in every step)
    'mtkd-noisy': dict(
        _NOISY_CIFAR,
        title='Two teachers, two modalities, on noisy CIFAR-10 (SNR 0.1)',
        parts=_mtkd_noisy_parts(),
        readme='configs/kd/README.md',
        results_dir='configs/kd/evidence-mtkd-noisy',
    ),
    # ds-cmkd's teacher, baseline and scale: 5 logit / ReviewKD rows beside KD
    'logit-kd': dict(
        _NOISY_CIFAR,
        title='The logit methods and ReviewKD on noisy CIFAR-10 (SNR 0.1)',
        parts=_logit_kd_parts(),
        readme='configs/ds_cmkd/README.md',
        results_dir='configs/ds_cmkd/evidence-logit',
    ),
}
