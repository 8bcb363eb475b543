"""KD-zoo feature losses (AT, NST, SP, PKT, RKD, CC, FSP, VID).

Each loss is checked against its formula written element by element on small fixed
tensors (plain Python floats, independent of the implementation), then against the
behaviour of the authors' code (shapes, reductions, constants, invariances), and the
multi-layer/parametric ones through one training step of a Distiller.
"""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from conftest import batch, tiny_classifier
from mmengine.optim import build_optim_wrapper

from mmkd.models.distillers import Distiller
from mmkd.models.losses import ATLoss, CCLoss, FSPLoss, NSTLoss, PKTLoss, RKDLoss, SPLoss, VIDLoss


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def orthogonal(d, seed=0):
    q, _ = torch.linalg.qr(rand(d, d, seed=seed))
    return q


# ------------------------------------------------------------------ plain references
def block_mean(f, size):
    """Adaptive average pooling for sizes that divide evenly: mean of each block."""
    n, c, h, w = f.shape
    oh, ow = size
    kh, kw = h // oh, w // ow
    x = f.tolist()
    return torch.tensor([[[[sum(x[i][k][a * kh + u][b * kw + v]
                                for u in range(kh) for v in range(kw)) / (kh * kw)
                            for b in range(ow)] for a in range(oh)] for k in range(c)]
                         for i in range(n)], dtype=torch.float64)


def common_size(s, t):
    size = (min(s.shape[2], t.shape[2]), min(s.shape[3], t.shape[3]))
    return block_mean(s, size), block_mean(t, size)


def positions(f):
    """(N, C, H, W) tensor -> nested list [n][c][k] over the H*W positions."""
    return f.flatten(2).tolist()


def l2_normalize(v):
    norm = math.sqrt(sum(x * x for x in v))
    return [x / max(norm, 1e-12) for x in v]


def huber(a, b):
    d = abs(a - b)
    return 0.5 * d * d if d < 1 else d - 0.5


def at_reference(gs, gt, p=2):
    total = 0.
    for s, t in zip(gs, gt):
        s, t = common_size(s, t)
        maps = []
        for f in (s, t):
            x = positions(f)
            c, k = len(x[0]), len(x[0][0])
            maps.append([l2_normalize([sum(x[n][ch][j]**p for ch in range(c)) / c
                                       for j in range(k)]) for n in range(len(x))])
        a_s, a_t = maps
        sq = [(u - v)**2 for rs, rt in zip(a_s, a_t) for u, v in zip(rs, rt)]
        total += sum(sq) / len(sq)
    return total


def nst_reference(gs, gt):
    total = 0.
    for s, t in zip(gs, gt):
        s, t = common_size(s, t)
        xs = [[l2_normalize(ch) for ch in sample] for sample in positions(s)]
        xt = [[l2_normalize(ch) for ch in sample] for sample in positions(t)]

        def kernel_mean(a, b):
            vals = [sum(u * v for u, v in zip(ai, bj))**2
                    for na, nb in zip(a, b) for ai in na for bj in nb]
            return sum(vals) / len(vals)

        total += kernel_mean(xt, xt) + kernel_mean(xs, xs) - 2 * kernel_mean(xs, xt)
    return total


def sp_reference(s, t):
    def gram(f):
        q = f.flatten(1).tolist()
        return [l2_normalize([sum(a * b for a, b in zip(qi, qj)) for qj in q]) for qi in q]

    gs, gt = gram(s), gram(t)
    n = len(gs)
    return sum((gt[i][j] - gs[i][j])**2 for i in range(n) for j in range(n)) / n**2


def pkt_reference(s, t, eps=1e-7):
    def probs(f):
        x = f.flatten(1).tolist()
        x = [[v / (math.sqrt(sum(u * u for u in row)) + eps) for v in row] for row in x]
        k = [[(sum(a * b for a, b in zip(xi, xj)) + 1) / 2 for xj in x] for xi in x]
        return [[v / sum(row) for v in row] for row in k]

    ps, pt = probs(s), probs(t)
    n = len(ps)
    return sum(pt[i][j] * math.log((pt[i][j] + eps) / (ps[i][j] + eps))
               for i in range(n) for j in range(n)) / n**2


def rkd_reference(s, t, w_d=25., w_a=50.):
    def distances(f):
        x = f.flatten(1).tolist()
        n = len(x)
        d = [[math.dist(x[i], x[j]) if i != j else 0. for j in range(n)] for i in range(n)]
        mu = sum(d[i][j] for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
        return [[v / mu for v in row] for row in d]

    def cosines(f):
        x = f.flatten(1).tolist()
        n = len(x)
        e = [[l2_normalize([b - a for a, b in zip(x[i], x[j])]) for j in range(n)]
             for i in range(n)]
        return [sum(u * v for u, v in zip(e[i][j], e[i][k]))
                for i in range(n) for j in range(n) for k in range(n)]

    ds, dt = distances(s), distances(t)
    n = len(ds)
    loss_d = sum(huber(ds[i][j], dt[i][j]) for i in range(n) for j in range(n)) / n**2
    cs, ct = cosines(s), cosines(t)
    loss_a = sum(huber(a, b) for a, b in zip(cs, ct)) / n**3
    return w_d * loss_d + w_a * loss_a


def linear(x, weight, bias):
    """Rows of x through a linear layer, written out."""
    w, b = weight.tolist(), bias.tolist()
    return [[sum(wi * xi for wi, xi in zip(w_row, row)) + bj for w_row, bj in zip(w, b)]
            for row in x]


def cc_reference(zs, zt):
    delta = [[abs(a - b) for a, b in zip(rs, rt)] for rs, rt in zip(zs, zt)]
    n = len(delta)
    return sum(sum(a * b for a, b in zip(delta[i], delta[i + 1]))
               for i in range(n - 1)) / (n - 1)


def fsp_reference(gs, gt):
    def matrices(feats):
        out = []
        for bottom, top in zip(feats[:-1], feats[1:]):
            bottom, top = common_size(bottom, top)
            b, t = positions(bottom), positions(top)
            hw = len(b[0][0])
            out.append([[[sum(t[n][i][k] * b[n][j][k] for k in range(hw)) / hw
                          for j in range(len(b[n]))] for i in range(len(t[n]))]
                        for n in range(len(b))])
        return out

    total = 0.
    for ms, mt in zip(matrices(gs), matrices(gt)):
        sq = [(a - b)**2 for ns, nt in zip(ms, mt) for rs, rt in zip(ns, nt)
              for a, b in zip(rs, rt)]
        total += sum(sq) / len(sq)
    return total


def vid_reference(loss, gs, gt):
    total = 0.
    for layer, (s, t) in enumerate(zip(gs, gt)):
        s, t = common_size(s, t)
        convs = [m.weight[:, :, 0, 0].tolist() for m in loss.regressors[layer]
                 if isinstance(m, torch.nn.Conv2d)]
        alpha = loss.log_scales[layer].tolist()
        var = [math.log(1 + math.exp(a)) + loss.eps for a in alpha]
        xs, xt = positions(s), positions(t)
        terms = []
        for n in range(len(xs)):
            for k in range(len(xs[n][0])):
                h = [xs[n][c][k] for c in range(len(xs[n]))]
                for i, w in enumerate(convs):
                    h = [sum(wi * hi for wi, hi in zip(row, h)) for row in w]
                    if i < len(convs) - 1:
                        h = [max(v, 0.) for v in h]
                for c, mu in enumerate(h):
                    terms.append(0.5 * ((mu - xt[n][c][k])**2 / var[c] + math.log(var[c])))
        total += sum(terms) / len(terms)
    return total


# ------------------------------------------------------------------ AT
def at_layers():
    gs = [rand(2, 3, 4, 4, seed=1), rand(2, 5, 2, 2, seed=2)]
    gt = [rand(2, 6, 2, 2, seed=3), rand(2, 4, 2, 2, seed=4)]  # layer 0: 4x4 vs 2x2
    return gs, gt


def test_at_equals_formula_over_layers_with_pooling():
    gs, gt = at_layers()
    assert ATLoss()(gs, gt).item() == pytest.approx(at_reference(gs, gt), rel=1e-5)
    assert ATLoss(p=4)(gs, gt).item() == pytest.approx(at_reference(gs, gt, p=4), rel=1e-5)
    # the teacher map larger than the student's: the teacher is pooled instead
    assert ATLoss()(gt[0], gs[0]).item() == pytest.approx(
        at_reference([gt[0]], [gs[0]]), rel=1e-5)


def test_at_is_zero_for_identical_attention_and_scales_with_weight():
    s = rand(2, 3, 4, 4)
    # the same channel mean of squares: scaled, sign-flipped, permuted, more channels
    same_attention = [3 * s, -s, s[:, [2, 0, 1]], torch.cat([s, -s], 1)]
    for t in same_attention:
        assert ATLoss()(s, t).item() == pytest.approx(0., abs=1e-10)
    gs, gt = at_layers()
    one = ATLoss()(gs, gt).item()
    assert one > 0
    assert ATLoss(loss_weight=1000.)(gs, gt).item() == pytest.approx(1000 * one, rel=1e-6)
    assert ATLoss()(gs[1], gt[1]).item() == pytest.approx(
        ATLoss()([gs[1]], [gt[1]]).item(), rel=1e-7)
    with pytest.raises(ValueError, match='2 student and 1 teacher'):
        ATLoss()(gs, gt[:1])
    with pytest.raises(ValueError, match=r'\(N, C, H, W\).*\(2, 5\)'):
        ATLoss()(rand(2, 5), rand(2, 5))


# ------------------------------------------------------------------ NST
def test_nst_equals_formula_with_different_channels_and_sizes():
    gs = [rand(2, 3, 4, 4, seed=5), rand(2, 2, 2, 2, seed=6)]
    gt = [rand(2, 5, 2, 2, seed=7), rand(2, 4, 2, 2, seed=8)]
    assert NSTLoss()(gs, gt).item() == pytest.approx(nst_reference(gs, gt), rel=1e-5)
    assert NSTLoss(loss_weight=50.)(gs, gt).item() == pytest.approx(
        50 * nst_reference(gs, gt), rel=1e-5)


def test_nst_is_an_mmd_zero_for_the_same_channel_maps_in_any_order():
    s = rand(2, 4, 3, 3)
    # channels permuted and each rescaled by a positive factor: the same set of maps
    t = s[:, [3, 1, 0, 2]] * torch.tensor([2., .5, 7., 1.]).view(1, 4, 1, 1)
    assert NSTLoss()(s, t).item() == pytest.approx(0., abs=1e-6)
    assert NSTLoss()(s, rand(2, 6, 3, 3, seed=1)).item() > 0
    # the teacher-teacher term carries no gradient: the teacher's comes from the
    # cross term alone, -2 * mean (s_i . t_j)^2 over normalised channel maps
    s = rand(2, 4, 3, 3, seed=3)
    t = rand(2, 4, 3, 3, seed=2).requires_grad_()
    NSTLoss()(s, t).backward()
    t_ref = t.detach().clone().requires_grad_()
    ss, tt = F.normalize(s.flatten(2), dim=2), F.normalize(t_ref.flatten(2), dim=2)
    (-2 * (ss @ tt.transpose(1, 2)).pow(2).mean()).backward()
    assert torch.allclose(t.grad, t_ref.grad, atol=1e-6)


# ------------------------------------------------------------------ SP
def test_sp_equals_formula():
    s, t = rand(4, 3, 2, 2, seed=9), rand(4, 5, 3, 3, seed=10)
    assert SPLoss()(s, t).item() == pytest.approx(sp_reference(s, t), rel=1e-5)
    assert SPLoss()(s, t).shape == ()
    assert SPLoss()([s, t], [t, s]).item() == pytest.approx(
        sp_reference(s, t) + sp_reference(t, s), rel=1e-5)


def test_sp_is_zero_for_the_same_batch_similarities():
    s = rand(5, 6, seed=11)
    padded = torch.cat([s @ orthogonal(6), torch.zeros(5, 3)], 1)  # rotated, wider
    assert SPLoss()(s, padded).item() == pytest.approx(0., abs=1e-6)
    assert SPLoss()(s, 10 * s).item() == pytest.approx(0., abs=1e-6)
    assert SPLoss(loss_weight=3000.)(s, rand(5, 6, seed=12)).item() == pytest.approx(
        3000 * sp_reference(s, rand(5, 6, seed=12)), rel=1e-5)


# ------------------------------------------------------------------ PKT
def test_pkt_equals_formula():
    s, t = rand(5, 4, seed=13), rand(5, 7, seed=14)
    assert PKTLoss()(s, t).item() == pytest.approx(pkt_reference(s, t), rel=1e-5)
    assert PKTLoss(loss_weight=30000.)(s, t).item() == pytest.approx(
        30000 * pkt_reference(s, t), rel=1e-5)
    # (N, C, 1, 1) pooled maps are flattened
    assert PKTLoss()(s[..., None, None], t).item() == pytest.approx(
        PKTLoss()(s, t).item(), rel=1e-7)


def test_pkt_depends_only_on_cosine_similarities():
    s = rand(6, 5, seed=15)
    scales = torch.tensor([1., 3., .2, 5., 1., 8.])[:, None]
    t = torch.cat([s @ orthogonal(5, seed=1), torch.zeros(6, 2)], 1) * scales
    assert PKTLoss()(s, t).item() == pytest.approx(0., abs=1e-6)
    # an all-zero sample stays finite (its normalised vector is 0, not NaN)
    z = s.clone()
    z[0] = 0
    assert torch.isfinite(PKTLoss()(z, t))


# ------------------------------------------------------------------ RKD
def test_rkd_equals_formula():
    s, t = rand(5, 4, seed=16), rand(5, 6, seed=17)
    assert RKDLoss()(s, t).item() == pytest.approx(rkd_reference(s, t), rel=1e-4)
    assert RKDLoss(distance_weight=1., angle_weight=0.)(s, t).item() == pytest.approx(
        rkd_reference(s, t, 1., 0.), rel=1e-4)
    assert RKDLoss(distance_weight=0., angle_weight=1.)(s, t).item() == pytest.approx(
        rkd_reference(s, t, 0., 1.), rel=1e-4)
    # pairs with differences beyond the Huber knee (|d| > 1) in the distance term
    far = torch.tensor([[0., 0.], [0.1, 0.], [0., 0.1], [10., 10.]])
    near = torch.tensor([[0., 0.], [1., 0.], [0., 1.], [1., 1.]])
    assert RKDLoss()(far, near).item() == pytest.approx(rkd_reference(far, near), rel=1e-4)


def test_rkd_invariances_and_edge_cases():
    s, t = rand(6, 5, seed=18), rand(6, 3, seed=19)
    base = RKDLoss()(s, t).item()
    # each embedding scaled on its own (any non-zero factor), shifted, rotated
    for s2, t2 in [(7 * s, t), (s, 0.1 * t), (-2 * s, 3 * t), (s + 4, t - 1),
                   (s @ orthogonal(5), t @ orthogonal(3, seed=2))]:
        assert RKDLoss()(s2, t2).item() == pytest.approx(base, rel=1e-4)
    assert RKDLoss()(s, 5 * s + 1).item() == pytest.approx(0., abs=1e-5)
    # but not to an anisotropic scaling
    assert RKDLoss()(s, s * torch.tensor([1., 1., 1., 1., 9.])).item() > 1e-3
    # gradients reach the student, never the teacher
    s_, t_ = s.clone().requires_grad_(), t.clone().requires_grad_()
    RKDLoss()(s_, t_).backward()
    assert s_.grad.abs().sum() > 0 and t_.grad is None
    # one sample has no pairs: 0 (the reference gives NaN), still differentiable
    one = rand(1, 5).requires_grad_()
    loss = RKDLoss()(one, rand(1, 3))
    loss.backward()
    assert loss.item() == 0 and torch.isfinite(one.grad).all()


# ------------------------------------------------------------------ CC
def test_cc_equals_formula_with_its_embeddings():
    torch.manual_seed(0)
    cc = CCLoss(student_channels=4, teacher_channels=6, embed_channels=3)
    s, t = rand(5, 4, 1, 1, seed=20), rand(5, 6, seed=21)
    zs = linear(s.flatten(1).tolist(), cc.embed_s.weight, cc.embed_s.bias)
    zt = linear(t.tolist(), cc.embed_t.weight, cc.embed_t.bias)
    assert cc(s, t).item() == pytest.approx(cc_reference(zs, zt), rel=1e-5)
    assert CCLoss(None, None)(s.flatten(1), s.flatten(1) + 1).item() == pytest.approx(
        4.0, rel=1e-6)  # identity embeddings: sum over 4 dims of 1 * 1
    assert CCLoss(None, None)(s[:, :, 0, 0], rand(5, 4, seed=22)).item() == pytest.approx(
        cc_reference(s.flatten(1).tolist(), rand(5, 4, seed=22).tolist()), rel=1e-5)


def test_cc_embeddings_are_trained_parameters_of_the_loss():
    cc = CCLoss(4, 6, loss_weight=0.02)
    assert cc.embed_s.out_features == cc.embed_t.out_features == 128
    assert {'embed_s.weight', 'embed_s.bias', 'embed_t.weight',
            'embed_t.bias'} == set(cc.state_dict())
    cc(rand(3, 4), rand(3, 6)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in cc.parameters())
    with pytest.raises(ValueError, match='student_channels=4.*has 5 values'):
        cc(rand(3, 5), rand(3, 6))
    one = cc(rand(1, 4), rand(1, 6))
    assert one.item() == 0 and one.requires_grad


# ------------------------------------------------------------------ FSP
def test_fsp_equals_formula_over_consecutive_pairs():
    gs = [rand(2, 3, 4, 4, seed=23), rand(2, 4, 2, 2, seed=24), rand(2, 2, 2, 2, seed=25)]
    gt = [rand(2, 3, 2, 2, seed=26), rand(2, 4, 4, 4, seed=27), rand(2, 2, 2, 2, seed=28)]
    assert FSPLoss()(gs, gt).item() == pytest.approx(fsp_reference(gs, gt), rel=1e-5)
    assert FSPLoss()(gs, [g.clone() for g in gs]).item() == 0


def test_fsp_input_errors():
    a, b = rand(2, 3, 2, 2), rand(2, 4, 2, 2)
    with pytest.raises(TypeError, match='lists of layers'):
        FSPLoss()(a, b)
    with pytest.raises(ValueError, match='at least two layers'):
        FSPLoss()([a], [a])
    with pytest.raises(ValueError, match=r'layer 1 has student \(2, 4, 2, 2\) and '
                       r'teacher \(2, 3, 2, 2\)'):
        FSPLoss()([a, b], [a, a])


# ------------------------------------------------------------------ VID
def test_vid_equals_formula_and_starts_at_the_initial_variance():
    torch.manual_seed(0)
    vid = VIDLoss(student_channels=[2, 3], teacher_channels=[3, 4])
    gs = [rand(2, 2, 4, 4, seed=29), rand(2, 3, 2, 2, seed=30)]
    gt = [rand(2, 3, 2, 2, seed=31), rand(2, 4, 2, 2, seed=32)]
    assert vid(gs, gt).item() == pytest.approx(vid_reference(vid, gs, gt), rel=1e-5)
    var = torch.log1p(torch.exp(vid.log_scales[0].double())) + 1e-5
    assert torch.allclose(var, torch.full_like(var, 5.), atol=1e-5)
    # mid channels default to the teacher's, convs have no bias
    assert [m.weight.shape[:2] for m in vid.regressors[1] if hasattr(m, 'weight')] == [
        (4, 3), (4, 4), (4, 4)]
    assert all(getattr(m, 'bias', None) is None for m in vid.regressors.modules())
    # after the variances moved, still the formula
    with torch.no_grad():
        vid.log_scales[1].copy_(torch.linspace(-2., 3., 4))
    assert vid(gs, gt).item() == pytest.approx(vid_reference(vid, gs, gt), rel=1e-5)


def test_vid_parameters_are_trained_and_errors_name_the_layer():
    vid = VIDLoss(3, 5, mid_channels=4)
    assert {'regressors.0.0.weight', 'regressors.0.2.weight', 'regressors.0.4.weight',
            'log_scales.0'} == set(vid.state_dict())
    s, t = rand(2, 3, 2, 2), rand(2, 5, 2, 2)
    vid(s, t).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in vid.parameters())
    with pytest.raises(ValueError, match='built for 3 student and 5 teacher channels, '
                       'got 4 and 5'):
        vid(rand(2, 4, 2, 2), t)
    with pytest.raises(ValueError, match='built for 1 layers'):
        vid([s, s], [t, t])
    with pytest.raises(ValueError, match='one channel count per layer'):
        VIDLoss([3, 4], [5])


# ------------------------------------------------------------------ in a Distiller
STAGES = ['layer1', 'layer2', 'layer3', 'layer4']


def stage_taps(model):
    return {f'{model[0]}{i}': f'{model}.backbone.{name}' for i, name in enumerate(STAGES)}


def sgd(model):
    return build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.1,
                                                          momentum=0.9)))


def test_zoo_losses_train_in_a_distiller(teacher_ckpt):
    s_stages = [f's{i}' for i in range(4)]
    t_stages = [f't{i}' for i in range(4)]
    stages = dict(student=s_stages, teacher=t_stages)
    embed = dict(student='s_embed', teacher='t_embed')
    last = dict(student='s3', teacher='t3')
    teacher = tiny_classifier(width=16)  # stages of 16..128 channels, student 8..64
    d = Distiller(
        student=tiny_classifier(width=8),
        teacher=dict(model=teacher, checkpoint=teacher_ckpt(teacher)),
        taps=dict(stage_taps('student'), **stage_taps('teacher'),
                  s_embed='student.neck[0]', t_embed='teacher.neck[0]'),
        losses=dict(
            at=dict(type='mmkd.ATLoss', loss_weight=1000., inputs=stages),
            nst=dict(type='mmkd.NSTLoss', loss_weight=50., inputs=stages),
            sp=dict(type='mmkd.SPLoss', loss_weight=3000., inputs=last),
            pkt=dict(type='mmkd.PKTLoss', loss_weight=30000., inputs=embed),
            rkd=dict(type='mmkd.RKDLoss', inputs=embed),
            cc=dict(type='mmkd.CCLoss', student_channels=64, teacher_channels=128,
                    loss_weight=0.02, inputs=embed),
            vid=dict(type='mmkd.VIDLoss', student_channels=[8, 16, 32, 64],
                     teacher_channels=[16, 32, 64, 128], inputs=stages)))
    optim = sgd(d)
    in_optim = {id(p) for g in optim.optimizer.param_groups for p in g['params']}
    assert {id(p) for p in d.losses.parameters()} <= in_optim
    assert {'losses.vid.log_scales.3', 'losses.cc.embed_t.weight'} <= set(d.state_dict())
    before = copy.deepcopy(d.losses.state_dict())
    log = d.train_step(batch(), optim)
    for name in ('at', 'nst', 'sp', 'pkt', 'rkd', 'cc', 'vid'):
        assert torch.isfinite(log[f'loss_{name}']), name
    assert torch.isfinite(log['loss'])
    after = d.losses.state_dict()
    for key in ('vid.log_scales.0', 'vid.regressors.2.0.weight', 'cc.embed_s.weight',
                'cc.embed_t.weight'):
        assert not torch.equal(before[key], after[key]), f'{key} was not trained'


def test_fsp_trains_in_a_distiller_between_equal_width_models(teacher_ckpt):
    teacher = tiny_classifier(width=8, depth=34)  # deeper, same stage widths
    taps = dict(s_stem='student.backbone.maxpool', t_stem='teacher.backbone.maxpool')
    taps.update(stage_taps('student'), **stage_taps('teacher'))
    d = Distiller(
        student=tiny_classifier(width=8),
        teacher=dict(model=teacher, checkpoint=teacher_ckpt(teacher)),
        taps=taps,
        losses=dict(fsp=dict(type='mmkd.FSPLoss',
                             inputs=dict(student=['s_stem', 's0', 's1', 's2', 's3'],
                                         teacher=['t_stem', 't0', 't1', 't2', 't3']))))
    log = d.train_step(batch(), sgd(d))
    assert torch.isfinite(log['loss_fsp']) and log['loss_fsp'] > 0
