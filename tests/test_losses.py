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
