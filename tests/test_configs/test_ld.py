"""LD (localization distillation) as mmdet ships it, on the synthetic detection
benchmark: configs/det_kd/ld/ (a GFL R50-PAFPN teacher, the GFL R18-FPN student and
mmdet's KnowledgeDistillationSingleStageDetector + LDHead), mmkd's hooks and tools on
mmdet's KD detector (mmkd/utils/mmdet_kd.py) and the teacher checkpoint's loading."""
import math
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

LD = osp.join(REPO, 'configs', 'det_kd', 'ld')
LD_CFG = osp.join(LD, 'ld_gfl_r50-pafpn_r18-fpn_synthetic-det.py')
TEACHER_CFG = osp.join(LD, 'gfl_r50-pafpn_synthetic-det_teacher.py')
STUDENT_CFG = osp.join(LD, 'gfl_r18-fpn_synthetic-det.py')
RETINA_STUDENT_CFG = osp.join(REPO, 'configs', 'det_kd', 'retinanet_r18-fpn_synthetic-det.py')


@pytest.fixture(autouse=True)
def _mmdet_scope(_mmpretrain_scope):
    init_default_scope('mmdet')
    yield


@pytest.fixture(scope='module', autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def save_gfl_teacher(path, seed=0):
    """A random-init GFL R50-PAFPN teacher, saved as an mmengine *training* checkpoint
    (message hub, numpy scalars: what torch's weights_only default refuses)."""
    from mmdet.registry import MODELS
    from mmengine.logging import HistoryBuffer
    init_default_scope('mmdet')  # also from a module fixture, before _mmdet_scope
    torch.manual_seed(seed)
    teacher = MODELS.build(Config.fromfile(TEACHER_CFG).model)
    teacher.init_weights()
    torch.save({'state_dict': teacher.state_dict(), 'message_hub': HistoryBuffer(),
                'meta': {'epoch': np.int64(24), 'seed': np.float64(0)}}, path)
    return path


@pytest.fixture(scope='module')
def teacher_file(tmp_path_factory):
    return save_gfl_teacher(str(tmp_path_factory.mktemp('ld_teacher') / 'epoch_24.pth'))


def build_ld(teacher_ckpt):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(LD_CFG)
    cfg.model.teacher_ckpt = teacher_ckpt
    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def det_samples(size=64):
    """Two data samples with boxes the stride-8 grid can hold."""
    from mmdet.structures import DetDataSample
    boxes = [[[8, 8, 30, 28], [34, 30, 56, 60]], [[16, 20, 40, 44]]]
    labels = [[0, 2], [1]]
    samples = []
    for b, lab in zip(boxes, labels):
        s = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                        scale_factor=(1., 1.)))
        s.gt_instances = InstanceData(bboxes=torch.tensor(b, dtype=torch.float32),
                                      labels=torch.tensor(lab))
        samples.append(s)
    return samples


def batch(model, size=64):
    """Two images with boxes the stride-8 grid can hold, through the model's own data
    preprocessor (normalisation, padding) as in training."""
    g = torch.Generator().manual_seed(0)
    samples = det_samples(size)
    inputs = [torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8)
              for _ in samples]
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), training=True)
    return data['inputs'], data['data_samples']


# ------------------------------------------------------------------------------ configs
def test_ld_configs_match_mmdets_ld_and_the_benchmarks_data_and_schedule():
    import mmdet
    ld, teacher, student = (Config.fromfile(p) for p in (LD_CFG, TEACHER_CFG, STUDENT_CFG))
    retina = Config.fromfile(RETINA_STUDENT_CFG)
    # the benchmark's data, input size, schedule, seed and runtime, as the RetinaNet grid
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
                'optim_wrapper', 'param_scheduler', 'train_cfg', 'randomness',
                'default_hooks', 'default_scope', 'auto_scale_lr'):
        for cfg in (ld, teacher, student):
            assert cfg[key] == retina[key], key
    # mmdet's KD detector around the student, mmkd's shipped hooks
    assert ld.model.type == 'KnowledgeDistillationSingleStageDetector'
    assert ld.model.teacher_config == TEACHER_CFG
    assert ld.model.teacher_ckpt == \
        'work_dirs/gfl_r50-pafpn_synthetic-det_teacher/epoch_24.pth'
    assert ld.custom_hooks == Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'kd_hooks.py')).custom_hooks
    assert ld.custom_imports == dict(imports=['mmkd'], allow_failed_imports=False)
    assert teacher.model.type == student.model.type == 'GFL'
    assert (teacher.model.backbone.depth, teacher.model.neck.type) == (50, 'PAFPN')
    assert (student.model.backbone.depth, student.model.neck.type) == (18, 'FPN')
    # the student is the LD student but for the head's distillation loss
    s_head, t_head = dict(ld.model.bbox_head), teacher.model.bbox_head
    assert s_head.pop('type') == 'LDHead' and s_head.pop('loss_ld') == dict(
        type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10)
    assert s_head == {k: v for k, v in student.model.bbox_head.items() if k != 'type'}
    # LD compares the two distributions location for location: same priors, same bins
    assert t_head.anchor_generator == s_head['anchor_generator']
    assert t_head.reg_max == s_head['reg_max'] == 16
    assert t_head.num_classes == s_head['num_classes'] == 4
    # mmdet's own LD config: same losses, weights, temperature, assigner and test settings
    mm = Config.fromfile(osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', 'ld',
                                  'ld_r18-gflv1-r101_fpn_1x_coco.py'))
    for key in ('loss_cls', 'loss_dfl', 'loss_ld', 'loss_bbox', 'reg_max', 'feat_channels'):
        assert mm.model.bbox_head[key] == ld.model.bbox_head[key], key
    assert mm.model.train_cfg == ld.model.train_cfg
    assert mm.model.test_cfg == ld.model.test_cfg
    assert mm.model.neck == dict(ld.model.neck)
    assert 'loss_kd' not in mm.model.bbox_head  # mmdet's LD has no classification KD


# ------------------------------------------------------------------------ training step
def test_ld_training_step_gives_finite_losses_and_leaves_the_teacher_alone(teacher_file):
    from mmdet.models.losses import KnowledgeDistillationKLDivLoss

    from mmkd.models.distillers.integrity import state_hash
    model = build_ld(teacher_file)  # the teacher's training checkpoint loads (torch 2.12)
    ckpt = torch.load(teacher_file, weights_only=False)['state_dict']
    teacher = model.teacher_model
    assert state_hash(teacher.state_dict()) == state_hash(ckpt)  # loaded, not re-initialised
    assert type(model.bbox_head).__name__ == 'LDHead'
    assert type(model.bbox_head.loss_ld) is KnowledgeDistillationKLDivLoss
    assert model.bbox_head.loss_ld.T == 10 and model.bbox_head.loss_ld.loss_weight == 0.25
    # the teacher is no sub-module: not trained, not in the student's checkpoint
    assert not any(k.startswith('teacher') for k in model.state_dict())
    assert not {id(p) for p in teacher.parameters()} & {id(p) for p in model.parameters()}
    model.train()
    assert not teacher.training  # eval_teacher: BN statistics stay the teacher's

    inputs, samples = batch(model)
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_dfl', 'loss_ld'}
    total, log_vars = model.parse_losses(losses)
    log_vars = {k: float(v.detach() if torch.is_tensor(v) else v) for k, v in log_vars.items()}
    assert all(math.isfinite(v) for v in log_vars.values()), log_vars
    assert log_vars['loss_ld'] > 0 and log_vars['loss_bbox'] > 0  # positives were assigned
    total.backward()
    assert model.bbox_head.gfl_reg.weight.grad.abs().sum() > 0
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in teacher.parameters())
    assert state_hash(teacher.state_dict()) == state_hash(ckpt)

    # loss_ld is the only term that reads the teacher: another teacher distribution
    # changes it and nothing else
    with torch.no_grad():
        before = {k: sum(v).item() for k, v in model.loss(inputs, samples).items()}
        teacher.bbox_head.gfl_reg.bias.add_(
            torch.randn(teacher.bbox_head.gfl_reg.bias.shape) * 3)
        after = {k: sum(v).item() for k, v in model.loss(inputs, samples).items()}
    assert abs(after['loss_ld'] - before['loss_ld']) > 1e-3 * before['loss_ld']
    for k in ('loss_cls', 'loss_bbox', 'loss_dfl'):
        assert after[k] == pytest.approx(before[k], rel=1e-6), k


def test_ld_loss_is_the_kl_of_the_teachers_softened_distribution():
    """mmdet's KnowledgeDistillationKLDivLoss as LDHead calls it (one row per box side,
    reg_max + 1 = 17 bins, the student's positive scores as weights, avg_factor 4),
    against the formula computed here in float64:
    0.25 * sum_i w_i * T^2 * mean_j p_ij (log p_ij - log q_ij) / 4, with
    p = softmax(teacher / T), q = softmax(student / T), T = 10."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(LD_CFG)
    loss = MODELS.build(cfg.model.bbox_head.loss_ld)
    g = torch.Generator().manual_seed(7)
    student = torch.randn(8, 17, generator=g) * 4
    teacher = torch.randn(8, 17, generator=g) * 4
    w = torch.rand(8, generator=g)
    got = loss(student, teacher, weight=w, avg_factor=4.0).item()

    T, expected = 10.0, 0.0
    for i in range(8):
        s = [v / T for v in student[i].double().tolist()]
        t = [v / T for v in teacher[i].double().tolist()]
        ls = [v - math.log(sum(math.exp(x) for x in s)) for v in s]
        lt = [v - math.log(sum(math.exp(x) for x in t)) for v in t]
        kl = sum(math.exp(b) * (b - a) for a, b in zip(ls, lt)) / 17
        expected += w[i].item() * T * T * kl
    expected *= 0.25 / 4
    assert got == pytest.approx(expected, rel=1e-5)
    assert loss(student, student.clone(), weight=w, avg_factor=4.0).item() == \
        pytest.approx(0.0, abs=1e-6)
    student.requires_grad_(True)
    loss(student, teacher, weight=w, avg_factor=4.0).backward()
    assert student.grad.abs().sum() > 0  # the target is detached, the student is not


# ------------------------------------------------------------------------ bad checkpoint
def test_a_missing_teacher_ckpt_names_the_key_and_the_teacher_to_train(tmp_path):
    from mmkd.utils.mmdet_kd import check_teacher_ckpt
    cfg = Config.fromfile(LD_CFG)
    cfg.model.teacher_ckpt = str(tmp_path / 'nowhere' / 'epoch_24.pth')
    with pytest.raises(FileNotFoundError, match=r"model\.teacher_ckpt of .*ld_gfl.*: '.*"
                       r"nowhere/epoch_24\.pth' does not exist.*python tools/train\.py "
                       r".*gfl_r50-pafpn_synthetic-det_teacher\.py.*--cfg-options "
                       r"model\.teacher_ckpt="):
        check_teacher_ckpt(cfg, LD_CFG)
    cfg.model.teacher_ckpt = str(tmp_path)
    with pytest.raises(FileNotFoundError, match='is a folder, not a checkpoint file'):
        check_teacher_ckpt(cfg)
    # building the model (mmdet's own tools skip tools/train.py's check): the path named
    from mmdet.registry import MODELS
    cfg.model.teacher_ckpt = str(tmp_path / 'missing.pth')
    with pytest.raises(FileNotFoundError, match=r"checkpoint file '.*missing\.pth' does "
                       r"not exist"):
        MODELS.build(cfg.model)


def test_parsing_the_ld_config_registers_mmkds_loader_for_mmdets_own_tools(tmp_path):
    """mmdet's tools/train.py never imports mmkd before the KD detector loads
    teacher_ckpt; the config's custom_imports does, so the teacher's training checkpoint
    loads under torch's weights_only default."""
    path = str(tmp_path / 'full.pth')
    script = f"""
import sys, numpy as np, torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader
torch.save({{'state_dict': {{'w': torch.ones(1)}}, 'message_hub': HistoryBuffer(),
            'meta': {{'epoch': np.int64(3)}}}}, {path!r})
try:
    CheckpointLoader.load_checkpoint({path!r}, map_location='cpu')
except Exception as e:
    print('REFUSED', type(e).__name__)
Config.fromfile({LD_CFG!r})
print('MMKD', 'mmkd' in sys.modules)
print('LOADED', CheckpointLoader.load_checkpoint({path!r}, map_location='cpu')['meta'])
"""
    proc = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                          cwd=str(tmp_path), timeout=120,
                          env=dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'REFUSED UnpicklingError' in proc.stdout  # torch's default, before the config
    assert 'MMKD True' in proc.stdout and "LOADED {'epoch': 3}" in proc.stdout


# ------------------------------------------------------------------------------- hooks
def test_plain_student_config_of_mmdets_kd_detector():
    from mmkd.apis.export import student_config
    from mmkd.utils.mmdet_kd import plain_student_model_cfg
    out = student_config(Config.fromfile(LD_CFG))
    plain = Config.fromfile(STUDENT_CFG)
    assert out.model == plain.model  # exactly the GFL student trained without a teacher
    assert out.default_scope == 'mmdet' and not out.custom_hooks
    assert 'custom_imports' not in out and 'mmkd' not in out.pretty_text
    other = dict(Config.fromfile(LD_CFG).model, bbox_head=dict(type='SomeKDHead'))
    with pytest.raises(ValueError, match=r"'SomeKDHead'.*LDHead -> GFLHead.*KD_HEADS"):
        plain_student_model_cfg(other)


def test_ld_run_exports_a_plain_gfl_and_hashes_the_teacher(tmp_path, teacher_file):
    """Two iterations of a real mmengine run of the LD config with mmkd's hooks:
    ExportStudentHook writes a plain mmdet GFL that predicts as the trained student,
    TeacherHashHook stores the teacher's fingerprint and refuses a resume with
    another teacher."""
    from mmdet.registry import MODELS
    from mmengine.runner import Runner

    from mmkd.models.distillers.integrity import TeacherChangedError, state_hash
    from mmkd.testing import make_synthetic_det
    data = make_synthetic_det(str(tmp_path / 'data'), num_train=4, num_val=1, size=64,
                              seed=3)
    cfg = Config.fromfile(LD_CFG)
    opts = {'model.teacher_ckpt': teacher_file,
            'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 2,  # no validation
            'default_hooks.checkpoint.interval': 1,
            'train_dataloader.dataset.data_root': data,
            'train_dataloader.batch_size': 2, 'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False,
            'train_dataloader.dataset.pipeline.2.scale': (64, 64)}
    cfg.merge_from_dict(opts)
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.work_dir = str(tmp_path / 'ld')
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model
    teacher_hash = state_hash(torch.load(teacher_file, weights_only=False)['state_dict'])

    ckpt = torch.load(tmp_path / 'ld' / 'epoch_1.pth', weights_only=False)
    assert ckpt['meta']['teacher_hashes'] == {'teacher': teacher_hash}
    assert not any(k.startswith('teacher') for k in ckpt['state_dict'])

    out = tmp_path / 'ld' / 'student'
    exported = torch.load(out / 'student.pth', weights_only=True)['state_dict']
    text = (out / 'student_config.py').read_text()
    assert 'mmkd' not in text and 'teacher' not in text and 'loss_ld' not in text
    student_cfg = Config.fromfile(str(out / 'student_config.py'))
    assert (student_cfg.model.type, student_cfg.model.bbox_head.type) == ('GFL', 'GFLHead')
    plain = MODELS.build(student_cfg.model)
    plain.load_state_dict(exported, strict=True)
    model.eval()
    plain.eval()
    inputs, samples = batch(model)
    with torch.no_grad():
        a = model.bbox_head(model.extract_feat(inputs))
        b = plain.bbox_head(plain.extract_feat(inputs))
    for x, y in zip(sum(a, []), sum(b, [])):
        assert torch.equal(x, y)
    # tools/test.py with the LD config and the LD checkpoint: the plain student, no
    # teacher file, every weight from the checkpoint
    from mmkd.apis.export import student_config
    from mmkd.models.distillers.model_config import load_weights_strict
    again = MODELS.build(student_config(Config.fromfile(LD_CFG)).model)
    load_weights_strict(again, str(tmp_path / 'ld' / 'epoch_1.pth'), 'the student')
    assert all(torch.equal(v, exported[k]) for k, v in again.state_dict().items())

    # resuming with another teacher checkpoint mixes two distillations: refused
    other_sd = torch.load(teacher_file, weights_only=False)['state_dict']
    other_sd['bbox_head.gfl_reg.bias'] = other_sd['bbox_head.gfl_reg.bias'] + 0.5
    other = str(tmp_path / 'other.pth')
    torch.save({'state_dict': other_sd}, other)
    cfg.model.teacher_ckpt = other
    cfg.resume, cfg.load_from = True, str(tmp_path / 'ld' / 'epoch_1.pth')
    cfg.train_cfg.max_epochs = 2
    with pytest.raises(TeacherChangedError, match='between the checkpoint and this run'):
        Runner.from_cfg(cfg).train()


# ------------------------------------------------------------------- cross-modal LD
CROSS_CFG = osp.join(LD, 'ld_gfl_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py')
INFRARED_CFG = osp.join(LD, 'gfl_r18-fpn_synthetic-det-infrared.py')
CROSS = osp.join(REPO, 'configs', 'det_kd', 'cross_modal')
RETINA_CROSS_CFG = osp.join(CROSS, 'kd_soft_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py')
RETINA_INFRARED_CFG = osp.join(CROSS, 'retinanet_r18-fpn_synthetic-det-infrared.py')


def build_cross(teacher_ckpt, **changes):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(CROSS_CFG)
    cfg.model.teacher_ckpt = teacher_ckpt
    for key, value in changes.items():  # replaced whole (ConfigDict.update would merge)
        cfg.model[key] = value
    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def paired_batch(model, size=64, optical_size=None, seed=0):
    """Two paired samples (a 3-band optical and a 1-band infrared image of each, the
    boxes in the infrared frame) through the model's paired data preprocessor."""
    g = torch.Generator().manual_seed(seed)
    samples, o = det_samples(size), optical_size or size
    inputs = [dict(
        optical=torch.randint(0, 256, (3, o, o), generator=g, dtype=torch.uint8),
        infrared=torch.randint(0, 256, (1, size, size), generator=g, dtype=torch.uint8))
        for _ in samples]
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), training=True)
    return data['inputs'], data['data_samples']


def test_cross_modal_ld_config_is_lds_on_the_retinanet_grids_paired_data():
    """The cross-modal LD config is the LD config but for what the pair needs: the
    paired detector's routing, the student's one-band stem and the paired data
    (preprocessor and datasets: the RetinaNet cross-modal grid's, from one base file);
    its baseline reads infrared as the RetinaNet grid's infrared student does."""
    from mmkd.apis.export import student_config
    ld, cross, ir = (Config.fromfile(p) for p in (LD_CFG, CROSS_CFG, INFRARED_CFG))
    retina_cross, retina_ir = (Config.fromfile(p) for p in (RETINA_CROSS_CFG,
                                                            RETINA_INFRARED_CFG))
    routing = ('type', 'student_input', 'teacher_input', 'data_preprocessor', 'backbone')
    assert {k: v for k, v in cross.model.items() if k not in routing} == \
        {k: v for k, v in ld.model.items() if k not in routing}
    assert cross.model.type == 'mmkd.PairedKDSingleStageDetector'
    assert (cross.model.student_input, cross.model.teacher_input) == ('infrared', 'optical')
    assert cross.model.backbone == dict(ld.model.backbone, in_channels=1)
    assert cross.model.teacher_config == TEACHER_CFG  # the same optical teacher as LD's
    assert cross.model.data_preprocessor == retina_cross.model.data_preprocessor
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cross[split] == retina_cross[split], split
        assert ir[split] == retina_ir[split], split
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'custom_hooks',
                'custom_imports', 'randomness', 'val_evaluator'):
        assert cross[key] == ld[key], key
    assert ir.model == dict(Config.fromfile(STUDENT_CFG).model,
                            backbone=dict(ld.model.backbone, in_channels=1),
                            data_preprocessor=retina_ir.model.data_preprocessor)
    # no helper variable of the bases reaches the configs (or an exported student's)
    for c in (cross, ir, retina_cross, retina_ir):
        assert not {'paired_data', 'infrared_data', '_pd', '_ir', '_meta_keys'} & set(c)
    # the exported student is the infrared baseline's GFL, reading infrared with mmdet
    out = student_config(cross)
    dp = dict(out.model.data_preprocessor)
    assert dp.pop('type') == 'mmdet.DetDataPreprocessor'
    assert dp == {k: v for k, v in ir.model.data_preprocessor.items() if k != 'type'}
    assert {k: v for k, v in out.model.items() if k != 'data_preprocessor'} == \
        {k: v for k, v in ir.model.items() if k != 'data_preprocessor'}
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = out[split].dataset
        assert ds.type == 'CocoDataset' and ds.data_prefix == dict(img='infrared/'), split
        assert ds.pipeline[0] == dict(type='LoadImageFromFile', color_type='grayscale')
    assert 'mmkd' not in out.pretty_text


def test_cross_modal_ld_step_reads_infrared_for_the_student_and_optical_for_the_teacher(
        teacher_file):
    """mmdet's LD losses with the student on the infrared image and the teacher on the
    optical one: equal to mmdet's head loss computed by hand from those two, the
    optical image reaching loss_ld only, the infrared image every term; the teacher
    untouched; prediction from infrared alone."""
    from mmdet.models.detectors.single_stage import SingleStageDetector

    from mmkd.models.distillers.integrity import state_hash
    model = build_cross(teacher_file)
    teacher = model.teacher_model
    before = state_hash(teacher.state_dict())
    assert type(model.bbox_head).__name__ == 'LDHead'
    assert model.backbone.conv1.in_channels == 1 and teacher.backbone.conv1.in_channels == 3
    assert not any(k.startswith('teacher') for k in model.state_dict())
    model.train()
    inputs, samples = paired_batch(model)
    assert inputs['optical'].shape[1] == 3 and inputs['infrared'].shape[1] == 1
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_dfl', 'loss_ld'}

    def total(d):
        return {k: float(sum(v)) for k, v in d.items()}
    with torch.no_grad():
        got = total(model.loss(inputs, samples))
        x = SingleStageDetector.extract_feat(model, inputs['infrared'])
        t_out = teacher.bbox_head(teacher.extract_feat(inputs['optical']))
        ref = total(model.bbox_head.loss(x, t_out, samples))
        assert got == pytest.approx(ref, rel=1e-6)
        assert got['loss_ld'] > 0 and got['loss_bbox'] > 0
        other_optical = dict(inputs, optical=inputs['optical'].flip(-1))
        changed = total(model.loss(other_optical, samples))
        assert abs(changed['loss_ld'] - got['loss_ld']) > 1e-4 * got['loss_ld']
        for k in ('loss_cls', 'loss_bbox', 'loss_dfl'):
            assert changed[k] == pytest.approx(got[k], rel=1e-6), k
        other_infrared = dict(inputs, infrared=inputs['infrared'].flip(-1))
        assert total(model.loss(other_infrared, samples))['loss_cls'] != \
            pytest.approx(got['loss_cls'], rel=1e-6)
    parsed, _ = model.parse_losses(losses)
    parsed.backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in teacher.parameters())
    assert state_hash(teacher.state_dict()) == before
    model.eval()
    with torch.no_grad():
        preds = model.predict(dict(infrared=inputs['infrared']), samples)
    assert len(preds) == 2 and preds[0].pred_instances.bboxes.shape[-1] == 4


def test_cross_modal_ld_refuses_a_pair_it_cannot_compare(teacher_file):
    """Bad set-ups, each one error naming the key or the two modalities: one modality
    for both, no paired preprocessor, a modality without its preprocessor (at build
    time); images of a pair at two sizes (first batch)."""
    with pytest.raises(ValueError, match=r"student_input and model.teacher_input are both "
                       r"'infrared'.*KnowledgeDistillationSingleStageDetector"):
        build_cross(teacher_file, teacher_input='infrared')
    with pytest.raises(ValueError, match=r"model\.data_preprocessor: .*paired batches.*"
                       r"mmkd\.MultiModalDataPreprocessor"):
        build_cross(teacher_file, data_preprocessor=dict(type='DetDataPreprocessor'))
    dp = Config.fromfile(CROSS_CFG).model.data_preprocessor
    dp.preprocessors.pop('optical')
    with pytest.raises(KeyError, match=r"preprocessors has no \['optical'\] entry"):
        build_cross(teacher_file, data_preprocessor=dp)
    model = build_cross(teacher_file)
    model.train()
    inputs, samples = paired_batch(model, size=64, optical_size=96)
    with pytest.raises(ValueError, match=r"'infrared' batch is \(2, 1, 64, 64\) and the "
                       r"'optical' batch \(2, 3, 96, 96\).*mmkd\.PairedResize"):
        model.loss(inputs, samples)
    with pytest.raises(KeyError, match=r"the teacher reads modality 'optical', but the "
                       r"batch holds \['infrared'\]"):
        model.loss(dict(infrared=inputs['infrared']), samples)


def test_cross_modal_ld_run_exports_the_infrared_gfl(tmp_path, teacher_file):
    """One epoch of a real mmengine run of the cross-modal LD config on paired data:
    the exported student is a plain mmdet GFL on one band whose config reads the
    infrared images with mmdet's CocoDataset, predicting as the trained student."""
    from mmdet.registry import MODELS
    from mmengine.runner import Runner

    from mmkd.models.distillers.integrity import state_hash
    from mmkd.testing import make_synthetic_det
    data = make_synthetic_det(str(tmp_path / 'data'), num_train=4, num_val=1, size=64,
                              seed=3)
    cfg = Config.fromfile(CROSS_CFG)
    cfg.merge_from_dict({
        'model.teacher_ckpt': teacher_file,
        'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 1,
        'train_dataloader.dataset.data_root': data,
        'train_dataloader.batch_size': 2, 'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.pipeline.2.sizes': (64, 64)})
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.work_dir = str(tmp_path / 'ldx')
    runner = Runner.from_cfg(cfg)
    runner.train()
    ckpt = torch.load(tmp_path / 'ldx' / 'epoch_1.pth', weights_only=False)
    assert ckpt['meta']['teacher_hashes'] == {'teacher': state_hash(
        torch.load(teacher_file, weights_only=False)['state_dict'])}
    out = tmp_path / 'ldx' / 'student'
    student_cfg = Config.fromfile(str(out / 'student_config.py'))
    assert 'mmkd' not in (out / 'student_config.py').read_text()
    assert (student_cfg.model.type, student_cfg.model.backbone.in_channels) == ('GFL', 1)
    assert student_cfg.train_dataloader.dataset.data_prefix == dict(img='infrared/')
    plain = MODELS.build(student_cfg.model)
    plain.load_state_dict(torch.load(out / 'student.pth', weights_only=True)['state_dict'],
                          strict=True)
    model = runner.model
    model.eval()
    plain.eval()
    inputs, samples = paired_batch(model)
    with torch.no_grad():
        a = model.bbox_head(model.extract_feat(inputs))
        b = plain.bbox_head(plain.extract_feat(inputs['infrared']))
    for x, y in zip(sum(a, []), sum(b, [])):
        assert torch.equal(x, y)
