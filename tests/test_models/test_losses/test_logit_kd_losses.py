"""Logit distillation losses of issue #14: DKD, DIST and logit standardisation (KD/DKD).

Each loss is checked against a reference written in plain Python floats from the
published formula with the authors' reductions (the docstring of each reference names
the authors' file and function it mirrors), on fixed seeded tensors, plus pinned
golden values; then the reference behaviour (identities of the paper, the warm-up,
invariances) and the bad-input errors through a Distiller.
"""
import math
import os.path as osp
import statistics

import pytest
import torch
from conftest import REPO, batch, tiny_classifier
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmpretrain.structures import DataSample

from mmkd.models.distillers import Distiller
from mmkd.models.distillers.schedule import LossSchedule
from mmkd.models.losses import DISTLoss, DKDLoss, KDLoss
from mmkd.models.losses.kd_loss import standardize_logits

ZOO = osp.join(REPO, 'configs', 'ds_cmkd', 'zoo')
PAIR = 'resnet32x4_resnet8x4_cifar10-noisy.py'


def logits(n=4, c=6, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, c, generator=g, dtype=torch.float64) * scale
    t = torch.randn(n, c, generator=g, dtype=torch.float64) * scale
    y = torch.randint(0, c, (n, ), generator=g)
    return s, t, y


def samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


# ------------------------------------------------------------------ plain references
def softmax(v):
    m = max(v)
    e = [math.exp(x - m) for x in v]
    z = sum(e)
    return [x / z for x in e]


def kl(p, q):
    """sum p (log p - log q) with 0 log 0 = 0 (torch's kl_div)."""
    return sum(a * (math.log(a) - math.log(b)) for a, b in zip(p, q) if a > 0)


def zscore(v):
    """The logit-standardisation authors' ``normalize`` (sunshangquan/logit-standardization-
    KD, ``mdistiller/distillers/KD.py``): (z - mean) / (1e-7 + std), torch.std being the
    sample standard deviation (divisor C - 1), as statistics.stdev."""
    mu, sd = statistics.fmean(v), statistics.stdev(v)
    return [(x - mu) / (1e-7 + sd) for x in v]


def dkd_reference(s, t, y, alpha, beta, T, stand=False):
    """mdistiller ``dkd_loss`` (megvii-research/mdistiller ``mdistiller/distillers/
    DKD.py``; with ``logit_stand`` as in sunshangquan/logit-standardization-KD's copy),
    step by step: softmax(z/T) of all classes, ``cat_mask`` into (target, sum of the
    others), log, ``kl_div(size_average=False) * T**2 / N``; NCKD from
    softmax(z/T - 1000 * gt_mask) over all classes, the same reduction. Returns
    (alpha * TCKD, beta * NCKD)."""
    n = len(y)
    tckd = nckd = 0.
    for zs, zt, label in zip(s.tolist(), t.tolist(), y.tolist()):
        if stand:
            zs, zt = zscore(zs), zscore(zt)
        ps, pt = softmax([x / T for x in zs]), softmax([x / T for x in zt])
        bs = [ps[label], sum(p for j, p in enumerate(ps) if j != label)]
        bt = [pt[label], sum(p for j, p in enumerate(pt) if j != label)]
        tckd += kl(bt, bs)
        qs = softmax([x / T - (1000. if j == label else 0.) for j, x in enumerate(zs)])
        qt = softmax([x / T - (1000. if j == label else 0.) for j, x in enumerate(zt)])
        nckd += kl(qt, qs)
    return alpha * tckd * T * T / n, beta * nckd * T * T / n


def pearson(a, b, eps=1e-8):
    """hunto's ``pearson_correlation``: cosine similarity of the centred vectors, eps
    added to the product of the norms."""
    ma, mb = statistics.fmean(a), statistics.fmean(b)
    da, db = [x - ma for x in a], [x - mb for x in b]
    num = sum(x * y for x, y in zip(da, db))
    return num / (math.sqrt(sum(x * x for x in da)) * math.sqrt(sum(x * x for x in db))
                  + eps)


def dist_reference(s, t, beta, gamma, tau):
    """hunto/image_classification_sota ``lib/models/losses/dist_kd.py`` ``DIST`` (the
    version with tau): y = softmax(z / tau); inter = tau^2 (1 - mean over samples of
    pearson across classes), intra = tau^2 (1 - mean over classes of pearson across the
    batch). Returns (beta * inter, gamma * intra)."""
    ys = [softmax([x / tau for x in row]) for row in s.tolist()]
    yt = [softmax([x / tau for x in row]) for row in t.tolist()]
    n, c = len(ys), len(ys[0])
    inter = 1 - sum(pearson(ys[i], yt[i]) for i in range(n)) / n
    intra = 1 - sum(pearson([ys[i][j] for i in range(n)], [yt[i][j] for i in range(n)])
                    for j in range(c)) / c
    return beta * inter * tau**2, gamma * intra * tau**2


def kd_ls_reference(s, t, T):
    """The logit-standardisation authors' ``kd_loss(..., logit_stand=True)``
    (sunshangquan/logit-standardization-KD ``mdistiller/distillers/KD.py``):
    kl_div(log_softmax(Z(s)/T), softmax(Z(t)/T), 'none').sum(1).mean() * T**2."""
    total = 0.
    for zs, zt in zip(s.tolist(), t.tolist()):
        total += kl(softmax([x / T for x in zscore(zt)]), softmax([x / T for x in zscore(zs)]))
    return total / len(s) * T * T


# ------------------------------------------------------------------ DKD
@pytest.mark.parametrize('alpha,beta,T', [(1., 8., 4.), (1., 2., 4.), (0.5, 1., 1.)])
def test_dkd_equals_mdistiller_dkd_loss(alpha, beta, T):
    """DKDLoss == mdistiller ``dkd_loss`` (``mdistiller/distillers/DKD.py``) on fixed
    tensors, both terms, with its reduction (sum / batch x T^2)."""
    s, t, y = logits(n=5, c=7, seed=1)
    out = DKDLoss(alpha=alpha, beta=beta, temperature=T)(s, t, samples(y))
    ref_t, ref_n = dkd_reference(s, t, y, alpha, beta, T)
    assert float(out['tckd']) == pytest.approx(ref_t, rel=1e-6, abs=1e-9)
    assert float(out['nckd']) == pytest.approx(ref_n, rel=1e-6, abs=1e-9)


def test_dkd_golden_values_and_loss_weight():
    """Pinned values (seed 0, 4 x 6 logits, alpha 1, beta 8, T 4), equal to the
    reference above; loss_weight scales both terms."""
    s, t, y = logits()
    ref = dkd_reference(s, t, y, 1., 8., 4.)
    out = DKDLoss()(s, t, samples(y))
    assert (float(out['tckd']), float(out['nckd'])) == pytest.approx(ref, rel=1e-6)
    assert (float(out['tckd']), float(out['nckd'])) == pytest.approx(GOLDEN['dkd'],
                                                                      rel=1e-5)
    half = DKDLoss(loss_weight=0.5)(s, t, samples(y))
    assert float(half['nckd']) == pytest.approx(0.5 * float(out['nckd']), rel=1e-9)


def test_dkd_reformulates_kd_as_in_the_paper():
    """The paper's Eq. (KD = TCKD + (1 - p^t_target) NCKD) per sample: with alpha = 1
    and beta = 1 - p^t_target, DKD equals Hinton KD at the same temperature."""
    s, t, y = logits(n=1, c=9, seed=3)
    T = 2.0
    p_target = torch.softmax(t / T, dim=1)[0, y[0]].item()
    out = DKDLoss(alpha=1., beta=1 - p_target, temperature=T)(s, t, samples(y))
    kd = KDLoss(temperature=T)(s, t)
    assert float(out['tckd'] + out['nckd']) == pytest.approx(float(kd), rel=1e-9)


def test_dkd_is_zero_for_equal_logits_and_float32_is_accepted():
    s, _, y = logits()
    out = DKDLoss()(s, s.clone(), samples(y))
    assert float(out['tckd']) == pytest.approx(0, abs=1e-12)
    assert float(out['nckd']) == pytest.approx(0, abs=1e-12)
    s, t, y = logits()
    out32 = DKDLoss()(s.float(), t.float(), samples(y))
    ref = dkd_reference(s, t, y, 1., 8., 4.)
    assert float(out32['nckd']) == pytest.approx(ref[1], rel=1e-5)


def test_dkd_warmup_is_mdistillers_linear_ramp():
    """mdistiller multiplies the DKD (and ReviewKD) term by min(epoch / warmup, 1) with
    epochs counted from 1 (``trainer.py``: ``epoch = 1``). The distiller's
    ``schedule=dict(warmup=20, by_epoch=True)`` at mmengine's 0-based epoch e gives the
    same factor for e + 1."""
    sched = dict(warmup=20, by_epoch=True)
    for e in range(40):
        assert LossSchedule(sched).factor(it=1000 * e, epoch=e) == pytest.approx(
            min((e + 1) / 20, 1.0))


def test_dkd_warmup_scales_the_logged_terms_in_a_distiller(teacher_ckpt):
    d = logit_distiller(teacher_ckpt, dict(dkd=dict(
        type='mmkd.DKDLoss', inputs=LOGITS, schedule=dict(warmup=20, by_epoch=True))))
    data = d.data_preprocessor(batch(), True)
    hub = MessageHub.get_current_instance()
    values = {}
    for epoch in (4, 19, 30):
        hub.update_info('epoch', epoch)
        with torch.no_grad():
            values[epoch] = d.loss(data['inputs'], data['data_samples'])
    hub.update_info('epoch', 0)
    for term in ('loss_dkd.tckd', 'loss_dkd.nckd'):
        full = float(values[19][term])
        assert full > 0
        assert float(values[4][term]) == pytest.approx(5 / 20 * full, rel=1e-5)
        assert float(values[30][term]) == pytest.approx(full, rel=1e-5)


def test_dkd_without_labels_says_so():
    s, t, y = logits()
    with pytest.raises(ValueError, match='DKDLoss needs the ground-truth labels'):
        DKDLoss()(s, t)
    with pytest.raises(ValueError, match='one ground-truth class per sample; sample 0'):
        DKDLoss()(s, t, [DataSample() for _ in y])
    with pytest.raises(ValueError, match=r'labels must lie in \[0, 6\)'):
        DKDLoss()(s, t, samples([0, 1, 6, 2]))
    with pytest.raises(ValueError, match='4 data_samples for 3 logits rows'):
        DKDLoss()(s[:3], t[:3], samples(y))


def test_dkd_on_unlabelled_data_in_a_distiller_names_the_loss_and_its_inputs(
        teacher_ckpt):
    d = logit_distiller(teacher_ckpt, dict(dkd=dict(type='mmkd.DKDLoss', inputs=LOGITS)),
                        student_losses='none')
    data = batch()
    data['data_samples'] = [DataSample() for _ in data['data_samples']]  # no labels
    with pytest.raises(ValueError, match=r"loss 'dkd' \(DKDLoss\) reading .*'s_logits'.*"
                       r"'t_logits'.*needs one ground-truth class per sample"):
        d.train_step(data, sgd(d))


# ------------------------------------------------------------------ DIST
@pytest.mark.parametrize('beta,gamma,tau', [(1., 1., 1.), (2., 2., 4.), (1., 0.5, 2.)])
def test_dist_equals_the_authors_dist(beta, gamma, tau):
    """DISTLoss == hunto's ``DIST`` (image_classification_sota
    ``lib/models/losses/dist_kd.py``, with tau and tau^2) on fixed tensors."""
    s, t, _ = logits(n=6, c=5, seed=2)
    out = DISTLoss(beta=beta, gamma=gamma, tau=tau)(s, t)
    ref = dist_reference(s, t, beta, gamma, tau)
    assert (float(out['inter']), float(out['intra'])) == pytest.approx(ref, rel=1e-6)


def test_dist_golden_values_and_spatial_logits():
    s, t, _ = logits()
    out = DISTLoss()(s, t)
    assert (float(out['inter']), float(out['intra'])) == pytest.approx(GOLDEN['dist'],
                                                                        rel=1e-5)
    # (N, C, H, W): N*H*W rows of C classes (hunto/DIST_KD segmentation/losses/dist_kd.py)
    g = torch.Generator().manual_seed(5)
    s4 = torch.randn(2, 4, 3, 2, generator=g, dtype=torch.float64)
    t4 = torch.randn(2, 4, 3, 2, generator=g, dtype=torch.float64)
    out4 = DISTLoss(tau=2.)(s4, t4)
    rows = lambda x: x.permute(0, 2, 3, 1).reshape(-1, 4)  # noqa: E731
    ref4 = dist_reference(rows(s4), rows(t4), 1., 1., 2.)
    assert (float(out4['inter']), float(out4['intra'])) == pytest.approx(ref4, rel=1e-6)


def test_dist_is_zero_for_identical_predictions_up_to_its_eps():
    """Equal logits correlate perfectly: both terms vanish up to the authors' eps = 1e-8
    in the denominator, which shows where the probabilities barely vary (a high tau);
    the reference has the same residue."""
    for scale, tau in ((3., 1.), (1., 1.), (1., 4.)):
        s, _, _ = logits(scale=scale)
        out = DISTLoss(tau=tau)(s, s.clone())
        ref = dist_reference(s, s, 1., 1., tau)
        for key, value in zip(('inter', 'intra'), ref):
            assert 0 <= float(out[key]) < 1e-3
            assert float(out[key]) == pytest.approx(value, rel=1e-5, abs=1e-12)


# ------------------------------------------------------------------ logit standardisation
def test_standardized_logits_have_zero_mean_unit_sample_std():
    s, _, _ = logits(n=3, c=8)
    z = standardize_logits(s)
    assert torch.allclose(z.mean(1), torch.zeros(3, dtype=z.dtype), atol=1e-12)
    assert torch.allclose(z.std(1), torch.ones(3, dtype=z.dtype), atol=1e-6)
    assert torch.allclose(z, torch.tensor([zscore(r) for r in s.tolist()],
                                          dtype=z.dtype), atol=1e-12)
    with pytest.raises(ValueError, match='at least 2 classes'):
        standardize_logits(torch.zeros(3, 1))


@pytest.mark.parametrize('T', [1.0, 2.0, 4.0])
def test_kd_with_logit_standardisation_equals_the_authors_kd_loss(T):
    s, t, _ = logits(n=5, c=7, seed=4)
    out = KDLoss(temperature=T, logit_standardize=True)(s, t)
    assert float(out) == pytest.approx(kd_ls_reference(s, t, T), rel=1e-6)


def test_kd_ls_golden_value_and_invariance_to_logit_scale_and_shift():
    s, t, _ = logits()
    ls = KDLoss(temperature=2.0, loss_weight=9.0, logit_standardize=True)
    assert float(ls(s, t)) == pytest.approx(GOLDEN['kd_ls'], rel=1e-5)
    # the point of the method: a student off by a scale and a shift is not penalised
    assert float(ls(3 * t + 5, t)) == pytest.approx(0, abs=1e-9)
    assert float(KDLoss(temperature=2.0)(3 * t + 5, t)) > 0.1
    # spatial logits are standardised over the class dimension
    s4, t4 = s.t().reshape(1, 6, 2, 2), t.t().reshape(1, 6, 2, 2)
    rows = lambda x: x.permute(0, 2, 3, 1).reshape(-1, 6)  # noqa: E731
    assert float(ls(s4, t4)) == pytest.approx(9 * kd_ls_reference(rows(s4), rows(t4), 2.),
                                              rel=1e-6)


@pytest.mark.parametrize('alpha,beta,T', [(9., 72., 2.), (1., 8., 4.)])
def test_dkd_with_logit_standardisation_equals_the_authors_dkd_loss(alpha, beta, T):
    """DKDLoss(logit_standardize=True) == ``dkd_loss(..., logit_stand=True)`` of
    sunshangquan/logit-standardization-KD ``mdistiller/distillers/DKD.py``."""
    s, t, y = logits(n=5, c=7, seed=6)
    out = DKDLoss(alpha=alpha, beta=beta, temperature=T, logit_standardize=True)(
        s, t, samples(y))
    ref = dkd_reference(s, t, y, alpha, beta, T, stand=True)
    assert (float(out['tckd']), float(out['nckd'])) == pytest.approx(ref, rel=1e-6)
    if (alpha, beta, T) == (9., 72., 2.):
        assert (float(out['tckd']), float(out['nckd'])) == pytest.approx(
            GOLDEN['dkd_ls'], rel=1e-5)


# ------------------------------------------------------------------ in a Distiller
LOGITS = dict(student='s_logits', teacher='t_logits')
TAPS = dict(s_logits='student.head.fc', t_logits='teacher.head.fc')


def logit_distiller(teacher_ckpt, losses, teacher_classes=10, **kwargs):
    teacher = tiny_classifier(width=16, num_classes=teacher_classes)
    return Distiller(student=tiny_classifier(width=8),
                     teacher=dict(model=teacher, checkpoint=teacher_ckpt(teacher)),
                     taps=TAPS, losses=losses, **kwargs)


def sgd(model):
    return build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.1)))


@pytest.mark.parametrize('loss', [
    dict(type='mmkd.KDLoss'), dict(type='mmkd.KDLoss', logit_standardize=True),
    dict(type='mmkd.DKDLoss'), dict(type='mmkd.DKDLoss', logit_standardize=True),
    dict(type='mmkd.DISTLoss')], ids=lambda c: c['type'][5:] + (
        '-ls' if c.get('logit_standardize') else ''))
def test_class_count_mismatch_names_both_taps_and_the_connector(teacher_ckpt, loss):
    d = logit_distiller(teacher_ckpt, dict(logit=dict(loss, inputs=LOGITS)),
                        teacher_classes=7)
    name = loss['type'][5:]
    with pytest.raises(ValueError, match=rf"loss 'logit' \({name}\) compares 's_logits' "
                       r"with shape \(4, 10\) and 't_logits' with shape \(4, 7\); they "
                       r"must match\. Add a connector .*mmkd\.LinearConnector.*"
                       r"in_features=10, out_features=7"):
        d.train_step(batch(), sgd(d))


def test_logit_losses_train_in_a_distiller(teacher_ckpt):
    d = logit_distiller(teacher_ckpt, dict(
        dkd=dict(type='mmkd.DKDLoss', inputs=LOGITS),
        dkd_ls=dict(type='mmkd.DKDLoss', alpha=9., beta=72., temperature=2.,
                    logit_standardize=True, inputs=LOGITS),
        dist=dict(type='mmkd.DISTLoss', inputs=LOGITS),
        kd_ls=dict(type='mmkd.KDLoss', temperature=2., loss_weight=9.,
                   logit_standardize=True, inputs=LOGITS)))
    head = d.student.head.fc.weight.detach().clone()
    log = d.train_step(batch(), sgd(d))
    for key in ('loss_dkd.tckd', 'loss_dkd.nckd', 'loss_dkd_ls.tckd', 'loss_dist.inter',
                'loss_dist.intra', 'loss_kd_ls'):
        assert torch.isfinite(log[key]) and log[key] > 0, key
    assert not torch.equal(head, d.student.head.fc.weight)


# ------------------------------------------------------------------ configs
def _loss(name, key):
    return Config.fromfile(osp.join(ZOO, f'{name}_{PAIR}')).model.losses[key]


def test_configs_carry_the_authors_settings():
    """The CIFAR configs (ResNet32x4 -> ResNet8x4, the zoo's pair;
    tests/test_project/test_package.py builds each model) hold the authors' values stated in
    their headers."""
    dkd = _loss('dkd', 'dkd')
    assert (dkd.type, dkd.alpha, dkd.beta, dkd.temperature) == ('mmkd.DKDLoss', 1., 8., 4.)
    assert dkd.schedule == dict(warmup=20, by_epoch=True)
    assert not dkd.get('logit_standardize', False)
    dkd_ls = _loss('dkd-ls', 'dkd')
    assert (dkd_ls.alpha, dkd_ls.beta, dkd_ls.temperature, dkd_ls.logit_standardize) == (
        9., 72., 2., True)
    assert dkd_ls.schedule == dkd.schedule
    kd_ls_cfg = Config.fromfile(osp.join(ZOO, f'kd-ls_{PAIR}'))
    kd_ls = kd_ls_cfg.model.losses.kd
    assert (kd_ls.temperature, kd_ls.loss_weight, kd_ls.logit_standardize) == (2., 9., True)
    assert kd_ls_cfg.model.student_loss_weight == 1.0
    dist = _loss('dist', 'dist')
    assert (dist.beta, dist.gamma, dist.tau, dist.get('loss_weight', 1.)) == (1., 1., 1., 1.)
    for name in ('dkd', 'dkd-ls', 'dist'):
        cfg = Config.fromfile(osp.join(ZOO, f'{name}_{PAIR}'))
        assert cfg.model.get('student_loss_weight', 1.0) == 1.0, name


# pinned outputs on the seed-0 tensors of ``logits()`` (float64), equal to the
# references above (checked in the same tests)
GOLDEN = {
    'dkd': (0.90237515182, 59.130232162),
    'dist': (1.2976134974, 1.5331609153),
    'kd_ls': 9.7712323974,
    'dkd_ls': (1.1365238623, 70.418943710),
}
