import math

import pytest
import torch
import torch.nn.functional as F

from mmkd.models.losses import FeatureMSELoss, KDLoss


def kd_reference(s, t, T):
    """RepDistiller DistillKL: kl_div(log_softmax(s/T), softmax(t/T), sum) * T^2 / N,
    written element by element."""
    n, c = s.shape
    total = 0.0
    for i in range(n):
        ps = [math.exp(x / T) for x in s[i].tolist()]
        pt = [math.exp(x / T) for x in t[i].tolist()]
        zs, zt = sum(ps), sum(pt)
        for j in range(c):
            p, q = pt[j] / zt, ps[j] / zs
            total += p * (math.log(p) - math.log(q))
    return total * T * T / n


@pytest.mark.parametrize('T', [1.0, 4.0, 10.0])
def test_kd_loss_equals_reference_formula(T):
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(6, 10, generator=g) * 3, torch.randn(6, 10, generator=g) * 3
    got = KDLoss(temperature=T)(s, t).item()
    assert got == pytest.approx(kd_reference(s, t, T), rel=1e-5)
    # mdistiller's form
    md = F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1),
                  reduction='none').sum(1).mean() * T**2
    assert got == pytest.approx(md.item(), rel=1e-6)


def test_kd_loss_weight_zero_for_equal_logits_and_spatial_logits():
    s = torch.randn(2, 5, 3, 3)
    assert KDLoss(loss_weight=0.9)(s, s).item() == pytest.approx(0.0, abs=1e-6)
    t = torch.randn(2, 5, 3, 3)
    flat = KDLoss()(s.permute(0, 2, 3, 1).reshape(-1, 5), t.permute(0, 2, 3, 1).reshape(-1, 5))
    assert KDLoss()(s, t).item() == pytest.approx(flat.item(), rel=1e-6)
    assert KDLoss(loss_weight=0.5)(s, t).item() == pytest.approx(0.5 * flat.item(), rel=1e-6)


def test_kd_loss_stays_finite_for_large_logits():
    s = torch.tensor([[1e4, -1e4, 0.]])
    t = torch.tensor([[-1e4, 1e4, 0.]])
    assert torch.isfinite(KDLoss()(s, t))


def test_feature_mse_loss_matches_mse_and_normalisations():
    s, t = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
    assert FeatureMSELoss()(s, t).item() == pytest.approx(((s - t)**2).mean().item(),
                                                          rel=1e-6)
    assert FeatureMSELoss(reduction='sum', loss_weight=2.)(s, t).item() == pytest.approx(
        2 * ((s - t)**2).sum().item() / 2, rel=1e-6)
    ch = FeatureMSELoss(normalize='channel')(s, t)
    ref = ((F.normalize(s, dim=1) - F.normalize(t, dim=1))**2).mean()
    assert ch.item() == pytest.approx(ref.item(), rel=1e-6)
    # layer normalisation makes the loss blind to a per-sample scale and shift
    assert FeatureMSELoss(normalize='layer')(s * 5 + 3, s).item() == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match='normalize'):
        FeatureMSELoss(normalize='batch')


def criterion_pixel_wise(preds_s, preds_t):
    """The authors' CriterionPixelWise (structure_knowledge_distillation
    utils/criterion.py, TGRS_DisOptNet utils/losses.py), re-written from its formula:
    sum over N, H, W of -softmax(t) . log_softmax(s), divided by H * W."""
    n, c, h, w = preds_s.shape
    p_t = F.softmax(preds_t.permute(0, 2, 3, 1).reshape(-1, c), dim=1)
    log_p_s = F.log_softmax(preds_s.permute(0, 2, 3, 1).reshape(-1, c), dim=1)
    return (-p_t * log_p_s).sum() / (h * w)


@pytest.mark.parametrize('shape', [(3, 4, 2, 5), (2, 2, 4, 4)])
def test_kd_loss_sum_over_hw_is_criterion_pixel_wise(shape):
    """Same gradients as CriterionPixelWise, and its value less the teacher's entropy
    (summed over the batch, / H W); N times the default per-pixel mean."""
    n, c, h, w = shape
    g = torch.Generator().manual_seed(0)
    s = (torch.randn(*shape, generator=g) * 2).requires_grad_()
    t = torch.randn(*shape, generator=g) * 2
    ours = KDLoss(temperature=1.0, reduction='sum_over_hw')(s, t)
    (grad_ours, ) = torch.autograd.grad(ours, s)
    s2 = s.detach().clone().requires_grad_()
    theirs = criterion_pixel_wise(s2, t)
    theirs.backward()
    torch.testing.assert_close(grad_ours, s2.grad, rtol=1e-5, atol=1e-7)
    p_t = F.softmax(t, dim=1)
    entropy = -(p_t * F.log_softmax(t, dim=1)).sum() / (h * w)
    assert ours.item() == pytest.approx(theirs.item() - entropy.item(), rel=1e-5)
    # N x the per-pixel mean, and loss_weight on top
    mean = KDLoss(temperature=1.0)(s, t)
    assert ours.item() == pytest.approx(n * mean.item(), rel=1e-5)
    half = KDLoss(temperature=1.0, reduction='sum_over_hw', loss_weight=0.5)(s, t)
    assert half.item() == pytest.approx(0.5 * ours.item(), rel=1e-6)


def test_kd_loss_sum_over_hw_on_plain_logits_sums_over_the_batch():
    s, t = torch.randn(4, 3), torch.randn(4, 3)
    ours = KDLoss(temperature=2.0, reduction='sum_over_hw')(s, t)
    assert ours.item() == pytest.approx(4 * KDLoss(temperature=2.0)(s, t).item(), rel=1e-6)
    with pytest.raises(ValueError, match='reduction'):
        KDLoss(reduction='sum')


def test_feature_mse_loss_relative_is_mse_over_the_teachers_energy():
    g = torch.Generator().manual_seed(0)
    s = (torch.randn(2, 4, 3, 3, generator=g)).requires_grad_()
    t = torch.randn(2, 4, 3, 3, generator=g) * 3 + 1
    loss = FeatureMSELoss(reduction='relative', loss_weight=0.5)(s, t)
    ref = 0.5 * ((s - t)**2).sum() / (t**2).sum()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)
    (grad, ) = torch.autograd.grad(loss, s)
    torch.testing.assert_close(grad, (0.5 * 2 * (s - t) / (t**2).sum()).detach())
    # blind to the features' scale: 1 for a zero student whatever the teacher's energy
    assert FeatureMSELoss(reduction='relative')(torch.zeros_like(t), 7 * t).item() == \
        pytest.approx(1.0, rel=1e-6)
    assert FeatureMSELoss(reduction='relative')(10 * s, 10 * t).item() == \
        pytest.approx(ref.item() / 0.5, rel=1e-5)
    # the teacher's energy is a constant: no gradient reaches the teacher through it
    tt = t.clone().requires_grad_()
    FeatureMSELoss(reduction='relative')(s.detach(), tt).backward()
    torch.testing.assert_close(tt.grad, (2 * (t - s.detach()) / (t**2).sum()))
    with pytest.raises(ValueError, match='reduction'):
        FeatureMSELoss(reduction='max')
