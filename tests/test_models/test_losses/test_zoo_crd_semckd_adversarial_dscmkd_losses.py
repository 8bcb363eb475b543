"""CRD, SemCKD, ALKD/AFKD and DS-CMKD (SEM + DCM): each against its formula, written
here independently (element by element where short), plus the reference behaviour."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from conftest import batch, tiny_classifier
from mmengine.optim import build_optim_wrapper

from mmkd.models.distillers import Distiller
from mmkd.models.losses import AFKDLoss, ALKDLoss, CRDLoss, DCMLoss, SemCKDLoss, SEMLoss


def close(a, b, tol=1e-5):
    return torch.allclose(torch.as_tensor(a, dtype=torch.float64),
                          torch.as_tensor(b, dtype=torch.float64), rtol=tol, atol=tol)


# --------------------------------------------------------------------------- CRD
def crd_reference(f_s, f_t, idx, cidx, w_s, b_s, w_t, b_t, mem_s, mem_t, z=None,
                  n_data=20, t=0.5, m=0.5, eps=1e-7):
    """RepDistiller's CRDLoss + ContrastMemory, one sample and one score at a time."""
    def embed(f, w, b):
        v = w @ f + b
        return v / math.sqrt(sum(x * x for x in v.tolist()))

    n, k1 = cidx.shape
    v_s = [embed(f_s[i], w_s, b_s) for i in range(n)]
    v_t = [embed(f_t[i], w_t, b_t) for i in range(n)]
    # the student anchor scores against the teacher memory, and vice versa
    out_s = [[math.exp(float(mem_t[cidx[i, j]] @ v_s[i]) / t) for j in range(k1)]
             for i in range(n)]
    out_t = [[math.exp(float(mem_s[cidx[i, j]] @ v_t[i]) / t) for j in range(k1)]
             for i in range(n)]
    if z is None:
        z = tuple(sum(map(sum, out)) / (n * k1) * n_data for out in (out_s, out_t))
    noise = (k1 - 1) / n_data

    def nce(out, zz):
        total = 0.
        for i in range(n):
            p = [x / zz for x in out[i]]
            total += math.log(p[0] / (p[0] + noise + eps))
            total += sum(math.log(noise / (x + noise + eps)) for x in p[1:])
        return -total / n

    loss = nce(out_s, z[0]) + nce(out_t, z[1])
    new_s, new_t = mem_s.clone(), mem_t.clone()
    for i in range(n):
        for mem, new, v in ((mem_s, new_s, v_s[i]), (mem_t, new_t, v_t[i])):
            row = mem[idx[i]] * m + v * (1 - m)
            new[idx[i]] = row / row.norm()
    return loss, z, new_s, new_t


def make_crd(**kwargs):
    torch.manual_seed(0)
    kwargs = dict(dict(student_channels=6, teacher_channels=5, n_data=20, feat_dim=4,
                       nce_k=7, nce_t=0.5, nce_m=0.5), **kwargs)
    return CRDLoss(**kwargs)


def crd_inputs(n=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    f_s, f_t = torch.randn(n, 6, generator=g), torch.randn(n, 5, generator=g)
    idx = torch.tensor([4, 11, 0][:n])
    neg = torch.randint(0, 20, (n, 7), generator=g)
    return f_s, f_t, idx, torch.cat([idx[:, None], neg], 1)


def test_crd_matches_repdistiller_formula_and_update():
    loss_fn = make_crd().train()
    f_s, f_t, idx, cidx = crd_inputs()
    params = [p.detach().double() for p in (
        loss_fn.embed_student.weight, loss_fn.embed_student.bias,
        loss_fn.embed_teacher.weight, loss_fn.embed_teacher.bias)]
    mem_s, mem_t = (loss_fn.memory_student.double().clone(),
                    loss_fn.memory_teacher.double().clone())
    ref, z, new_s, new_t = crd_reference(f_s.double(), f_t.double(), idx, cidx, *params,
                                         mem_s, mem_t)
    out = loss_fn.contrast(f_s, f_t, idx, cidx)
    assert close(out, ref)
    assert close(loss_fn.z_student, z[0]) and close(loss_fn.z_teacher, z[1])
    assert close(loss_fn.memory_student, new_s) and close(loss_fn.memory_teacher, new_t)
    # second step: Z stays fixed, the scores read the updated banks
    f_s2, f_t2, _, cidx2 = crd_inputs(seed=2)
    ref2, _, _, _ = crd_reference(f_s2.double(), f_t2.double(), idx, cidx2, *params,
                                  new_s, new_t, z=z)
    assert close(loss_fn.contrast(f_s2, f_t2, idx, cidx2), ref2)
    assert close(loss_fn.z_student, z[0])


def test_crd_memory_momentum_eval_and_state_dict_round_trip():
    from mmpretrain.structures import DataSample
    loss_fn = make_crd(loss_weight=0.8)
    f_s, f_t, idx, _ = crd_inputs()
    samples = [DataSample(metainfo=dict(sample_idx=int(i))) for i in idx]
    before = loss_fn.memory_student.clone()
    loss_fn.eval()
    loss_fn(f_s, f_t, samples)
    assert torch.equal(loss_fn.memory_student, before)  # no update outside training
    loss_fn.train()
    loss_fn(f_s, f_t, samples)
    v = F.normalize(loss_fn.embed_student(f_s), dim=1).detach()
    expect = F.normalize(0.5 * before[idx] + 0.5 * v, dim=1)
    assert torch.allclose(loss_fn.memory_student[idx], expect, atol=1e-6)
    others = torch.ones(20, dtype=torch.bool)
    others[idx] = False
    assert torch.equal(loss_fn.memory_student[others], before[others])

    state = copy.deepcopy(loss_fn.state_dict())
    assert {'memory_student', 'memory_teacher', 'z_student', 'z_teacher'} <= set(state)
    torch.manual_seed(123)
    resumed = CRDLoss(6, 5, n_data=20, feat_dim=4, nce_k=7, nce_t=0.5, loss_weight=0.8)
    assert not torch.equal(resumed.memory_student, loss_fn.memory_student)
    resumed.load_state_dict(state)
    for k, val in loss_fn.state_dict().items():
        assert torch.equal(resumed.state_dict()[k], val), k
    cidx = torch.cat([idx[:, None], torch.randint(0, 20, (3, 7))], 1)
    with_c = [DataSample(metainfo=dict(sample_idx=int(i), contrast_idx=c.tolist()))
              for i, c in zip(idx, cidx)]
    loss_fn.eval(), resumed.eval()
    assert torch.equal(loss_fn(f_s, f_t, with_c), resumed(f_s, f_t, with_c))
    assert close(loss_fn(f_s, f_t, with_c), 0.8 * loss_fn.contrast(f_s, f_t, idx, cidx))


def test_crd_negatives_uniform_over_the_dataset():
    torch.manual_seed(0)
    idx = torch.tensor([0, 3, 4])
    drawn = make_crd(n_data=5, nce_k=4000).draw(idx)
    assert drawn.shape == (3, 4001) and torch.equal(drawn[:, 0], idx)
    for row, pos in zip(drawn[:, 1:], idx):
        counts = torch.bincount(row, minlength=5)
        assert counts[pos] == 0  # the positive is excluded ...
        others = counts[torch.arange(5) != pos].double()
        assert (others - 1000).abs().max() < 150  # ... and the rest uniform
    loose = make_crd(n_data=5, nce_k=4000, exclude_positive=False).draw(idx)
    assert all((row == pos).any() for row, pos in zip(loose[:, 1:], idx))


def test_crd_needs_sample_indices():
    from mmpretrain.structures import DataSample
    loss_fn = make_crd()
    f_s, f_t, _, _ = crd_inputs()
    with pytest.raises(KeyError, match='sample_idx'):
        loss_fn(f_s, f_t, [DataSample() for _ in range(3)])
    with pytest.raises(ValueError, match='n_data=20'):
        loss_fn(f_s, f_t, [DataSample(metainfo=dict(sample_idx=i)) for i in (0, 1, 25)])
    with pytest.raises(ValueError, match='data_samples'):
        loss_fn(f_s, f_t, None)


# ------------------------------------------------------------------------ SemCKD
def test_semckd_matches_formula():
    torch.manual_seed(0)
    loss_fn = SemCKDLoss([3, 5], [4, 6, 2], batch_size=4, soft=2.0, factor=2,
                         loss_weight=3.0)
    student = [torch.randn(4, 3, 4, 4), torch.randn(4, 5, 2, 2)]
    teacher = [torch.randn(4, 4, 4, 4), torch.randn(4, 6, 2, 2), torch.randn(4, 2, 1, 1)]
    loss = loss_fn(student, teacher)

    def embed(mlp, feat):
        flat = feat.reshape(4, -1)
        gram = flat @ flat.t()
        h = torch.relu(gram @ mlp.linear1.weight.t() + mlp.linear1.bias)
        out = h @ mlp.linear2.weight.t() + mlp.linear2.bias
        return out / out.norm(dim=1, keepdim=True)

    q = [embed(loss_fn.query[i], f) for i, f in enumerate(student)]
    k = [embed(loss_fn.key[j], f) for j, f in enumerate(teacher)]
    expect = 0.
    for n in range(4):
        for i in range(2):
            energy = torch.stack([q[i][n] @ k[j][n] / 2.0 for j in range(3)])
            att = torch.softmax(energy, 0)
            for j in range(3):
                hs, ht = student[i].shape[2], teacher[j].shape[2]
                s_in = F.avg_pool2d(student[i], hs // ht) if hs > ht else student[i]
                t_in = teacher[j] if hs > ht else F.avg_pool2d(teacher[j], ht // hs)
                err = ((loss_fn.proj[i][j](s_in)[n] - t_in[n]) ** 2).mean()
                expect = expect + att[j] * err
    expect = 3.0 * expect / (4 * 2)
    assert close(loss, expect)
    loss.backward()
    assert loss_fn.query[0].linear1.weight.grad.abs().sum() > 0  # attention is trained
    assert loss_fn.proj[1][2][0].weight.grad.abs().sum() > 0


def test_semckd_batch_size_is_fixed():
    loss_fn = SemCKDLoss([3], [4], batch_size=4, factor=2)
    small = loss_fn([torch.randn(2, 3, 2, 2)], [torch.randn(2, 4, 2, 2)])
    assert small.item() == 0 and small.requires_grad  # skipped, like the authors
    with pytest.raises(ValueError, match='batch_size=4'):
        loss_fn([torch.randn(6, 3, 2, 2)], [torch.randn(6, 4, 2, 2)])
    with pytest.raises(ValueError, match=r'channels \[3\]'):
        loss_fn([torch.randn(4, 5, 2, 2)], [torch.randn(4, 4, 2, 2)])


# -------------------------------------------------------------------- ALKD / AFKD
@pytest.mark.parametrize('cls,shape', [(ALKDLoss, (6, 5)), (AFKDLoss, (6, 5, 4, 4))])
def test_adversarial_terms_and_who_they_train(cls, shape):
    torch.manual_seed(0)
    loss_fn = cls(5, hidden_channels=8, loss_weight=2.0, disc_loss_weight=0.5)
    d = loss_fn.discriminator
    student = torch.randn(*shape, requires_grad=True)
    teacher = torch.randn(*shape) + 1
    out = loss_fn(student, teacher)
    d_s, d_t = d(student).detach(), d(teacher).detach()
    sig = torch.sigmoid
    disc = (-torch.log(sig(d_t)) - torch.log(1 - sig(d_s))).mean()
    adv = -torch.log(sig(d_s)).mean()
    assert close(out['disc'], 0.5 * disc) and close(out['adv'], 2.0 * adv)

    out['adv'].backward(retain_graph=True)  # the student's term reaches only the student
    assert student.grad.abs().sum() > 0
    assert all(p.grad is None for p in d.parameters())
    student.grad = None
    out['disc'].backward()  # the discriminator's term reaches only the discriminator
    assert student.grad is None
    assert all(p.grad is not None for p in d.parameters())

    # one descent step on the sum: the discriminator separates better, the student
    # looks more teacher-like to the old discriminator
    opt = torch.optim.SGD([student, *d.parameters()], lr=0.05)
    opt.zero_grad()
    old = copy.deepcopy(d)
    total = sum(loss_fn(student, teacher).values())
    total.backward()
    opt.step()
    with torch.no_grad():
        assert (d(teacher) - d(student)).mean() > (old(teacher) - old(student)).mean()
        assert old(student).mean() > d_s.mean()


# ---------------------------------------------------------------------------- SEM
def sem_reference(x, y, lambd):
    n, d = x.shape

    def std(a):
        cols = []
        for j in range(d):
            c = a[:, j]
            mean = sum(c.tolist()) / n
            var = sum((v - mean) ** 2 for v in c.tolist()) / n
            cols.append([(v - mean) / math.sqrt(var + 1e-5) for v in c.tolist()])
        return cols  # cols[j][n]

    zx, zy = std(x), std(y)
    c = [[sum(zx[i][k] * zy[j][k] for k in range(n)) / n for j in range(d)]
         for i in range(d)]
    on = sum((1 - c[i][i]) ** 2 for i in range(d))
    off = sum(c[i][j] ** 2 for i in range(d) for j in range(d) if i != j)
    return on, lambd * off


def test_sem_matches_formula_without_projector():
    torch.manual_seed(0)
    s, t = torch.randn(6, 4), torch.randn(6, 2, 2)  # t is flattened to 4 channels
    out = SEMLoss(projector_dims=None, lambd=0.01, loss_weight=2.0)(s, t)
    on, off = sem_reference(s.double(), t.flatten(1).double(), 0.01)
    assert close(out['on_diag'], 2.0 * on) and close(out['off_diag'], 2.0 * off)


def test_sem_with_projectors_is_barlow_twins():
    """Barlow Twins' own computation (main.py): BatchNorm1d(affine=False) in training
    mode, c = bn(z1).T @ bn(z2) / N, on- and off-diagonal sums."""
    torch.manual_seed(0)
    loss_fn = SEMLoss(5, 3, projector_dims=(8, 6)).train()
    s, t = torch.randn(7, 5), torch.randn(7, 3)
    out = loss_fn(s, t)
    assert len(loss_fn.project_student) == 4  # Linear, BN, ReLU, Linear
    assert loss_fn.project_student[0].bias is None
    bn = torch.nn.BatchNorm1d(6, affine=False).train()
    c = bn(loss_fn.project_student(s)).T @ bn(loss_fn.project_teacher(t)) / 7
    on = (torch.diagonal(c) - 1).pow(2).sum()
    off = (c.pow(2).sum() - torch.diagonal(c).pow(2).sum())
    assert close(out['on_diag'], on) and close(out['off_diag'], 0.0051 * off, 1e-4)


def test_sem_zero_for_identical_decorrelated_projections():
    h = torch.tensor([[1., 1., 1.], [-1., 1., -1.], [1., -1., -1.], [-1., -1., 1.]])
    # zero-mean, unit-variance, orthogonal columns: standardised, C = I
    out = SEMLoss(projector_dims=None)(h * 3 + 2, h * 3 + 2)
    assert out['on_diag'] < 1e-8 and out['off_diag'] < 1e-12
    correlated = torch.cat([h[:, :2], h[:, :1]], 1)  # channel 2 repeats channel 0
    assert SEMLoss(projector_dims=None)(correlated, correlated)['off_diag'] > 0
    assert SEMLoss(projector_dims=None)(h, -h)['on_diag'] > 10  # anti-aligned channels


def test_sem_ablation_switches():
    torch.manual_seed(0)
    s, t = torch.randn(5, 3), torch.randn(5, 3)
    full = SEMLoss(projector_dims=None)(s, t)
    assert SEMLoss(projector_dims=None, on_diagonal=False)(s, t) == {
        'off_diag': full['off_diag']}
    assert SEMLoss(projector_dims=None, off_diagonal=False)(s, t) == {
        'on_diag': full['on_diag']}
    with pytest.raises(ValueError, match='remove the loss'):
        SEMLoss(projector_dims=None, on_diagonal=False, off_diagonal=False)


def test_sem_teacher_projector_is_frozen_by_default_as_eq12():
    """Eq. 12 optimises the student's projector only; 'trainable' trains both."""
    torch.manual_seed(0)
    s, t = torch.randn(6, 5, requires_grad=True), torch.randn(6, 3)
    frozen = SEMLoss(5, 3, projector_dims=(8, 6))
    assert frozen.teacher_projector == 'frozen'
    assert not any(p.requires_grad for p in frozen.project_teacher.parameters())
    assert all(p.requires_grad for p in frozen.project_student.parameters())
    sum(frozen(s, t).values()).backward()
    assert all(p.grad is None for p in frozen.project_teacher.parameters())
    assert s.grad is not None and s.grad.abs().sum() > 0
    trainable = SEMLoss(5, 3, projector_dims=(8, 6), teacher_projector='trainable')
    sum(trainable(s, t).values()).backward()
    assert all(p.grad is not None for p in trainable.project_teacher.parameters())
    with pytest.raises(ValueError, match='teacher_projector'):
        SEMLoss(5, 3, teacher_projector='shared')


# ---------------------------------------------------------------------------- DCM
def l_dm(u, v, sigma_sq):
    total = 0.
    for a in u:
        for b in v:
            total += math.exp(-sum((x - y) ** 2 for x, y in zip(a.tolist(), b.tolist()))
                              / sigma_sq)
    return math.log(total / (len(u) * len(v)))


def test_dcm_matches_formula():
    torch.manual_seed(0)
    s, t = torch.randn(5, 2, 3), torch.randn(5, 2, 3)
    out = DCMLoss(sigma_sq=0.7, loss_weight=1.5)(s, t)
    sn, tn = F.normalize(s.flatten(1), dim=1), F.normalize(t.flatten(1), dim=1)
    assert close(out['self'], 1.5 * l_dm(sn, sn, 0.7))
    assert close(out['cross'], -1.5 * l_dm(sn, tn, 0.7))
    raw = DCMLoss(sigma_sq=20., normalize=False)(s, t)
    assert close(raw['self'], l_dm(s.flatten(1), s.flatten(1), 20.))


def test_dcm_terms_move_as_the_paper_states():
    torch.manual_seed(0)
    dcm = DCMLoss()
    teacher = torch.randn(8, 16)
    # self term: lower for features spread out than for features bunched together
    bunched = torch.randn(1, 16) + 0.05 * torch.randn(8, 16)
    spread = torch.eye(16)[:8]
    assert dcm(spread, teacher)['self'] < dcm(bunched, teacher)['self']
    # and a descent step on it moves the samples apart
    x = bunched.clone().requires_grad_(True)
    dcm(x, teacher)['self'].backward()
    step = F.normalize(x.detach() - 0.5 * x.grad, dim=1)
    assert torch.pdist(step).mean() > torch.pdist(F.normalize(bunched, dim=1)).mean()

    # cross term: falls as the student approaches the teacher
    noise = torch.randn(8, 16)
    cross = [dcm(teacher + a * noise, teacher)['cross'].item() for a in (3., 1., .3, 0.)]
    assert all(a > b for a, b in zip(cross, cross[1:]))
    # and a descent step on it brings the student closer to the teacher
    x = (teacher + noise).requires_grad_(True)
    dcm(x, teacher)['cross'].backward()
    before = (F.normalize(x.detach(), dim=1) - F.normalize(teacher, dim=1)).norm()
    after = (F.normalize(x.detach() - 2. * x.grad, dim=1)
             - F.normalize(teacher, dim=1)).norm()
    assert after < before


def test_dcm_cross_sign_plus_is_eq10_as_printed():
    torch.manual_seed(0)
    s, t = torch.randn(5, 2, 3), torch.randn(5, 2, 3)
    minus, plus = DCMLoss(sigma_sq=0.7)(s, t), DCMLoss(sigma_sq=0.7, cross_sign='plus')(s, t)
    sn, tn = F.normalize(s.flatten(1), dim=1), F.normalize(t.flatten(1), dim=1)
    assert close(plus['cross'], l_dm(sn, tn, 0.7))
    assert close(plus['cross'], -minus['cross']) and close(plus['self'], minus['self'])
    # as printed, a descent step pushes the student away from the teacher
    x = (t.flatten(1) + 0.3 * torch.randn(5, 6)).requires_grad_(True)
    DCMLoss(cross_sign='plus')(x, t)['cross'].backward()
    before = (F.normalize(x.detach(), dim=1) - tn).norm()
    after = (F.normalize(x.detach() - 2. * x.grad, dim=1) - tn).norm()
    assert after > before
    with pytest.raises(ValueError, match='cross_sign'):
        DCMLoss(cross_sign='+')


def test_dcm_ablation_switches():
    torch.manual_seed(0)
    s, t = torch.randn(4, 3), torch.randn(4, 3)
    full = DCMLoss()(s, t)
    assert DCMLoss(cross_term=False)(s, t) == {'self': full['self']}
    assert DCMLoss(self_term=False)(s, t) == {'cross': full['cross']}


# ------------------------------------------------------------------ distiller runs
def train_batch(n=4, seed=0):
    data = batch(n=n, seed=seed)
    for i, s in enumerate(data['data_samples']):
        s.set_metainfo(dict(sample_idx=(3 * i + seed) % 16))
    return data


def distiller(teacher_ckpt, taps, losses, connectors=None, **kwargs):
    teacher = tiny_classifier(width=16)
    return Distiller(student=tiny_classifier(width=8),
                     teacher=dict(model=teacher, checkpoint=teacher_ckpt(teacher)),
                     taps=taps, connectors=connectors, losses=losses, **kwargs)


def sgd(model):
    return build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01,
                                                          momentum=0.9)))


PENULTIMATE = dict(s_emb=dict(model='student', path='head.fc', io='input'),
                   t_emb=dict(model='teacher', path='head.fc', io='input'))


def test_crd_train_step_through_the_distiller(teacher_ckpt):
    d = distiller(teacher_ckpt, PENULTIMATE, dict(crd=dict(
        type='mmkd.CRDLoss', student_channels=64, teacher_channels=128, n_data=16,
        nce_k=8, loss_weight=0.8, inputs=dict(student='s_emb', teacher='t_emb'))))
    optim = sgd(d)
    before = d.losses['crd'].memory_student.clone()
    for step in range(2):
        log = d.train_step(train_batch(seed=step), optim)
        assert torch.isfinite(log['loss_crd']) and torch.isfinite(log['loss'])
    seen = sorted({(3 * i + s) % 16 for i in range(4) for s in range(2)})
    changed = (d.losses['crd'].memory_student != before).any(1).nonzero().flatten()
    assert changed.tolist() == seen
    assert 'losses.crd.memory_student' in d.state_dict()


def test_ds_cmkd_train_step_and_ablation_overrides(teacher_ckpt):
    taps = dict(PENULTIMATE, s_mid='student.backbone.layer3',
                t_mid='teacher.backbone.layer3')
    connectors = dict(s_mid_adapted=dict(type='mmkd.ConvConnector', source='s_mid',
                                         like='t_mid', in_channels=32, out_channels=64))
    losses = dict(
        sem=dict(type='mmkd.SEMLoss', student_channels=64, teacher_channels=128,
                 projector_dims=(32, 32), loss_weight=0.5,
                 inputs=dict(student='s_emb', teacher='t_emb')),
        dcm=dict(type='mmkd.DCMLoss', loss_weight=0.5,
                 inputs=dict(student='s_mid_adapted', teacher='t_mid')))
    d = distiller(teacher_ckpt, taps, losses, connectors)
    log = d.train_step(train_batch(), sgd(d))
    terms = {'loss_sem.on_diag', 'loss_sem.off_diag', 'loss_dcm.self', 'loss_dcm.cross'}
    assert terms <= set(log) and 'student.loss' in log
    assert all(torch.isfinite(log[k]) for k in terms | {'loss'})

    # Table 6 as config overrides: each switch removes exactly its term
    ablated = copy.deepcopy(losses)
    ablated['sem']['off_diagonal'] = False
    ablated['dcm']['cross_term'] = False
    d = distiller(teacher_ckpt, taps, ablated, connectors, student_loss_weight=0.)
    log = d.train_step(train_batch(), sgd(d))
    assert {'loss_sem.on_diag', 'loss_dcm.self'} <= set(log)
    assert not {'loss_sem.off_diag', 'loss_dcm.cross'} & set(log)
    assert log['student.loss'] == 0


def test_semckd_and_adversarial_losses_train_through_the_distiller(teacher_ckpt):
    taps = {f'{m[0]}{i}': f'{m}.backbone.layer{i}' for m in ('student', 'teacher')
            for i in (1, 2, 3)}
    taps.update(s_logits='student.head.fc', t_logits='teacher.head.fc')
    connectors = dict(s3_adapted=dict(type='mmkd.ConvConnector', source='s3', like='t3',
                                      in_channels=32, out_channels=64))
    losses = dict(
        semckd=dict(type='mmkd.SemCKDLoss', student_channels=[8, 16, 32],
                    teacher_channels=[16, 32, 64], batch_size=4,
                    inputs=dict(student=['s1', 's2', 's3'], teacher=['t1', 't2', 't3'])),
        alkd=dict(type='mmkd.ALKDLoss', num_classes=10, hidden_channels=16,
                  inputs=dict(student='s_logits', teacher='t_logits')),
        afkd=dict(type='mmkd.AFKDLoss', in_channels=64, hidden_channels=16,
                  inputs=dict(student='s3_adapted', teacher='t3')))
    d = distiller(teacher_ckpt, taps, losses, connectors)
    optim = sgd(d)
    disc = d.losses['alkd'].discriminator.fc.weight.clone()
    log = d.train_step(train_batch(), optim)
    keys = {'loss_semckd', 'loss_alkd.adv', 'loss_alkd.disc', 'loss_afkd.adv',
            'loss_afkd.disc'}
    assert keys <= set(log) and all(torch.isfinite(log[k]) for k in keys)
    assert not torch.equal(d.losses['alkd'].discriminator.fc.weight, disc)
