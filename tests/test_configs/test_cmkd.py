"""CMKD-s, CMKD-m and the balanced post-processing."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO, tiny_classifier
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.structures import DataSample
from test_paired_data import write_challenge_layout

from mmkd.engine.hooks import class_weights
from mmkd.evaluation import balanced_assignment
from mmkd.models.losses import CMKDLoss


def reference_cmkd(s, t, labels, w, alpha, T, reduction='sample'):
    """The documented formula, element by element (labels: int or None)."""
    def softmax(z, temp):
        e = [math.exp(v / temp) for v in z]
        return [v / sum(e) for v in e]

    ce_num = ce_den = kl_num = kl_den = 0.0
    for n in range(len(s)):
        ps1, psT, ptT = softmax(s[n], 1), softmax(s[n], T), softmax(t[n], T)
        kl = sum(p * (math.log(p) - math.log(q)) for p, q in zip(ptT, psT))
        if labels[n] is None:
            v = w[max(range(len(t[n])), key=lambda c: t[n][c])]
        else:
            v = w[labels[n]]
            ce_num += w[labels[n]] * -math.log(ps1[labels[n]])
            ce_den += w[labels[n]]
        kl_num += v * kl
        kl_den += v
    ce = ce_num / ce_den if ce_den else 0.0
    scale = T * T if reduction == 'sample' else 1 / len(s[0])
    return alpha * scale * kl_num / kl_den, (1 - alpha) * ce


def samples(labels):
    out = []
    for lab in labels:
        s = DataSample()
        if lab is not None:
            s.set_gt_label(lab)
        out.append(s)
    return out


@pytest.mark.parametrize('reduction', ['element', 'sample'])
@pytest.mark.parametrize('labels', [[0, 2, 1, 2, 2], [None, 2, None, 0, 1],
                                    [None] * 5])
def test_weighted_kl_and_ce_equal_their_formulas(labels, reduction):
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(5, 3, generator=g) * 2, torch.randn(5, 3, generator=g) * 2
    w = [0.5, 3.0, 1.2]
    loss = CMKDLoss(num_classes=3, alpha=0.7, temperature=3.0, class_weights=w,
                    kl_reduction=reduction)
    out = loss(s, t, samples(labels))
    kl, ce = reference_cmkd(s.tolist(), t.tolist(), labels, w, 0.7, 3.0, reduction)
    assert out['kl'].item() == pytest.approx(kl, rel=1e-5)
    assert out['ce'].item() == pytest.approx(ce, rel=1e-5, abs=1e-7)


def test_unit_weights_reduce_to_ce_and_hinton_kd():
    from mmkd.models.losses import KDLoss
    s, t = torch.randn(4, 5), torch.randn(4, 5)
    labels = [1, 0, 4, 4]
    out = CMKDLoss(num_classes=5, alpha=0.5, temperature=4.0,
                   kl_reduction='sample')(s, t, samples(labels))
    assert out['kl'].item() == pytest.approx(0.5 * KDLoss(4.0)(s, t).item(), rel=1e-5)
    assert out['ce'].item() == pytest.approx(
        0.5 * torch.nn.functional.cross_entropy(s, torch.tensor(labels)).item(), rel=1e-5)


def test_defaults_are_the_authors_kldivloss_with_alpha_and_t():
    """alpha 0.2, T 2 and nn.KLDivLoss()'s element mean (no T^2), as the authors'
    CMKD-s code: alpha * KLDivLoss()(log_softmax(s/T), softmax(t/T)) + (1-alpha) * CE."""
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(3)
    s, t = torch.randn(6, 10, generator=g) * 3, torch.randn(6, 10, generator=g) * 3
    labels = [0, 3, 9, 9, 2, 5]
    loss = CMKDLoss(num_classes=10)
    assert (loss.alpha, loss.temperature, loss.kl_reduction) == (0.2, 2.0, 'element')
    out = loss(s, t, samples(labels))
    authors_kl = torch.nn.KLDivLoss()(F.log_softmax(s / 2, 1), F.softmax(t / 2, 1))
    assert out['kl'].item() == pytest.approx(0.2 * authors_kl.item(), rel=1e-5)
    assert out['ce'].item() == pytest.approx(
        0.8 * F.cross_entropy(s, torch.tensor(labels)).item(), rel=1e-5)
    # the other reading is C * T^2 = 40 times larger at C = 10, T = 2
    hinton = CMKDLoss(num_classes=10, kl_reduction='sample')(s, t, samples(labels))
    assert hinton['kl'].item() == pytest.approx(40 * out['kl'].item(), rel=1e-5)
    with pytest.raises(ValueError, match='kl_reduction'):
        CMKDLoss(num_classes=10, kl_reduction='batchmean')


def test_class_weights_match_counts():
    counts = [100, 10, 1, 0]
    w = class_weights(counts, 'inverse')
    assert w[:3] == pytest.approx([111 / (3 * 100), 111 / (3 * 10), 111 / 3])
    assert w[3] == 0  # no sample: nothing to balance
    assert sum(c * x for c, x in zip(counts, w)) / sum(counts) == pytest.approx(1.0)
    ws = class_weights([4, 1], 'inverse_sqrt')
    assert ws[1] / ws[0] == pytest.approx(2.0) and sum(ws) == pytest.approx(2)
    we = class_weights([10, 1], 'effective', beta=0.9)
    assert we[1] / we[0] == pytest.approx((1 - 0.9**10) / (1 - 0.9))
    with pytest.raises(ValueError, match='unknown class weight formula'):
        class_weights([1], 'bogus')


def test_balanced_postprocessing_gives_exactly_n_to_each_capped_class():
    rng = np.random.default_rng(0)
    n_samples, c = 200, 10
    scores = rng.normal(size=(n_samples, c))
    scores[:, :4] += 1.5  # the model over-predicts classes 0..3
    before = scores.argmax(1)
    after = balanced_assignment(scores, k=4)
    n = n_samples // c
    top4 = np.argsort(-np.bincount(before, minlength=c), kind='stable')[:4]
    for cls in top4:
        assert (after == cls).sum() == n
        kept = np.flatnonzero(after == cls)
        assert set(kept) <= set(np.flatnonzero(before == cls)) | set(
            np.flatnonzero(np.isin(before, top4)))
    # samples never moved into an earlier capped class, and moved ones went to their
    # best remaining class
    moved = np.flatnonzero(before != after)
    assert len(moved) == sum(max(0, (before == c_).sum() - n) for c_ in top4[:1]) + \
        len(moved) - sum(max(0, (before == c_).sum() - n) for c_ in top4[:1])
    assert set(np.unique(after[moved])) - set(range(c)) == set()


def test_balanced_postprocessing_keeps_the_highest_scores():
    scores = np.array([[5, 0], [4, 1], [3, 2.5], [0, 1]], float)
    assert balanced_assignment(scores, k=1, n=2).tolist() == [0, 0, 1, 1]


def test_role_swap_changes_which_model_trains():
    from mmengine.optim import build_optim_wrapper

    from mmkd.models.distillers import MutualDistiller
    m = MutualDistiller(
        models=dict(eo=dict(model=tiny_classifier(width=8, in_channels=1), input='eo'),
                    sar=dict(model=tiny_classifier(width=8, in_channels=1), input='sar')),
        phases=[dict(student='eo', teacher='sar', epochs=1, alpha=0.3),
                dict(student='sar', teacher='eo', epochs=1, alpha=0.7)],
        loss=dict(type='mmkd.CMKDLoss', num_classes=10),
        data_preprocessor=dict(type='mmkd.MultiModalDataPreprocessor', preprocessors=dict(
            eo=dict(type='mmpretrain.ClsDataPreprocessor'),
            sar=dict(type='mmpretrain.ClsDataPreprocessor'))))
    optim = build_optim_wrapper(m, dict(optimizer=dict(type='SGD', lr=0.1)))
    data = dict(inputs=[dict(eo=torch.randint(0, 255, (1, 16, 16), dtype=torch.uint8),
                             sar=torch.randint(0, 255, (1, 24, 24), dtype=torch.uint8))
                        for _ in range(4)],
                data_samples=samples([0, 1, 2, 3]))
    for phase, (student, teacher, alpha) in enumerate([('eo', 'sar', 0.3),
                                                       ('sar', 'eo', 0.7)]):
        m.set_phase(phase)
        m.train()
        assert m.members[student].training and not m.members[teacher].training
        assert m.loss_module.alpha == alpha
        before = {n: {k: v.clone() for k, v in mm.state_dict().items()}
                  for n, mm in m.members.items()}
        log = m.train_step(data, optim)
        assert log['phase'] == phase
        for k, v in m.members[teacher].state_dict().items():
            assert torch.equal(v, before[teacher][k]), f'{teacher} {k} changed'
        assert any(not torch.equal(v, before[student][k])
                   for k, v in m.members[student].state_dict().items())
    assert m.phase_at_epoch(0) == 0 and m.phase_at_epoch(1) == 1


def tiny_cfg(config, data_root, work_dir, extra=None):
    """A mavoc config on a generated miniature of the challenge layout, tiny models."""
    cfg = Config.fromfile(osp.join(REPO, config))
    small = tiny_classifier(width=8, in_channels=1)
    small['data_preprocessor'] = None
    small.pop('data_preprocessor')
    cfg.train_dataloader.dataset.data_root = data_root
    cfg.train_dataloader.batch_size = 4
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.default_hooks.logger.interval = 1
    if extra:
        cfg.merge_from_dict(extra)
    return cfg, small


@pytest.fixture
def challenge_root(tmp_path):
    return write_challenge_layout(str(tmp_path / 'mavoc'), n=16,
                                  classes=('0', '1', '2', '3'))


def test_cmkd_s_trains_on_pairs_and_exports_the_student(challenge_root, tmp_path):
    cfg, small = tiny_cfg('configs/cmkd/cmkd-s_resnet34_mavoc.py', challenge_root,
                          tmp_path / 'run', {'train_cfg.max_epochs': 1})
    teacher_ckpt = str(tmp_path / 'teacher.pth')
    from mmkd.models.distillers import build_model
    t, _, _ = build_model(dict(small, head=dict(small['head'], num_classes=10)), 't')
    torch.save({'state_dict': t.state_dict()}, teacher_ckpt)
    cfg.model.student = dict(small, head=dict(small['head'], num_classes=10))
    cfg.model.teacher.model = dict(small, head=dict(small['head'], num_classes=10))
    cfg.model.teacher.checkpoint = teacher_ckpt
    runner = Runner.from_cfg(cfg)
    runner.train()
    cmkd = runner.model.losses['cmkd']
    assert torch.allclose(cmkd.class_weights[:4], torch.ones(4))  # 4 balanced classes
    assert cmkd.class_weights[4:].sum() == 0  # classes with no training sample
    exported = Config.fromfile(str(tmp_path / 'run/student/student_config.py'))
    assert exported.model.data_preprocessor.mean == [74.2]  # the EO preprocessor
    assert exported.model.type.endswith('ImageClassifier')


def test_cmkd_m_resume_continues_the_same_round_and_role(challenge_root, tmp_path):
    def make(work_dir, max_epochs, resume=False):
        cfg, small = tiny_cfg('configs/cmkd/cmkd-s_resnet34_mavoc.py', challenge_root,
                              work_dir)
        model = dict(small, head=dict(small['head'], num_classes=10))
        cfg.model = dict(
            type='mmkd.MutualDistiller',
            models=dict(eo=dict(model=model, input='eo'), sar=dict(model=model, input='sar')),
            init_from=dict(eo='sar'),
            phases=[dict(student='eo', teacher='sar', epochs=1, alpha=0.3),
                    dict(student='sar', teacher='eo', epochs=1, alpha=0.7)],
            rounds=2, loss=dict(type='mmkd.CMKDLoss', num_classes=10),
            data_preprocessor=cfg.model.data_preprocessor)
        cfg.custom_hooks = [dict(type='mmkd.RoleSwapHook'), dict(type='mmkd.ExportStudentHook')]
        # no random augmentation: mmengine does not restore Python/NumPy RNG states on
        # resume, so only a deterministic pipeline makes weights comparable here
        cfg.train_dataloader.dataset.pipeline = cfg.test_pipeline
        cfg.train_cfg.max_epochs = max_epochs
        cfg.param_scheduler = dict(type='ConstantLR', factor=1.0)
        cfg.resume = resume
        return Runner.from_cfg(cfg)

    full = make(tmp_path / 'full', 4)
    full.train()
    part = make(tmp_path / 'part', 3)
    part.train()
    assert int(part.model.phase_index) == 2  # round 2, EO learning from SAR
    ckpt = torch.load(tmp_path / 'part/epoch_3.pth', weights_only=False)
    assert int(ckpt['state_dict']['phase_index']) == 2
    resumed = make(tmp_path / 'part', 4, resume=True)
    resumed.train()
    assert int(resumed.model.phase_index) == 3
    assert resumed.model.phase['student'] == 'sar' and resumed.model.phase['round'] == 1
    for k, v in full.model.state_dict().items():
        assert torch.allclose(v.float(), resumed.model.state_dict()[k].float(), atol=1e-5), k
    for name in ('eo', 'sar'):
        assert (tmp_path / 'part' / 'student' / name / 'student.pth').is_file()


def test_exported_simulated_sar_student_reads_the_source_and_tests_alone(tmp_path):
    """A student whose modality is rendered from another (simulated SAR from EO) keeps
    the paired dataset in its exported config, and the host packer gets the student's
    modality alone, so the plain mmpretrain model evaluates it (tools/test.py)."""
    import mmcv
    import numpy as np
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope

    from mmkd.apis.export import student_config
    from mmkd.registry import DATASETS, MODELS
    rng = np.random.default_rng(0)
    for cls in ('cat', 'dog'):
        for i in range(2):
            mmcv.imwrite(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8),
                         str(tmp_path / 'test' / cls / f'{i}.jpg'))
    cfg = Config.fromfile(osp.join(REPO, 'configs/cmkd/resnet34_cifar10-simsar_supervised.py'))
    cfg.test_dataloader.dataset.data_root = str(tmp_path)
    out = student_config(cfg)
    init_default_scope(out.default_scope)
    dataset = DATASETS.build(out.test_dataloader.dataset)
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (1, 48, 48)  # SAR alone, at its own size
    model = MODELS.build(out.model).eval()
    with torch.no_grad():
        pred = model.test_step(pseudo_collate([sample, dataset[1]]))
    assert len(pred) == 2 and pred[0].pred_score.shape == (10, )


def test_cmkd_s_trains_on_the_real_unlabelled_pairs(tmp_path):
    """The PBVS 2022 test pairs (no labels) train CMKD-s from the teacher's soft labels
    alone, through the shipped unlabelled config: the CE term is absent, the KL finite."""
    import json
    import os
    import tarfile

    from test_paired_data import SHARED
    archive = osp.join(SHARED, 'mavoc-pbvs2022-test-pairs.tar.gz')
    if not osp.isfile(archive):
        pytest.skip(f'{archive} not found')
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter='data')
    cfg, small = tiny_cfg('configs/cmkd/cmkd-s_resnet34_mavoc-unlabelled.py',
                          str(tmp_path / 'mavoc_pbvs2022_test'), tmp_path / 'run',
                          {'train_cfg.max_epochs': 1, 'train_dataloader.dataset.indices': 16,
                           'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None})
    model = dict(small, head=dict(small['head'], num_classes=10))
    from mmkd.models.distillers import build_model
    t, _, _ = build_model(model, 't')
    torch.save({'state_dict': t.state_dict()}, str(tmp_path / 'teacher.pth'))
    cfg.model.student = model
    cfg.model.teacher.model = model
    cfg.model.teacher.checkpoint = str(tmp_path / 'teacher.pth')
    Runner.from_cfg(cfg).train()
    logs = [osp.join(d, f) for d, _, fs in os.walk(tmp_path / 'run') for f in fs
            if f == 'scalars.json']
    records = [json.loads(line) for line in open(logs[0])]
    assert len(records) == 4  # 16 pairs, batch 4
    assert all(np.isfinite(r['loss_cmkd.kl']) and r['loss_cmkd.kl'] > 0 for r in records)
    assert all(r['loss_cmkd.ce'] == 0 for r in records)  # no labels, no CE
    assert not any(k.startswith('student.') for r in records for k in r)
    assert (tmp_path / 'run' / 'student' / 'student.pth').is_file()
