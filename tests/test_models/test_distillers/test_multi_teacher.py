"""Several teachers at once: MultiTeacherKDLoss's three aggregations against plain-torch
computations (CA-MKD's weights as the authors' code forms them), the errors, a real
training step with two frozen teachers, the teacher cache with two teachers, export of
the student and exact resumption."""
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from conftest import batch, tiny_classifier
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmpretrain.structures import DataSample

from mmkd.models.distillers import Distiller
from mmkd.models.losses import KDLoss, MultiTeacherKDLoss

N, C = 6, 5


def _logits(seed, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(N, C, generator=g, dtype=torch.float64) * scale


def _labelled(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


LABELS = [0, 3, 1, 4, 2, 2]


def _kl_rows(p, q):
    """sum_c p log(p / q) per row, element by element."""
    return torch.tensor([sum(float(p[n, c]) * math.log(float(p[n, c]) / float(q[n, c]))
                             for c in range(p.shape[1])) for n in range(p.shape[0])],
                        dtype=torch.float64)


def _soft(z, T):
    e = torch.exp(z / T - (z / T).max(1, keepdim=True).values)
    return e / e.sum(1, keepdim=True)


# ---------------------------------------------------------------- golden values
@pytest.mark.parametrize('weights', [None, dict(eo=0.7, sar=0.2, extra=1.5)])
def test_sum_is_the_weighted_sum_of_per_teacher_kd(weights):
    s, teachers = _logits(0), dict(eo=_logits(1), sar=_logits(2), extra=_logits(3))
    T = 3.0
    out = MultiTeacherKDLoss('sum', temperature=T, weights=weights, loss_weight=0.5)(
        s, teachers)
    w = weights or {k: 1 / 3 for k in teachers}
    p_s = _soft(s, T)
    expected = sum(w[k] * T**2 * _kl_rows(_soft(z, T), p_s).mean()
                   for k, z in teachers.items())
    assert out['loss'].item() == pytest.approx(0.5 * expected.item(), rel=1e-10)
    # the same as one KDLoss entry per teacher with loss_weight w_k
    kd = sum(KDLoss(temperature=T, loss_weight=w[k])(s, z) for k, z in teachers.items())
    assert out['loss'].item() == pytest.approx(0.5 * kd.item(), rel=1e-10)
    assert {k: v.item() for k, v in out['log'].items()} == pytest.approx(
        {f'weight_{k}': v for k, v in w.items()})


def test_mean_targets_is_kl_to_the_averaged_probabilities():
    s, teachers = _logits(4), dict(a=_logits(5), b=_logits(6, scale=4.))
    T = 4.0
    weights = dict(a=3.0, b=1.0)  # normalised: 0.75, 0.25
    out = MultiTeacherKDLoss('mean_targets', temperature=T, weights=weights)(s, teachers)
    q = 0.75 * _soft(teachers['a'], T) + 0.25 * _soft(teachers['b'], T)
    expected = T**2 * _kl_rows(q, _soft(s, T)).mean()
    assert out['loss'].item() == pytest.approx(expected.item(), rel=1e-10)
    assert out['log']['weight_a'].item() == pytest.approx(0.75)
    # sum_k w KL(p_k || p_s) = KL(q || p_s) + sum_k w KL(p_k || q): same gradient as
    # 'sum' with the normalised weights, a value lower by the teachers' disagreement
    s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    mean = MultiTeacherKDLoss('mean_targets', temperature=T, weights=weights)(s1, teachers)
    summed = MultiTeacherKDLoss('sum', temperature=T, weights=dict(a=.75, b=.25))(
        s2, teachers)
    mean['loss'].backward()
    summed['loss'].backward()
    assert torch.allclose(s1.grad, s2.grad, atol=1e-12)
    gap = T**2 * sum(w * _kl_rows(_soft(teachers[k], T), q).mean()
                     for k, w in (('a', .75), ('b', .25)))
    assert (summed['loss'] - mean['loss']).item() == pytest.approx(gap.item(), rel=1e-9)
    assert gap.item() > 0.1


def _camkd_reference(s, teacher_list, target, T):
    """CA-MKD's logit term as their helper/loops.py forms it (ensemble_method 'CAMKD'):
    per-sample CE of each teacher, (1 - softmax over teachers) / (K - 1), per-sample
    T^2-scaled KL summed over classes, weighted sum / (bsz * K)."""
    K = len(teacher_list)
    ce = torch.stack([F.cross_entropy(z, target, reduction='none') for z in teacher_list])
    attention = (1.0 - F.softmax(ce, dim=0)) / (K - 1)
    div = torch.stack([
        (F.kl_div(F.log_softmax(s / T, 1), F.softmax(z / T, 1), reduction='none')
         * T**2).sum(-1) for z in teacher_list])
    return (attention * div).sum() / (s.shape[0] * K), attention


@pytest.mark.parametrize('k', [2, 3])
def test_confidence_is_camkd_as_the_authors_code_computes_it(k):
    s = _logits(7)
    teachers = {f't{i}': _logits(10 + i, scale=1. + i) for i in range(k)}
    T = 4.0
    out = MultiTeacherKDLoss('confidence', temperature=T)(s, teachers, _labelled(LABELS))
    ref, attention = _camkd_reference(s, list(teachers.values()), torch.tensor(LABELS), T)
    assert out['loss'].item() == pytest.approx(ref.item(), rel=1e-10)
    a = MultiTeacherKDLoss.confidence_weights(teachers, _labelled(LABELS))
    assert torch.allclose(a, attention, atol=1e-12)
    assert torch.allclose(a.sum(0), torch.ones(N, dtype=a.dtype))  # sums to 1 per sample
    for i in range(k):
        assert out['log'][f'weight_t{i}'].item() == pytest.approx(
            attention[i].mean().item())


def test_confidence_weights_by_hand():
    """One sample of 2 classes, label 0. Two teachers, a right (logits 2, 0), b wrong
    (0, 2): CE_a = log(1 + e^-2), CE_b = log(1 + e^2), a_a = 1 - e^CE_a / (e^CE_a +
    e^CE_b) = (1 + e^2) / (2 + e^-2 + e^2), which at K = 2 is softmax(-CE)_a. Three
    teachers with CE 0, 1, 2 (logits giving exactly those): (1 - softmax(CE)) / 2 =
    0.455, 0.378, 0.167, not softmax(-CE) = 0.665, 0.245, 0.090."""
    e = math.e
    a = MultiTeacherKDLoss.confidence_weights(
        dict(a=torch.tensor([[2., 0.]]), b=torch.tensor([[0., 2.]])), _labelled([0]))
    w_a = (1 + e**2) / (2 + e**-2 + e**2)
    assert a[:, 0].tolist() == pytest.approx([w_a, 1 - w_a], rel=1e-6)
    assert w_a == pytest.approx(0.8808, abs=1e-4)

    def logits_with_ce(ce):  # 2 classes, label 0: CE = log(1 + e^-d) for logits (d, 0)
        d = -math.log(math.exp(ce) - 1) if ce > 0 else 30.
        return torch.tensor([[d, 0.]], dtype=torch.float64)

    three = {k: logits_with_ce(ce) for k, ce in (('a', 0.), ('b', 1.), ('c', 2.))}
    a = MultiTeacherKDLoss.confidence_weights(three, _labelled([0]))[:, 0]
    z = 1 + e + e**2
    assert a.tolist() == pytest.approx([(1 - 1 / z) / 2, (1 - e / z) / 2,
                                        (1 - e**2 / z) / 2], abs=1e-9)
    assert a.tolist() == pytest.approx([0.455, 0.378, 0.167], abs=1e-3)
    assert torch.softmax(-torch.tensor([0., 1., 2.]), 0).tolist() == pytest.approx(
        [0.665, 0.245, 0.090], abs=1e-3)


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
@pytest.mark.parametrize('aggregation', ['sum', 'mean_targets', 'confidence'])
def test_finite_at_1e4_logits_and_in_bf16(aggregation, dtype):
    """Saturated logits (+-1e4, what a diverging teacher hands over), also as bf16."""
    g = torch.Generator().manual_seed(0)
    s = (torch.randn(N, C, generator=g).sign() * 1e4).requires_grad_()
    teachers = {k: (torch.randn(N, C, generator=g).sign() * 1e4).to(dtype)
                for k in ('a', 'b', 'c')}
    out = MultiTeacherKDLoss(aggregation)(s.to(dtype), teachers, _labelled(LABELS))
    assert out['loss'].dtype == torch.float32 and torch.isfinite(out['loss'])
    assert all(torch.isfinite(v) for v in out['log'].values())
    out['loss'].backward()
    assert torch.isfinite(s.grad).all()


# ---------------------------------------------------------------- errors
def test_loss_errors_name_teachers_and_class_counts():
    with pytest.raises(KeyError, match=r"weights name teacher 'sra', but the teachers it "
                       r"reads are \['eo', 'sar'\]"):
        MultiTeacherKDLoss('sum', weights=dict(eo=1., sra=1.)).check_teachers(['eo', 'sar'])
    with pytest.raises(KeyError, match="no weight for teacher 'sar'"):
        MultiTeacherKDLoss('mean_targets', weights=dict(eo=1.)).check_teachers(['eo', 'sar'])
    with pytest.raises(ValueError, match='drop weights'):
        MultiTeacherKDLoss('confidence', weights=dict(eo=1.))
    with pytest.raises(ValueError, match='at least 2 teachers'):
        MultiTeacherKDLoss('confidence').check_teachers(['eo'])
    with pytest.raises(ValueError, match='aggregation must be one of'):
        MultiTeacherKDLoss('max')
    s = torch.randn(4, 10)
    with pytest.raises(ValueError, match=r"teachers 'eo' \(10 classes\) and 'sar' \(12 "
                       r"classes\) have different class counts"):
        MultiTeacherKDLoss()(s, dict(eo=torch.randn(4, 10), sar=torch.randn(4, 12)))
    with pytest.raises(ValueError, match="student predicts 10 classes, teacher 'eo' 12"):
        MultiTeacherKDLoss()(s, dict(eo=torch.randn(4, 12), sar=torch.randn(4, 12)))
    with pytest.raises(ValueError, match='some samples of the batch have no gt_label'):
        MultiTeacherKDLoss('confidence')(
            s, dict(eo=torch.randn(4, 10), sar=torch.randn(4, 10)),
            _labelled([1, 2, 3]) + [DataSample()])


TWO_TAPS = dict(s_logits='student.head.fc', t_eo='eo.head.fc', t_sar='sar.head.fc')


def _mtkd(aggregation='confidence', name='mtkd', teacher=None, **kw):
    return {name: dict(type='mmkd.MultiTeacherKDLoss', aggregation=aggregation,
                       inputs=dict(student='s_logits',
                                   teacher=teacher or dict(eo='t_eo', sar='t_sar')), **kw)}


def _paired(teacher_ckpt, losses, sar_classes=10, **kw):
    eo = tiny_classifier(width=16, in_channels=3)
    sar = tiny_classifier(width=16, num_classes=sar_classes)
    return Distiller(
        student=tiny_classifier(width=8), student_input='sar',
        teachers=dict(
            eo=dict(model=eo, input='eo', checkpoint=teacher_ckpt(eo, 'eo.pth')),
            sar=dict(model=sar, input='sar', checkpoint=teacher_ckpt(sar, 'sar.pth'))),
        taps=TWO_TAPS, losses=losses, data_preprocessor=PAIRED_PREPROCESSOR, **kw)


PAIRED_PREPROCESSOR = dict(
    type='mmkd.MultiModalDataPreprocessor', preprocessors={
        m: dict(type='mmpretrain.ClsDataPreprocessor', num_classes=10, mean=[0.] * c,
                std=[1.] * c, to_rgb=False) for m, c in (('eo', 3), ('sar', 1))})


def _paired_batch(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = dict(eo=torch.randn(n, 3, 32, 32, generator=g),
                  sar=torch.randn(n, 1, 32, 32, generator=g))
    return inputs, _labelled(torch.randint(0, 10, (n, ), generator=g).tolist())


def test_distiller_errors_name_the_teacher_and_those_available(teacher_ckpt):
    with pytest.raises(KeyError, match=r"names teacher 'optical', but the distiller's "
                       r"teachers are \['eo', 'sar'\]"):
        _paired(teacher_ckpt, _mtkd(teacher=dict(optical='t_eo', sar='t_sar')))
    with pytest.raises(ValueError, match=r"reads 't_eo', a feature of 'eo', not of teacher "
                       r"'sar'"):
        _paired(teacher_ckpt, _mtkd(teacher=dict(eo='t_eo', sar='t_eo')))
    with pytest.raises(KeyError, match=r"weights name teacher 'sra', but the teachers it "
                       r"reads are \['eo', 'sar'\]"):
        _paired(teacher_ckpt, _mtkd('sum', weights=dict(eo=.5, sra=.5)))
    with pytest.raises(TypeError, match='one input per teacher'):
        _paired(teacher_ckpt, _mtkd(teacher=['t_eo', 't_sar']))
    d = _paired(teacher_ckpt, _mtkd('mean_targets'), sar_classes=12)
    with pytest.raises(ValueError, match=r"teachers 'eo' \(10 classes\) and 'sar' \(12 "
                       r"classes\)"):
        d(*_paired_batch(), mode='loss')
    # a logged key may not contain 'loss': mmengine would sum it into the total
    d = _paired(teacher_ckpt, _mtkd(name='mt_loss'))
    with pytest.raises(ValueError, match="Give the loss a name without 'loss'"):
        d(*_paired_batch(), mode='loss')


# ---------------------------------------------------------------- a real step
def test_train_step_eo_and_sar_teachers_teach_a_sar_student(teacher_ckpt):
    """Each teacher reads its modality of the paired batch; the loss is finite, only the
    student gets gradients, the weights are logged and left out of the total."""
    from mmengine.optim import build_optim_wrapper
    d = _paired(teacher_ckpt, _mtkd('confidence'))
    seen = {}
    for name, t in d.teachers.items():
        t.backbone.register_forward_pre_hook(
            lambda m, a, name=name: seen.__setitem__(name, a[0].shape[1]))
    inputs, samples = _paired_batch()
    losses = d(inputs, samples, mode='loss')
    assert seen == dict(eo=3, sar=1)
    assert set(losses) == {'student.loss', 'loss_mtkd', 'mtkd.weight_eo',
                           'mtkd.weight_sar'}
    assert torch.isfinite(losses['loss_mtkd']) and losses['loss_mtkd'] > 0
    w = losses['mtkd.weight_eo'] + losses['mtkd.weight_sar']
    assert w.item() == pytest.approx(1.0) and not losses['mtkd.weight_eo'].requires_grad
    total, log_vars = d.parse_losses(losses)
    assert total.item() == pytest.approx(
        (losses['student.loss'] + losses['loss_mtkd']).item())
    assert 'mtkd.weight_sar' in log_vars
    total.backward()
    for name, t in d.teachers.items():
        assert all(p.grad is None for p in t.parameters()), name
    assert all(p.grad is not None for p in d.student.parameters() if p.requires_grad)
    # through train_step: the optimizer holds the student only, the log has the weights
    d.zero_grad()
    optim = build_optim_wrapper(d, dict(optimizer=dict(type='SGD', lr=0.1)))
    held = {id(p) for g in optim.optimizer.param_groups for p in g['params']}
    assert held == {id(p) for p in d.student.parameters()}
    before = {n: {k: v.clone() for k, v in t.state_dict().items()}
              for n, t in d.teachers.items()}
    log = d.train_step(dict(inputs=inputs, data_samples=samples), optim)
    assert {'loss', 'loss_mtkd', 'mtkd.weight_eo', 'mtkd.weight_sar'} <= set(log)
    assert math.isfinite(log['loss'].item())
    for n, t in d.teachers.items():
        assert all(torch.equal(v, before[n][k]) for k, v in t.state_dict().items()), n


def test_single_teacher_kd_keys_unchanged(teacher_ckpt):
    """The single-teacher path logs what it did: loss_kd and the student's loss."""
    teacher = tiny_classifier(width=16)
    d = Distiller(student=tiny_classifier(width=8),
                  teacher=dict(model=teacher, checkpoint=teacher_ckpt(teacher)),
                  taps=dict(s_logits='student.head.fc', t_logits='teacher.head.fc'),
                  losses=dict(kd=dict(type='mmkd.KDLoss', inputs=dict(
                      student='s_logits', teacher='t_logits'))))
    losses = d(**d.data_preprocessor(batch(), True), mode='loss')
    assert set(losses) == {'student.loss', 'loss_kd'}


# ---------------------------------------------------------------- the teacher cache
def test_cache_with_two_teachers_matches_the_online_teachers(tmp_path, synthetic_sar_root):
    from test_teacher_cache import _save_weights, dataset_cfg

    from mmkd.apis import write_teacher_cache
    from mmkd.datasets import TeacherCacheDataset
    a, b = tiny_classifier(width=16), tiny_classifier(width=8, depth=18)
    ckpt = dict(a=_save_weights(a, str(tmp_path / 'a.pth'), seed=0),
                b=_save_weights(b, str(tmp_path / 'b.pth'), seed=1))
    taps = dict(s_logits='student.head.fc', t_a='a.head.fc', t_b='b.head.fc')
    losses = dict(ens=dict(type='mmkd.MultiTeacherKDLoss', aggregation='mean_targets',
                           inputs=dict(student='s_logits', teacher=dict(a='t_a', b='t_b'))))

    def distiller(cached=()):
        torch.manual_seed(0)
        teachers = {k: dict(model=m, checkpoint=ckpt[k], **(
            dict(cache=dict(dir=str(tmp_path / 'c'))) if k in cached else {}))
            for k, m in (('a', a), ('b', b))}
        return Distiller(student=tiny_classifier(width=8), teachers=teachers, taps=taps,
                         losses=losses)

    online = distiller()
    meta = write_teacher_cache(online, dataset_cfg(synthetic_sar_root), str(tmp_path / 'c'),
                               views=2, seed=1, batch_size=16)
    assert set(meta['teachers']) == {'a', 'b'}
    assert meta['teachers']['a']['hash'] != meta['teachers']['b']['hash']
    for k in ('a', 'b'):
        assert osp.isdir(tmp_path / 'c' / k)
        assert set(meta['teachers'][k]['taps']) == {'head.fc:output'}
    cached = distiller(('a', 'b'))
    assert cached.frozen_teacher_names == [] and set(cached.teacher_caches) == {'a', 'b'}
    cached.student.load_state_dict(online.student.state_dict())
    ds = TeacherCacheDataset(dataset_cfg(synthetic_sar_root), str(tmp_path / 'c'))
    data = online.data_preprocessor(pseudo_collate([ds[i] for i in range(8)]), True)
    online.eval(), cached.eval()
    for k in ('a', 'b'):  # each teacher's stored logits are its own
        stored = cached.teacher_caches[k].lookup({f't_{k}': cached.recorder.taps[f't_{k}']},
                                                 data['data_samples'], torch.device('cpu'))
        fresh = online.teacher_features(k, data['inputs'], data['data_samples'])
        assert (stored[f't_{k}'][0] - fresh[f't_{k}'][0]).abs().max() <= 1e-3 * fresh[
            f't_{k}'][0].abs().max()
    lc, lo = cached(**data, mode='loss'), online(**data, mode='loss')
    assert lc['loss_ens'].item() == pytest.approx(lo['loss_ens'].item(), rel=1e-3)
    assert lc['ens.weight_a'].item() == lo['ens.weight_a'].item() == 0.5
    mixed = distiller(('b', ))  # one teacher from the cache, the other online
    assert mixed.frozen_teacher_names == ['a'] and list(mixed.teacher_caches) == ['b']
    mixed.student.load_state_dict(online.student.state_dict())
    mixed.eval()
    lm = mixed(**data, mode='loss')
    assert lm['loss_ens'].item() == pytest.approx(lo['loss_ens'].item(), rel=1e-3)


def test_cache_tool_config_reads_the_cache_for_every_teacher(tmp_path):
    """tools/misc/cache_teacher.py caches all frozen teachers by default; the training
    config it writes points each of them (or those named by --teacher) at the cache."""
    import importlib.util

    from conftest import REPO
    path = osp.join(REPO, 'tools', 'misc', 'cache_teacher.py')
    spec = importlib.util.spec_from_file_location('_cache_teacher_tool', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/kd/mtkd-ensemble_resnet32x4+vgg13_resnet8x4_cifar10-noisy.py'))
    out = tool.cached_config(cfg, str(tmp_path / 'c'), ['resnet32x4', 'vgg13'])
    assert {n: t.cache.dir for n, t in out.model.teachers.items()} == {
        'resnet32x4': str(tmp_path / 'c'), 'vgg13': str(tmp_path / 'c')}
    assert out.train_dataloader.dataset.type == 'mmkd.TeacherCacheDataset'
    one = tool.cached_config(cfg, str(tmp_path / 'c'), ['vgg13'])
    assert 'cache' not in one.model.teachers.resnet32x4  # runs online


# ---------------------------------------------------------------- export and resume
def _two_teacher_run(data_root, ckpts, work_dir, iters, resume=False):
    from test_end_to_end import KD, shrink
    cfg = Config.fromfile(KD)
    cfg.merge_from_dict(dict(shrink(data_root), **{'train_dataloader.batch_size': 2}))
    cfg.model.pop('teacher')
    cfg.model.student = tiny_classifier(width=8)
    cfg.model.teachers = {k: dict(model=tiny_classifier(width=w), checkpoint=ckpts[k])
                          for k, w in (('a', 16), ('b', 8))}
    cfg.model.taps = dict(s_logits='student.head.fc', t_a='a.head.fc', t_b='b.head.fc')
    cfg.model.losses = dict(camkd=dict(
        type='mmkd.MultiTeacherKDLoss', aggregation='confidence',
        inputs=dict(student='s_logits', teacher=dict(a='t_a', b='t_b'))))
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.work_dir = str(work_dir)
    cfg.resume = resume
    return cfg


def test_two_teacher_run_exports_the_student_and_resumes_exactly(
        synthetic_sar_root, teacher_ckpt, tmp_path):
    """Two frozen teachers, the shipped hooks (ExportStudent, TeacherHash, RNGState):
    2 iterations straight equal 1, then a resume that runs the second only; the export
    holds the student alone; both teachers' fingerprints are in the checkpoint."""
    import glob
    import json

    from mmengine.runner import Runner
    ckpts = dict(a=teacher_ckpt(tiny_classifier(width=16), 'a.pth'),
                 b=teacher_ckpt(tiny_classifier(width=8), 'b.pth', bn_steps=3))

    def run(name, iters, resume=False):
        runner = Runner.from_cfg(_two_teacher_run(synthetic_sar_root, ckpts,
                                                  tmp_path / name, iters, resume))
        runner.train()
        return runner

    straight = run('a', 2)
    run('b', 1)
    resumed = run('b', 2, resume=True)
    sa, sb = straight.model.student.state_dict(), resumed.model.student.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    # the resumed run trained iteration 2 alone, and logged the teachers' weights
    logs = sorted(glob.glob(str(tmp_path / 'b' / '*' / 'vis_data' / 'scalars.json')))
    assert len(logs) == 2
    rows = [json.loads(line) for line in open(logs[-1])]
    assert [r['iter'] for r in rows] == [2]
    assert 0 < rows[0]['camkd.weight_a'] < 1 and 'loss_camkd' in rows[0]
    assert rows[0]['camkd.weight_a'] + rows[0]['camkd.weight_b'] == pytest.approx(1, 1e-3)
    ckpt = torch.load(tmp_path / 'b' / 'iter_1.pth', map_location='cpu',
                      weights_only=False)
    assert set(ckpt['meta']['teacher_hashes']) == {'a', 'b'}
    assert not any(k.startswith(('a.', 'b.')) for k in ckpt['state_dict'])
    exported = torch.load(tmp_path / 'b' / 'student' / 'student.pth', weights_only=True)
    assert exported['state_dict'].keys() == sb.keys()
    assert all(torch.equal(exported['state_dict'][k], v) for k, v in sb.items())
    text = (tmp_path / 'b' / 'student' / 'student_config.py').read_text()
    assert 'mmkd' not in text and 'teachers' not in text


# ---------------------------------------------------------------- the shipped configs
def _shipped_loss_step(config, sizes, tmp_path):
    """Build a shipped config with random teacher weights, record what each teacher's
    and the student's backbone receives, and take one loss step on a paired batch of
    random images (``sizes``: modality -> (channels, size)). Returns the config, the
    distiller, the inputs, what each network saw and the losses."""
    from conftest import REPO
    from test_package import _fill_checkpoints

    from mmkd.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, config))
    _fill_checkpoints(cfg.model, tmp_path)
    torch.manual_seed(0)
    d = MODELS.build(cfg.model)
    seen = {}
    for name, net in dict(d.teachers, student=d.student).items():
        net.backbone.register_forward_pre_hook(
            lambda m, a, name=name: seen.__setitem__(name, a[0].detach().clone()))
    g = torch.Generator().manual_seed(0)
    inputs = {m: torch.randn(2, c, s, s, generator=g) for m, (c, s) in sizes.items()}
    losses = d(inputs, _labelled([1, 7]), mode='loss')
    return cfg, d, inputs, seen, losses


@pytest.mark.parametrize('config, sizes, teachers', [
    ('configs/cmkd/mtkd-camkd_eo+simsar-teachers_resnet34_cifar10.py',
     dict(eo=(3, 32), sar=(1, 48)), ('eo', 'sar')),
    ('configs/kd/mtkd-ensemble_resnet32x4+vgg13_resnet8x4_cifar10-noisy.py',
     dict(clean=(3, 32), noisy=(3, 32)), ('resnet32x4', 'vgg13')),
])
def test_shipped_configs_route_each_teacher_its_modality(config, sizes, teachers, tmp_path):
    """The configs build with random teacher weights and take one loss step on a paired
    batch of their modalities (EO 32 px and SAR 48 px; clean and noisy)."""
    cfg, d, _, seen, losses = _shipped_loss_step(config, sizes, tmp_path)
    assert sorted(d.teachers) == sorted(teachers)
    for name in teachers:
        c, s = sizes[cfg.model.teachers[name].input]
        assert tuple(seen[name].shape[1:]) == (c, s, s)
        assert 0 <= losses[f'mtkd.weight_{name}'].item() <= 1
    assert torch.isfinite(losses['loss_mtkd']) and losses['loss_mtkd'] > 0


@pytest.mark.parametrize('aggregation', ['ensemble', 'sum', 'camkd'])
def test_clean_and_noisy_teachers_each_read_their_own_image_of_the_pair(aggregation,
                                                                        tmp_path):
    """configs/kd/mtkd-*_resnet32x4-clean+noisy_*: the two images of a pair have the same
    shape, so the routing is checked on the values: the clean teacher's backbone gets the
    clean tensor, the noisy teacher's and the student's the noisy one."""
    config = f'configs/kd/mtkd-{aggregation}_resnet32x4-clean+noisy_resnet8x4_cifar10-noisy.py'
    _, d, inputs, seen, losses = _shipped_loss_step(
        config, dict(clean=(3, 32), noisy=(3, 32)), tmp_path)
    assert sorted(d.teachers) == ['clean', 'noisy']
    assert torch.equal(seen['clean'], inputs['clean'])
    assert torch.equal(seen['noisy'], inputs['noisy'])
    assert torch.equal(seen['student'], inputs['noisy'])
    assert {k for k in losses if k.startswith('mtkd.weight_')} == {
        'mtkd.weight_clean', 'mtkd.weight_noisy'}
    assert torch.isfinite(losses['loss_mtkd']) and losses['loss_mtkd'] > 0


@pytest.mark.parametrize('aggregation, weights', [
    ('ensemble', dict(resnet34=0.5, vgg8=0.5)), ('sum', dict(resnet34=1.0, vgg8=1.0)),
    ('camkd', None)])
def test_synthetic_two_teacher_configs_log_each_teachers_weight(aggregation, weights,
                                                                tmp_path):
    """The few-label synthetic-SAR configs of cls_evidence.py mtkd-synthetic: the
    ResNet-34 and VGG-8 teachers each read the student's chips, and one loss step logs
    `mtkd.weight_resnet34` / `mtkd.weight_vgg8` (constants, or CA-MKD's batch means that
    sum to 1) beside the loss, outside the total."""
    from conftest import REPO
    from test_package import _fill_checkpoints

    from mmkd.registry import MODELS
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'kd',
        f'mtkd-{aggregation}_resnet34+vgg8_resnet18-w32_synthetic-sar-10shot.py'))
    _fill_checkpoints(cfg.model, tmp_path)
    torch.manual_seed(0)
    d = MODELS.build(cfg.model)
    assert sorted(d.teachers) == ['resnet34', 'vgg8']
    assert type(d.teachers['vgg8'].backbone).__name__ == 'CifarVGG'
    losses = d(**d.data_preprocessor(batch(n=4), True), mode='loss')
    logged = {k: losses[f'mtkd.weight_{k}'].item() for k in ('resnet34', 'vgg8')}
    if weights:
        assert logged == pytest.approx(weights)
    else:
        assert sum(logged.values()) == pytest.approx(1.0) and min(logged.values()) > 0
    total, log_vars = d.parse_losses(losses)
    assert total.item() == pytest.approx(
        (losses['student.loss'] + losses['loss_mtkd']).item())
    assert {'mtkd.weight_resnet34', 'mtkd.weight_vgg8'} <= set(log_vars)
