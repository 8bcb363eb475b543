"""Resilience: finite losses at extreme logits and under autocast, the NaN/Inf guard,
frozen-teacher fingerprints, exact resumption after SIGKILL, and 2-process DDP equal to
one process with the same global batch."""
import json
import os
import os.path as osp
import sys

import pytest
import torch
from conftest import REPO, batch, tiny_classifier
from mmengine.config import Config
from mmpretrain.structures import DataSample
from test_distiller import KD as KD_LOSS
from test_distiller import LOGIT_TAPS, make_distiller, sgd
from test_end_to_end import KD, run_tool, shrink

from mmkd.models.distillers.integrity import (
    NonFiniteLossError,
    TeacherChangedError,
    check_finite_losses,
    state_hash,
)
from mmkd.registry import MODELS

N, C = 4, 10


def _logits(seed, scale=1e4, shape=(N, C)):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g).sign() * scale).requires_grad_()


def _feats(seed, shape=(N, 8, 4, 4), scale=1e4):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g) * scale).requires_grad_()


def _labels():
    return [DataSample().set_gt_label(i % C) for i in range(N)]


# loss config, inputs (student, teacher, extra kwargs)
CASES = {
    'KDLoss': (dict(type='mmkd.KDLoss'), lambda: (_logits(0), _logits(1), {})),
    'CMKDLoss': (dict(type='mmkd.CMKDLoss', num_classes=C),
                 lambda: (_logits(0), _logits(1), dict(data_samples=_labels()))),
    'DMLLoss': (dict(type='mmkd.DMLLoss'), lambda: (_logits(0), _logits(1), {})),
    'QFLSoftTargetLoss': (dict(type='mmkd.QFLSoftTargetLoss', num_anchors=1), lambda: (
        [_logits(0, shape=(N, C, 4, 4))], [_logits(1, shape=(N, C, 4, 4))], {})),
    'PseudoLabelSegLoss': (dict(type='mmkd.PseudoLabelSegLoss'), lambda: (
        _logits(0, shape=(N, 2, 8, 8)), _logits(1, shape=(N, 2, 8, 8)), {})),
    'FeatureMSELoss': (dict(type='mmkd.FeatureMSELoss'),
                       lambda: (_feats(0), _feats(1), {})),
    'ATLoss': (dict(type='mmkd.ATLoss'), lambda: (_feats(0), _feats(1), {})),
    'NSTLoss': (dict(type='mmkd.NSTLoss'), lambda: (_feats(0), _feats(1), {})),
    'SPLoss': (dict(type='mmkd.SPLoss'), lambda: (_feats(0), _feats(1), {})),
    'PKTLoss': (dict(type='mmkd.PKTLoss'), lambda: (_logits(0), _logits(1), {})),
    'RKDLoss': (dict(type='mmkd.RKDLoss'), lambda: (_logits(0), _logits(1), {})),
    'DCMLoss': (dict(type='mmkd.DCMLoss'), lambda: (_logits(0), _logits(1), {})),
    'PairWiseSimilarityLoss': (dict(type='mmkd.PairWiseSimilarityLoss'),
                               lambda: (_feats(0), _feats(1), {})),
    'CCLoss': (dict(type='mmkd.CCLoss', student_channels=C, teacher_channels=C,
                    embed_channels=8), lambda: (_logits(0), _logits(1), {})),
    'CWDLoss': (dict(type='mmkd.CWDLoss', tau=4.0), lambda: (_feats(0), _feats(1), {})),
    'PKDLoss': (dict(type='mmkd.PKDLoss'), lambda: (_feats(0), _feats(1), {})),
    'MGDLoss': (dict(type='mmkd.MGDLoss', student_channels=8, teacher_channels=8),
                lambda: (_feats(0), _feats(1), {})),
}


def _finite(out):
    values = out.values() if isinstance(out, dict) else [out]
    return all(torch.isfinite(v).all() for v in values)


@pytest.mark.parametrize('autocast', [False, True], ids=['fp32', 'bf16-autocast'])
@pytest.mark.parametrize('name', sorted(CASES))
def test_losses_stay_finite_at_1e4_logits(name, autocast):
    cfg, make = CASES[name]
    loss = MODELS.build(dict(cfg))
    student, teacher, extra = make()
    leaves = [x for x in (student if isinstance(student, list) else [student])]
    if autocast:  # what a bf16 forward hands the losses
        student = [x.bfloat16() for x in student] if isinstance(student, list) \
            else student.bfloat16()
        teacher = [x.bfloat16() for x in teacher] if isinstance(teacher, list) \
            else teacher.bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
        out = loss(student=student, teacher=teacher, **extra)
    assert _finite(out), f'{name}: {out}'
    total = sum(out.values()) if isinstance(out, dict) else out
    total.float().backward()
    assert all(x.grad is None or torch.isfinite(x.grad).all() for x in leaves)


def test_check_finite_names_the_loss_and_iteration():
    ok = {'loss': torch.tensor(1.), 'loss_kd': torch.tensor(2.), 'acc': torch.tensor(
        float('nan'))}
    check_finite_losses(ok, 3)  # non-loss entries are not checked
    bad = dict(ok, loss_kd=torch.tensor(float('inf')),
               **{'student.loss_bbox': [torch.tensor(1.), torch.tensor(float('nan'))]})
    with pytest.raises(NonFiniteLossError, match=r"loss 'loss_kd', 'student.loss_bbox' is "
                       r"not finite at iteration 7"):
        check_finite_losses(bad, 7)


@MODELS.register_module(force=True)
class _NaNAtIteration(torch.nn.Module):
    """A KD loss that turns NaN from iteration ``at`` on (test helper)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def forward(self, student, teacher):
        from mmengine.logging import MessageHub
        it = MessageHub.get_current_instance().get_info('iter', 0)
        v = (student - teacher).pow(2).mean()
        return v * float('nan') if it >= self.at else v


def tiny_kd_config(data_root, teacher_ckpt, work_dir, **opts):
    """The bundled KD config shrunk to tiny models on the miniature chips."""
    cfg = Config.fromfile(KD)
    cfg.merge_from_dict(shrink(data_root, epochs=2))
    cfg.model.student = tiny_classifier(width=8)
    cfg.model.teacher = dict(model=tiny_classifier(width=16), checkpoint=teacher_ckpt)
    cfg.custom_hooks = [dict(type='mmkd.TeacherHashHook')]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=2,
                                        max_keep_ckpts=-1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(opts)
    return cfg


def test_nan_stops_the_run_naming_loss_and_iteration(synthetic_sar_root, teacher_ckpt,
                                                     tmp_path):
    from mmengine.runner import Runner
    ckpt = teacher_ckpt(tiny_classifier(width=16))
    cfg = tiny_kd_config(synthetic_sar_root, ckpt, tmp_path / 'nan')
    cfg.model.losses = dict(kd=dict(type='mmkd._NaNAtIteration', at=2,
                                    inputs=dict(student='s_logits', teacher='t_logits')))
    runner = Runner.from_cfg(cfg)
    with pytest.raises(NonFiniteLossError, match=r"loss 'loss_kd' is not finite at "
                       r"iteration 2"):
        runner.train()
    saved = sorted(p for p in os.listdir(tmp_path / 'nan') if p.endswith('.pth'))
    assert saved == ['iter_2.pth']  # the last good one; nothing written after the NaN
    good = torch.load(tmp_path / 'nan' / 'iter_2.pth', weights_only=False)['state_dict']
    # the guard stopped the step before backward and update: the parameters are the
    # checkpoint's (BatchNorm statistics saw the failed batch's forward, and are finite)
    for k, v in runner.model.state_dict().items():
        assert torch.isfinite(v.float()).all(), k
    for k, v in runner.model.named_parameters():
        assert torch.equal(v, good[k]), k


def test_teacher_hash_detects_changes(teacher_ckpt):
    d = make_distiller(teacher_ckpt)
    h = d.teacher_hashes['teacher']
    assert h == state_hash(d.teachers['teacher'].state_dict())
    for i in range(2):
        d.train_step(batch(seed=i), sgd(d))
    assert d.verify_teachers('in the test') == {'teacher': h}
    d.to(torch.float64)  # a copy of the same values has the same fingerprint
    assert d.verify_teachers('after a dtype move') == {'teacher': h}
    d.to(torch.float32)
    with torch.no_grad():
        d.teachers['teacher'].backbone.conv1.weight[0, 0, 0, 0] += 1e-3
    with pytest.raises(TeacherChangedError, match=r"frozen teacher weights changed in "
                       r"the test \(teacher 'teacher': "):
        d.verify_teachers('in the test')


def test_teacher_amp_and_channels_last(teacher_ckpt):
    ref = make_distiller(teacher_ckpt)
    ref.eval()
    data = ref.data_preprocessor(batch(), False)
    base = ref.teacher_features('teacher', data['inputs'])['t_logits'][0]
    for opts in (dict(amp='bf16'), dict(channels_last=True),
                 dict(amp='bf16', channels_last=True)):
        d = make_distiller(teacher_ckpt)
        d.teacher_cfgs['teacher'].update(opts)
        if opts.get('channels_last'):
            d.teachers['teacher'].to(memory_format=torch.channels_last)
        t = d.teacher_features('teacher', data['inputs'])['t_logits'][0]
        assert t.dtype == torch.float32  # the losses get float32 whatever the forward ran
        tol = 0.05 if opts.get('amp') else 1e-5
        assert (t - base).abs().max() <= tol * base.abs().max(), opts
        log = d.train_step(batch(), sgd(d))
        assert torch.isfinite(log['loss_kd'])
    from mmkd.models.distillers import Distiller
    teacher = tiny_classifier(width=16)
    with pytest.raises(ValueError, match="amp must be 'bf16', 'fp16' or None"):
        Distiller(student=tiny_classifier(), taps=LOGIT_TAPS, losses=KD_LOSS, teacher=dict(
            model=teacher, checkpoint=teacher_ckpt(teacher), amp='int8'))


# ---------------------------------------------------------------- kill and resume
KILL_HOOK = '''
import os, signal
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module(force=True)
class KillAtIteration(Hook):
    """SIGKILL this process at the start of iteration $MMKD_KILL_AT (test helper)."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        at = os.environ.get('MMKD_KILL_AT')
        if at is not None and runner.iter == int(at):
            os.kill(os.getpid(), signal.SIGKILL)
'''

RECORD_HOOK = '''
import json, os
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module(force=True)
class RecordLosses(Hook):
    """Append each iteration's losses of this rank to losses_rank<r>.jsonl (test helper)."""

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        path = os.path.join(runner.work_dir, f'losses_rank{get_rank()}.jsonl')
        with open(path, 'a') as f:
            f.write(json.dumps({k: float(v) for k, v in outputs.items()}) + '\\n')
'''


def _helpers(tmp_path):
    (tmp_path / 'mmkd_test_hooks.py').write_text(KILL_HOOK + RECORD_HOOK)
    return {'PYTHONPATH': f'{REPO}{os.pathsep}{tmp_path}', 'OMP_NUM_THREADS': '1'}


def _final_student(work_dir):
    last = open(osp.join(work_dir, 'last_checkpoint')).read().strip()
    ckpt = torch.load(last, map_location='cpu', weights_only=False)
    return last, {k: v for k, v in ckpt['state_dict'].items() if k.startswith('student.')}


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted_run(
        synthetic_sar_root, teacher_ckpt, tmp_path):
    """40 chips, batch 8: 5 iterations per epoch, 2 epochs, a checkpoint every 2
    iterations. The run is killed with SIGKILL at iteration 7 (mid second epoch, last
    checkpoint iter_6), resumed with --resume, and must end with the uninterrupted run's
    student weights bit for bit. Random crops and flips (NumPy), drop-path (torch) and
    the teacher hash hook are on; RNGStateHook restores the streams."""
    ckpt = teacher_ckpt(tiny_classifier(width=16))
    env = _helpers(tmp_path)
    pipeline = [dict(type='LoadImageFromFile', color_type='grayscale'),
                dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0)),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='PackInputs')]

    def config(name):
        cfg = tiny_kd_config(synthetic_sar_root, ckpt, tmp_path / name)
        cfg.model.student.backbone.drop_path_rate = 0.2
        cfg.train_dataloader.dataset.pipeline = pipeline
        cfg.custom_hooks = [dict(type='mmkd.RNGStateHook'),
                            dict(type='mmkd.TeacherHashHook'),
                            dict(type='KillAtIteration')]
        cfg.custom_imports = dict(imports=['mmkd_test_hooks'], allow_failed_imports=False)
        path = str(tmp_path / f'{name}.py')
        cfg.dump(path)
        return path

    out = run_tool([sys.executable, 'tools/train.py', config('straight')], env=env)
    assert 'frozen teachers unchanged after training' in out

    killed = dict(os.environ, PYTHONUNBUFFERED='1', MMKD_KILL_AT='7', **env)
    import subprocess
    proc = subprocess.run([sys.executable, 'tools/train.py', config('killed')], cwd=REPO,
                          env=killed, capture_output=True, text=True, timeout=600)
    assert proc.returncode == -9, proc.stderr[-3000:]
    last = open(tmp_path / 'killed' / 'last_checkpoint').read().strip()
    assert last.endswith('iter_6.pth')

    out = run_tool([sys.executable, 'tools/train.py', str(tmp_path / 'killed.py'),
                    '--resume'], env=env)
    assert 'skipping the 1 batches already trained' in out

    last_a, a = _final_student(tmp_path / 'straight')
    last_b, b = _final_student(tmp_path / 'killed')
    assert osp.basename(last_a) == osp.basename(last_b) == 'iter_10.pth'
    assert a.keys() == b.keys()
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differ, f'{len(differ)} tensors differ, e.g. {differ[:3]}'


def test_iteration_based_resume_mid_epoch_is_exact(synthetic_sar_root, teacher_ckpt,
                                                   tmp_path):
    """IterBasedTrainLoop (5 batches per pass over the data): stop after 4 iterations,
    resume to 7 (crossing a pass boundary); equal to 7 iterations straight. (mmengine's
    own resume replays the skipped batches through the pipeline, which redraws the data
    RNG, but not the model's: without RNGStateHook the drop-path masks differ.)"""
    from mmengine.runner import Runner
    ckpt = teacher_ckpt(tiny_classifier(width=16))

    def run(name, iters, resume=False):
        cfg = tiny_kd_config(synthetic_sar_root, ckpt, tmp_path / name, resume=resume)
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
        cfg.param_scheduler = None
        cfg.model.student.backbone.drop_path_rate = 0.2  # model-side torch RNG
        cfg.train_dataloader.dataset.pipeline = [
            dict(type='LoadImageFromFile', color_type='grayscale'),
            dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0)),
            dict(type='PackInputs')]
        cfg.custom_hooks = [dict(type='mmkd.RNGStateHook')]
        runner = Runner.from_cfg(cfg)
        runner.train()
        return {k: v.clone() for k, v in runner.model.student.state_dict().items()}

    straight = run('a', 7)
    run('b', 4)
    resumed = run('b', 7, resume=True)
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


def test_resume_with_another_teacher_is_refused(synthetic_sar_root, teacher_ckpt,
                                                tmp_path):
    from mmengine.runner import Runner
    ckpt = teacher_ckpt(tiny_classifier(width=16))
    cfg = tiny_kd_config(synthetic_sar_root, ckpt, tmp_path / 'r',
                         **{'train_cfg.max_epochs': 1})
    Runner.from_cfg(cfg).train()
    other = teacher_ckpt(tiny_classifier(width=16), 'other.pth', bn_steps=3)
    cfg = tiny_kd_config(synthetic_sar_root, other, tmp_path / 'r', resume=True)
    with pytest.raises(TeacherChangedError, match='between the checkpoint and this run'):
        Runner.from_cfg(cfg).train()


# ---------------------------------------------------------------- DDP
def test_ddp_two_processes_match_one_process_with_the_same_global_batch(
        synthetic_sar_root, teacher_ckpt, tmp_path):
    """1 process x batch 8 vs 2 gloo processes x batch 4: the same 8 samples per step
    (DefaultSampler interleaves the ranks), gradients averaged by DDP. The student uses
    GroupNorm (BatchNorm statistics would differ with the per-process batch) and a
    connector whose loss starts at iteration 1 (unused-parameter check). The mean of
    the ranks' losses equals the single-process loss to 1e-5 (relative) at the first
    iteration and, after optimizer steps, to 1e-4 relative or 1e-6 absolute (float32
    all-reduce order; the KD term is ~1e-3, so its relative error is larger). Both
    runs use one thread per process: oneDNN's reductions depend on the thread count."""
    ckpt = teacher_ckpt(tiny_classifier(width=16))
    env = dict(_helpers(tmp_path), OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    student = tiny_classifier(width=8)
    student['backbone']['norm_cfg'] = dict(type='GN', num_groups=4, requires_grad=True)

    def config(name, batch_size):
        cfg = tiny_kd_config(synthetic_sar_root, ckpt, tmp_path / name,
                             **{'train_cfg.max_epochs': 1,
                                'train_dataloader.batch_size': batch_size})
        cfg.model.student = student
        cfg.model.taps = dict(LOGIT_TAPS, s_feat='student.backbone.layer3',
                              t_feat='teacher.backbone.layer3')
        cfg.model.connectors = dict(s_adapted=dict(
            type='mmkd.ConvConnector', source='s_feat', like='t_feat', in_channels=32,
            out_channels=64))
        cfg.model.losses = dict(cfg.model.losses, hint=dict(
            type='mmkd.FeatureMSELoss', schedule=dict(begin=1),
            inputs=dict(student='s_adapted', teacher='t_feat')))
        cfg.custom_hooks = [dict(type='RecordLosses')]
        cfg.custom_imports = dict(imports=['mmkd_test_hooks'], allow_failed_imports=False)
        path = str(tmp_path / f'{name}.py')
        cfg.dump(path)
        return path

    run_tool([sys.executable, 'tools/train.py', config('single', 8)], env=env)
    ddp_env = dict(env, PORT='29517',
                   PATH=osp.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    out = run_tool(['bash', 'tools/dist_train.sh', config('ddp', 4), '2'], env=ddp_env)
    assert 'gloo' in out

    def read(path):
        return [json.loads(line) for line in open(path)]

    single = read(tmp_path / 'single' / 'losses_rank0.jsonl')
    r0 = read(tmp_path / 'ddp' / 'losses_rank0.jsonl')
    r1 = read(tmp_path / 'ddp' / 'losses_rank1.jsonl')
    assert len(single) == len(r0) == len(r1) == 5
    for it in range(3):
        for key in ('loss', 'loss_kd', 'student.loss', 'loss_hint'):
            mean = (r0[it][key] + r1[it][key]) / 2
            rel, tol = (1e-5, 1e-7) if it == 0 else (1e-4, 1e-6)
            assert mean == pytest.approx(single[it][key], rel=rel, abs=tol), (it, key)
    assert single[0]['loss_hint'] == 0 and single[1]['loss_hint'] > 0
