"""SAR building segmentation distilled from optical images: DisOptNet's split, the
frozen teacher, SAR-only testing, the KD comparison losses, the building-class metric,
the configs, and one whole run (train -> export -> tools/test.py on SAR only)."""
import glob
import math
import os
import os.path as osp
import shutil
import sys

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope

CONFIGS = osp.join(REPO, 'configs', 'disoptnet')
B0 = [16, 24, 40, 112, 320]          # EfficientNet-B0 stages 1..5
DEC = (16, 8, 8, 8, 8)
SEG_LOSSES = [dict(type='CrossEntropyLoss', loss_weight=1.0),
              dict(type='TverskyLoss', alpha=0.5, beta=0.5, loss_name='loss_dice')]


@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    # On a shared CPU with more busy processes than cores, OpenMP threads spin-wait on
    # each other: one thread is many times faster than two there, and never slower here.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _mmseg_scope():
    DefaultScope._instance_dict.clear()
    init_default_scope('mmseg')
    yield
    DefaultScope._instance_dict.clear()


def encoder(in_channels, arch='b0'):
    return dict(type='mmkd.EfficientNetEncoder', arch=arch, in_channels=in_channels)


def head(in_channels=B0):
    return dict(type='mmkd.UNetDecodeHead', in_channels=in_channels, decoder_channels=DEC,
                num_classes=2, norm_cfg=dict(type='BN'), loss_decode=SEG_LOSSES)


def teacher_cfg():
    return dict(type='EncoderDecoder', backbone=encoder(3), decode_head=head(),
                data_preprocessor=dict(type='SegDataPreProcessor', mean=[0.] * 3,
                                       std=[1.] * 3, size_divisor=32),
                test_cfg=dict(mode='whole'))


def disoptnet_cfg(k=3, **kw):
    return dict(type='mmkd.DisOptNet', backbone=encoder(4), decode_head=head(),
                pseudo_optical_backbone=encoder(3), pseudo_optical_head=head(),
                fusion_head=dict(type='mmkd.SCSEFusionHead', in_channels=[8, 8],
                                 channels=8, num_classes=2, norm_cfg=dict(type='BN'),
                                 loss_decode=SEG_LOSSES),
                split_stage=k, test_cfg=dict(mode='whole'),
                data_preprocessor=dict(type='SegDataPreProcessor', mean=[0.] * 4,
                                       std=[1.] * 4, size_divisor=32), **kw)


def build(cfg):
    from mmengine.config import ConfigDict

    from mmkd.registry import MODELS
    return MODELS.build(ConfigDict(cfg))


def seg_samples(n=2, size=32, seed=0):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, 2, (1, size, size), generator=g))
        s.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size)))
        out.append(s)
    return out


# ---------------------------------------------------------------- the split
@pytest.mark.parametrize('k', [1, 3])
def test_split_shares_stages_up_to_k_and_copies_the_teachers_after(k, tmp_path):
    torch.manual_seed(0)
    model = build(disoptnet_cfg(k))
    teacher = build(teacher_cfg())
    po = model.pseudo_optical_backbone
    for i in range(6):
        mine = {n: p.shape for n, p in po.layers[i].named_parameters()}
        if i <= k:  # shared: the branch has no weights of its own there
            assert isinstance(po.layers[i], nn.Identity) and not mine
        else:       # duplicated: the optical network's stage, same names and shapes
            assert mine and mine == {n: p.shape for n, p in
                                     teacher.backbone.layers[i].named_parameters()}
    assert list(model.pseudo_optical_head.state_dict()) == list(
        teacher.decode_head.state_dict())

    # the branch is fed exactly the SAR encoder's stage-k output
    seen = {}
    h1 = model.backbone.layers[k].register_forward_hook(
        lambda m, a, o: seen.setdefault('sar_k', o))
    h2 = po.layers[k + 1].register_forward_pre_hook(
        lambda m, a: seen.setdefault('branch_in', a[0]))
    out = model.branches(torch.randn(2, 4, 32, 32))
    h1.remove(), h2.remove()
    assert seen['branch_in'] is seen['sar_k']
    assert {v.shape for v in out.values()} == {(2, 2, 32, 32)}

    # a loss on the pseudo-optical prediction trains the shared stages and the branch,
    # not the SAR stages after k nor the SAR decoder
    model.zero_grad()
    out['pseudo_optical'].square().mean().backward()
    def grads(mod):
        return [p.grad is not None and p.grad.abs().sum() > 0 for p in mod.parameters()]
    for i in range(6):
        if i <= k:
            assert any(grads(model.backbone.layers[i]))
        else:
            assert not any(grads(model.backbone.layers[i]))
            assert any(grads(po.layers[i]))
    assert not any(grads(model.decode_head)) and not any(grads(model.fusion_head))
    assert any(grads(model.pseudo_optical_head))

    # starting the branch from the optical teacher copies its stages > k and decoder
    path = str(tmp_path / 'teacher.pth')
    torch.save({'state_dict': teacher.state_dict()}, path)
    model.load_pseudo_optical(path)
    for i in range(k + 1, 6):
        for (n, a), (_, b) in zip(po.layers[i].state_dict().items(),
                                  teacher.backbone.layers[i].state_dict().items()):
            assert torch.equal(a, b), n
    for n, v in teacher.decode_head.state_dict().items():
        assert torch.equal(model.pseudo_optical_head.state_dict()[n], v)


def test_split_errors_are_clear():
    with pytest.raises(ValueError, match=r'split_stage must be in 0\.\.4'):
        build(disoptnet_cfg(5))
    bad = disoptnet_cfg(3)
    bad['pseudo_optical_backbone'] = encoder(3, arch='b3')
    with pytest.raises(ValueError, match='stage 4, which takes 48 channels, but the SAR '
                                         "encoder's stage 3 gives 40"):
        build(bad)


# ---------------------------------------------------------------- the distiller
def distiller(teacher_path, k=3):
    paired = dict(type='mmkd.MultiModalDataPreprocessor', ref_modality='sar',
                  preprocessors=dict(
                      optical=dict(type='SegDataPreProcessor', mean=[0.] * 3,
                                   std=[1.] * 3, size_divisor=32),
                      sar=dict(type='SegDataPreProcessor', mean=[0.] * 4, std=[1.] * 4,
                               size_divisor=32)))
    taps = dict(s_logits='student.pseudo_optical_head.conv_seg',
                t_logits='teacher.decode_head.conv_seg',
                s_dec=dict(model='student', path='pseudo_optical_head.conv_seg',
                           io='input'),
                t_dec=dict(model='teacher', path='decode_head.conv_seg', io='input'))
    losses = dict(pixel_kl=dict(type='mmkd.KDLoss', temperature=1.0,
                                inputs=dict(student='s_logits', teacher='t_logits')),
                  l2_dec=dict(type='mmkd.FeatureMSELoss',
                              inputs=dict(student='s_dec', teacher='t_dec')))
    for i in range(k + 1, 6):
        taps[f's{i}'] = f'student.pseudo_optical_backbone.layers.{i}'
        taps[f't{i}'] = f'teacher.backbone.layers.{i}'
        losses[f'l2_{i}'] = dict(type='mmkd.FeatureMSELoss',
                                 inputs=dict(student=f's{i}', teacher=f't{i}'))
    return build(dict(type='mmkd.Distiller', student=disoptnet_cfg(k),
                      teacher=dict(model=teacher_cfg(), checkpoint=teacher_path,
                                   input='optical'),
                      student_input='sar', taps=taps, losses=losses,
                      data_preprocessor=paired))


def paired_batch(n=2, size=32, modalities=('sar', 'optical')):
    g = torch.Generator().manual_seed(1)
    chans = dict(sar=4, optical=3)
    inputs = [{m: torch.rand(chans[m], size, size, generator=g) * 255 for m in modalities}
              for _ in range(n)]
    return dict(inputs=inputs, data_samples=seg_samples(n, size))


def test_teacher_is_frozen_and_test_time_needs_sar_only(tmp_path):
    torch.manual_seed(0)
    t = build(teacher_cfg())
    path = str(tmp_path / 't.pth')
    torch.save({'state_dict': t.state_dict()}, path)
    model = distiller(path)
    model.train()
    teacher = model.teachers['teacher']
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    assert not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())
    assert not any(k.startswith('teacher') for k in model.state_dict())
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(2):
        data = model.data_preprocessor(paired_batch(), True)
        losses = model(**data, mode='loss')
        assert {'loss_pixel_kl', 'loss_l2_dec', 'loss_l2_4', 'loss_l2_5',
                'student.fused.loss_ce', 'student.fused.loss_dice',
                'student.sar.loss_ce'} <= set(losses)
        opt.zero_grad()
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        opt.step()
    for k, v in teacher.state_dict().items():  # weights and BN statistics unchanged
        assert torch.equal(v, before[k]), k
    # validation/test: a SAR-only batch is enough
    model.eval()
    out = model.val_step(paired_batch(modalities=('sar', )))
    assert out[0].pred_sem_seg.data.shape == (1, 32, 32)


# ---------------------------------------------------------------- losses
def _softmax(z):
    e = [math.exp(v - max(z)) for v in z]
    return [v / sum(e) for v in e]


def reference_pairwise(fs, ft, scale):
    """Pool each map into nodes (max over windows of int(size*scale), ceil), cosine
    similarities between nodes (norm detached: same value), squared differences summed,
    divided by M^2 and N. Written element by element."""
    def nodes(f):
        n, c, h, w = f.shape
        kh, kw = max(1, int(h * scale)), max(1, int(w * scale))
        out = []
        for b in range(n):
            pts = []
            for y0 in range(0, h, kh):
                for x0 in range(0, w, kw):
                    pts.append([max(f[b, ch, y, x] for y in range(y0, min(y0 + kh, h))
                                    for x in range(x0, min(x0 + kw, w)))
                                for ch in range(c)])
            out.append(pts)
        return out
    ns, nt = nodes(fs.tolist() and fs), nodes(ft)
    total, m = 0.0, len(nt[0])
    for b in range(len(ns)):
        def sim(p, i, j):
            ni = math.sqrt(sum(v * v for v in p[i])) + 1e-8
            nj = math.sqrt(sum(v * v for v in p[j])) + 1e-8
            return sum(a * c for a, c in zip(p[i], p[j])) / (ni * nj)
        for i in range(m):
            for j in range(m):
                total += (sim(nt[b], i, j) - sim(ns[b], i, j)) ** 2
    return total / (m * m) / len(ns)


@pytest.mark.parametrize('size', [(4, 4), (5, 6)])
def test_pairwise_similarity_loss_matches_its_formula(size):
    from mmkd.models.losses import PairWiseSimilarityLoss
    g = torch.Generator().manual_seed(0)
    fs = torch.randn(2, 3, *size, generator=g)
    ft = torch.randn(2, 5, *size, generator=g)  # channels may differ
    loss = PairWiseSimilarityLoss(scale=0.5, loss_weight=2.0)(fs, ft)
    ref = reference_pairwise(fs.numpy(), ft.numpy(), 0.5)
    assert loss.item() == pytest.approx(2.0 * ref, rel=1e-5)
    with pytest.raises(ValueError, match='same batch and spatial size'):
        PairWiseSimilarityLoss()(fs, ft[..., :3])


def test_kd_loss_per_pixel_and_the_authors_pixel_wise_normalisation():
    """KDLoss on (N, C, H, W) is the per-pixel KL averaged over pixels; the DisOptNet /
    Structured KD CriterionPixelWise (sum of -p_t log p_s over the batch, / H W) equals
    N x (that + the teacher's mean entropy): same gradients, N times the weight."""
    from mmkd.models.losses import KDLoss
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(3, 4, 2, 5, generator=g), torch.randn(3, 4, 2, 5, generator=g)
    kl, ent, crit = 0.0, 0.0, 0.0
    for n in range(3):
        for y in range(2):
            for x in range(5):
                ps, pt = _softmax(s[n, :, y, x].tolist()), _softmax(t[n, :, y, x].tolist())
                kl += sum(a * (math.log(a) - math.log(b)) for a, b in zip(pt, ps))
                ent += -sum(a * math.log(a) for a in pt)
                crit += -sum(a * math.log(b) for a, b in zip(pt, ps))
    pixels = 3 * 2 * 5
    assert KDLoss(temperature=1.0)(s, t).item() == pytest.approx(kl / pixels, rel=1e-5)
    assert crit / (2 * 5) == pytest.approx(3 * (kl + ent) / pixels, rel=1e-9)
    # reduction='sum_over_hw' is CriterionPixelWise's weighting (less the entropy)
    authors = KDLoss(temperature=1.0, reduction='sum_over_hw')(s, t).item()
    assert authors == pytest.approx(kl / (2 * 5), rel=1e-5)
    assert authors == pytest.approx((crit - ent) / (2 * 5), rel=1e-5)


@pytest.mark.parametrize('name', [
    'disoptnet_effnet-b3-unet_k3_synthetic-buildings.py',
    'disoptnet_effnet-b3-unet_k3_spacenet6.py',
    'ablation/disoptnet_effnet-b3-unet_k1_synthetic-buildings.py',
    'ablation/disoptnet_effnet-b3-unet_k2_synthetic-buildings.py',
    'ablation/disoptnet_effnet-b3-unet_k4_synthetic-buildings.py',
    'disoptnet_effnet-b3-unet_k3_synthetic-buildings_authors-code.py'])
def test_disoptnet_configs_weight_the_pixel_term_as_the_authors_code(name):
    """DisOptNet's pixel KD is CriterionPixelWise's (sum over the batch / H W) by
    default; the feature L2 is relative to the teacher's energy, except in the
    authors'-code variant, which keeps their raw nn.MSELoss."""
    losses = Config.fromfile(osp.join(CONFIGS, name)).model.losses
    assert losses.pixel_kl.type == 'mmkd.KDLoss'
    assert losses.pixel_kl.reduction == 'sum_over_hw'
    assert losses.pixel_kl.loss_weight == 1.0 and losses.pixel_kl.temperature == 1.0
    l2 = {n: v for n, v in losses.items() if n.startswith('l2')}
    assert len(l2) >= 2
    want = 'mean' if name.endswith('_authors-code.py') else 'relative'
    assert {v.reduction for v in l2.values()} == {want}, name


def test_dml_loss_each_term_trains_its_own_network():
    from mmkd.models.losses import DMLLoss
    g = torch.Generator().manual_seed(0)
    s = torch.randn(2, 3, 2, 2, generator=g).requires_grad_()
    t = torch.randn(2, 3, 2, 2, generator=g).requires_grad_()
    out = DMLLoss()(s, t)
    kl_ts = kl_st = 0.0
    for n in range(2):
        for y in range(2):
            for x in range(2):
                ps, pt = _softmax(s[n, :, y, x].tolist()), _softmax(t[n, :, y, x].tolist())
                kl_ts += sum(a * (math.log(a) - math.log(b)) for a, b in zip(pt, ps))
                kl_st += sum(a * (math.log(a) - math.log(b)) for a, b in zip(ps, pt))
    assert out['student'].item() == pytest.approx(kl_ts / 8, rel=1e-5)
    assert out['peer'].item() == pytest.approx(kl_st / 8, rel=1e-5)
    gs, = torch.autograd.grad(out['student'], t, allow_unused=True, retain_graph=True)
    assert gs is None or gs.abs().sum() == 0  # the student's term never moves the peer
    gp, = torch.autograd.grad(out['peer'], s, allow_unused=True)
    assert gp is None or gp.abs().sum() == 0
    with pytest.raises(RuntimeError, match='trainable peer'):
        DMLLoss()(s, t.detach())


def test_skd_holistic_terms_train_one_player_each():
    from mmkd.models.losses import SKDHolisticLoss
    torch.manual_seed(0)
    loss = SKDHolisticLoss(num_classes=2, base_channels=4, num_stages=2)
    s = torch.randn(2, 2, 16, 16, requires_grad=True)
    t = torch.randn(2, 2, 16, 16)
    out = loss(s, t)
    critic = list(loss.critic.parameters())
    g_adv = torch.autograd.grad(out['adv'], [s] + critic, allow_unused=True,
                                retain_graph=True)
    assert g_adv[0].abs().sum() > 0 and all(g is None for g in g_adv[1:])
    g_disc = torch.autograd.grad(out['disc'], [s] + critic, allow_unused=True)
    assert g_disc[0] is None and any(g is not None and g.abs().sum() > 0
                                     for g in g_disc[1:])


def test_pseudo_label_loss_is_ce_and_dice_on_the_teachers_argmax():
    from mmkd.models.losses import PseudoLabelSegLoss
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(2, 2, 4, 4, generator=g), torch.randn(2, 2, 4, 4, generator=g)
    label = t.argmax(1)
    ce = F.cross_entropy(s, label)
    p = s.softmax(1)
    g = F.one_hot(label, 2).permute(0, 3, 1, 2).float()
    dice = 0.0  # soft Dice per image and class, averaged over both: mmseg's Tversky
    for n in range(2):  # (TP + 1) / (TP + FP/2 + FN/2 + 1) with alpha = beta = 1/2
        for c in range(2):
            tp = (p[n, c] * g[n, c]).sum()
            fp = (p[n, c] * (1 - g[n, c])).sum()
            fn = ((1 - p[n, c]) * g[n, c]).sum()
            dice += 1 - (tp + 1) / (tp + fp / 2 + fn / 2 + 1)
    got = PseudoLabelSegLoss()(s, t)
    assert got.item() == pytest.approx((ce + dice / 4).item(), rel=1e-5)


# ---------------------------------------------------------------- metric
def test_metric_reports_the_building_class_values():
    from mmkd.evaluation import ClassIoUMetric
    metric = ClassIoUMetric()
    metric.dataset_meta = dict(classes=('background', 'building'))
    gt = torch.tensor([[0, 0, 1, 1], [0, 1, 1, 1]])
    pred = torch.tensor([[0, 1, 1, 0], [0, 1, 1, 1]])
    metric.process([], [dict(pred_sem_seg=dict(data=pred[None]),
                             gt_sem_seg=dict(data=gt[None]))])
    out = metric.compute_metrics(metric.results)
    tp, fp, fn = 4, 1, 1
    assert out['IoU.building'] == pytest.approx(100 * tp / (tp + fp + fn), abs=0.01)
    assert out['Dice.building'] == pytest.approx(200 * tp / (2 * tp + fp + fn), abs=0.01)
    assert out['Precision.building'] == pytest.approx(100 * tp / (tp + fp), abs=0.01)
    assert out['Recall.building'] == pytest.approx(100 * tp / (tp + fn), abs=0.01)
    assert 'mIoU' in out  # mmseg's means are kept


# ---------------------------------------------------------------- encoder, decoder
def test_efficientnet_encoder_reads_any_band_count_and_keeps_mmpretrain_names():
    from mmpretrain.models import EfficientNet

    from mmkd.models.seg import EfficientNetEncoder, UNetDecodeHead
    enc = EfficientNetEncoder(arch='b0', in_channels=4)
    ref = EfficientNet(arch='b0').state_dict()
    mine = enc.state_dict()
    assert not any(k.startswith('layers.6') for k in mine)  # no unused final conv
    assert all(k in ref for k in mine)
    assert [k for k in mine if mine[k].shape != ref[k].shape] == ['layers.0.conv.weight']
    feats = enc(torch.randn(1, 4, 64, 64))
    assert [f.shape[1:] for f in feats] == [(16, 32, 32), (24, 16, 16), (40, 8, 8),
                                            (112, 4, 4), (320, 2, 2)]
    dec = UNetDecodeHead(in_channels=B0, decoder_channels=DEC, num_classes=2)
    assert dec(feats).shape == (1, 2, 64, 64)
    with pytest.raises(ValueError, match='one decoder block per encoder feature'):
        UNetDecodeHead(in_channels=B0, decoder_channels=(8, 8), num_classes=2)


# ---------------------------------------------------------------- configs
def all_configs():
    return sorted(glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True))


def test_configs_parse_and_name_the_building_metric():
    names = [osp.relpath(c, CONFIGS) for c in all_configs() if '_base_' not in c]
    assert len(names) >= 14  # incl. the SpaceNet 6 variants
    for c in names:
        cfg = Config.fromfile(osp.join(CONFIGS, c))
        assert cfg.default_scope == 'mmseg', c
        assert cfg.val_evaluator.type == 'mmkd.ClassIoUMetric', c
        if cfg.model.type == 'mmkd.Distiller':
            assert cfg.test_dataloader.dataset.modalities == ('sar', ), c
            assert cfg.model.student_input == 'sar', c


@pytest.mark.parametrize('name', [
    'disoptnet_effnet-b3-unet_k3_synthetic-buildings.py',
    'ablation/disoptnet_effnet-b3-unet_k1_synthetic-buildings.py',
    'ablation/disoptnet_effnet-b3-unet_k4_synthetic-buildings.py'])
def test_split_configs_tap_the_branch_stages_after_k(name):
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    k = cfg.model.student.split_stage
    stages = sorted(int(v.rsplit('.', 1)[1]) for n, v in cfg.model.taps.items()
                    if n.startswith('s_stage'))
    assert stages == list(range(k + 1, 6))
    model = build(cfg.model.student.to_dict() | dict(pseudo_optical_init=None))
    names = dict(model.named_modules())
    for n, v in cfg.model.taps.items():
        if n.startswith('s_'):
            path = v if isinstance(v, str) else 'student.' + v['path']
            assert path.split('.', 1)[1] in names, path
    weights = [loss.loss_weight for n, loss in cfg.model.losses.items() if n.startswith('l2')]
    assert sum(weights) == pytest.approx(1.0)  # beta, averaged over the features


# ---------------------------------------------------------------- a whole run
def run_tool(args, env=None, timeout=600):
    import subprocess
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', PYTHONPATH=REPO, OMP_NUM_THREADS='1',
                    **(env or {}))
    proc = subprocess.run(args, cwd=REPO, env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


def small_arch_options(prefix):
    return {f'{prefix}.backbone.arch': 'b0', f'{prefix}.decode_head.in_channels': B0,
            f'{prefix}.decode_head.decoder_channels': DEC}


def test_distillation_run_exports_a_student_tested_on_sar_alone(tmp_path):
    from mmengine.runner import Runner

    from mmkd.testing import make_synthetic_buildings
    data = make_synthetic_buildings(str(tmp_path / 'data'), 4, 2, 2, size=32, seed=0)
    tcfg = Config.fromfile(osp.join(
        CONFIGS, 'effnet-b3-unet_synthetic-buildings-optical_teacher.py'))
    tcfg.merge_from_dict(small_arch_options('model'))
    torch.manual_seed(0)
    teacher = build(tcfg.model.to_dict())
    tpath = str(tmp_path / 'teacher.pth')
    torch.save({'state_dict': teacher.state_dict(), 'meta': {}}, tpath)

    cfg = Config.fromfile(osp.join(CONFIGS,
                                   'disoptnet_effnet-b3-unet_k3_synthetic-buildings.py'))
    opts = {f'{s}_dataloader.{k}': v for s in ('train', 'val', 'test') for k, v in (
        ('dataset.data_root', data), ('num_workers', 0), ('persistent_workers', False),
        ('batch_size', 2))}
    s = 'model.student'
    opts.update(small_arch_options(s))
    opts.update({f'{s}.pseudo_optical_backbone.arch': 'b0',
                 f'{s}.pseudo_optical_head.in_channels': B0,
                 f'{s}.pseudo_optical_head.decoder_channels': DEC,
                 f'{s}.fusion_head.in_channels': [8, 8], f'{s}.fusion_head.channels': 8,
                 f'{s}.pseudo_optical_init.checkpoint': tpath,
                 'model.teacher.checkpoint': tpath,
                 'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2,
                 'randomness.seed': 0})
    cfg.merge_from_dict(opts)
    cfg.model.teacher.model = tcfg.model.to_dict()  # the small teacher, inline
    cfg.work_dir = str(tmp_path / 'run')
    runner = Runner.from_cfg(cfg)
    runner.train()
    # the branch started from the teacher (same weights before training moved them)
    student_dir = tmp_path / 'run' / 'student'
    exported = Config.fromfile(str(student_dir / 'student_config.py'))
    assert exported.model.type == 'mmkd.DisOptNet'
    test_ds = exported.test_dataloader.dataset
    assert list(test_ds.modalities) == ['sar']
    assert 'optical' not in str(test_ds.pipeline)
    ckpt = torch.load(student_dir / 'student.pth', weights_only=True)
    assert not any(k.startswith(('student.', 'teacher')) for k in ckpt['state_dict'])

    # tools/test.py on a copy of the data without any optical image
    sar_only = str(tmp_path / 'sar_only')
    shutil.copytree(data, sar_only, ignore=shutil.ignore_patterns('optical'))
    assert not osp.exists(osp.join(sar_only, 'optical'))
    out = run_tool([sys.executable, 'tools/test.py', str(student_dir / 'student_config.py'),
                    str(student_dir / 'student.pth'), '--work-dir', str(tmp_path / 'test'),
                    '--cfg-options', f'test_dataloader.dataset.data_root={sar_only}'])
    assert 'IoU.building' in out and 'Recall.building' in out
