"""The tables of the dense evidence (``TABLES``): per table its track and metric, the
teacher, the rows (``row()``: key, label, shipped config, step cost relative to the
baseline's), the gate, comparisons, claims and the papers' numbers, and the CPU and
``--full`` scales; the ``--full`` detection datasets (``DET_FULL``)."""


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
    full_hint=('its generic full-scale set is Pascal VOC: the configs/det_kd/voc/ '
               'configs with tools/train.py'),
    # the seed spread of the shared rows beside the aerial table's (read, never rerun)
    spread_against=dict(table='det-kd', results='configs/det_kd/evidence/results.json',
                        rows=GENERIC_KEYS, base='hard', ratio='soft'),
)

L = K + 'ld/'
# LD (issue #14) as mmdet ships it: its own GFL teacher (LD distils GFL's box
# distribution, which the RetinaNet teacher has not) and its own baseline, the GFL
# student on the labels alone; det-kd's data, scale, schedule and gate
LD_ROWS = [
    row('gfl', 'GFL R18-FPN (ground truth only, no teacher)',
        L + 'gfl_r18-fpn_synthetic-det.py'),
    row('ld', "LD (mmdet's KD detector + LDHead: KL of the box distributions, T 10, "
        'weight 0.25)', L + 'ld_gfl_r50-pafpn_r18-fpn_synthetic-det.py', cost=1.6),
]
TABLES['det-ld'] = dict(
    TABLES['det-kd'],
    title="LD on the synthetic benchmark (GFL R50-PAFPN -> R18-FPN, mmdet's LD)",
    teacher=row('teacher', 'GFL R50-PAFPN (the teacher, trained once)',
                L + 'gfl_r50-pafpn_synthetic-det_teacher.py', cost=1.0),
    rows=LD_ROWS, main='ld', compare=(), ratio_claims={},
    results_dir='configs/det_kd/evidence_ld',
    paper_source=("mmdet's configs/ld README (the authors' recipe in mmdet), COCO val "
                  'box AP (%), GFL, 1x schedule, teacher GFL R101; the R34 / R50 '
                  'students: 38.9 -> 39.9, 40.1 -> 41.0'),
    paper={'gfl': '35.8 (R18)', 'ld': '36.5 (R18)'},
    full=None,
    full_hint=("LD's full scale is mmdet's own COCO recipe "
               '(mmdet::ld/ld_r18-gflv1-r101_fpn_1x_coco.py with tools/train.py)'),
)

# cross-modal LD (issue #14), declared after det-ld's gate refused the same-modality
# pair twice: the same GFL R50-PAFPN teacher on the optical rendering (det-ld's 64-epoch
# one, the better of the two it measured) teaches the GFL R18-FPN that reads the
# infrared rendering (mmkd's PairedKDSingleStageDetector around mmdet's LDHead); the
# baseline is that student on infrared alone. det-kd's data, scale, student schedule and
# gate (1.5x: the optical teacher on optical images against the infrared baseline)
LD_CROSS_ROWS = [
    row('gfl_infrared', 'GFL R18-FPN on infrared (ground truth only, no teacher)',
        L + 'gfl_r18-fpn_synthetic-det-infrared.py'),
    row('ld_optical', "LD from the optical teacher (mmdet's LDHead: KL of the box "
        'distributions, T 10, weight 0.25)',
        L + 'ld_gfl_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py', cost=1.6),
]
TABLES['det-ld-cross-modal'] = dict(
    TABLES['det-ld'],
    title=('Cross-modal LD on the synthetic benchmark (GFL R50-PAFPN on optical -> '
           'R18-FPN on infrared)'),
    teacher=row('teacher', 'GFL R50-PAFPN on optical (the teacher, trained once; '
                'tested on optical images)', L + 'gfl_r50-pafpn_synthetic-det_teacher.py',
                cost=1.0),
    rows=LD_CROSS_ROWS, main='ld_optical',
    results_dir='configs/det_kd/evidence_ld-cross-modal',
    paper_source=("mmdet's configs/ld README, COCO val box AP (%), GFL, 1x, teacher GFL "
                  'R101 (one modality: the paper has no cross-modal pair)'),
    paper={'gfl_infrared': '35.8 (R18, optical COCO)',
           'ld_optical': '36.5 (R18, optical COCO)'},
    cpu=dict(TABLES['det-kd']['cpu'], teacher_epochs=64),
)

STYLE_TEXT = {'generic': '1-3 objects per scene, each 25-70 % of the side long'}

DET_FULL = {  # --full --dataset: the resolution and the default folds of each dataset
    'vedai25': dict(res=512, default_folds=[1, 2, 3, 4, 5]),
    'vedai12': dict(res=1024, default_folds=[1, 2, 3, 4, 5]),
    'xview': dict(res=512, default_folds=[None]),
}
