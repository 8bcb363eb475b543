"""ReviewKD (Chen et al., CVPR 2021): ABF fusion and HCL against references written from
mdistiller's ``ReviewKD.py`` on fixed tensors, golden values, its parameters in a
Distiller, the bad-input errors, and the shipped CIFAR config's taps and shapes."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from conftest import REPO, batch, tiny_classifier
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmkd.models.distillers import Distiller
from mmkd.models.losses import ReviewKDLoss
from mmkd.models.losses.reviewkd_loss import hcl_loss

CONFIG = osp.join(REPO, 'configs', 'ds_cmkd', 'zoo',
                  'reviewkd_resnet32x4_resnet8x4_cifar10-noisy.py')


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


# ------------------------------------------------------------------ references
def nearest(x, size):
    """Nearest-neighbour resize written as an index pick: source index floor(i * in /
    out), which is F.interpolate(mode='nearest')'s rule."""
    h, w = x.shape[-2:]
    rows = [int(i * h / size[0]) for i in range(size[0])]
    cols = [int(j * w / size[1]) for j in range(size[1])]
    return x[:, :, rows][:, :, :, cols]


def block_mean(x, size):
    """Adaptive average pooling for sizes that divide the map: mean of each block."""
    n, c, h, w = x.shape
    kh, kw = h // size, w // size
    return x.reshape(n, c, size, kh, size, kw).mean(dim=(3, 5))


def hcl_reference(fs_list, ft_list):
    """mdistiller ``hcl_loss`` (megvii-research/mdistiller,
    ``mdistiller/distillers/ReviewKD.py``): per stage the mean squared error, plus the
    4x4, 2x2, 1x1 average-pooled MSEs for pool sizes below the map's height at weights
    1/2, 1/4, 1/8, divided by the sum of the weights used; summed over stages."""
    total = 0.
    for fs, ft in zip(fs_list, ft_list):
        loss = ((fs - ft)**2).mean().item()
        cnt, tot = 1.0, 1.0
        for size in (4, 2, 1):
            if size >= fs.shape[2]:
                continue
            cnt /= 2
            loss += cnt * ((block_mean(fs, size) - block_mean(ft, size))**2).mean().item()
            tot += cnt
        total += loss / tot
    return total


def bn_train(x, bn):
    """BatchNorm in training mode: batch statistics (biased variance), eps 1e-5."""
    mu = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    return ((x - mu) / torch.sqrt(var + bn.eps) * bn.weight.view(1, -1, 1, 1)
            + bn.bias.view(1, -1, 1, 1))


def abf_reference(abf, x, residual, out_size):
    """mdistiller ``ABF.forward``: conv1 (1x1) + BN; if fusing, the residual upsampled
    (nearest) to x's size, z = sigmoid(att_conv(cat)), x * z0 + y * z1; nearest resize to
    the output size; conv2 (3x3, pad 1) + BN. Returns (output, fused map)."""
    x = bn_train(F.conv2d(x, abf.conv1[0].weight), abf.conv1[1])
    if abf.att_conv is not None:
        y = nearest(residual, x.shape[-2:])
        att = abf.att_conv[0]
        z = torch.sigmoid(F.conv2d(torch.cat([x, y], 1), att.weight, att.bias))
        x = x * z[:, 0:1] + y * z[:, 1:2]
    if tuple(x.shape[-2:]) != tuple(out_size):
        x = nearest(x, out_size)
    out = bn_train(F.conv2d(x, abf.conv2[0].weight, padding=1), abf.conv2[1])
    return out, x


def reviewkd_reference(loss, student, teacher):
    """mdistiller ``ReviewKD.forward_train``: the student stages reversed (deepest
    first), the deepest through its ABF alone, then each shallower stage with the
    previous fused map; outputs re-ordered shallow to deep; HCL against the teacher."""
    s = [f[:, :, None, None] if f.dim() == 2 else f for f in student]
    t = [f[:, :, None, None] if f.dim() == 2 else f for f in teacher]
    abfs = list(loss.abfs)[::-1]
    x = s[::-1]
    sizes = [f.shape[-2:] for f in t][::-1]
    out, res = abf_reference(abfs[0], x[0], None, sizes[0])
    results = [out]
    for feat, abf, size in zip(x[1:], abfs[1:], sizes[1:]):
        out, res = abf_reference(abf, feat, res, size)
        results.insert(0, out)
    return loss.loss_weight * hcl_reference(results, t)


def cifar_like(seed=0, n=3, student=(8, 12, 16, 16), teacher=(6, 10, 14, 14),
               sizes=(8, 4, 2)):
    """ResNet8x4 / ResNet32x4-shaped stages at small width: three maps halving in size
    and a pooled vector, as mdistiller's feats[1:] + pooled_feat."""
    s = [rand(n, c, h, h, seed=seed + i) for i, (c, h) in enumerate(zip(student, sizes))]
    t = [rand(n, c, h, h, seed=seed + 10 + i) for i, (c, h) in enumerate(zip(teacher,
                                                                           sizes))]
    s.append(rand(n, student[-1], seed=seed + 5))
    t.append(rand(n, teacher[-1], seed=seed + 15))
    return s, t


def make_loss(student=(8, 12, 16, 16), teacher=(6, 10, 14, 14), **kw):
    torch.manual_seed(0)
    loss = ReviewKDLoss(list(student), list(teacher), **kw).double()
    with torch.no_grad():  # non-trivial BN affine parameters
        for m in loss.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return loss


# ------------------------------------------------------------------ HCL, ABF, ReviewKD
def test_hcl_equals_mdistillers_hcl_loss():
    """``hcl_loss`` == mdistiller's ``hcl_loss`` on 8x8, 4x4 (the 4x4 level skipped),
    2x2 and 1x1 (no pyramid) maps."""
    fs = [rand(2, 3, h, h, seed=h) for h in (8, 4, 2, 1)]
    ft = [rand(2, 3, h, h, seed=h + 100) for h in (8, 4, 2, 1)]
    assert float(hcl_loss(fs, ft)) == pytest.approx(hcl_reference(fs, ft), rel=1e-10)
    assert float(hcl_loss(fs, ft)) == pytest.approx(GOLDEN['hcl'], rel=1e-6)
    # the 8x8 stage alone: (MSE + MSE4/2 + MSE2/4 + MSE1/8) / 1.875
    f8s, f8t = fs[0], ft[0]
    parts = [F.mse_loss(f8s, f8t)] + [F.mse_loss(F.adaptive_avg_pool2d(f8s, k),
                                                 F.adaptive_avg_pool2d(f8t, k))
                                      for k in (4, 2, 1)]
    by_hand = (parts[0] + parts[1] / 2 + parts[2] / 4 + parts[3] / 8) / 1.875
    assert float(hcl_loss([f8s], [f8t])) == pytest.approx(float(by_hand), rel=1e-12)


def test_reviewkd_equals_mdistillers_reviewkd_on_fixed_tensors():
    """ReviewKDLoss (ABF fusion deepest to shallowest + HCL) == mdistiller's
    ``ReviewKD.forward_train`` loss term written from its ``ABF`` and ``hcl_loss``,
    with the same ABF weights, the teacher at other channel counts."""
    loss = make_loss(loss_weight=5.0)
    s, t = cifar_like()
    with torch.no_grad():
        out = loss(s, t)
        ref = reviewkd_reference(loss, s, t)
    assert float(out) == pytest.approx(ref, rel=1e-9)
    assert float(out) == pytest.approx(GOLDEN['reviewkd'], rel=1e-6)


def test_reviewkd_resizes_to_the_teachers_size():
    """A student stage at another resolution than the teacher's is resized (nearest) to
    the teacher's before conv2, as mdistiller's OUT_SHAPES."""
    loss = make_loss()
    s, t = cifar_like()
    s[0] = rand(3, 8, 4, 4, seed=42)  # student stage 1 at half the teacher's 8x8
    with torch.no_grad():
        out = loss(s, t)
        assert float(out) == pytest.approx(reviewkd_reference(loss, s, t), rel=1e-9)
        fused = loss.fuse(s, [f.shape[-2:] if f.dim() == 4 else (1, 1) for f in t])
    assert [tuple(f.shape) for f in fused] == [(3, 6, 8, 8), (3, 10, 4, 4), (3, 14, 2, 2),
                                               (3, 14, 1, 1)]


def test_abf_layout_and_init_follow_mdistiller():
    loss = ReviewKDLoss([64, 128, 256, 256], [64, 128, 256, 256])
    assert [a.att_conv is not None for a in loss.abfs] == [True, True, True, False]
    mid = 256  # min(512, in_channels[-1])
    for abf, c_in in zip(loss.abfs, [64, 128, 256, 256]):
        assert abf.conv1[0].weight.shape == (mid, c_in, 1, 1) and abf.conv1[0].bias is None
        assert abf.conv2[0].weight.shape[:2] == (abf.conv2[1].num_features, mid)
        # kaiming_uniform_(a=1): bound sqrt(6 / ((1 + 1) fan_in)) = sqrt(3 / fan_in)
        fan_in = c_in
        bound = (3 / fan_in)**0.5
        assert abf.conv1[0].weight.abs().max() <= bound + 1e-6
        assert abf.conv1[0].weight.abs().max() > 0.9 * bound
    assert ReviewKDLoss([8, 1024], [8, 2048]).abfs[0].conv1[0].out_channels == 512
    assert ReviewKDLoss([8, 16], [8, 16], mid_channels=4).abfs[1].conv1[0].out_channels == 4


def test_reviewkd_bad_inputs_name_the_stage():
    loss = make_loss()
    s, t = cifar_like()
    with pytest.raises(ValueError, match='built for 4 stages, got 3 student and 4'):
        loss(s[:3], t)
    s_bad = list(s)
    s_bad[1] = rand(3, 5, 4, 4)
    with pytest.raises(ValueError, match=r'stage 1: built for 12 student and 10 teacher '
                       r'channels, got student \(3, 5, 4, 4\)'):
        loss(s_bad, t)
    with pytest.raises(ValueError, match='one channel count per stage'):
        ReviewKDLoss([8, 16], [8])


# ------------------------------------------------------------------ in a Distiller
STAGES = ('layer1', 'layer2', 'layer3', 'layer4')


def reviewkd_distiller(teacher_ckpt, student_channels=(8, 16, 32, 64, 64)):
    teacher = tiny_classifier(width=16)
    taps = {f's{i}': f'student.backbone.{n}' for i, n in enumerate(STAGES)}
    taps.update({f't{i}': f'teacher.backbone.{n}' for i, n in enumerate(STAGES)})
    taps.update(s_pool='student.neck[0]', t_pool='teacher.neck[0]')
    return Distiller(
        student=tiny_classifier(width=8),
        teacher=dict(model=teacher, checkpoint=teacher_ckpt(teacher)), taps=taps,
        losses=dict(reviewkd=dict(
            type='mmkd.ReviewKDLoss', student_channels=list(student_channels),
            teacher_channels=[16, 32, 64, 128, 128],
            inputs=dict(student=['s0', 's1', 's2', 's3', 's_pool'],
                        teacher=['t0', 't1', 't2', 't3', 't_pool']))))


def test_reviewkd_abfs_are_trained_and_checkpointed_but_not_exported(teacher_ckpt):
    d = reviewkd_distiller(teacher_ckpt)
    optim = build_optim_wrapper(d, dict(optimizer=dict(type='SGD', lr=0.1)))
    in_optim = {id(p) for g in optim.optimizer.param_groups for p in g['params']}
    assert {id(p) for p in d.losses.parameters()} <= in_optim
    assert 'losses.reviewkd.abfs.0.att_conv.0.weight' in d.state_dict()
    assert not any('abfs' in k for k in d.student.state_dict())
    before = d.losses.reviewkd.abfs[2].conv1[0].weight.detach().clone()
    log = d.train_step(batch(), optim)
    assert torch.isfinite(log['loss_reviewkd']) and log['loss_reviewkd'] > 0
    assert not torch.equal(before, d.losses.reviewkd.abfs[2].conv1[0].weight)


def test_reviewkd_channel_mismatch_in_a_distiller_names_the_loss_and_taps(teacher_ckpt):
    d = reviewkd_distiller(teacher_ckpt, student_channels=(8, 16, 32, 32, 64))
    optim = build_optim_wrapper(d, dict(optimizer=dict(type='SGD', lr=0.1)))
    with pytest.raises(ValueError, match=r"loss 'reviewkd' \(ReviewKDLoss\) reading "
                       r".*'s3'.*'t3'.*stage 3: built for 32 student and 128 teacher "
                       r"channels, got student \(4, 64, 1, 1\)"):
        d.train_step(batch(), optim)


def test_reviewkd_cifar_config_taps_the_teachers_preactivations_and_fits_shapes(
        tmp_path):
    """The shipped ResNet32x4 -> ResNet8x4 config: the teacher taps are the last
    block's ``preact`` of each stage (mdistiller's preact_feats[1:]), the student's the
    stages after ReLU; ABF outputs have the teacher's shapes and the loss is finite."""
    from mmengine.registry import DefaultScope

    from mmkd.models.distillers import build_model
    from mmkd.registry import MODELS
    cfg = Config.fromfile(CONFIG)
    loss_cfg = cfg.model.losses.reviewkd
    assert (loss_cfg.loss_weight, loss_cfg.schedule) == (5.0, dict(warmup=20,
                                                                   by_epoch=True))
    assert cfg.model.taps.t_preact3 == 'teacher.backbone.layer3.4.preact'
    model_cfg = cfg.model
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        torch.manual_seed(0)
        teacher, _, _ = build_model(model_cfg.teacher.model.to_dict(), 'test teacher')
        path = str(tmp_path / 't.pth')
        torch.save({'state_dict': teacher.state_dict()}, path)
        model_cfg.teacher.checkpoint = path
        d = MODELS.build(model_cfg)
    rec = d.recorder
    assert type(rec.modules['t_preact1']).__name__ == 'Identity'
    assert rec.modules['t_preact1'] is d.teachers['teacher'].backbone.layer1[4].preact
    x = torch.rand(2, 3, 32, 32)
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label(i) for i in range(2)]
    losses = d.loss(dict(clean=x, noisy=x), samples)
    assert torch.isfinite(losses['loss_reviewkd'])
    # the pre-activations take negative values (post-ReLU maps would not)
    with rec.recording():
        d.teachers['teacher'](x, mode='tensor')
        assert rec.records['t_preact2'][0].min() < 0


GOLDEN = {'hcl': 4.7942867894, 'reviewkd': 31.879147227}  # seed-0 tensors, float64
