"""Detection distillation in mmdet: the QFL soft-target, PDF-Distil and DeFeat losses,
the study's RetinaNet modules, the synthetic detection benchmark, the det_kd configs and
one end-to-end run whose exported student mmdet loads and tests alone."""
import glob
import json
import math
import os
import os.path as osp
import statistics
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from mmkd.models.losses import DeFeatLoss, PDFDistilLoss, QFLSoftTargetLoss

CFG = osp.join(REPO, 'configs', 'det_kd')
CELLS = ['hard+soft', 'hard+mse', 'hard+pdf', 'hard+defeat', 'soft', 'soft+mse',
         'soft+pdf', 'soft+defeat']
# the other feature losses (CWD, PKD, MGD, FGD): one leaf each on the synthetic pair, not
# part of the measured grid; no adaptation convs (MGD and FGD own their layers)
OTHER_CELLS = ['hard+cwd', 'hard+pkd', 'hard+mgd', 'hard+fgd', 'hard+mgd-area']


@pytest.fixture(autouse=True)
def _mmdet_scope(_mmpretrain_scope):
    init_default_scope('mmdet')
    yield


@pytest.fixture(scope='module', autouse=True)
def _one_thread():
    """These tests run small tensors on shared cores, where one intra-op thread is
    several times faster than torch's default (threads spin waiting for each other)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope='module', autouse=True)
def _memoised_mmdet_metafiles():
    """mmengine reads all ~300 of mmdet's metafiles again for every `mmdet::` base it
    resolves (~0.2 s each); the answer never changes, so remember it while this module
    parses its many configs."""
    import mmengine.config.utils as utils
    original, cache = utils._get_cfg_metainfo, {}

    def memoised(package_path, cfg_path):
        key = (package_path, cfg_path)
        if key not in cache:
            try:
                cache[key] = (original(package_path, cfg_path), None)
            except ValueError as e:  # a base config: mmengine falls back on the path
                cache[key] = (None, str(e))
        found, error = cache[key]
        if error is not None:
            raise ValueError(error)
        return found

    utils._get_cfg_metainfo = memoised
    yield
    utils._get_cfg_metainfo = original


def det_samples(boxes_per_image, size=128, labels=None):
    """mmdet data samples as the data preprocessor leaves them."""
    from mmdet.structures import DetDataSample
    out = []
    for i, boxes in enumerate(boxes_per_image):
        s = DetDataSample(metainfo=dict(img_shape=(size, size), pad_shape=(size, size),
                                        batch_input_shape=(size, size),
                                        scale_factor=(1., 1.), ori_shape=(size, size)))
        b = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        lab = torch.tensor(labels[i] if labels else [0] * len(b), dtype=torch.long)
        s.gt_instances = InstanceData(bboxes=b, labels=lab)
        out.append(s)
    return out


# --------------------------------------------------------------------- QFL soft targets
def qfl_reference(student, teacher, beta, normalize, num_anchors=9, pos_thr=0.5):
    """sum over every element of BCE(sigmoid(s), sigmoid(t)) * |sigmoid(t) -
    sigmoid(s)|**beta, divided as the docstring says; element by element. Channels of a
    level are anchor-major (anchor a, class c at channel a * C + c, mmdet's layout)."""
    total, target_sum, count, teacher_pos = 0.0, 0.0, 0, 0
    for s, t in zip(student, teacher):
        n, channels, h, w = s.shape
        classes = channels // num_anchors
        for i in range(n):
            for y in range(h):
                for x in range(w):
                    for a in range(num_anchors):
                        best = 0.0
                        for c in range(classes):
                            ch = a * classes + c
                            p = 1 / (1 + math.exp(-s[i, ch, y, x].item()))
                            q = 1 / (1 + math.exp(-t[i, ch, y, x].item()))
                            bce = -(q * math.log(p) + (1 - q) * math.log(1 - p))
                            total += bce * abs(q - p)**beta
                            target_sum += q
                            count += 1
                            best = max(best, q)
                        teacher_pos += best > pos_thr
    z = {'teacher_pos': max(1, teacher_pos), 'target_sum': max(1.0, target_sum),
         'mean': count, 'sum': student[0].shape[0]}[normalize]
    return total / z


@pytest.mark.parametrize('normalize,pos_thr', [
    ('teacher_pos', 0.5), ('teacher_pos', 0.8), ('target_sum', 0.5), ('mean', 0.5),
    ('sum', 0.5)])
@pytest.mark.parametrize('beta', [2.0, 1.0])
def test_qfl_soft_target_loss_equals_its_formula(normalize, pos_thr, beta):
    g = torch.Generator().manual_seed(0)
    # two levels of a head with 9 anchors x 2 classes
    student = [torch.randn(2, 18, 3, 3, generator=g) * 2, torch.randn(2, 18, 2, 2,
                                                                      generator=g) * 2]
    teacher = [torch.randn(2, 18, 3, 3, generator=g) * 3, torch.randn(2, 18, 2, 2,
                                                                      generator=g) * 3]
    loss = QFLSoftTargetLoss(beta=beta, normalize=normalize, pos_thr=pos_thr,
                             loss_weight=0.5)
    got = loss(student, teacher).item()
    want = qfl_reference(student, teacher, beta, normalize, pos_thr=pos_thr)
    assert got == pytest.approx(0.5 * want, rel=1e-5)


def test_qfl_soft_target_loss_default_divides_by_the_teachers_positive_anchors():
    """The default counts anchors (not anchor-class pairs, not score mass) whose best
    teacher score exceeds 0.5, over the whole batch; at least 1."""
    assert QFLSoftTargetLoss().normalize == 'teacher_pos'
    assert QFLSoftTargetLoss().pos_thr == 0.5
    # 1 image, 1 location, 3 anchors x 2 classes; anchor 0 has both classes over 0.5
    # (one positive anchor, not two), anchor 1 one class, anchor 2 none
    scores = torch.tensor([0.9, 0.7, 0.2, 0.6, 0.1, 0.4])
    teacher = torch.logit(scores).reshape(1, 6, 1, 1)
    student = torch.zeros(1, 6, 1, 1)
    p = torch.full((6, ), 0.5)
    terms = (F.binary_cross_entropy(p, scores, reduction='none') *
             (scores - p).abs()**2).sum()
    got = QFLSoftTargetLoss(num_anchors=3)([student], [teacher])
    assert got.item() == pytest.approx(terms.item() / 2, rel=1e-6)
    # a teacher that is sure of nothing: the sum itself (Z clamped to 1)
    cold = torch.logit(torch.full((1, 6, 1, 1), 0.3))
    got = QFLSoftTargetLoss(num_anchors=3)([student], [cold])
    expect = (F.binary_cross_entropy(p, torch.full((6, ), 0.3), reduction='none') *
              0.2**2).sum()
    assert got.item() == pytest.approx(expect.item(), rel=1e-6)
    with pytest.raises(ValueError, match='num_anchors=4'):
        QFLSoftTargetLoss(num_anchors=4)([student], [teacher])


def test_qfl_soft_target_loss_equals_mmdet_qfl_where_they_overlap():
    """With a teacher that is certain (sigmoid 0 or an IoU-like score on one class per
    anchor) the soft target is mmdet's (label, score) QFL target, and the
    normalisations are mmdet's QualityFocalLoss with the matching avg_factor."""
    from mmdet.models.losses import QualityFocalLoss
    g = torch.Generator().manual_seed(1)
    num_anchors, num_classes = 40, 3
    s = torch.randn(num_anchors, num_classes, generator=g) * 2
    labels = torch.randint(0, num_classes + 1, (num_anchors, ), generator=g)  # 3 = bg
    score = torch.rand(num_anchors, generator=g) * 0.9 + 0.05
    t = torch.full((num_anchors, num_classes), -float('inf'))
    pos = labels < num_classes
    t[pos, labels[pos]] = torch.logit(score[pos])
    dense = torch.zeros(num_anchors, num_classes)
    dense[pos, labels[pos]] = score[pos]

    def as_head(x):  # (anchors, classes) -> one level (1, classes, anchors, 1)
        return x.t().reshape(1, num_classes, num_anchors, 1)

    def ours(**kw):  # one anchor per location in this layout
        return QFLSoftTargetLoss(num_anchors=1, **kw)([as_head(s)], [as_head(t)]).item()

    qfl = QualityFocalLoss(use_sigmoid=True, beta=2.0, reduction='sum')
    assert ours(normalize='sum') == pytest.approx(qfl(s, (labels, score)).item(), rel=1e-5)
    assert ours(normalize='sum') == pytest.approx(qfl(s, dense).item(), rel=1e-5)
    mean_qfl = QualityFocalLoss(use_sigmoid=True, beta=2.0)
    ref = mean_qfl(s, (labels, score), avg_factor=max(1.0, score[pos].sum().item()))
    assert ours(normalize='target_sum') == pytest.approx(ref.item(), rel=1e-5)
    # the default: mmdet's QFL divided by the number of anchors the teacher calls
    # positive, as GFL divides by its positive anchors
    n_pos = int((pos & (score > 0.5)).sum())
    assert 0 < n_pos < int(pos.sum())
    ref = mean_qfl(s, (labels, score), avg_factor=n_pos)
    assert ours() == pytest.approx(ref.item(), rel=1e-5)


SYNTHETIC_ANCHORS = dict(type='AnchorGenerator', octave_base_scale=1.5,
                         scales_per_octave=3, ratios=[0.5, 1.0, 2.0],
                         strides=[8, 16, 32, 64, 128])


def test_qfl_soft_target_loss_hard_pos_is_the_hard_losss_avg_factor():
    """normalize='hard_pos' divides by the avg_factor mmdet's RetinaHead gives its
    classification loss on the same batch (anchors, MaxIoUAssigner, PseudoSampler)."""
    from mmdet.models.dense_heads import RetinaHead
    from mmengine.config import ConfigDict
    num_classes, size = 2, 64
    train_cfg = ConfigDict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5,
                                         neg_iou_thr=0.4, min_pos_iou=0,
                                         ignore_iof_thr=-1),
                           sampler=dict(type='PseudoSampler'), allowed_border=-1,
                           pos_weight=-1, debug=False)
    head = RetinaHead(num_classes=num_classes, in_channels=4, stacked_convs=1,
                      feat_channels=4, anchor_generator=SYNTHETIC_ANCHORS,
                      train_cfg=train_cfg)
    samples = det_samples([[[4, 6, 18, 14], [30, 30, 52, 41], [40, 8, 47, 20]],
                           [[10, 10, 34, 40]], []], size=size, labels=[[0, 1, 1], [0], []])
    sizes = [(size // st, size // st) if size >= st else (1, 1)
             for st in SYNTHETIC_ANCHORS['strides']]
    metas = [d.metainfo for d in samples]
    anchors, valid = head.get_anchors(sizes, metas, device='cpu')
    avg_factor = head.get_targets(anchors, valid, [d.gt_instances for d in samples],
                                  metas)[-1]
    g = torch.Generator().manual_seed(0)
    student = [torch.randn(3, 9 * num_classes, h, w, generator=g) for h, w in sizes]
    teacher = [torch.randn(3, 9 * num_classes, h, w, generator=g) * 2 for h, w in sizes]
    loss = QFLSoftTargetLoss(normalize='hard_pos', anchor_generator=SYNTHETIC_ANCHORS)
    assert loss.hard_positives(student, samples) == avg_factor
    assert avg_factor > len(samples)  # not just the per-image floor of 1
    total = QFLSoftTargetLoss(normalize='sum')(student, teacher).item() * 3
    assert loss(student, teacher, samples).item() == pytest.approx(total / avg_factor,
                                                                   rel=1e-5)
    # a partial anchor_generator is merged over mmdet RetinaNet's defaults
    partial = QFLSoftTargetLoss(normalize='hard_pos',
                                anchor_generator=dict(octave_base_scale=1.5))
    assert partial.hard_positives(student, samples) == avg_factor
    # mmdet's default anchors count other positives on these small boxes
    retina = QFLSoftTargetLoss(normalize='hard_pos', anchor_generator=dict())
    assert retina.hard_positives(student, samples) != avg_factor


def test_qfl_soft_target_loss_hard_pos_errors_name_the_problem():
    with pytest.raises(ValueError, match="pass the head's anchor_generator"):
        QFLSoftTargetLoss(normalize='hard_pos')
    loss = QFLSoftTargetLoss(normalize='hard_pos', anchor_generator=SYNTHETIC_ANCHORS)
    levels = [torch.zeros(1, 18, 8 // 2**i or 1, 8 // 2**i or 1) for i in range(5)]
    with pytest.raises(ValueError, match='needs the batch data_samples'):
        loss(levels, levels)
    with pytest.raises(ValueError, match='5 strides'):
        loss.hard_positives(levels[:3], det_samples([[[1, 1, 9, 9]]], size=64))
    with pytest.raises(ValueError, match='normalize must be one of'):
        QFLSoftTargetLoss(normalize='positives')


def test_qfl_soft_target_loss_names_a_class_count_mismatch():
    s, t = torch.randn(1, 9 * 4, 2, 2), torch.randn(1, 9 * 5, 2, 2)
    with pytest.raises(ValueError, match=r'9 anchors x 4 classes vs 9 x 5.*same classes'):
        QFLSoftTargetLoss()([s], [t])


# --------------------------------------------------------------------- PDF-Distil
def pdf_authors_reference(fs, ft, cs, ct, num_anchors, factor=5.0):
    """MutualGuide HintLoss(mode='pdf') on the concatenated (N, locations, C) layout."""
    n = fs[0].shape[0]
    fea_s = torch.cat([f.permute(0, 2, 3, 1).reshape(n, -1, f.shape[1]) for f in fs], 1)
    fea_t = torch.cat([f.permute(0, 2, 3, 1).reshape(n, -1, f.shape[1]) for f in ft], 1)
    k = cs[0].shape[1] // num_anchors
    conf_s = torch.cat([c.permute(0, 2, 3, 1).reshape(n, -1, k) for c in cs], 1)
    conf_t = torch.cat([c.permute(0, 2, 3, 1).reshape(n, -1, k) for c in ct], 1)
    disagree = ((conf_t.sigmoid() - conf_s.sigmoid())**2).sum(-1).unsqueeze(1).sqrt()
    disagree = F.avg_pool1d(disagree, kernel_size=num_anchors, stride=num_anchors)
    disagree = disagree.permute(0, 2, 1).expand_as(fea_t)
    weight = disagree / disagree.sum()
    return (weight * (fea_s - fea_t)**2).sum() * factor


def pdf_inputs(seed=0, n=2, a=3, k=2, c=4, sizes=((4, 4), (2, 2))):
    g = torch.Generator().manual_seed(seed)
    fs = [torch.randn(n, c, h, w, generator=g) for h, w in sizes]
    ft = [torch.randn(n, c, h, w, generator=g) for h, w in sizes]
    cs = [torch.randn(n, a * k, h, w, generator=g) for h, w in sizes]
    ct = [x + 0.01 * torch.randn(x.shape, generator=g) for x in cs]
    return fs, ft, cs, ct


def test_pdf_weights_sum_to_one_and_peak_where_predictions_disagree():
    fs, ft, cs, ct = pdf_inputs()
    ct[1][1, :, 0, 1] = -cs[1][1, :, 0, 1] + 5.0  # image 1, level 1, location (0, 1)
    loss = PDFDistilLoss(num_anchors=3)
    weights = loss.pdf_weights(cs, ct)
    assert [tuple(w.shape) for w in weights] == [(2, 1, 4, 4), (2, 1, 2, 2)]
    assert sum(w.sum() for w in weights).item() == pytest.approx(1.0, abs=1e-6)
    assert all((w >= 0).all() for w in weights)
    top = max(w.max() for w in weights)
    assert weights[1][1, 0, 0, 1] == top
    assert top > 0.5  # the one disagreeing location dominates the batch
    # the weight is each location's distance averaged over its anchors
    d = ((ct[0][0, :, 2, 3].sigmoid() - cs[0][0, :, 2, 3].sigmoid()).view(3, 2)**2
         ).sum(1).sqrt().mean()
    total = sum(((t.sigmoid() - s.sigmoid()).view(2, 3, 2, *s.shape[-2:])**2).sum(2)
                .sqrt().mean(1).sum() for s, t in zip(cs, ct))
    assert weights[0][0, 0, 2, 3].item() == pytest.approx((d / total).item(), rel=1e-5)


def test_pdf_distil_loss_equals_the_authors_code_and_formula():
    fs, ft, cs, ct = pdf_inputs(seed=3)
    got = PDFDistilLoss(num_anchors=3)(fs, ft, cs, ct)
    assert got.item() == pytest.approx(pdf_authors_reference(fs, ft, cs, ct, 3).item(),
                                       rel=1e-5)
    # equal disagreement everywhere: 5 x the plain mean squared difference
    same = [torch.zeros_like(c) for c in cs]
    flat = [torch.ones_like(c) for c in cs]
    per_loc = torch.cat([((s - t)**2).mean(1).flatten() for s, t in zip(fs, ft)])
    assert PDFDistilLoss(num_anchors=3)(fs, ft, same, flat).item() == pytest.approx(
        5.0 * per_loc.mean().item(), rel=1e-5)
    # no disagreement at all: zero, not NaN
    assert PDFDistilLoss(num_anchors=3)(fs, ft, cs, cs).item() == 0.0
    # gradients reach the student features only
    fs = [f.requires_grad_() for f in fs]
    PDFDistilLoss(num_anchors=3)(fs, ft, cs, ct).backward()
    assert all(f.grad is not None for f in fs)


def test_pdf_distil_loss_errors_name_the_problem():
    fs, ft, cs, ct = pdf_inputs()
    with pytest.raises(ValueError, match='num_anchors'):
        PDFDistilLoss(num_anchors=4)(fs, ft, cs, ct)
    with pytest.raises(ValueError, match='same classes'):
        PDFDistilLoss(num_anchors=3)(fs, ft, cs, [torch.randn(2, 9, *c.shape[-2:])
                                                  for c in ct])
    with pytest.raises(ValueError, match='connector'):
        PDFDistilLoss(num_anchors=3)([f[:, :2] for f in fs], ft, cs, ct)


# --------------------------------------------------------------------- DeFeat
def test_defeat_masks_cover_exactly_the_assigned_boxes_on_each_level():
    loss = DeFeatLoss(strides=(8, 16, 32))
    sizes = [(16, 16), (8, 8), (4, 4)]
    samples = det_samples([
        [[8, 8, 24, 24],        # 17 px: level 0 (8 px cells), cells y,x in 1..2
         [0, 0, 128, 112],      # ~121 px: level 1 (16 px cells), rows 0..6, all columns
         [120, 100, 140, 118]],  # crosses the right border: level 0, column 15, rows 12-13
        [[200, 200, 220, 220]],  # entirely outside the 128 px image: no foreground
        []])                    # no boxes: all background
    masks = loss.gt_masks(samples, sizes)
    expect = [torch.zeros(3, h, w) for h, w in sizes]
    expect[0][0, 1:3, 1:3] = 1
    expect[0][0, 12:14, 15] = 1
    expect[1][0, 0:7, 0:8] = 1
    for got, want in zip(masks, expect):
        assert torch.equal(got, want)
    assert loss._warned_outside  # the box outside the image was reported in the log


def test_defeat_loss_equals_the_authors_decoupled_formula():
    g = torch.Generator().manual_seed(0)
    sizes = [(16, 16), (8, 8), (4, 4)]
    fs = [torch.randn(2, 4, h, w, generator=g) for h, w in sizes]
    ft = [torch.randn(2, 4, h, w, generator=g) for h, w in sizes]
    samples = det_samples([[[8, 8, 40, 40]], []])
    loss = DeFeatLoss(strides=(8, 16, 32))
    out = loss(fs, ft, samples)
    masks = loss.gt_masks(samples, sizes)
    fg = bg = 0.0
    for s, t, m in zip(fs, ft, masks):  # ggjy/DeFeat.pytorch batch_processor_kd
        m = m.unsqueeze(1).repeat(1, s.shape[1], 1, 1)
        fg += (((s - t)**2) * m).sum() / max(1.0, m.sum().item() * 2)
        bg += (((s - t)**2) * (1 - m)).sum() / max(1.0, (1 - m).sum().item() * 2)
    assert out['fg'].item() == pytest.approx((3.0 * fg / 3).item(), rel=1e-5)
    assert out['bg'].item() == pytest.approx((12.0 * bg / 3).item(), rel=1e-5)
    # a batch without any box: no foreground term, a finite background one
    empty = loss(fs, ft, det_samples([[], []]))
    assert empty['fg'].item() == 0.0 and torch.isfinite(empty['bg'])


def test_defeat_loss_rejects_strides_that_do_not_fit_the_levels():
    fs = [torch.zeros(1, 2, 16, 16), torch.zeros(1, 2, 8, 8)]
    with pytest.raises(ValueError, match='set strides'):
        DeFeatLoss(strides=(4, 8))(fs, fs, det_samples([[]]))


# --------------------------------------------------------------------- study modules
def tiny_head(kind='mmkd.QFLRetinaHead', loss_cls=None):
    from mmkd.registry import MODELS
    cfg = dict(
        type=kind, num_classes=2, in_channels=8, stacked_convs=1, feat_channels=8,
        anchor_generator=dict(type='AnchorGenerator', octave_base_scale=4,
                              scales_per_octave=1, ratios=[0.5, 1.0, 2.0],
                              strides=[8, 16]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.] * 4,
                        target_stds=[1.] * 4),
        loss_bbox=dict(type='BalancedL1Loss', alpha=0.5, gamma=1.5, beta=0.11),
        train_cfg=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5,
                                     neg_iou_thr=0.4, min_pos_iou=0, ignore_iof_thr=-1),
                       sampler=dict(type='PseudoSampler'), allowed_border=-1,
                       pos_weight=-1, debug=False),
        test_cfg=dict(nms_pre=100, min_bbox_size=0, score_thr=0.0,
                      nms=dict(type='nms', iou_threshold=0.5), max_per_img=10))
    if loss_cls:
        cfg['loss_cls'] = loss_cls
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def test_qfl_retina_head_targets_the_iou_of_the_predicted_box():
    from mmdet.structures.bbox import bbox_overlaps
    head = tiny_head()
    seen = []  # the (labels, score) target the head gives mmdet's QualityFocalLoss
    head.loss_cls.register_forward_hook(lambda m, args, out: seen.append(args[1]))
    feats = [torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)]
    cls_scores, bbox_preds = head(feats)
    gt = torch.tensor([[6., 10., 38., 34.]])
    sample = det_samples([gt.tolist()], size=64, labels=[[1]])[0]
    losses = head.loss_by_feat(cls_scores, bbox_preds, [sample.gt_instances],
                               [sample.metainfo])
    anchors = head.prior_generator.grid_priors([f.shape[-2:] for f in feats], device='cpu')
    npos = 0
    for (labels, score), pred, anc in zip(seen, bbox_preds, anchors):
        pos = labels < 2
        npos += int(pos.sum())
        assert (labels[pos] == 1).all() and (score[~pos] == 0).all()
        deltas = pred.permute(0, 2, 3, 1).reshape(-1, 4)[pos]
        boxes = head.bbox_coder.decode(anc[pos], deltas)
        ref = bbox_overlaps(boxes, gt.expand(len(boxes), 4), is_aligned=True)
        assert torch.allclose(score[pos], ref, atol=1e-6)
    assert npos > 0
    assert all(torch.isfinite(v).all() for vs in losses.values() for v in vs)
    # no ground truth in the image: all anchors negative, finite losses
    seen.clear()
    empty = det_samples([[]], size=64)[0]
    losses = head.loss_by_feat(cls_scores, bbox_preds, [empty.gt_instances],
                               [empty.metainfo])
    assert all(torch.isfinite(v).all() for vs in losses.values() for v in vs)
    assert sum(float(v) for v in losses['loss_bbox']) == 0.0


def test_qfl_retina_head_is_a_retina_head_at_inference_and_checks_its_loss():
    qfl_head = tiny_head()
    plain = tiny_head('RetinaHead', loss_cls=dict(type='FocalLoss', use_sigmoid=True))
    plain.load_state_dict(qfl_head.state_dict(), strict=True)
    feats = [torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)]
    for a, b in zip(qfl_head(feats), plain(feats)):
        assert all(torch.equal(x, y) for x, y in zip(a, b))
    with pytest.raises(ValueError, match='QualityFocalLoss'):
        tiny_head(loss_cls=dict(type='FocalLoss', use_sigmoid=True))


def test_resnet_without_max_pool_and_context_enhancement():
    from mmdet.models.backbones import ResNet

    from mmkd.models.det import ContextEnhancement, ResNetNoMaxPool
    net = ResNetNoMaxPool(depth=18)
    assert set(net.state_dict()) == set(ResNet(depth=18).state_dict())
    outs = net(torch.randn(2, 3, 64, 64))
    assert [o.shape[-1] for o in outs] == [32, 16, 8, 4]  # strides 2, 4, 8, 16
    cem = ContextEnhancement([64, 128, 256, 512], out_channels=16, in_indices=(2, 3),
                             num_outs=4)
    pyramid = cem(outs)
    assert [tuple(p.shape) for p in pyramid] == [(2, 16, 8, 8), (2, 16, 4, 4),
                                                 (2, 16, 2, 2), (2, 16, 1, 1)]
    with pytest.raises(ValueError, match='in_indices'):
        ContextEnhancement([64, 128, 256, 512], in_indices=(2, 7))


# --------------------------------------------------------------------- synthetic data
def test_synthetic_det_is_deterministic_paired_coco(tmp_path):
    from mmkd.testing.synthetic_det import CLASSES, make_synthetic_det
    a = make_synthetic_det(str(tmp_path / 'a'), num_train=3, num_val=1, size=96, seed=5)
    b = make_synthetic_det(str(tmp_path / 'b'), num_train=3, num_val=1, size=96, seed=5)
    for rel in ('annotations/train.json', 'optical/train/000002.png',
                'infrared/train/000002.png'):
        assert open(osp.join(a, rel), 'rb').read() == open(osp.join(b, rel), 'rb').read()
    coco = json.load(open(osp.join(a, 'annotations', 'train.json')))
    assert [c['name'] for c in coco['categories']] == list(CLASSES)
    assert 'synthetic' in coco['info']['description']
    assert coco['annotations']
    for img in coco['images']:
        for m in ('optical', 'infrared'):
            assert osp.isfile(osp.join(a, m, img['file_name']))
    for ann in coco['annotations']:
        x, y, w, h = ann['bbox']
        assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= 96 and y + h <= 96
    # mmdet reads it with the benchmark's dataset config
    from mmdet.registry import DATASETS
    cfg = Config.fromfile(osp.join(CFG, '_base_', 'synthetic_det.py'))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = a
    ds = DATASETS.build(ds_cfg)
    assert len(ds) == 3
    item = ds[0]
    n = sum(1 for ann in coco['annotations'] if ann['image_id'] == 0)
    assert len(item['data_samples'].gt_instances) == n


def test_synthetic_det_default_style_is_unchanged(tmp_path):
    """The default (aerial) scenes are those written before styles existed: the same
    stamp name (existing caches stay valid), annotation bytes and boxes."""
    import hashlib

    from mmkd.testing.synthetic_det import _scene_rng, make_synthetic_det, render_scene
    root = make_synthetic_det(str(tmp_path / 'a'), num_train=3, num_val=1, size=96, seed=5)
    assert osp.isfile(osp.join(root, '.complete-3-1-96-5-6'))
    digest = hashlib.sha256(open(osp.join(root, 'annotations', 'train.json'), 'rb').read())
    assert digest.hexdigest() == ('8bc79d3dff5b48d84b5a17c71a374a57'
                                  '2971f88609e24ad687929d8ddab73123')
    again = make_synthetic_det(str(tmp_path / 'b'), 3, 1, 96, 5, style='aerial')
    assert sorted(f for f in os.listdir(again) if f.startswith('.')) == [
        '.complete-3-1-96-5-6']
    boxes = [(n, [round(v, 2) for v in b])
             for n, b in render_scene(_scene_rng(0, 'train', 1), 128)[2]]
    assert boxes[:3] == [('car', [9.74, 32.67, 22.5, 44.74]),
                         ('car', [67.25, 97.39, 83.33, 109.65]),
                         ('plane', [80.63, 100.87, 101.95, 124.4])] and len(boxes) == 6


def long_sides(size, scenes=100, style='aerial'):
    """Per generated training scene of ``style`` at ``size`` px: its boxes' longer
    sides as fractions of the side."""
    from mmkd.testing.synthetic_det import _scene_rng, render_scene
    return [[max(b[2] - b[0], b[3] - b[1]) / size
             for _, b in render_scene(_scene_rng(0, 'train', i), size, style=style)[2]]
            for i in range(scenes)]


@pytest.mark.parametrize('size', [96, 128, 256])
def test_generic_scenes_hold_one_to_three_large_objects(size):
    """'generic': 1-3 objects per scene, each box 25-70 % of the side along its long
    axis (the object's length, up to its rotated extent); the aerial objects are all
    below that range."""
    scenes = long_sides(size, style='generic')
    counts = [len(s) for s in scenes]
    assert set(counts) == {1, 2, 3}
    sides = [x for s in scenes for x in s]
    assert min(sides) >= 0.24 and max(sides) <= 0.76
    assert 0.3 < statistics.median(sides) < 0.5
    aerial = [x for s in long_sides(size, scenes=30) for x in s]
    assert max(aerial) < 0.24 and max(len(s) for s in long_sides(size, 30)) > 3


def test_generic_scenes_are_written_under_their_own_stamp(tmp_path):
    from mmkd.testing.synthetic_det import make_synthetic_det
    root = make_synthetic_det(str(tmp_path / 'g'), num_train=2, num_val=1, size=64,
                              seed=5, style='generic')
    assert osp.isfile(osp.join(root, '.complete-2-1-64-5-3-generic'))
    coco = json.load(open(osp.join(root, 'annotations', 'train.json')))
    assert coco['info']['style'] == 'generic'
    assert all(max(a['bbox'][2:]) >= 0.24 * 64 for a in coco['annotations'])
    with pytest.raises(ValueError, match="style 'voc': one of"):
        make_synthetic_det(str(tmp_path / 'v'), 1, 1, 64, style='voc')


def best_anchor_ious(anchor_cfg, size, scenes=60, style='aerial'):
    """Each box of generated training scenes at ``size`` px: its best IoU with the
    anchors of ``anchor_cfg`` (mmdet's AnchorGenerator and bbox_overlaps)."""
    from mmdet.registry import TASK_UTILS
    from mmdet.structures.bbox import bbox_overlaps

    from mmkd.testing.synthetic_det import _scene_rng, render_scene
    gen = TASK_UTILS.build(anchor_cfg)
    sizes = [(math.ceil(size / h), math.ceil(size / w)) for w, h in gen.strides]
    anchors = torch.cat(gen.grid_priors(sizes, device='cpu'))
    boxes = [b for i in range(scenes)
             for _, b in render_scene(_scene_rng(0, 'train', i), size, style=style)[2]]
    return bbox_overlaps(torch.tensor(boxes), anchors).max(1).values


def test_synthetic_det_anchors_fit_its_objects_and_teacher_and_student_share_them():
    """The benchmark's objects (10-28 px at 128 px) mostly have an anchor the assigner
    takes as positive (IoU >= 0.5) with the shipped anchors; with mmdet's RetinaNet
    anchors (smallest 32 px) few do."""
    shipped = Config.fromfile(osp.join(CFG, '_base_', 'synthetic_det.py'))
    shipped = shipped.synthetic_det_anchor_generator.to_dict()
    assert shipped == SYNTHETIC_ANCHORS
    for student, teacher in [
            ('retinanet_r18-fpn_synthetic-det.py',
             'retinanet_r50-pafpn_synthetic-det_teacher.py'),
            ('study/retinanet_r18-fpn-study_synthetic-det.py',
             'study/retinanet_r50-pafpn-study_synthetic-det_teacher.py'),
            ('cross_modal/retinanet_r18-fpn_synthetic-det-infrared.py',
             'retinanet_r50-pafpn_synthetic-det_teacher.py')]:
        s = Config.fromfile(osp.join(CFG, student)).model.bbox_head.anchor_generator
        t = Config.fromfile(osp.join(CFG, teacher)).model.bbox_head.anchor_generator
        assert s.to_dict() == t.to_dict() == shipped, student
    fit = best_anchor_ious(shipped, 128)
    assert len(fit) > 150
    assert (fit >= 0.5).float().mean() > 0.7
    assert (fit >= 0.4).float().mean() > 0.9
    default = best_anchor_ious(dict(shipped, octave_base_scale=4), 128)
    assert (default >= 0.5).float().mean() < 0.3


def test_generic_configs_read_the_generic_scenes_with_mmdets_default_anchors():
    """The generic grid (configs/det_kd/generic/): teacher, student and every cell's
    pair read data/synthetic_det_generic with octave_base_scale 4, which gives every
    generic box a positive anchor (IoU >= 0.5); the aerial anchors (1.5) fit them
    worse."""
    root = 'data/synthetic_det_generic/'
    anchors = None
    for name in ('retinanet_r50-pafpn_synthetic-det-generic_teacher.py',
                 'retinanet_r18-fpn_synthetic-det-generic.py',
                 'kd_hard+pdf_r50-pafpn_r18-fpn_synthetic-det-generic.py',
                 'kd_hard+mse_r50-pafpn_r18-fpn_synthetic-det-generic.py',
                 'kd_soft_r50-pafpn_r18-fpn_synthetic-det-generic.py'):
        cfg = Config.fromfile(osp.join(CFG, 'generic', name))
        for split in ('train', 'val', 'test'):
            assert cfg[f'{split}_dataloader'].dataset.data_root == root, (name, split)
        assert cfg.test_evaluator.ann_file == root + 'annotations/val.json', name
        models = [cfg.model.student, Config.fromfile(cfg.model.teacher.model).model] \
            if name.startswith('kd_') else [cfg.model]
        for m in models:
            got = m.bbox_head.anchor_generator.to_dict()
            assert got == dict(SYNTHETIC_ANCHORS, octave_base_scale=4), name
            anchors = got
    fit = best_anchor_ious(anchors, 128, style='generic')
    aerial = best_anchor_ious(SYNTHETIC_ANCHORS, 128, style='generic')
    assert len(fit) > 80 and (fit >= 0.5).float().mean() > 0.97
    assert fit.median() > aerial.median() + 0.05
    assert (aerial >= 0.5).float().mean() < (fit >= 0.5).float().mean()


# --------------------------------------------------------------------- configs
def all_det_configs():
    return sorted(glob.glob(osp.join(CFG, '**', '*.py'), recursive=True))


def test_det_kd_configs_parse_and_the_grid_is_complete():
    names = [osp.relpath(p, CFG) for p in all_det_configs()]
    for prefix, suffix in (('', 'r50-pafpn_r18-fpn_synthetic-det'),
                           ('study/', 'r50-pafpn_r18-fpn-study_synthetic-det'),
                           ('voc/', 'r50-pafpn_r18-fpn_voc0712')):
        for cell in CELLS:
            assert f'{prefix}kd_{cell}_{suffix}.py' in names
    for cell in OTHER_CELLS:
        assert f'kd_{cell}_r50-pafpn_r18-fpn_synthetic-det.py' in names
    # each cell is one method base (_base_/methods/<cell>.py) that every folder's leaf
    # moves into its distiller (model = _base_.pop('method'))
    methods = {cell: Config.fromfile(osp.join(CFG, '_base_', 'methods', f'{cell}.py'))
               .method.to_dict() for cell in CELLS + OTHER_CELLS}
    for path in all_det_configs():
        if '_base_' in path:
            continue
        cfg = Config.fromfile(path)
        assert cfg.default_scope == 'mmdet', path
        # the bases' helper keys are popped, not left in the merged config
        assert 'method' not in cfg and 'taps' not in cfg, path
        name = osp.basename(path)
        if not name.startswith('kd_'):
            assert cfg.model.backbone.init_cfg is None, path  # nothing to download
            continue
        model = cfg.model
        assert model.type == 'mmkd.Distiller'
        cell = name.split('_')[1]
        for key, value in methods[cell].items():
            assert model[key].to_dict() == value, (path, key)
        assert set(model.taps) == {'s_cls', 't_cls'} | {
            f'{r}_p{lvl}' for r in 'st' for lvl in range(3, 8)}, path
        soft = cell.startswith('soft')
        # soft cells drop the hard classification loss on the distiller, not in the
        # student config (which the exported student keeps)
        assert model.student.bbox_head.loss_cls.loss_weight == 1.0
        dropped = model.get('student_loss_weight', 1.0)
        assert (dropped == dict(loss_cls=0.)) == soft, path
        assert ('soft' in model.losses) == ('soft' in cell), path
        feature = cell.split('+')[1] if '+' in cell and cell != 'hard+soft' else None
        adapted = feature in ('mse', 'pdf', 'defeat')
        assert len(model.get('connectors', {})) == (5 if adapted else 0), path
        if feature == 'mse':
            weights = [model.losses[f'mse_p{lvl}'].loss_weight for lvl in range(3, 8)]
            assert sum(weights) == pytest.approx(5.0)
            assert weights[0] / weights[1] == pytest.approx(4.0)


# --------------------------------------------------------------------- distiller runs
def save_teacher(cfg_path, path, **overrides):
    from mmkd.models.distillers import build_model
    cfg = Config.fromfile(cfg_path)
    for k, v in overrides.items():
        node = cfg.model
        keys = k.split('.')
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = v
    torch.manual_seed(0)
    model, _, _ = build_model(cfg.model, 'test teacher')  # torch's default init will do
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def test_class_count_mismatch_between_teacher_and_student_is_named(tmp_path):
    from mmkd.registry import MODELS
    student_cfg = osp.join(CFG, 'retinanet_r18-fpn_synthetic-det.py')
    ckpt = save_teacher(student_cfg, str(tmp_path / 't.pth'),
                        **{'bbox_head.num_classes': 5})
    cfg = Config.fromfile(osp.join(CFG, 'kd_hard+soft_r50-pafpn_r18-fpn_synthetic-det.py'))
    teacher = Config.fromfile(student_cfg).model
    teacher.bbox_head.num_classes = 5
    cfg.model.teacher = dict(model=teacher.to_dict(), checkpoint=ckpt)
    distiller = MODELS.build(cfg.model)
    distiller.train()
    samples = det_samples([[[8, 8, 40, 40]], [[50, 60, 90, 100]]])
    with pytest.raises(ValueError, match='4 classes vs 9 x 5'):
        distiller.loss(torch.randn(2, 3, 128, 128), samples)


def test_study_cell_computes_its_losses(tmp_path):
    """A cell of the study grid: no-max-pool backbones, context-enhancement necks (taps
    index the Sequential neck's output), QFL-IoU heads, soft targets and PDF-Distil."""
    from mmkd.registry import MODELS
    ckpt = save_teacher(
        osp.join(CFG, 'study', 'retinanet_r50-pafpn-study_synthetic-det_teacher.py'),
        str(tmp_path / 't.pth'))
    cfg = Config.fromfile(
        osp.join(CFG, 'study', 'kd_soft+pdf_r50-pafpn_r18-fpn-study_synthetic-det.py'))
    cfg.model.teacher.checkpoint = ckpt
    torch.manual_seed(0)
    distiller = MODELS.build(cfg.model)
    assert type(distiller.student.bbox_head).__name__ == 'QFLRetinaHead'
    distiller.train()
    with torch.no_grad():  # the forward is what is checked here; training: below
        losses = distiller.loss(torch.randn(2, 3, 64, 64),
                                det_samples([[[8, 8, 40, 40]], []], size=64))
    assert {'loss_soft', 'loss_pdf', 'student.loss_cls',
            'student.loss_bbox'} <= set(losses)
    # soft cell: the hard classification loss is weighted 0 on the distiller
    assert sum(float(v) for v in losses['student.loss_cls']) == 0.0
    assert all(math.isfinite(float(v)) for k, v in losses.items() if k.startswith('loss_'))


@pytest.mark.parametrize('cell', OTHER_CELLS)
def test_other_feature_loss_cells_compute_their_losses(cell, tmp_path):
    """CWD, PKD, MGD and FGD in the distiller on the synthetic pair: each cell's losses
    are computed on a batch (FGD reads the boxes), finite, and train the student and the
    losses' own layers, never the teacher."""
    from mmkd.registry import MODELS
    ckpt = save_teacher(osp.join(CFG, 'retinanet_r50-pafpn_synthetic-det_teacher.py'),
                        str(tmp_path / 't.pth'))
    cfg = Config.fromfile(osp.join(CFG, f'kd_{cell}_r50-pafpn_r18-fpn_synthetic-det.py'))
    cfg.model.teacher.checkpoint = ckpt
    torch.manual_seed(0)
    distiller = MODELS.build(cfg.model)
    distiller.train()
    losses = distiller.loss(torch.randn(2, 3, 64, 64),
                            det_samples([[[8, 8, 40, 40]], []], size=64))
    name = cell.split('+')[1].split('-')[0]  # hard+mgd-area: MGD's losses, other alpha
    ours = {k: v for k, v in losses.items() if k.startswith(f'loss_{name}')}
    expect = {'cwd': {'loss_cwd'}, 'pkd': {'loss_pkd'},
              'mgd': {f'loss_mgd_p{lvl}' for lvl in range(3, 8)},
              'fgd': {f'loss_fgd_p{lvl}.{term}' for lvl in range(3, 8)
                      for term in ('fg', 'bg', 'attention', 'global')}}[name]
    assert set(ours) == expect
    assert all(torch.isfinite(v).all() for v in ours.values())
    sum(ours.values()).backward()
    assert all(p.grad is None for t in distiller.teachers.values() for p in t.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in distiller.student.neck.parameters())
    for pname, p in distiller.losses.named_parameters():
        assert p.grad is not None, pname


def run_tool(args, cwd, env=None, timeout=300):
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
    proc = subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


def test_kd_run_exports_a_plain_retinanet_that_mmdet_tests_alone(tmp_path):
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from mmkd.testing import make_synthetic_det
    data = make_synthetic_det(str(tmp_path / 'data'), num_train=4, num_val=2, size=64,
                              seed=3)
    teacher = save_teacher(osp.join(CFG, 'retinanet_r50-pafpn_synthetic-det_teacher.py'),
                           str(tmp_path / 'teacher.pth'))
    cfg = Config.fromfile(osp.join(CFG, 'kd_hard+pdf_r50-pafpn_r18-fpn_synthetic-det.py'))
    opts = {'model.teacher.checkpoint': teacher,
            'val_evaluator.ann_file': osp.join(data, 'annotations', 'val.json'),
            'test_evaluator.ann_file': osp.join(data, 'annotations', 'val.json'),
            'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 2,  # no validation
            'default_hooks.checkpoint.interval': 1,
            'randomness.seed': 0}
    for split in ('train', 'val', 'test'):
        opts.update({f'{split}_dataloader.dataset.data_root': data,
                     f'{split}_dataloader.batch_size': 2,
                     f'{split}_dataloader.num_workers': 0,
                     f'{split}_dataloader.persistent_workers': False})
    opts['train_dataloader.dataset.pipeline.2.scale'] = (64, 64)
    opts['val_dataloader.dataset.pipeline.1.scale'] = (64, 64)
    opts['test_dataloader.dataset.pipeline.1.scale'] = (64, 64)
    cfg.merge_from_dict(opts)
    cfg.work_dir = str(tmp_path / 'kd')
    runner = Runner.from_cfg(cfg)

    class SnapshotConnectors(Hook):  # their weights once initialised, before training
        def before_train(self, runner):
            self.weights = {k: v.clone() for k, v in
                            runner.model.connectors.state_dict().items()}

    snapshot = SnapshotConnectors()
    runner.register_hook(snapshot)
    runner.train()

    distiller = runner.model
    in_optim = {id(p) for g in runner.optim_wrapper.optimizer.param_groups
                for p in g['params']}
    assert all(id(p) in in_optim for p in distiller.connectors.parameters())
    trained = distiller.connectors.state_dict()
    assert all(not torch.equal(w, trained[k]) for k, w in snapshot.weights.items()
               if k.endswith('weight'))  # the adaptation convs are trained ...
    ckpt = torch.load(tmp_path / 'kd' / 'epoch_1.pth', map_location='cpu',
                      weights_only=False)['state_dict']
    assert all(torch.equal(ckpt[f'connectors.{k}'], v) for k, v in trained.items())
    student_dir = tmp_path / 'kd' / 'student'
    exported = torch.load(student_dir / 'student.pth', weights_only=True)['state_dict']
    # ... with the distillation checkpoint, and dropped from the exported student
    assert not any(k.startswith(('connectors.', 'student.', 'teacher')) for k in exported)
    for k, v in distiller.student.state_dict().items():
        assert torch.equal(exported[k], v.cpu())
    text = (student_dir / 'student_config.py').read_text()
    assert 'mmkd' not in text and "default_scope = 'mmdet'" in text

    img = osp.join(data, 'optical', 'val', '000000.png')
    script = f"""
import sys
from mmengine.config import Config
from mmengine.runner import Runner
from mmdet.apis import inference_detector, init_detector
cfg_path = {str(student_dir / 'student_config.py')!r}
ckpt = {str(student_dir / 'student.pth')!r}
model = init_detector(cfg_path, ckpt, device='cpu')
model.test_cfg.score_thr = 0.0
result = inference_detector(model, {img!r})
cfg = Config.fromfile(cfg_path)
cfg.model.test_cfg.score_thr = 0.0  # two iterations of training: keep every box
cfg.work_dir = {str(tmp_path / 'mmdet_test')!r}
cfg.load_from = ckpt
metrics = Runner.from_cfg(cfg).test()
assert 'mmkd' not in sys.modules, 'mmkd was imported'
print('MODEL', type(model).__name__, type(model.bbox_head).__name__)
print('BOXES', len(result.pred_instances), 'METRICS', sorted(metrics))
"""
    out = run_tool([sys.executable, '-c', script], cwd=str(tmp_path),
                   env={'PYTHONPATH': '', 'OMP_NUM_THREADS': '1'})
    assert 'MODEL RetinaNet RetinaHead' in out
    assert 'coco/bbox_mAP' in out
