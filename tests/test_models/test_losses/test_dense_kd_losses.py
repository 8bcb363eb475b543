"""CWD, PKD, MGD and FGD (dense-prediction feature losses): each against the authors'
formula written here independently (channel by channel, box by box, with the authors'
own arrangement of the products where it differs from the implementation's), the
reference behaviour (invariances, masks, resizing), the errors bad inputs get, where the
gradient goes, and the registry."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch.testing import assert_close

from mmkd.models.losses import CWDLoss, FGDLoss, MGDLoss, PKDLoss
from mmkd.registry import MODELS


def maps(*shape, seed=0, scale=1.0, grad=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g, dtype=torch.float64) * scale
    return x.float().requires_grad_(grad)


def det_samples(boxes_per_image, input_shape=(64, 64), img_shape=None):
    """mmdet data samples as its data preprocessor leaves them."""
    from mmdet.structures import DetDataSample
    out = []
    for boxes in boxes_per_image:
        s = DetDataSample(metainfo=dict(batch_input_shape=input_shape,
                                        pad_shape=input_shape,
                                        img_shape=img_shape or input_shape))
        b = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        s.gt_instances = InstanceData(bboxes=b, labels=torch.zeros(len(b), dtype=torch.long))
        out.append(s)
    return out


# --------------------------------------------------------------------------- CWD
def cwd_reference(s, t, tau):
    """mmrazor ChannelWiseDivergence / TorchDistiller CriterionCWD('channel', 'kl'): per
    image and channel, KL(softmax(t / tau) || softmax(s / tau)) over the positions,
    summed, times tau^2, over N * C; one channel map at a time, in float64."""
    n, c = s.shape[:2]
    total = 0.0
    for i in range(n):
        for k in range(c):
            p = torch.softmax(t[i, k].double().flatten() / tau, 0)
            q = torch.softmax(s[i, k].double().flatten() / tau, 0)
            total += float((p * (p.log() - q.log())).sum())
    return total * tau ** 2 / (n * c)


@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_cwd_equals_the_authors_formula(tau):
    s, t = maps(2, 3, 5, 7, seed=1, scale=3), maps(2, 3, 5, 7, seed=2, scale=3)
    got = CWDLoss(tau=tau, loss_weight=3.0)(s, t)
    assert_close(got, torch.tensor(3.0 * cwd_reference(s, t, tau)), rtol=1e-5, atol=1e-6)
    # torch's own KL divergence, summed, gives the same number
    kl = F.kl_div(F.log_softmax(s.flatten(2) / tau, 2), F.softmax(t.flatten(2) / tau, 2),
                  reduction='sum') * tau ** 2 / 6
    assert_close(got, 3.0 * kl, rtol=1e-5, atol=1e-6)


def test_cwd_reference_behaviour_and_levels():
    s, t = maps(2, 3, 4, 4, seed=3), maps(2, 3, 4, 4, seed=4)
    loss = CWDLoss()
    assert loss(t, t).item() == pytest.approx(0.0, abs=1e-6)
    # a constant added to a whole channel map changes no spatial distribution
    shifted = s + torch.arange(6.).view(2, 3, 1, 1)
    assert_close(loss(shifted, t), loss(s, t))
    assert loss(s, t).item() > 0
    # a list of levels sums the levels' losses (one loss per level of the same weight)
    s2, t2 = maps(2, 3, 2, 2, seed=5), maps(2, 3, 2, 2, seed=6)
    assert_close(loss([s, s2], [t, t2]), loss(s, t) + loss(s2, t2))


# --------------------------------------------------------------------------- PKD
def pkd_reference(s, t):
    """mmrazor PKDLoss: every channel standardised over (N, H, W), unbiased std + 1e-6,
    then the mean squared difference over all elements, halved; channel by channel."""
    n, c, h, w = s.shape
    total = 0.0
    for k in range(c):
        a, b = s[:, k].double().flatten(), t[:, k].double().flatten()
        m = a.numel()
        za = (a - a.mean()) / ((((a - a.mean()) ** 2).sum() / (m - 1)).sqrt() + 1e-6)
        zb = (b - b.mean()) / ((((b - b.mean()) ** 2).sum() / (m - 1)).sqrt() + 1e-6)
        total += float(((za - zb) ** 2).sum())
    return total / (n * c * h * w) / 2


def test_pkd_equals_the_authors_formula_and_one_minus_pearson():
    s, t = maps(3, 4, 5, 6, seed=7, scale=2), maps(3, 4, 5, 6, seed=8) + 5
    got = PKDLoss(loss_weight=10.0)(s, t)
    assert_close(got, torch.tensor(10.0 * pkd_reference(s, t)), rtol=1e-5, atol=1e-6)
    # the paper's reading: (M - 1) / M times the mean over channels of 1 - r_c, with r_c
    # the Pearson correlation of channel c over the batch and positions
    m = 3 * 5 * 6
    r = torch.stack([torch.corrcoef(torch.stack([s[:, k].flatten(), t[:, k].flatten()]))
                     [0, 1] for k in range(4)])
    assert_close(got, 10.0 * (m - 1) / m * (1 - r).mean(), rtol=1e-4, atol=1e-5)


def test_pkd_ignores_the_scale_and_offset_of_each_channel_and_resizes():
    s, t = maps(2, 3, 4, 4, seed=9), maps(2, 3, 4, 4, seed=10)
    loss = PKDLoss()
    scale = torch.tensor([0.5, 3.0, 20.0]).view(1, 3, 1, 1)
    assert_close(loss(s * scale - 7, t), loss(s, t), rtol=1e-4, atol=1e-5)
    assert loss(t * 4 + 1, t).item() == pytest.approx(0.0, abs=1e-5)
    # sizes differ: the student is resized (bilinear) to the teacher's, or the teacher to
    # the student's with resize_stu=False
    small = maps(2, 3, 2, 2, seed=11)
    up = F.interpolate(small, size=(4, 4), mode='bilinear', align_corners=False)
    assert_close(loss(small, t), torch.tensor(pkd_reference(up, t)), rtol=1e-5, atol=1e-6)
    down = F.interpolate(t, size=(2, 2), mode='bilinear', align_corners=False)
    assert_close(PKDLoss(resize_stu=False)(small, t),
                 torch.tensor(pkd_reference(small, down)), rtol=1e-5, atol=1e-6)
    assert_close(loss([s, small], [t, t]), loss(s, t) + loss(small, t))


# --------------------------------------------------------------------------- MGD
def mgd_reference(loss_fn, s, t, u):
    """yzd-v/MGD FeatureLoss: align (1x1 conv) if the channels differ, zero the
    positions where u > 1 - lambda, conv3x3-ReLU-conv3x3, summed squared error / N,
    times alpha; the convolutions written out with the loss's own weights."""
    if loss_fn.align is not None:
        s = F.conv2d(s, loss_fn.align.weight, loss_fn.align.bias)
    keep = torch.where(u > 1 - loss_fn.lambda_mgd, torch.zeros_like(u), torch.ones_like(u))
    conv1, conv2 = loss_fn.generation[0], loss_fn.generation[2]
    x = F.conv2d(s * keep, conv1.weight, conv1.bias, padding=1)
    x = F.conv2d(torch.clamp(x, min=0), conv2.weight, conv2.bias, padding=1)
    diff = x - t
    return loss_fn.loss_weight * sum(float((diff[i] ** 2).sum()) for i in range(len(s))) \
        / len(s)


@pytest.mark.parametrize('channels', [(4, 4), (3, 6)], ids=['same', 'align'])
def test_mgd_equals_the_authors_code_with_the_same_mask(channels):
    cs, ct = channels
    torch.manual_seed(0)
    loss = MGDLoss(cs, ct, lambda_mgd=0.65, loss_weight=2e-5)
    assert (loss.align is None) == (cs == ct)
    s, t = maps(2, cs, 6, 5, seed=12), maps(2, ct, 6, 5, seed=13)
    torch.manual_seed(123)
    got = loss(s, t)
    torch.manual_seed(123)  # the authors draw torch.rand((N, 1, H, W)) the same way
    u = torch.rand((2, 1, 6, 5))
    with torch.no_grad():
        want = mgd_reference(loss, s, t, u)
    assert_close(got, torch.tensor(want), rtol=1e-5, atol=1e-9)


def test_mgd_mask_drops_lambda_of_the_positions_and_all_channels_alike():
    loss = MGDLoss(2, 2, lambda_mgd=0.75)
    torch.manual_seed(1)
    mask = loss.random_mask(4, 100, 100)
    assert mask.shape == (4, 1, 100, 100)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert abs(1 - mask.mean().item() - 0.75) < 0.02
    assert MGDLoss(2, 2, lambda_mgd=0.0).random_mask(2, 8, 8).min().item() == 1.0
    with pytest.raises(ValueError, match=r'lambda_mgd .* in \[0, 1\)'):
        MGDLoss(2, 2, lambda_mgd=1.0)


# --------------------------------------------------------------------------- FGD
def fgd_masks_reference(boxes_per_image, h, w, in_h, in_w):
    """The authors' masks (yzd-v/FGD fgd.py, rows indexed by y), box by box, cells
    outside the grid cut off (the authors' negative slice start would mark none)."""
    fg = torch.zeros(len(boxes_per_image), h, w, dtype=torch.float64)
    for i, boxes in enumerate(boxes_per_image):
        for x1, y1, x2, y2 in boxes:
            wmin, wmax = math.floor(x1 / in_w * w), math.ceil(x2 / in_w * w)
            hmin, hmax = math.floor(y1 / in_h * h), math.ceil(y2 / in_h * h)
            area = 1.0 / (hmax + 1 - hmin) / (wmax + 1 - wmin)
            for y in range(max(hmin, 0), min(hmax + 1, h)):
                for x in range(max(wmin, 0), min(wmax + 1, w)):
                    fg[i, y, x] = max(fg[i, y, x], area)
    bg = (fg == 0).double()
    for i in range(len(bg)):
        if bg[i].sum() > 0:
            bg[i] /= bg[i].sum()
    return fg, bg


def gc_reference(block, x):
    """GcBlock with addition fusion: softmax-pooled context, conv-LN-ReLU-conv, added."""
    n, c, h, w = x.shape
    logits = F.conv2d(x, block.conv_mask.weight, block.conv_mask.bias).view(n, h * w, 1)
    context = torch.bmm(x.view(n, c, h * w), torch.softmax(logits, 1)).view(n, c, 1, 1)
    conv1, ln, conv2 = block.channel_add[0], block.channel_add[1], block.channel_add[3]
    y = F.conv2d(context, conv1.weight, conv1.bias)
    y = F.layer_norm(y, ln.normalized_shape, ln.weight, ln.bias, ln.eps)
    y = F.conv2d(torch.clamp(y, min=0), conv2.weight, conv2.bias)
    return x + y


def fgd_reference(loss_fn, s, t, fg, bg):
    """yzd-v/FGD FeatureLoss.forward: the four terms, the features multiplied by the
    square roots of the teacher's attention and of the masks as the authors do."""
    if loss_fn.align is not None:
        s = F.conv2d(s, loss_fn.align.weight, loss_fn.align.bias)
    n, c, h, w = s.shape
    temp = loss_fn.temperature

    def attention(x):
        a = x.abs()
        spatial = h * w * torch.softmax(a.mean(1).reshape(n, -1) / temp, 1)
        channel = c * torch.softmax(a.mean(2).mean(2) / temp, 1)
        return spatial.reshape(n, h, w), channel

    sp_t, ch_t = attention(t)
    sp_s, ch_s = attention(s)
    root = torch.sqrt(sp_t)[:, None] * torch.sqrt(ch_t)[:, :, None, None]
    fg, bg = fg.float()[:, None], bg.float()[:, None]
    l_fg = ((s * root * fg.sqrt() - t * root * fg.sqrt()) ** 2).sum() / n
    l_bg = ((s * root * bg.sqrt() - t * root * bg.sqrt()) ** 2).sum() / n
    l_at = (ch_s - ch_t).abs().sum() / n + (sp_s - sp_t).abs().sum() / n
    l_rel = ((gc_reference(loss_fn.context_s, s) - gc_reference(loss_fn.context_t, t)) ** 2
             ).sum() / n
    return dict(fg=loss_fn.alpha_fgd * l_fg, bg=loss_fn.beta_fgd * l_bg,
                attention=loss_fn.gamma_fgd * l_at, **{'global': loss_fn.lambda_fgd * l_rel})


BOXES = [[[8, 8, 24, 30], [16, 12, 40, 20]],  # two overlapping boxes: the smaller's weight
         [[-6, 40, 10, 63.5]],               # crosses the left border: cut off there
         []]                                 # no boxes: all background


def test_fgd_masks_weight_each_box_by_its_cell_count():
    loss = FGDLoss(4, 4)
    fg, bg = loss.masks(det_samples(BOXES), (8, 8))
    want_fg, want_bg = fgd_masks_reference(BOXES, 8, 8, 64, 64)
    assert_close(fg.double(), want_fg)
    assert_close(bg.double(), want_bg)
    # worked by hand: box 1 of image 0 spans rows 1..4, columns 1..3 (12 cells), box 2
    # rows 1..3, columns 2..5 (12 cells); image 1 rows 5..8 -> 5..7, columns -1..2 -> 0..2
    assert fg[0, 1, 1].item() == pytest.approx(1 / 12)
    assert fg[0, 4, 3].item() == pytest.approx(1 / 12) and fg[0, 4, 4].item() == 0
    assert fg[1, 5:, :3].min().item() == pytest.approx(1 / 16) and fg[1, :5].sum() == 0
    assert fg[2].sum() == 0 and bg[2].sum().item() == pytest.approx(1.0)
    assert bg[0].sum().item() == pytest.approx(1.0)


def test_fgd_places_boxes_on_the_padded_batch_the_features_cover():
    """A 48x64 image padded to 64x64: a box's cells are where its pixels are on the
    padded grid (the authors' img_shape scaling would stretch it by 64/48)."""
    loss = FGDLoss(4, 4)
    samples = det_samples([[[0, 16, 16, 32]]], input_shape=(64, 64), img_shape=(48, 64))
    fg, _ = loss.masks(samples, (8, 8))
    rows = fg[0].sum(1).nonzero().flatten().tolist()
    assert rows == [2, 3, 4]  # y 16..32 px at 8 px a cell: floor 2, ceil 4


@pytest.mark.parametrize('channels', [(4, 4), (3, 4)], ids=['same', 'align'])
def test_fgd_equals_the_authors_four_terms(channels):
    cs, ct = channels
    torch.manual_seed(0)
    loss = FGDLoss(cs, ct, temperature=0.5, alpha_fgd=1e-3, beta_fgd=5e-4,
                   gamma_fgd=5e-4, lambda_fgd=5e-6, loss_weight=2.0)
    with torch.no_grad():  # trained GcBlocks: their last conv is zero only at the start
        for block in (loss.context_s, loss.context_t):
            block.channel_add[3].weight.normal_()
            block.channel_add[3].bias.normal_()
    s, t = maps(3, cs, 8, 8, seed=14, scale=2), maps(3, ct, 8, 8, seed=15, scale=2)
    got = loss(s, t, det_samples(BOXES))
    fg, bg = fgd_masks_reference(BOXES, 8, 8, 64, 64)
    with torch.no_grad():
        want = fgd_reference(loss, s, t, fg, bg)
    assert set(got) == {'fg', 'bg', 'attention', 'global'}
    for key, value in want.items():
        assert_close(got[key], 2.0 * value, rtol=1e-5, atol=1e-9, msg=key)
        assert got[key].item() > 0, key


def test_fgd_starts_with_identity_gc_blocks_and_zero_loss_on_the_teacher():
    loss = FGDLoss(4, 4)
    for block in (loss.context_s, loss.context_t):
        assert block.channel_add[3].weight.abs().sum() == 0
        assert block.channel_add[3].bias.abs().sum() == 0
        assert block.conv_mask.bias.abs().sum() == 0
    t = maps(2, 4, 8, 8, seed=16)
    out = loss(t, t, det_samples(BOXES[:2]))
    # identical maps: no focal or attention difference, and the global term only the
    # two (untrained, different) context blocks' difference, zero while they add nothing
    assert all(v.item() == pytest.approx(0.0, abs=1e-9) for v in out.values())


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize('make', [lambda: CWDLoss(), lambda: PKDLoss()], ids=['cwd', 'pkd'])
def test_cwd_pkd_name_the_connector_on_a_channel_mismatch(make):
    s, t = maps(2, 3, 4, 4), maps(2, 5, 4, 4)
    with pytest.raises(ValueError, match=r'level 0 student map \(2, 3, 4, 4\) vs teacher '
                                         r'\(2, 5, 4, 4\).*connector'):
        make()(s, t)
    with pytest.raises(ValueError, match='1 student maps and 2 teacher maps'):
        make()([s], [t, t])


def test_cwd_needs_equal_sizes_and_says_so():
    with pytest.raises(ValueError, match=r'same shape.*ConvConnector with like'):
        CWDLoss()(maps(2, 3, 4, 4), maps(2, 3, 8, 8))
    with pytest.raises(ValueError, match='tau must be > 0'):
        CWDLoss(tau=0)


@pytest.mark.parametrize('make', [lambda: MGDLoss(3, 4), lambda: FGDLoss(3, 4)],
                         ids=['mgd', 'fgd'])
def test_mgd_fgd_name_what_to_fix(make):
    samples = det_samples([[], []])

    def call(loss, s, t):
        return loss(s, t, samples) if isinstance(loss, FGDLoss) else loss(s, t)

    loss = make()
    with pytest.raises(ValueError, match=r'size \(H, W\) must match.*like=<the teacher'):
        call(loss, maps(2, 3, 4, 4), maps(2, 4, 8, 8))
    with pytest.raises(ValueError, match=r'student_channels=3, teacher_channels=4 but got '
                                         r'maps with 5 and 4 channels'):
        call(loss, maps(2, 5, 4, 4), maps(2, 4, 4, 4))
    with pytest.raises(ValueError, match='one loss per level'):
        call(loss, [maps(2, 3, 4, 4)], [maps(2, 4, 4, 4)])


def test_fgd_needs_the_data_samples_and_their_input_shape():
    from mmdet.structures import DetDataSample
    s, t = maps(2, 4, 4, 4), maps(2, 4, 4, 4)
    with pytest.raises(ValueError, match='needs the batch data_samples'):
        FGDLoss(4, 4)(s, t)
    with pytest.raises(ValueError, match='1 data samples for a batch of 2'):
        FGDLoss(4, 4)(s, t, det_samples([[]]))
    bare = [DetDataSample() for _ in range(2)]
    for sample in bare:
        sample.gt_instances = InstanceData(bboxes=torch.tensor([[0., 0., 8., 8.]]))
    with pytest.raises(ValueError, match="no batch_input_shape.*DetDataPreprocessor"):
        FGDLoss(4, 4)(s, t, bare)


# --------------------------------------------------------------------------- gradients
CASES = {
    'cwd': (lambda: CWDLoss(tau=4.0), 4, 4),
    'pkd': (lambda: PKDLoss(), 4, 4),
    'mgd': (lambda: MGDLoss(3, 4), 3, 4),
    'fgd': (lambda: FGDLoss(3, 4), 3, 4),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_gradient_reaches_the_student_and_the_losss_own_layers_never_the_teacher(name):
    make, cs, ct = CASES[name]
    torch.manual_seed(0)
    loss = make()
    s, t = maps(2, cs, 8, 8, seed=17, grad=True), maps(2, ct, 8, 8, seed=18, grad=True)
    args = (det_samples(BOXES[:2]), ) if name == 'fgd' else ()
    out = loss(s, t, *args)
    total = sum(out.values()) if isinstance(out, dict) else out
    total.backward()
    assert s.grad is not None and s.grad.abs().sum() > 0 and torch.isfinite(s.grad).all()
    assert t.grad is None  # the teacher's features are detached
    for pname, p in loss.named_parameters():
        assert p.grad is not None, pname  # trained with the student, by the distiller


# --------------------------------------------------------------------------- registry
@pytest.mark.parametrize('cfg, cls', [
    (dict(type='mmkd.CWDLoss', tau=4.0, loss_weight=3.0), CWDLoss),
    (dict(type='mmkd.PKDLoss', loss_weight=10.0), PKDLoss),
    (dict(type='mmkd.MGDLoss', student_channels=256, teacher_channels=256), MGDLoss),
    (dict(type='mmkd.FGDLoss', student_channels=128, teacher_channels=256), FGDLoss),
], ids=['cwd', 'pkd', 'mgd', 'fgd'])
def test_losses_build_from_a_config_dict(cfg, cls):
    loss = MODELS.build(dict(cfg))
    assert type(loss) is cls
    for key, value in cfg.items():
        if key != 'type':
            assert getattr(loss, key) == value
    if cls is FGDLoss:
        assert loss.align.in_channels == 128 and loss.align.out_channels == 256
    if cls is MGDLoss:
        assert loss.align is None and loss.loss_weight == 2e-5 and loss.lambda_mgd == 0.65
