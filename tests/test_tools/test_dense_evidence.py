"""The dense-prediction evidence benchmark (tools/benchmarks/dense_evidence.py): the
configs it writes for each run, the teacher gate that stops the grid, the report it
builds from finished runs, how a run's result is read from its logs, and the
loss-term diagnostic on segmentation / detection outputs (no training here)."""
import importlib.util
import json
import os.path as osp
import sys

import pytest
import torch
from conftest import REPO

sys.path.insert(0, osp.join(REPO, 'tools', 'benchmarks'))
import dense_evidence as ev  # noqa: E402


def run_main(argv):
    with pytest.raises(SystemExit) as e:
        ev.main(argv)
    return e.value.code


def cfg(work, name):
    from mmengine.config import Config
    return Config.fromfile(str(work / name / 'run_config.py'))


def test_disoptnet_dry_run_writes_each_run_with_its_scale_teacher_and_losses(tmp_path):
    work = tmp_path / 'work'
    # two seeds and a few rows keep the test short (each config is parsed and dumped)
    ev.main(['disoptnet', '--dry-run', '--methods', 'k3', 'finetune', 'dml', 'skd',
             'k3_sar-only', '--seeds', '0', '1', '--work-dir', str(work), '--no-readme',
             '--results-dir', str(tmp_path / 'res')])
    keys = ['baseline', 'k3', 'finetune', 'dml', 'skd', 'k3_sar-only']
    assert sorted(p.name for p in work.iterdir()) == sorted(
        ['teacher'] + [f'{k}_seed{s}' for k in keys for s in (0, 1)])
    scale = ev.TABLES['disoptnet']['cpu']
    b0 = ev.STAGES['b0']
    root = osp.join(REPO, 'data', 'synthetic_buildings_64px_looks1_400-500')

    t = cfg(work, 'teacher')  # the optical teacher: same encoder as the students
    assert t.model.backbone.arch == 'b0' and t.model.decode_head.in_channels == b0
    assert t.train_cfg.max_iters == scale['teacher_iters'] == t.train_cfg.val_interval
    assert t.param_scheduler[0].end == scale['teacher_iters']
    assert t.train_dataloader.dataset.modalities == ('optical', )
    assert t.train_dataloader.dataset.data_root == root
    assert t.val_dataloader.dataset.split_file == 'splits/test.txt'

    b = cfg(work, 'baseline_seed1')  # the same-architecture SAR network, no teacher
    assert b.model.type == 'EncoderDecoder' and b.model.backbone.arch == 'b0'
    assert b.model.backbone.in_channels == 4 and 'teacher' not in b.model
    assert b.train_cfg.max_iters == scale['iters'] and b.randomness.seed == 1
    assert b.train_dataloader.num_workers == 0 and b.train_dataloader.batch_size == 8

    k3 = cfg(work, 'k3_seed1')
    tdir = str(work / 'teacher')
    assert k3.randomness.seed == 1
    s = k3.model.student
    assert s.type == 'mmkd.DisOptNet' and s.split_stage == 3
    assert s.backbone.arch == s.pseudo_optical_backbone.arch == 'b0'
    assert s.decode_head.in_channels == s.pseudo_optical_head.in_channels == b0
    assert s.pseudo_optical_init.checkpoint == tdir
    assert k3.model.teacher.checkpoint == tdir
    assert k3.model.teacher.model == osp.join(tdir, 'run_config.py')
    losses = k3.model.losses
    assert losses.pixel_kl.reduction == 'sum_over_hw' and losses.pixel_kl.loss_weight == 1
    assert {losses[k].reduction for k in ('l2_stage4', 'l2_stage5', 'l2_decoder')} == \
        {'relative'}
    assert losses.l2_stage4.loss_weight == pytest.approx(1 / 3)

    ft = cfg(work, 'finetune_seed0')  # from the teacher's weights, even with --resume
    assert ft.get('load_from') is None
    assert ft.model.init_cfg == dict(type='Pretrained', checkpoint=osp.join(
        tdir, f'iter_{scale["teacher_iters"]}.pth'))
    dml = cfg(work, 'dml_seed0')  # the optical peer trains, from scratch
    assert dml.model.teacher.trainable and 'checkpoint' not in dml.model.teacher
    assert dml.model.teacher.model == osp.join(tdir, 'run_config.py')
    skd = cfg(work, 'skd_seed0')
    assert skd.model.losses.pixel_wise.loss_weight == 10
    assert skd.model.student.backbone.arch == 'b0' and skd.model.teacher.checkpoint == tdir
    alone = cfg(work, 'k3_sar-only_seed0')  # DisOptNet's network on SAR, no teacher
    assert alone.model.type == 'mmkd.DisOptNet' and alone.model.pseudo_optical_init is None
    assert alone.model.backbone.arch == 'b0'
    assert alone.train_dataloader.dataset.modalities == ('sar', )
    # the run config says what it was written from
    assert open(work / 'k3_seed1' / 'run_config.py').readline().startswith(
        '# Written by tools/benchmarks/dense_evidence.py: configs/disoptnet/'
        'disoptnet_effnet-b3-unet_k3_synthetic-buildings.py')


def test_split_positions_keep_their_matched_features(tmp_path):
    work = tmp_path / 'work'
    ev.main(['disoptnet', '--dry-run', '--methods', 'k1', 'k4', '--seeds', '0',
             '--work-dir', str(work), '--no-readme', '--results-dir', str(tmp_path / 'r')])
    k1, k4 = cfg(work, 'k1_seed0'), cfg(work, 'k4_seed0')
    assert k1.model.student.split_stage == 1 and k4.model.student.split_stage == 4
    assert set(k1.model.losses) == {'pixel_kl', 'l2_decoder', 'l2_stage2', 'l2_stage3',
                                    'l2_stage4', 'l2_stage5'}
    assert set(k4.model.losses) == {'pixel_kl', 'l2_decoder', 'l2_stage5'}
    assert k1.model.student.pseudo_optical_backbone.arch == 'b0'


def test_num_labelled_trains_teacher_free_rows_on_the_labelled_scenes(tmp_path):
    work = tmp_path / 'work'
    ev.main(['disoptnet', '--dry-run', '--num-labelled', '40', '--methods', 'k3',
             'finetune', 'sar_all-scenes', '--seeds', '0', '--work-dir', str(work),
             '--no-readme', '--results-dir', str(tmp_path / 'r')])
    root = osp.join(REPO, 'data', 'synthetic_buildings_64px_looks1_400-500_labelled40')
    split = {name: cfg(work, name).train_dataloader.dataset.get('split_file')
             for name in ('teacher', 'baseline_seed0', 'finetune_seed0', 'k3_seed0',
                          'sar_all-scenes_seed0')}
    # what is labelled for the teacher and the teacher-free rows, every pair otherwise
    assert split == {'teacher': 'splits/train_labelled.txt',
                     'baseline_seed0': 'splits/train_labelled.txt',
                     'finetune_seed0': 'splits/train_labelled.txt',
                     'k3_seed0': 'splits/train.txt',
                     'sar_all-scenes_seed0': 'splits/train.txt'}
    assert cfg(work, 'k3_seed0').train_dataloader.dataset.data_root == root
    assert cfg(work, 'sar_all-scenes_seed0').model.type == 'EncoderDecoder'
    # the control row belongs to that setting only; the setting to the synthetic table
    assert 'sar_all-scenes' in str(run_main(
        ['disoptnet', '--dry-run', '--methods', 'sar_all-scenes', '--work-dir',
         str(tmp_path / 'w2'), '--no-readme']))
    assert '--num-labelled' in str(run_main(
        ['det-kd', '--dry-run', '--num-labelled', '4', '--work-dir',
         str(tmp_path / 'w3'), '--no-readme']))


def test_det_dry_run_writes_each_cell_with_its_soft_normalisation(tmp_path):
    work = tmp_path / 'work'
    ev.main(['det-kd', '--dry-run', '--methods', 'soft', 'soft_hard-pos',
             'soft_target-sum', 'soft+pdf', 'hard+mse', '--seeds', '0', '1',
             '--work-dir', str(work),
             '--no-readme', '--results-dir', str(tmp_path / 'res')])
    scale = ev.TABLES['det-kd']['cpu']
    root = osp.join(REPO, 'data', 'synthetic_det_128px_200-300')
    t = cfg(work, 'teacher')
    assert t.model.type == 'RetinaNet' and t.model.neck.type == 'PAFPN'
    assert t.train_cfg.max_epochs == scale['teacher_epochs']
    assert t.model.bbox_head.anchor_generator.octave_base_scale == 1.5
    hard = cfg(work, 'hard_seed1')
    assert hard.model.backbone.depth == 18 and 'teacher' not in hard.model
    assert hard.train_cfg.max_epochs == scale['epochs'] == hard.train_cfg.val_interval
    assert hard.train_dataloader.dataset.data_root == root + '/'
    assert hard.train_dataloader.dataset.pipeline[2].scale == (128, 128)
    assert hard.val_dataloader.dataset.pipeline[1].scale == (128, 128)
    assert hard.val_evaluator.ann_file == osp.join(root, 'annotations/val.json')
    warmup, steps = hard.param_scheduler
    # 16 epochs of 25 iterations: warm-up a fifth of the run, steps at 2/3 and 11/12
    assert warmup.end == 80 and steps.milestones == [11, 15] and steps.end == 16

    tdir = str(work / 'teacher')
    soft = cfg(work, 'soft_seed0')
    assert soft.model.teacher.checkpoint == tdir
    assert soft.model.teacher.model == osp.join(tdir, 'run_config.py')
    assert soft.model.student_loss_weight == dict(loss_cls=0.)
    assert soft.model.losses.soft.normalize == 'teacher_pos'
    hp = cfg(work, 'soft_hard-pos_seed1').model.losses.soft
    assert hp.normalize == 'hard_pos' and hp.anchor_generator.octave_base_scale == 1.5
    assert hp.assigner.pos_iou_thr == 0.5 and hp.allowed_border == -1
    assert cfg(work, 'soft_target-sum_seed1').model.losses.soft.normalize == 'target_sum'
    pdf = cfg(work, 'soft+pdf_seed0').model
    assert pdf.losses.soft.normalize == 'teacher_pos' and pdf.losses.pdf.loss_weight == 5
    mse = cfg(work, 'hard+mse_seed0').model
    assert 'soft' not in mse.losses and mse.get('student_loss_weight', 1.0) == 1.0
    assert set(mse.losses) == {f'mse_p{lvl}' for lvl in range(3, 8)}


def test_det_generic_dry_run_writes_its_runs_on_the_generic_scenes(tmp_path):
    """det-kd-generic: det-kd's scale and rows hard, hard+pdf, hard+mse, soft, on the
    generated generic scenes, with the generic configs' anchors (octave_base_scale 4)
    for the written teacher and every student."""
    work = tmp_path / 'work'
    ev.main(['det-kd-generic', '--dry-run', '--seeds', '0', '1', '--work-dir', str(work),
             '--no-readme', '--results-dir', str(tmp_path / 'res')])
    table = ev.TABLES['det-kd-generic']
    assert table['cpu'] == dict(ev.TABLES['det-kd']['cpu'], style='generic')
    assert table['results_dir'] == 'configs/det_kd/evidence_generic'
    assert sorted(p.name for p in work.iterdir()) == sorted(
        ['teacher'] + [f'{k}_seed{s}' for k in ('hard', 'hard+pdf', 'hard+mse', 'soft')
                       for s in (0, 1)])
    root = osp.join(REPO, 'data', 'synthetic_det_generic_128px_200-300')
    t = cfg(work, 'teacher')
    assert t.model.backbone.depth == 50 and t.train_cfg.max_epochs == 32
    runs = [cfg(work, n) for n in ('hard_seed1', 'hard+pdf_seed0', 'hard+mse_seed1',
                                   'soft_seed0')]
    for c in [t] + runs:
        for split in ('train', 'val', 'test'):
            assert c[f'{split}_dataloader'].dataset.data_root == root + '/'
        assert c.val_evaluator.ann_file == osp.join(root, 'annotations/val.json')
        assert c.train_dataloader.dataset.pipeline[2].scale == (128, 128)
        model = c.model.get('student', c.model)
        assert model.bbox_head.anchor_generator.octave_base_scale == 4
    hard, pdf, mse, soft = runs
    assert hard.model.backbone.depth == 18 and 'teacher' not in hard.model
    assert hard.train_cfg.max_epochs == 16 and hard.randomness.seed == 1
    tdir = str(work / 'teacher')
    assert soft.model.teacher == dict(model=osp.join(tdir, 'run_config.py'),
                                      checkpoint=tdir)
    from mmengine.config import Config
    teacher = Config.fromfile(soft.model.teacher.model).model
    assert teacher.bbox_head.anchor_generator.octave_base_scale == 4
    assert soft.model.losses.soft.normalize == 'teacher_pos'
    assert soft.model.student_loss_weight == dict(loss_cls=0.)
    assert set(pdf.model.losses) == {'pdf'}
    assert set(mse.model.losses) == {f'mse_p{lvl}' for lvl in range(3, 8)}
    # the generated data: det-kd's root, size and counts, the generic style
    ctx = ev.setup(ev.parse_args(['det-kd-generic', '--no-readme']))
    assert ctx['data_root'] == root and '1-3 objects per scene' in ctx['scale_text']
    assert 'no full scale' in str(run_main(['det-kd-generic', '--full', '--dry-run']))


def test_det_ld_dry_run_points_mmdets_kd_detector_at_the_teacher_trained_here(tmp_path):
    """det-ld: the GFL teacher, the GFL baseline and LD on det-kd's scale; LD's run is
    mmdet's KD detector reading the teacher's written config and its last checkpoint
    file (mmdet loads a file, not a work dir)."""
    work = tmp_path / 'work'
    ev.main(['det-ld', '--dry-run', '--seeds', '0', '1', '--work-dir', str(work),
             '--no-readme', '--results-dir', str(tmp_path / 'res')])
    table = ev.TABLES['det-ld']
    assert table['cpu'] == ev.TABLES['det-kd']['cpu'] and table['gate']['value'] == 1.5
    assert sorted(p.name for p in work.iterdir()) == sorted(
        ['teacher'] + [f'{k}_seed{s}' for k in ('gfl', 'ld') for s in (0, 1)])
    t, gfl, ld = cfg(work, 'teacher'), cfg(work, 'gfl_seed1'), cfg(work, 'ld_seed0')
    assert t.model.type == 'GFL' and t.model.neck.type == 'PAFPN'
    assert t.model.backbone.depth == 50 and t.train_cfg.max_epochs == 32
    assert gfl.model.type == 'GFL' and gfl.model.backbone.depth == 18
    assert gfl.randomness.seed == 1 and gfl.train_cfg.max_epochs == 16
    tdir = str(work / 'teacher')
    assert ld.model.type == 'KnowledgeDistillationSingleStageDetector'
    assert ld.model.teacher_config == osp.join(tdir, 'run_config.py')
    assert ld.model.teacher_ckpt == osp.join(tdir, 'epoch_32.pth')
    assert ld.model.bbox_head.type == 'LDHead' and ld.model.backbone.depth == 18
    root = osp.join(REPO, 'data', 'synthetic_det_128px_200-300')
    for c in (t, gfl, ld):
        assert c.train_dataloader.dataset.data_root == root + '/'
        assert c.val_evaluator.ann_file == osp.join(root, 'annotations/val.json')
        assert c.train_dataloader.dataset.pipeline[2].scale == (128, 128)
    code = run_main(['det-ld', '--full', '--dry-run'])
    assert 'no full scale' in str(code) and 'ld_r18-gflv1-r101_fpn_1x_coco' in str(code)


def test_cross_modal_ld_dry_run_sizes_both_renderings_and_reads_the_optical_teacher(
        tmp_path):
    """det-ld-cross-modal: det-ld's GFL teacher (optical, its 64 epochs) and mmkd's paired
    KD detector reading it; the infrared baseline and the paired LD run both at the
    scale's 128 px (the paired dataset's PairedResize sizes every modality)."""
    work = tmp_path / 'work'
    ev.main(['det-ld-cross-modal', '--dry-run', '--seeds', '0', '--work-dir', str(work),
             '--no-readme', '--results-dir', str(tmp_path / 'res')])
    table = ev.TABLES['det-ld-cross-modal']
    assert table['teacher']['config'] == ev.TABLES['det-ld']['teacher']['config']
    assert table['cpu'] == dict(ev.TABLES['det-kd']['cpu'], teacher_epochs=64)
    assert table['gate'] == ev.TABLES['det-kd']['gate']
    t, base, ld = cfg(work, 'teacher'), cfg(work, 'gfl_infrared_seed0'), cfg(
        work, 'ld_optical_seed0')
    assert t.train_cfg.max_epochs == 64 and t.train_dataloader.dataset.data_prefix == dict(
        img='optical/')
    assert base.model.type == 'GFL' and base.model.backbone.in_channels == 1
    assert base.train_dataloader.dataset.data_prefix == dict(img='infrared/')
    assert base.train_dataloader.dataset.pipeline[2].scale == (128, 128)
    tdir = str(work / 'teacher')
    assert ld.model.type == 'mmkd.PairedKDSingleStageDetector'
    assert (ld.model.student_input, ld.model.teacher_input) == ('infrared', 'optical')
    assert ld.model.teacher_config == osp.join(tdir, 'run_config.py')
    assert ld.model.teacher_ckpt == osp.join(tdir, 'epoch_64.pth')
    root = osp.join(REPO, 'data', 'synthetic_det_128px_200-300')
    for split in ('train', 'val', 'test'):
        ds = ld[f'{split}_dataloader'].dataset
        assert ds.type == 'mmkd.PairedCocoDataset' and ds.data_root == root + '/'
        resize = [x for x in ds.pipeline if x['type'] == 'mmkd.PairedResize']
        assert len(resize) == 1 and resize[0].sizes == (128, 128)
    assert ld.train_dataloader.dataset.ann_file == 'annotations/train.json'
    assert ld.val_evaluator.ann_file == osp.join(root, 'annotations/val.json')


def spread_results(values, keys=('hard', 'hard+pdf', 'hard+mse', 'soft'), json_seeds=False):
    """A results' ``runs`` from ``{key: [value per seed]}`` (None: a failed seed)."""
    return dict(runs={k: {(str(s) if json_seeds else s): (None if v is None else
                                                          dict(value=v))
                          for s, v in enumerate(values[k])} for k in keys if k in values})


def test_spread_comparison_sets_each_rows_seed_spread_beside_the_other_tables():
    generic = spread_results({'hard': [40.0, 41.0, 40.5], 'hard+pdf': [43.0, 43.5, None],
                              'hard+mse': [42.0, 42.0, 42.0], 'soft': [40.0, 41.0, 40.5]})
    generic['stats'] = {'hard+pdf': dict(mean=2.5, half_width=1.0, low=1.5, high=3.5)}
    aerial = spread_results({'hard': [13.8, 12.8, 15.9], 'hard+pdf': [20.7, 19.9, 21.2],
                             'soft': [6.9, 16.6, 18.4]}, json_seeds=True)
    comp = ev.spread_comparison(generic, aerial, ('hard', 'hard+pdf', 'hard+mse', 'soft'))
    g, a = comp['rows']['hard']['this'], comp['rows']['hard']['other']
    assert g['seeds'] == {0: 40.0, 1: 41.0, 2: 40.5} and g['range'] == pytest.approx(1.0)
    assert g['iqr'] == pytest.approx(0.5) and g['median'] == 40.5
    assert a['range'] == pytest.approx(3.1) and a['iqr'] == pytest.approx(1.55)
    assert a['rel_range'] == pytest.approx(3.1 / 13.8)
    pdf = comp['rows']['hard+pdf']['this']
    assert pdf['seeds'] == {0: 43.0, 1: 43.5} and pdf['diff']['mean'] == 2.5
    assert comp['rows']['hard+mse']['other'] is None
    assert comp['missing'] == dict(this=[], other=['hard+mse'])
    assert comp['ratio']['this']['seeds'] == {0: 1.0, 1: 1.0, 2: 1.0}
    assert comp['ratio']['other']['seeds'][0] == pytest.approx(0.5)
    assert comp['ratio']['other']['range'] == pytest.approx(16.6 / 12.8 - 0.5)
    text = '\n'.join(ev.spread_lines(comp, 'det-kd-generic', 'det-kd', 'mAP points'))
    assert '| `hard` | 40.00, 41.00, 40.50 | 40.50 | 1.00 | 0.50 | 0.02 | 13.80, 12.80, ' \
        '15.90 | 13.80 | 3.10 | 1.55 | 0.22 |' in text
    assert '| `hard+mse` | 42.00, 42.00, 42.00 | 42.00 | 0.00 | 0.00 | 0.00 | n/a |' in text
    assert 'The `det-kd` results lack the rows `hard+mse`' in text
    assert '`soft` / `hard` per seed: `det-kd-generic` 1.00, 1.00, 1.00 (mean 1.00' in text
    assert '`hard+pdf` − `hard` (paired, 95 % CI, mAP points): `det-kd-generic` ' \
        '+2.50 ± 1.00; `det-kd` n/a.' in text
    # hard, hard+pdf, soft are shared; generic spreads less on all three
    assert 'for **3 of 3** shared rows by range (mAP points), 3 of 3 relative' in text


def test_det_generic_report_sets_its_spread_beside_the_aerial_results(tmp_path,
                                                                     monkeypatch):
    work, res = tmp_path / 'work', tmp_path / 'res'
    readme = tmp_path / 'README.md'
    readme.write_text('<!-- evidence:det-kd-generic begin -->\n'
                      '<!-- evidence:det-kd-generic end -->\n')
    aerial = tmp_path / 'aerial.json'
    aerial.write_text(json.dumps(spread_results(
        {'hard': [13.8, 12.8, 15.9], 'soft': [6.9, 16.6, 18.4]}, json_seeds=True)))
    spec = dict(ev.TABLES['det-kd-generic']['spread_against'], results=str(aerial))
    monkeypatch.setitem(ev.TABLES['det-kd-generic'], 'spread_against', spec)
    finished(work, 'teacher', 70.0)
    for s, h in enumerate([40.0, 41.0, 40.5]):
        for key, v in (('hard', h), ('hard+pdf', h + 2), ('hard+mse', h + 1),
                       ('soft', 0.95 * h)):
            finished(work, f'{key}_seed{s}', v)
    ev.main(['det-kd-generic', '--summarize', '--work-dir', str(work), '--results-dir',
             str(res), '--readme', str(readme)])
    out = json.loads((res / 'results.json').read_text())
    assert out['rows'] == ['hard', 'hard+pdf', 'hard+mse', 'soft']
    spread = out['spread']
    assert spread['other'] == 'det-kd' and spread['missing']['other'] == ['hard+pdf',
                                                                        'hard+mse']
    assert spread['rows']['hard+pdf']['this']['diff']['mean'] == pytest.approx(2.0)
    text = readme.read_text()
    assert 'Seed spread beside `det-kd`' in text and '13.80, 12.80, 15.90' in text
    assert 'generic scenes: 1-3 objects per scene' in text
    assert '50.12 / 72.49' in text  # the study's VOC / VEDAI25 hard row
    assert '`soft` / `hard` per seed: `det-kd-generic` 0.95, 0.95, 0.95' in text
    assert 'ratio 1.73x, gate >= 1.5x' in text
    # without the other table's results: said so, the rest of the report as before
    aerial.unlink()
    ev.main(['det-kd-generic', '--summarize', '--work-dir', str(work), '--results-dir',
             str(res), '--no-readme'])
    assert f'{aerial} not found: no `det-kd` results' in (res / 'table.md').read_text()


def test_too_small_a_test_set_is_refused(tmp_path):
    code = run_main(['disoptnet', '--dry-run', '--num-test', '100', '--work-dir',
                     str(tmp_path / 'w'), '--no-readme'])
    assert '>= 300' in str(code)


def test_summarise_reads_the_final_validation(tmp_path):
    d = tmp_path / 'run' / '20240101_000000' / 'vis_data'
    d.mkdir(parents=True)
    recs = [dict(lr=1e-3, loss=0.5, time=0.2, step=25), dict(lr=1e-3, loss=0.4, time=0.4,
                                                              step=600),
            {'IoU.building': 80.5, 'Dice.building': 89.2, 'time': 0.05, 'step': 600}]
    (d / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in recs))
    run = dict(dir=str(tmp_path / 'run'), final_step=600)
    out = ev.summarise(ev.TABLES['disoptnet'])(run)
    assert out['value'] == 80.5 and out['metrics']['Dice.building'] == 89.2
    assert out['s_per_iter'] == pytest.approx(0.3)
    assert ev.summarise(ev.TABLES['disoptnet'])(dict(run, final_step=1000)) is None
    # detection: mAP 0-1 read as %; a final validation without boxes counts as 0 mAP
    (d / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in [
        dict(lr=0.01, loss=1.0, time=1.0, step=200), dict(time=0.1, step=8)]))
    out = ev.summarise(ev.TABLES['det-kd'])(dict(run, final_step=8))
    assert out['value'] == 0.0 and out['empty']
    (d / 'scalars.json').write_text(json.dumps({'coco/bbox_mAP': 0.123, 'step': 8}))
    assert ev.summarise(ev.TABLES['det-kd'])(dict(run, final_step=8))['value'] == \
        pytest.approx(12.3)
    # folds: a seed's value is its mean over the folds, missing while one is
    agg = ev.aggregate([dict(value=10.0, metrics={}), dict(value=20.0, metrics={})])
    assert agg['value'] == 15.0 and agg['folds'] == [10.0, 20.0]
    assert ev.aggregate([dict(value=1.0, metrics={}), None]) is None


def finished(work, name, value, s_per_iter=0.2, **metrics):
    d = work / name
    d.mkdir(parents=True, exist_ok=True)
    (d / 'final.json').write_text(json.dumps(dict(
        value=value, metrics=dict(metrics), s_per_iter=s_per_iter)))


def test_gate_refuses_the_student_grid_when_the_teacher_is_no_better(tmp_path):
    work, res = tmp_path / 'work', tmp_path / 'res'
    finished(work, 'teacher', 85.0)  # optical IoU only 2 points over the SAR baseline
    for s, v in enumerate([82.0, 83.0, 81.0]):
        finished(work, f'baseline_seed{s}', v)
    code = run_main(['disoptnet', '--summarize', '--work-dir', str(work),
                     '--results-dir', str(res), '--no-readme'])
    assert code == 3
    out = json.loads((res / 'results.json').read_text())
    assert out['gate_passed'] is False and '+3.00' in out['gate_failure']
    assert '>= 5' in out['gate_failure'] and '--teacher-iters' in out['gate_failure']
    assert not (work / 'k3_seed0').exists()  # no student of the grid was set up
    assert 'Gate failed' in (res / 'table.md').read_text()

    work, res = tmp_path / 'det', tmp_path / 'det_res'
    finished(work, 'teacher', 12.0)  # 1.2x the hard student: below the 1.5x gate
    for s, v in enumerate([10.0, 9.0, 11.0]):
        finished(work, f'hard_seed{s}', v)
    assert run_main(['det-kd', '--summarize', '--work-dir', str(work), '--results-dir',
                     str(res), '--no-readme']) == 3
    out = json.loads((res / 'results.json').read_text())
    assert out['gate_passed'] is False and '1.20x' in out['gate_failure']
    assert out['gate']['value'] == 1.5 and out['gate']['kind'] == 'ratio'


def test_det_report_from_finished_runs(tmp_path):
    work, res = tmp_path / 'work', tmp_path / 'res'
    readme = tmp_path / 'README.md'
    readme.write_text('intro\n<!-- evidence:det-kd begin -->\nOLD BLOCK\n'
                      '<!-- evidence:det-kd end -->\noutro\n')
    finished(work, 'teacher', 30.0)
    hard = [10.0, 12.0, 11.0]
    for s, h in enumerate(hard):
        finished(work, f'hard_seed{s}', h, s_per_iter=0.8)
        finished(work, f'hard+pdf_seed{s}', h + 2, s_per_iter=1.3)  # +2 on every seed
        finished(work, f'soft_seed{s}', 0.9 * h, s_per_iter=1.2)  # 0.9x on every seed
        finished(work, f'soft_target-sum_seed{s}', [0.0, 0.5, 0.0][s], s_per_iter=1.2)
    diag = work / 'soft_seed0' / 'loss_terms.json'
    diag.write_text(json.dumps(dict(terms={
        'loss_soft': dict(value=0.8, grad_norm=2.5),
        'student.loss_bbox': dict(value=0.4, grad_norm=1.1)})))
    ev.main(['det-kd', '--summarize', '--methods', 'hard+pdf', 'soft', 'soft_target-sum',
             '--work-dir', str(work), '--results-dir', str(res), '--readme', str(readme)])
    out = json.loads((res / 'results.json').read_text())
    assert out['gate_passed'] is True
    pdf = out['stats']['hard+pdf']
    assert pdf['mean'] == pytest.approx(2.0) and pdf['half_width'] == pytest.approx(0.0)
    soft = out['ratios']['soft']
    assert soft['mean'] == pytest.approx(0.9) and soft['half_width'] == pytest.approx(0)
    assert out['comparisons']['soft - soft_target-sum']['mean'] == pytest.approx(
        0.9 * 11 - 0.5 / 3)
    text = readme.read_text()
    assert text.startswith('intro\n') and text.endswith('outro\n')
    assert 'OLD BLOCK' not in text
    assert '+2.00 ± 0.00 | better' in text and 'ratio 2.73x, gate >= 1.5x' in text
    assert '>= 0.8x resolved' in text  # the soft-alone claim, as a ratio
    assert '52.94 / 77.99 / 76.68 / 81.10' in text  # the study's Table 1 beside ours
    assert '1.30 (1.62x)' in text  # the KD / student step of the pair
    assert '`loss_soft` 0.8 / 2.5' in text
    for png in ('box.png', 'paired_diff.png'):
        assert (res / png).stat().st_size > 1000
        assert f'(res/{png})' in text  # linked relative to the README
    table_md = (res / 'table.md').read_text()
    for png in ('box.png', 'paired_diff.png'):  # and relative to table.md, beside them
        assert f'({png})' in table_md and f'(res/{png})' not in table_md
    assert table_md.replace('(box.png)', '(res/box.png)').replace(
        '(paired_diff.png)', '(res/paired_diff.png)') in text


def test_keep_rows_adds_an_earlier_calls_rows_only_when_its_baseline_reproduces(
        tmp_path):
    work, res = tmp_path / 'work', tmp_path / 'res'
    finished(work, 'teacher', 30.0)
    for s, h in enumerate([10.0, 12.0, 11.0]):
        finished(work, f'hard_seed{s}', h, s_per_iter=0.8)
        finished(work, f'hard+cwd_seed{s}', h + 3, s_per_iter=1.2)
    common = ['--work-dir', str(work), '--results-dir', str(res), '--no-readme']
    ev.main(['det-kd', '--summarize', '--methods', 'hard+cwd'] + common)
    # a later call, another row, the same teacher and baseline (rebuilt from scratch)
    work2 = tmp_path / 'work2'
    finished(work2, 'teacher', 30.0)
    for s, h in enumerate([10.0, 12.0, 11.0]):
        finished(work2, f'hard_seed{s}', h, s_per_iter=0.4)  # a quieter machine
        finished(work2, f'hard+pkd_seed{s}', h + 1, s_per_iter=1.1)
    common2 = ['--work-dir', str(work2), '--results-dir', str(res), '--no-readme']
    ev.main(['det-kd', '--summarize', '--keep-rows', '--methods', 'hard+pkd'] + common2)
    out = json.loads((res / 'results.json').read_text())
    assert out['rows'] == ['hard', 'hard+cwd', 'hard+pkd']  # the table's order
    assert out['stats']['hard+cwd']['mean'] == pytest.approx(3.0)
    assert out['stats']['hard+pkd']['mean'] == pytest.approx(1.0)
    assert out['kept']['rows'] == ['hard+cwd']
    assert '--methods hard+cwd' in out['kept']['commands']['hard+cwd']
    text = (res / 'table.md').read_text()
    assert 'Rows `hard+cwd` are kept from an earlier call' in text
    assert '`hard+cwd`: hard + CWD' in text and '`hard+pkd`: hard + PKD' in text
    # steps against their own call's baseline: 1.2 / 0.8, while this call's is 0.4
    assert '1.20 (1.50x)' in text and '1.10 (2.75x)' in text
    # kept twice: the row still names the call that measured it
    ev.main(['det-kd', '--summarize', '--keep-rows', '--methods', 'hard+pkd'] + common2)
    out = json.loads((res / 'results.json').read_text())
    assert '--methods hard+cwd' in out['kept']['commands']['hard+cwd']
    assert '1.20 (1.50x)' in (res / 'table.md').read_text()

    # a baseline seed that does not reproduce: refused, naming the seed and both values
    work3 = tmp_path / 'work3'
    finished(work3, 'teacher', 30.0)
    for s, h in enumerate([10.0, 12.5, 11.0]):
        finished(work3, f'hard_seed{s}', h)
        finished(work3, f'hard+fgd_seed{s}', h + 1)
    with pytest.raises(SystemExit) as e:
        ev.main(['det-kd', '--summarize', '--keep-rows', '--methods', 'hard+fgd',
                 '--work-dir', str(work3), '--results-dir', str(res), '--no-readme'])
    assert 'another setting' in str(e.value) and 'hard seed 1: 12.0 there, 12.5 now' in \
        str(e.value)
    assert f'--tag NAME --work-dir {work3} --summarize' in str(e.value)
    assert json.loads((res / 'results.json').read_text())['rows'] == out['rows']


def test_disoptnet_report_from_finished_runs(tmp_path):
    work, res = tmp_path / 'work', tmp_path / 'res'
    readme = tmp_path / 'README.md'
    readme.write_text('<!-- evidence:disoptnet begin -->\n<!-- evidence:disoptnet end -->\n')
    finished(work, 'teacher', 95.0, **{'IoU.building': 95.0, 'Dice.building': 97.4})
    for s, b in enumerate([84.0, 86.0, 85.0]):
        finished(work, f'baseline_seed{s}', b, **{'Dice.building': 91.0 + s})
        finished(work, f'k3_seed{s}', b + 1.0 + 0.5 * s, **{'Dice.building': 92.0 + s})
        finished(work, f'finetune_seed{s}', b - 1.0)
    ev.main(['disoptnet', '--summarize', '--methods', 'k3', 'finetune', '--work-dir',
             str(work), '--results-dir', str(res), '--readme', str(readme)])
    out = json.loads((res / 'results.json').read_text())
    k3 = out['stats']['k3']
    assert k3['mean'] == pytest.approx(1.5) and k3['low'] > 0
    assert out['comparisons']['k3 - finetune']['mean'] == pytest.approx(2.5)
    text = readme.read_text()
    assert 'gap +10.00 IoU points, gate >= 5' in text
    assert '54.08 (B3, T1)' in text and '33.49' not in text  # only the rows that ran
    assert '| k3 | 93.00 |' in text  # the Dice medians
    assert (res / 'box.png').stat().st_size > 1000


def _loss_terms_module():
    path = osp.join(REPO, 'tools', 'analysis', 'loss_terms.py')
    spec = importlib.util.spec_from_file_location('_loss_terms', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_loss_terms_reads_detection_and_segmentation_outputs():
    lt = _loss_terms_module()
    w = torch.nn.Parameter(torch.tensor(2.0))
    out = lt.loss_terms({
        'student.loss_cls': [w * 1.0, w * 2.0],  # mmdet: one tensor per level
        'student.decode.loss_ce': w * 3.0, 'student.decode.acc_seg': torch.tensor([50.]),
        'loss_kd': w * 0.5})
    assert set(out) == {'student.loss_cls', 'student.decode.loss_ce', 'loss_kd'}
    assert float(out['student.loss_cls']) == pytest.approx(6.0)

    class Plain(torch.nn.Module):  # a segmentor trained alone: its own student
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 1)
            self.data_preprocessor = lambda data, training: data

        def forward(self, inputs, mode):
            y = self.lin(inputs).mean()
            return {'decode.loss_ce': y, 'decode.acc_seg': torch.tensor(1.0),
                    'loss_bbox': [y, 2 * y]}

    model = Plain()
    params = lt._student_params(model)
    assert len(params) == 2
    terms = lt.measure(model, [dict(inputs=torch.ones(3, 2))], params)
    assert set(terms) == {'decode.loss_ce', 'loss_bbox'}
    assert terms['loss_bbox']['grad_norm'] == pytest.approx(
        3 * terms['decode.loss_ce']['grad_norm'])
