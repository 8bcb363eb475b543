"""The classification evidence benchmark (tools/benchmarks/cls_evidence.py): the configs
it writes, the teacher gate that stops the grid, and the report it builds from finished
runs (no training here; the runs are the benchmark's own)."""
import json
import os.path as osp
import sys

import pytest
from conftest import REPO

sys.path.insert(0, osp.join(REPO, 'tools', 'benchmarks'))
import cls_evidence as ev  # noqa: E402


@pytest.fixture
def data_root(tmp_path):
    (tmp_path / 'cifar' / 'train').mkdir(parents=True)
    return str(tmp_path / 'cifar')


def run_main(argv):
    with pytest.raises(SystemExit) as e:
        ev.main(argv)
    return e.value.code


def test_dry_run_writes_every_config_with_the_cpu_scale_overrides(tmp_path, data_root):
    from mmengine.config import Config
    work = tmp_path / 'work'
    ev.main(['ds-cmkd', '--dry-run', '--work-dir', str(work), '--data-root', data_root,
             '--no-readme', '--results-dir', str(tmp_path / 'res')])
    keys = [m[0] for m in ev.TABLES['ds-cmkd']['parts'][0]['methods']]
    assert sorted(p.name for p in work.iterdir()) == sorted(
        ['teacher'] + [f'{k}_seed{s}' for k in keys for s in (0, 1, 2)])
    scale = ev.TABLES['ds-cmkd']['cpu']

    def cfg(name):
        return Config.fromfile(str(work / name / 'run_config.py'))

    t = cfg('teacher')
    assert t.model.student.backbone.arch == scale['teacher_arch']
    assert t.train_cfg.max_epochs == scale['teacher_epochs']
    c = cfg('ds-cmkd_seed1')
    assert c.randomness.seed == 1
    assert c.model.student.backbone.arch == scale['student_arch']
    assert c.model.teacher.model.backbone.arch == scale['teacher_arch']
    assert c.model.teacher.checkpoint == str(work / 'teacher')
    # the noise level lands on the SaltPepperNoise entry of each pipeline
    assert c.train_dataloader.dataset.pipeline[2].type == 'mmkd.SaltPepperNoise'
    assert c.train_dataloader.dataset.pipeline[2].snr == scale['snr']
    assert c.test_dataloader.dataset.pipeline[1].snr == scale['snr']
    assert c.test_dataloader.dataset.max_per_class * 10 >= 2000
    assert c.param_scheduler.type == 'CosineAnnealingLR' and c.param_scheduler.eta_min == 1e-6
    assert 'milestones' not in c.param_scheduler
    sem = c.model.losses.sem
    assert sem.projector_dims == (512, ) * 3 and sem.loss_weight == pytest.approx(1 / 512)
    assert sem.get('teacher_projector', 'frozen') == 'frozen'
    assert cfg('ds-cmkd_tproj_seed0').model.losses.sem.teacher_projector == 'trainable'
    assert cfg('ds-cmkd_plus_seed0').model.losses.dcm.cross_sign == 'plus'
    assert set(cfg('sem-only_seed0').model.losses) == {'sem'}
    assert set(cfg('dcm-only_seed0').model.losses) == {'dcm'}
    assert cfg('fitnets_seed0').model.connectors.s_feat2_adapted.in_channels == 32
    assert cfg('crd_seed0').model.losses.crd.n_data == 10 * scale['per_class']
    assert 'teacher' not in cfg('baseline_seed0').model
    # curve methods validate every epoch, the others once at the end
    assert cfg('kd_seed0').train_cfg.val_interval == 1
    assert cfg('at_seed0').train_cfg.val_interval == scale['epochs']


def test_logit_table_keeps_the_authors_warmup_share_and_fits_reviewkd_to_the_networks(
        tmp_path, data_root):
    """logit-kd: the shipped zoo configs at the ds-cmkd scale; DKD's and ReviewKD's
    20-of-240-epoch warm-ups become the same share of the 6-epoch run in iterations,
    ReviewKD taps the CPU teacher's last pre-activation per stage with its channels."""
    from cls_evidence_lib.overrides import cifar_resnet_blocks, warmup_iters
    from mmengine.config import Config
    work = tmp_path / 'work'
    ev.main(['logit-kd', '--dry-run', '--work-dir', str(work), '--data-root', data_root,
             '--no-readme', '--results-dir', str(tmp_path / 'res')])
    scale = ev.TABLES['logit-kd']['cpu']
    keys = [m[0] for m in ev.TABLES['logit-kd']['parts'][0]['methods']]
    assert keys == ['baseline', 'kd', 'dkd', 'dkd-ls', 'kd-ls', 'dist', 'reviewkd']
    assert (cifar_resnet_blocks('resnet20'), cifar_resnet_blocks('resnet32x4'),
            cifar_resnet_blocks('resnet8')) == (3, 5, 1)
    n_train = 10 * scale['per_class']
    steps = scale['epochs'] * -(-n_train // 64)
    assert warmup_iters(scale['epochs'], n_train) == round(steps / 12) == 40
    assert warmup_iters(240, 50000) == 20 * 782  # the authors' 20 epochs of 240

    def cfg(name):
        return Config.fromfile(str(work / name / 'run_config.py'))

    for key, loss in (('dkd', 'dkd'), ('dkd-ls', 'dkd'), ('reviewkd', 'reviewkd')):
        c = cfg(f'{key}_seed1')
        assert dict(c.model.losses[loss].schedule) == dict(warmup=40, by_epoch=False)
        assert c.model.teacher.model.backbone.arch == scale['teacher_arch']
        assert c.model.teacher.checkpoint == str(work / 'teacher')
    assert cfg('dkd-ls_seed0').model.losses.dkd.logit_standardize is True
    assert cfg('dkd-ls_seed0').model.losses.dkd.alpha == 9.0
    r = cfg('reviewkd_seed0').model
    assert r.losses.reviewkd.student_channels == r.losses.reviewkd.teacher_channels == [
        16, 32, 64, 64]
    assert {k: v for k, v in r.taps.items() if 'preact' in k} == {
        f't_preact{i}': f'teacher.backbone.layer{i}.2.preact' for i in (1, 2, 3)}
    for key in ('kd-ls', 'dist'):  # no warm-up in these, none added
        assert 'schedule' not in next(iter(cfg(f'{key}_seed0').model.losses.values()))


def test_too_small_a_test_set_is_refused(tmp_path, data_root):
    msg = None
    try:
        ev.main(['ds-cmkd', '--dry-run', '--test-per-class', '100', '--data-root',
                 data_root, '--work-dir', str(tmp_path / 'w'), '--no-readme'])
    except SystemExit as e:
        msg = str(e.code)
    assert msg and '>= 2,000' in msg


def finished(work, name, acc, curve=None, s_per_iter=0.1):
    d = work / name
    d.mkdir(parents=True, exist_ok=True)
    (d / 'final.json').write_text(json.dumps(dict(
        acc=acc, curve=curve or {'6': acc}, s_per_iter=s_per_iter)))


def test_gate_stops_the_grid_when_the_teacher_is_no_better(tmp_path, data_root):
    work, res = tmp_path / 'work', tmp_path / 'res'
    finished(work, 'teacher', 30.0)
    for s, a in enumerate([25.0, 26.0, 24.0]):
        finished(work, f'baseline_seed{s}', a)
    code = run_main(['ds-cmkd', '--summarize', '--work-dir', str(work), '--data-root',
                     data_root, '--results-dir', str(res), '--no-readme'])
    assert code == 3
    out = json.loads((res / 'results.json').read_text())
    assert out['gate_passed'] is False and '+5.00' in out['gate_failure']
    assert not (work / 'kd_seed0').exists()  # no student of the grid was set up


def test_report_from_finished_runs(tmp_path, data_root):
    work, res = tmp_path / 'work', tmp_path / 'res'
    readme = tmp_path / 'README.md'
    readme.write_text('intro\n<!-- evidence:ds-cmkd begin -->\nold\n'
                      '<!-- evidence:ds-cmkd end -->\noutro\n')
    finished(work, 'teacher', 60.0)
    base = [30.0, 32.0, 31.0]
    for s, a in enumerate(base):
        finished(work, f'baseline_seed{s}', a,
                 curve={str(e): a * e / 6 for e in range(1, 7)})
    for s, a in enumerate(base):  # KD: +2 on every seed, reaches the baseline at epoch 4
        finished(work, f'kd_seed{s}', a + 2,
                 curve={str(e): (a + 2) * min(1, e / 4) for e in range(1, 7)})
        finished(work, f'at_seed{s}', a - 3 + s)
        finished(work, f'ds-cmkd_seed{s}', a + 1)
    ev.main(['ds-cmkd', '--summarize', '--methods', 'kd', 'at', 'ds-cmkd', '--work-dir',
             str(work),
             '--data-root', data_root, '--results-dir', str(res), '--readme',
             str(readme)])
    out = json.loads((res / 'results.json').read_text())
    assert out['gate_passed'] is True
    kd = out['stats']['kd']
    assert kd['mean'] == pytest.approx(2.0) and kd['half_width'] == pytest.approx(0.0)
    assert out['stats']['at']['mean'] == pytest.approx(-2.0)
    tta = out['time_to_accuracy']['kd']
    assert [r['epoch'] for r in tta] == [4, 4, 4]
    assert tta[0]['epoch_ratio'] == pytest.approx(4 / 6)
    text = readme.read_text()
    assert text.startswith('intro\n') and text.endswith('outro\n') and 'old' not in text
    assert '+2.00 ± 0.00 | better' in text and 'gap +29.00' in text
    assert '83.50 (+2.10)' in text  # the paper's Table 3 beside ours
    # DS-CMKD against KD, paired by seed, whatever the direction
    assert out['comparisons']['ds-cmkd - kd']['mean'] == pytest.approx(-1.0)
    assert 'ds-cmkd against kd (paired by seed): **-1.00 ± 0.00** (worse)' in text
    assert (res / 'accuracy.png').stat().st_size > 1000
    assert (res / 'table.md').read_text() in text


def test_cmkd_dry_run_starts_every_student_from_its_supervised_model(tmp_path,
                                                                     data_root):
    from mmengine.config import Config
    work = tmp_path / 'work'
    ev.main(['cmkd', '--dry-run', '--work-dir', str(work), '--data-root', data_root,
             '--no-readme', '--results-dir', str(tmp_path / 'res')])
    scale = ev.TABLES['cmkd']['cpu']

    def cfg(part, name):
        return Config.fromfile(str(work / part / name / 'run_config.py'))

    # EO -> SAR: an EO teacher, SAR start points, SAR baseline and students
    t = cfg('eo2sar', 'teacher')
    assert t.model.student_input == 'eo' and t.model.student.backbone.in_channels == 3
    assert t.model.student.backbone.type == 'mmkd.CifarResNet'
    start = cfg('eo2sar', 'start_seed1')
    assert start.model.student_input == 'sar' and start.train_cfg.max_epochs == \
        scale['start_epochs']
    assert 'init_cfg' not in start.model.student
    for name in ('baseline_seed1', 'cmkd-s_seed1', 'cmkd-s_hinton_seed1'):
        c = cfg('eo2sar', name)
        assert c.model.student.init_cfg == dict(
            type='Pretrained', prefix='student.',
            checkpoint=str(work / 'eo2sar' / 'start_seed1' /
                           f'epoch_{scale["start_epochs"]}.pth'))
        assert c.train_cfg.max_epochs == scale['epochs']
        assert c.param_scheduler.step_size == round(scale['epochs'] / 3)
    kd = cfg('eo2sar', 'cmkd-s_seed0')
    assert kd.model.teacher.input == 'eo' and kd.model.teacher.checkpoint == str(
        work / 'eo2sar' / 'teacher')
    loss = kd.model.losses.cmkd
    assert (loss.alpha, loss.temperature, loss.kl_reduction) == (0.2, 2.0, 'element')
    old = cfg('eo2sar', 'cmkd-s_hinton_seed0').model.losses.cmkd
    assert (old.alpha, old.temperature, old.kl_reduction) == (0.5, 4.0, 'sample')
    # MixUp 0.4 + AutoAugment, as the paper
    assert kd.model.data_preprocessor.batch_augments[0].alpha == 0.4
    assert any(tr.type == 'mmkd.PairedApply' for tr in kd.train_dataloader.dataset.pipeline)
    # SAR -> EO, the paper's direction: roles swapped, one-band teacher
    p = cfg('sar2eo', 'cmkd-s_seed2')
    assert p.model.student_input == 'eo' and p.model.student.backbone.in_channels == 3
    assert p.model.teacher.input == 'sar' and p.model.teacher.model.backbone.in_channels == 1
    assert cfg('sar2eo', 'teacher').model.student_input == 'sar'
    # every run is read before and after the paper's class-balanced post-processing
    assert [e.type for e in kd.val_evaluator] == ['Accuracy', 'mmkd.BalancedPostProcessMetric']
    # SAR read at the CPU scale's size in every loader
    assert kd.train_dataloader.dataset.pipeline[4].sizes == dict(eo=32, sar=scale['sar_size'])
    assert kd.test_dataloader.dataset.pipeline[2].sizes.sar == scale['sar_size']
    # CMKD-m: both members from the two parts' start points of the same seed, one epoch
    # per member per round, as many rounds as the baselines' extra epochs
    m = cfg('cmkd-m', 'cmkd-m_seed1')
    assert m.model.type == 'mmkd.MutualDistiller'
    assert m.model.models.sar.checkpoint == str(
        work / 'eo2sar' / 'start_seed1' / f'epoch_{scale["start_epochs"]}.pth')
    assert m.model.models.eo.checkpoint == str(
        work / 'sar2eo' / 'start_seed1' / f'epoch_{scale["start_epochs"]}.pth')
    assert m.model.models.eo.model.backbone.in_channels == 3
    assert m.model.models.sar.model.backbone.in_channels == 1
    assert m.model.rounds == scale['epochs'] and m.train_cfg.max_epochs == 2 * scale['epochs']
    assert [(p.student, p.epochs, p.alpha) for p in m.model.phases] == [
        ('eo', 1, 0.2), ('sar', 1, 0.8)]
    assert m.model.data_preprocessor.batch_augments[0].alpha == 0.4
    assert m.train_dataloader.dataset.max_per_class == scale['per_class']


def test_cmkd_report_reads_balanced_post_processing(tmp_path, data_root):
    work, res = tmp_path / 'work', tmp_path / 'res'

    def done(name, acc, before, after):
        finished(work / 'eo2sar', name, acc, curve={'5': acc})
        path = work / 'eo2sar' / name / 'final.json'
        rec = json.loads(path.read_text())
        rec['balanced'] = dict(before=before, after=after)
        path.write_text(json.dumps(rec))

    done('teacher', 70.0, 70.0, 71.0)
    for s in range(3):
        finished(work / 'eo2sar', f'start_seed{s}', 40.0, curve={'10': 40.0})
        done(f'baseline_seed{s}', 40.0 + s, 40.0 + s, 41.0 + s)
        done(f'cmkd-s_seed{s}', 43.0 + s, 43.0 + s, 45.0 + s)
    ev.main(['cmkd', '--summarize', '--methods', 'cmkd-s', '--work-dir', str(work),
             '--data-root', data_root, '--results-dir', str(res), '--no-readme'])
    out = json.loads((res / 'results.json').read_text())['parts']['eo2sar']
    b = out['balanced']
    assert b['baseline']['change']['mean'] == pytest.approx(1.0)
    assert b['cmkd-s']['change']['mean'] == pytest.approx(2.0)
    assert b['cmkd-s']['vs_baseline']['mean'] == pytest.approx(4.0)
    assert (b['cmkd-s']['before'], b['cmkd-s']['after']) == (44.0, 46.0)
    assert '| +2.00 ± 0.00 | +4.00 ± 0.00 |' in (res / 'table.md').read_text()


@pytest.fixture
def mstar_root(tmp_path):
    """An MSTAR-shaped tree: 10 class folders, 4 training and 200 test chips each."""
    root = tmp_path / 'mstar10'
    for c in range(10):
        for split, n in (('train', 4), ('test', 200)):
            d = root / split / f'class{c}'
            d.mkdir(parents=True)
            for i in range(n):
                (d / f'hb{i:05d}.jpeg').touch()
    return str(root)


def test_kd_mstar_dry_run_gives_each_seed_its_own_labelled_subset(tmp_path, mstar_root):
    from mmengine.config import Config
    work = tmp_path / 'work'
    ev.main(['kd-mstar', '--dry-run', '--per-class', '2', '--work-dir', str(work),
             '--data-root', mstar_root, '--no-readme', '--results-dir',
             str(tmp_path / 'res')])

    def cfg(name):
        return Config.fromfile(str(work / name / 'run_config.py'))

    t = cfg('teacher')  # the teacher reads every training chip
    assert 'ann_file' not in t.train_dataloader.dataset
    assert t.train_dataloader.dataset.data_root == mstar_root
    assert t.train_cfg.max_epochs == ev.TABLES['kd-mstar']['cpu']['teacher_epochs']
    subsets = []
    for s in range(3):
        base, kd = cfg(f'baseline_seed{s}'), cfg(f'kd_seed{s}')
        ann = base.train_dataloader.dataset.ann_file
        assert kd.train_dataloader.dataset.ann_file == ann  # same draw within a seed
        assert 'ann_file' not in kd.test_dataloader.dataset  # the whole test split
        lines = open(ann).read().split('\n')[:-1]
        assert len(lines) == 20
        assert sorted({int(x.split()[1]) for x in lines}) == list(range(10))
        assert all(x.split()[0].startswith(f'class{x.split()[1]}/') for x in lines)
        subsets.append(set(lines))
        assert kd.model.teacher.checkpoint == str(work / 'teacher')
        assert kd.param_scheduler.T_max == ev.TABLES['kd-mstar']['cpu']['epochs']
    assert subsets[0] != subsets[1] or subsets[1] != subsets[2]
    with pytest.raises(SystemExit, match='fewer than --per-class 5'):
        ev.main(['kd-mstar', '--dry-run', '--per-class', '5', '--work-dir',
                 str(tmp_path / 'w2'), '--data-root', mstar_root, '--no-readme'])


def test_cmkd_m_report_compares_each_member_with_its_own_baseline(tmp_path, data_root):
    work, res = tmp_path / 'work', tmp_path / 'res'
    for part, t_acc, base in (('eo2sar', 60.0, 30.0), ('sar2eo', 35.0, 45.0)):
        finished(work / part, 'teacher', t_acc)
        for s in range(3):
            finished(work / part, f'start_seed{s}', base - 2 + s, curve={'10': base - 2 + s})
            finished(work / part, f'baseline_seed{s}', base + s, curve={'5': base + s})
    for s in range(3):  # SAR member +1.5 over its baseline, EO member -1 under its own
        finished(work / 'cmkd-m', f'cmkd-m_seed{s}', 31.5 + s, curve={'10': 31.5 + s})
        path = work / 'cmkd-m' / f'cmkd-m_seed{s}' / 'final.json'
        rec = json.loads(path.read_text())
        rec['members'] = dict(sar=dict(acc=31.5 + s), eo=dict(acc=44.0 + s))
        path.write_text(json.dumps(rec))
    ev.main(['cmkd', '--summarize', '--work-dir', str(work), '--data-root', data_root,
             '--results-dir', str(res), '--no-readme'])
    out = json.loads((res / 'results.json').read_text())['parts']
    assert out['eo2sar']['gate_passed'] is True and out['sar2eo']['gate_passed'] is False
    stats = out['cmkd-m']['stats']
    assert stats['sar']['mean'] == pytest.approx(1.5)
    assert stats['eo']['mean'] == pytest.approx(-1.0)
    assert out['cmkd-m']['comparisons']['sar - start']['mean'] == pytest.approx(3.5)
    text = (res / 'table.md').read_text()
    assert '| **CMKD-m: SAR model** | 31.50 | 32.50 | 33.50 | 32.50 | +1.50 ± 0.00 | better' \
        in text
    assert 'SAR model, supervised baseline | 30.00 | 31.00 | 32.00 | 31.00' in text


# ------------------------------------------------------------- one teacher against two
MTKD_ROWS = (('mtkd-ensemble', 'mean_targets'), ('mtkd-sum', 'sum'),
             ('mtkd-camkd', 'confidence'))


def test_mtkd_dry_run_wires_both_teacher_checkpoints_into_every_run(tmp_path, data_root,
                                                                    capsys):
    from mmengine.config import Config
    work = tmp_path / 'work'
    ev.main(['mtkd-synthetic', '--dry-run', '--work-dir', str(work), '--data-root',
             data_root, '--no-readme', '--results-dir', str(tmp_path / 'res')])
    part = ev.TABLES['mtkd-synthetic']['parts'][0]
    keys = [m[0] for m in part['methods']]
    assert keys[:3] == ['baseline', 'kd', 'kd-vgg8'] and {k for k, _ in MTKD_ROWS} <= set(keys)
    assert sorted(p.name for p in work.iterdir()) == sorted(
        ['teacher-resnet34', 'teacher-vgg8'] + [f'{k}_seed{s}' for k in keys for s in (0, 1, 2)])
    scale = ev.TABLES['mtkd-synthetic']['cpu']

    def cfg(name):
        return Config.fromfile(str(work / name / 'run_config.py'))

    ta, tb = cfg('teacher-resnet34'), cfg('teacher-vgg8')
    assert (ta.model.backbone.type, ta.model.backbone.depth) == ('ResNet', 34)
    assert (tb.model.backbone.type, tb.model.backbone.arch) == ('mmkd.CifarVGG', 'vgg8')
    for t in (ta, tb):  # each teacher on every training chip, trained once
        assert t.train_cfg.max_epochs == scale['teacher_epochs']
        assert t.train_dataloader.dataset.type == 'CustomDataset'
        assert t.train_dataloader.dataset.data_root == data_root
    a, b = str(work / 'teacher-resnet34'), str(work / 'teacher-vgg8')
    for s in range(3):
        assert 'teacher' not in cfg(f'baseline_seed{s}').model
        kd_a, kd_b = cfg(f'kd_seed{s}').model.teacher, cfg(f'kd-vgg8_seed{s}').model.teacher
        assert kd_a.checkpoint == a and kd_a.model.endswith('resnet34_synthetic-sar_teacher.py')
        assert kd_b.checkpoint == b and kd_b.model.endswith('vgg8_synthetic-sar_teacher.py')
        for key, aggregation in MTKD_ROWS:
            c = cfg(f'{key}_seed{s}')
            assert 'teacher' not in c.model and c.randomness.seed == s
            assert {n: t.checkpoint for n, t in c.model.teachers.items()} == dict(
                resnet34=a, vgg8=b)
            assert c.model.teachers.resnet34.model.endswith('resnet34_synthetic-sar_teacher.py')
            assert c.model.teachers.vgg8.model.endswith('vgg8_synthetic-sar_teacher.py')
            loss = c.model.losses.mtkd
            assert loss.aggregation == aggregation
            assert dict(loss.inputs.teacher) == dict(resnet34='t_resnet34_logits',
                                                     vgg8='t_vgg8_logits')
            # the student's seed draw, schedule and test set as the baseline's
            base = cfg(f'baseline_seed{s}')
            assert c.train_dataloader.dataset.seed == s
            assert c.train_dataloader.dataset.per_class == scale['per_class']
            assert c.train_dataloader.dataset.to_dict() == base.train_dataloader.dataset.to_dict()
            assert c.train_cfg.max_epochs == base.train_cfg.max_epochs == scale['epochs']
            assert c.test_dataloader.dataset.data_root == data_root
    assert cfg('mtkd-sum_seed0').model.losses.mtkd.weights == dict(resnet34=1.0, vgg8=1.0)
    assert cfg('mtkd-camkd_seed0').model.losses.mtkd.loss_weight == 1.8
    out = capsys.readouterr().out
    for key in part['step_cost']:  # the step cost of each two-teacher row, its config
        assert (f'bench_distill.py --config {work / f"{key}_seed0" / "run_config.py"} '
                f'--threads 1') in out


def test_cross_modal_two_teachers_each_read_their_own_modality_at_the_cpu_scale(
        tmp_path, data_root):
    """mtkd-noisy: the clean and the noisy teacher, each trained once on its own
    modality; every two-teacher run points each slot at its teacher, with each
    teacher's network at the scale, and the student on the noisy images."""
    from mmengine.config import Config
    work = tmp_path / 'work'
    ev.main(['mtkd-noisy', '--dry-run', '--work-dir', str(work), '--data-root', data_root,
             '--no-readme', '--results-dir', str(tmp_path / 'res')])
    table = ev.TABLES['mtkd-noisy']
    keys = [m[0] for m in table['parts'][0]['methods']]
    assert keys[:3] == ['baseline', 'kd', 'kd-noisy']
    assert sorted(p.name for p in work.iterdir()) == sorted(
        ['teacher-clean', 'teacher-noisy'] + [f'{k}_seed{s}' for k in keys for s in (0, 1, 2)])
    scale = table['cpu']

    def cfg(name):
        return Config.fromfile(str(work / name / 'run_config.py'))

    for name, modality in (('teacher-clean', 'clean'), ('teacher-noisy', 'noisy')):
        t = cfg(name)
        assert t.model.student_input == modality and 'teacher' not in t.model
        assert t.model.student.backbone.arch == scale['teacher_arch']
        assert t.train_cfg.max_epochs == scale['teacher_epochs']
    clean, noisy = str(work / 'teacher-clean'), str(work / 'teacher-noisy')
    for s in range(3):
        base = cfg(f'baseline_seed{s}')
        assert base.model.student_input == 'noisy' and 'teacher' not in base.model
        for key, ckpt, modality, weight in (
                ('kd', clean, 'clean', 0.9), ('kd-noisy', noisy, 'noisy', 0.9),
                ('kd_x2', clean, 'clean', 1.8), ('kd-noisy_x2', noisy, 'noisy', 1.8)):
            m = cfg(f'{key}_seed{s}').model  # x2: one teacher at the sum's KD weight
            assert (m.teacher.checkpoint, m.teacher.input, m.teacher.model.backbone.arch,
                    m.losses.kd.loss_weight) == (ckpt, modality, scale['teacher_arch'], weight)
        for key, aggregation in MTKD_ROWS:
            c = cfg(f'{key}_seed{s}')
            assert 'teacher' not in c.model and c.randomness.seed == s
            assert c.model.student_input == 'noisy'
            assert c.model.student.backbone.arch == scale['student_arch']
            assert {n: (t.checkpoint, t.input, t.model.backbone.arch, t.model.head.in_channels)
                    for n, t in c.model.teachers.items()} == dict(
                clean=(clean, 'clean', scale['teacher_arch'], 64),
                noisy=(noisy, 'noisy', scale['teacher_arch'], 64))
            assert c.model.losses.mtkd.aggregation == aggregation
            assert dict(c.model.losses.mtkd.inputs.teacher) == dict(
                clean='t_clean_logits', noisy='t_noisy_logits')
            # the baseline's data, noise and schedule
            assert c.train_dataloader.dataset.to_dict() == base.train_dataloader.dataset.to_dict()
            assert c.train_dataloader.dataset.pipeline[2].snr == scale['snr']
            assert c.train_cfg.max_epochs == base.train_cfg.max_epochs == scale['epochs']


def _finished(work, name, acc, **extra):
    finished(work, name, acc, curve={'60': acc}, s_per_iter=extra.pop('s_per_iter', 0.04))
    path = work / name / 'final.json'
    rec = json.loads(path.read_text())
    rec.update(extra)
    path.write_text(json.dumps(rec))


def test_mtkd_report_two_teacher_rows_compare_lines_and_floor(tmp_path, data_root):
    work, res = tmp_path / 'work', tmp_path / 'res'
    readme = tmp_path / 'README.md'
    readme.write_text('intro\n<!-- evidence:mtkd-synthetic begin -->\nnot measured yet\n'
                      '<!-- evidence:mtkd-synthetic end -->\noutro\n')
    _finished(work, 'teacher-resnet34', 78.0)
    _finished(work, 'teacher-vgg8', 80.0)
    base = [40.0, 41.0, 39.0]
    gain = {'kd': 12.0, 'kd-vgg8': 10.0, 'mtkd-ensemble': 14.0, 'mtkd-sum': 11.0,
            'mtkd-camkd': 13.0}
    s_iter = {'kd': 0.08, 'kd-vgg8': 0.09, 'mtkd-ensemble': 0.12, 'mtkd-sum': 0.12,
              'mtkd-camkd': 0.12}
    for s, acc in enumerate(base):
        _finished(work, f'baseline_seed{s}', acc)
        for key, g in gain.items():
            extra = {}
            if key.startswith('mtkd'):  # the logged weights: constants, CA-MKD's vary
                w = dict(ensemble=(0.5, 0.5), sum=(1.0, 1.0)).get(
                    key[5:], (0.6 + 0.01 * s, 0.4 - 0.01 * s))
                extra['teacher_weights'] = {'mtkd.weight_resnet34': w[0],
                                            'mtkd.weight_vgg8': w[1]}
            # KD from the ResNet-34 gains 12, 12.5, 13: the better single teacher
            _finished(work, f'{key}_seed{s}', acc + g + (0.5 * s if key == 'kd' else 0),
                      s_per_iter=s_iter[key], **extra)
    for key, _ in MTKD_ROWS:  # what bench_distill.py --config writes
        (work / f'{key}_seed0' / 'step_cost.json').write_text(json.dumps(dict(
            batch_size=32, threads=1, repeats=15, seconds=dict(
                median=dict(student=0.04, teacher=0.07, kd=0.12),
                teacher_each=dict(resnet34=0.03, vgg8=0.04)))))
    ev.main(['mtkd-synthetic', '--summarize', '--work-dir', str(work), '--data-root',
             data_root, '--results-dir', str(res), '--readme', str(readme)])
    out = json.loads((res / 'results.json').read_text())
    assert out['gate_passed'] is True
    assert out['teachers']['teacher-vgg8'] == dict(
        label='VGG-8 teacher (all 1,000 training chips, trained once)', acc=80.0,
        gate_passed=True)
    assert out['stats']['mtkd-ensemble']['mean'] == pytest.approx(14.0)
    assert out['best_single'] == 'kd'
    assert out['comparisons']['mtkd-ensemble - kd']['mean'] == pytest.approx(1.5)
    assert out['comparisons']['mtkd-sum - kd']['mean'] == pytest.approx(-1.5)
    assert set(out['comparisons']) == {f'{k} - kd' for k, _ in MTKD_ROWS}
    cost = out['step_cost']['mtkd-camkd']
    assert cost['floor_r_star'] == pytest.approx(1 + 0.07 / 0.04)
    assert cost['kd_over_student'] == pytest.approx(3.0)
    text = readme.read_text()
    assert text.startswith('intro\n') and text.endswith('outro\n')
    assert 'not measured yet' not in text and (res / 'table.md').read_text() in text
    assert ('VGG-8 teacher (all 1,000 training chips, trained once): **80.00** (gap +40.00)'
            in text and 'student baseline median **40.00**' not in text)
    assert 'Student baseline median **40.00**' in text
    for label in ('KD from the VGG-8 alone', 'Both teachers: one KD term each',
                  'Both teachers: CA-MKD confidence weights'):
        assert label in text
    assert '| **Both teachers: averaged soft targets (0.9 KD)** |' in text  # the main row
    assert ('mtkd-ensemble against the better single teacher, kd (higher mean over the '
            'seeds; paired by seed): **+1.50 ± 1.24** (better)') in text
    assert 'mtkd-sum against the better single teacher, kd' in text
    # each two-teacher row's step against r* = 1 + sum of the teachers / the student
    assert 'r* = 1 + Σ t(teacher) / t(student)' in text
    assert '| resnet34 forward (ms) | vgg8 forward (ms) |' in text
    assert '| mtkd-camkd | 40.0 | 30.0 | 40.0 | 120.0 | 3.00 | 2.75 | +9.1 % |' in text
    assert ('resnet34 alone 1 + t(resnet34) / t(student) = 1.75; vgg8 alone 1 + t(vgg8) / '
            't(student) = 2.00; both 2.75') in text
    assert 'baseline 0.040, kd 0.080 (2.00x), kd-vgg8 0.090 (2.25x)' in text
    # the per-teacher weights the loss logged, per row
    assert '- mtkd-camkd: `mtkd.weight_resnet34` 0.610, `mtkd.weight_vgg8` 0.390' in text
    assert '- mtkd-sum: `mtkd.weight_resnet34` 1.000, `mtkd.weight_vgg8` 1.000' in text


def test_mtkd_gate_checks_each_teacher(tmp_path, data_root):
    work, res = tmp_path / 'work', tmp_path / 'res'
    _finished(work, 'teacher-resnet34', 78.0)
    _finished(work, 'teacher-vgg8', 45.0)  # +5 over the baseline: no effect to show
    for s, acc in enumerate([40.0, 41.0, 39.0]):
        _finished(work, f'baseline_seed{s}', acc)
    code = run_main(['mtkd-synthetic', '--summarize', '--work-dir', str(work),
                     '--data-root', data_root, '--results-dir', str(res), '--no-readme'])
    assert code == 3
    out = json.loads((res / 'results.json').read_text())
    assert out['gate_passed'] is False
    assert out['teachers']['teacher-resnet34']['gate_passed'] is True
    assert out['teachers']['teacher-vgg8']['gate_passed'] is False
    assert out['gate_failure'].startswith('VGG-8 teacher (all 1,000 training chips, trained '
                                          'once): teacher gate failed')
    assert 'ResNet-34' not in out['gate_failure'] and '+5.00' in out['gate_failure']


def test_bench_distill_takes_a_config_and_times_each_teacher():
    """``--config`` instead of ``--pair``; with several frozen teachers each forward is
    timed on its own and the ``teacher`` time (the floor's) is their sum. No timing is
    asserted: the stub teachers only count their calls."""
    import bench_distill as bd
    import torch
    for argv in ([], ['--pair', 'seg', '--config', 'x.py']):
        with pytest.raises(SystemExit):
            bd.parse_args(argv)
    args = bd.parse_args(['--config', 'configs/kd/x.py'])
    assert bd.pair_spec(args)['data'] is None
    assert bd.pair_argv(args) == ['--config', osp.abspath('configs/kd/x.py')]

    class Teacher:
        calls = 0

        def read(self, inputs):
            return inputs

        def features(self, x, data_samples, recorder, device):
            Teacher.calls += 1

    class D:
        frozen_teacher_names, recorder = ['resnet34', 'vgg8'], None

        def data_preprocessor(self, batch, training):
            return dict(inputs=torch.zeros(1), data_samples=[])

        def get_teacher(self, name):
            return Teacher()

    steps = bd.Steps.__new__(bd.Steps)
    steps.batch, steps.d, steps.device = {}, D(), torch.device('cpu')
    steps.fns = dict(teacher=steps.teacher_forward)
    total = steps.timed('teacher')
    assert Teacher.calls == 2 and set(steps.teacher_times) == {'resnet34', 'vgg8'}
    assert total == pytest.approx(sum(steps.teacher_times.values()))


def test_bench_distill_config_runs_a_two_teacher_config_end_to_end(tmp_path,
                                                                   synthetic_sar_root):
    """What the table's step cost calls, on a shipped two-teacher config over a tiny
    chip set (2 chips per class, a batch of 4, one round): the JSON holds each
    teacher's forward and the floor from their sum. Structure only, no timing."""
    import bench_distill as bd
    cfg = tmp_path / 'two_teachers.py'
    base = osp.join(REPO, 'configs', 'kd',
                    'mtkd-camkd_resnet34+vgg8_resnet18-w32_synthetic-sar-10shot.py')
    cfg.write_text(f'_base_ = [{base!r}]\n'
                   f'train_dataloader = dict(batch_size=4, num_workers=0, '
                   f'persistent_workers=False, dataset=dict(per_class=2, '
                   f'dataset=dict(data_root={synthetic_sar_root!r})))\n')
    out = tmp_path / 'cost.json'
    bd.main(['--config', str(cfg), '--repeats', '1', '--warmup', '0', '--threads', '1',
             '--no-memory', '--no-loader', '--no-cache', '--json', str(out)])
    r = json.loads(out.read_text())
    assert r['batch_size'] == 4 and r['config'] == str(cfg)
    each = r['seconds']['teacher_each']
    assert set(each) == {'resnet34', 'vgg8'}
    med = r['seconds']['median']
    assert med['teacher'] == pytest.approx(sum(each.values()))
    assert r['ratios']['floor_r_star'] == pytest.approx(1 + med['teacher'] / med['student'])
    assert set(r['ratios']['floor_r_star_each']) == {'resnet34', 'vgg8'}
    summary = ev._step_summary(r)  # what the table reads of it
    assert summary['floor_r_star'] == pytest.approx(r['ratios']['floor_r_star'])
