"""DeFeat: FPN feature imitation with decoupled foreground and background terms."""
import math
from typing import List, Optional, Sequence

import torch
from mmengine.logging import print_log

from mmkd.registry import MODELS
from .base import DistillLoss


@MODELS.register_module()
class DeFeatLoss(DistillLoss):
    r"""Decoupled feature imitation on every FPN level, with ground-truth masks.

    Guo, Han, Wang, Wu, Chen, Xu, Xu. *Distilling Object Detectors via Decoupled
    Features*. CVPR 2021, arXiv:2103.14475.

    Each ground-truth box is assigned to one pyramid level by its size (as RoIs are in
    FPN detectors), :math:`k = \mathrm{clamp}(\lfloor \log_2(\sqrt{(w+1)(h+1)}/s_0 +
    10^{-6}) \rfloor, 0, L-1)` with :math:`s_0` ``finest_scale``, and marks the cells it
    covers on that level's grid, :math:`[\lfloor x_1/S_k \rfloor, \min(\lfloor x_2/S_k
    \rfloor, W_k))` by the same in :math:`y` (a box thinner than a cell marks one cell),
    giving the foreground mask :math:`M_k` (1 inside any assigned box, 0 elsewhere).
    With :math:`D_k = (r(F^S_k) - F^T_k)^2` (student features through the adaptation
    conv :math:`r`, an mmkd ``ConvConnector(kernel_size=3)`` per level):

    .. math::
        L_{fg} = \frac{\lambda_{fg}}{L} \sum_{k} \frac{\sum M_k D_k}
                                                  {\max(1, 2 \sum M_k)}, \qquad
        L_{bg} = \frac{\lambda_{bg}}{L} \sum_{k} \frac{\sum (1 - M_k) D_k}
                                                  {\max(1, 2 \sum (1 - M_k))}

    where the sums run over images, channels and positions (the mask repeated over
    channels). Returned as ``dict(fg=..., bg=...)``, logged as ``loss_<name>.fg`` and
    ``loss_<name>.bg``.

    Reduction: per level, the foreground and background squared differences are each
    summed and divided by twice their element counts; the levels are averaged. This is
    numerically the authors' code, ``ggjy/DeFeat.pytorch``: ``mmdet/apis/train.py``
    ``batch_processor_kd`` with ``hint_adapt.type='neck-adapt,neck-decouple,
    mask-neck-gt,pixel-wise'`` and the masks of ``AnchorHead.get_gt_mask``
    (``mmdet/models/dense_heads/anchor_head.py``, ``imit_range`` 0).

    Authors' defaults (``configs/kd_faster_rcnn/voc_stu_faster_rcnn_r50_decouple_neck
    .py``, their only public distillation config): :math:`\lambda_{fg} = 3`
    (``hint_neck_w``), :math:`\lambda_{bg} = 12` (``hint_neck_back_w``), :math:`s_0 =
    56`, one 3x3 adaptation conv per level, no coefficient decay. Their classification
    KD terms (``head_cls_*``) are for the R-CNN head and are not part of this loss.

    Boxes are read from ``data_samples[i].gt_instances.bboxes`` in the coordinates of
    the padded batch. Handling of bad boxes, which the authors' code does not check:
    parts of a box outside the image are cut off by the grid; a box entirely outside the
    image marks nothing and is reported once in the log; an image without boxes is all
    background.

    Args:
        strides (Sequence[int]): Strides of the pyramid levels, finest first, as the
            detector's anchor generator has them. Defaults to RetinaNet's
            ``(8, 16, 32, 64, 128)``.
        fg_weight (float): :math:`\lambda_{fg}`. Defaults to 3.0.
        bg_weight (float): :math:`\lambda_{bg}`. Defaults to 12.0.
        finest_scale (float): :math:`s_0`. Defaults to 56.
        loss_weight (float): Multiplier of both terms. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = True

    def __init__(self, strides: Sequence[int] = (8, 16, 32, 64, 128),
                 fg_weight: float = 3.0, bg_weight: float = 12.0,
                 finest_scale: float = 56.0, loss_weight: float = 1.0):
        super().__init__()
        self.strides = tuple(int(s) for s in strides)
        self.fg_weight = fg_weight
        self.bg_weight = bg_weight
        self.finest_scale = finest_scale
        self.loss_weight = loss_weight
        self._warned_outside = False

    # ------------------------------------------------------------------ masks
    def level_of(self, boxes: torch.Tensor, num_levels: int) -> torch.Tensor:
        """The pyramid level each ``(x1, y1, x2, y2)`` box is assigned to."""
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        scale = torch.sqrt((w + 1) * (h + 1))
        lvl = torch.floor(torch.log2(scale / self.finest_scale + 1e-6))
        return lvl.clamp(min=0, max=num_levels - 1).long()

    @torch.no_grad()
    def gt_masks(self, data_samples, sizes: Sequence[Sequence[int]],
                 device=None) -> List[torch.Tensor]:
        """Foreground masks, one ``(N, H_k, W_k)`` float tensor per level."""
        if len(sizes) > len(self.strides):
            raise ValueError(f'DeFeatLoss: {len(sizes)} pyramid levels but strides='
                             f'{self.strides}; give one stride per level')
        masks = [torch.zeros(len(data_samples), h, w, device=device) for h, w in sizes]
        outside = 0
        for i, sample in enumerate(data_samples):
            boxes = _boxes_of(sample).to(device=device, dtype=torch.float32)
            if boxes.numel() == 0:
                continue
            levels = self.level_of(boxes, len(sizes))
            for box, k in zip(boxes.tolist(), levels.tolist()):
                h, w = sizes[k]
                s = self.strides[k]
                x1, y1, x2, y2 = box
                if x2 <= 0 or y2 <= 0 or x1 >= w * s or y1 >= h * s or \
                        x2 <= x1 or y2 <= y1:
                    outside += 1
                    continue
                # int() truncates toward zero like the authors' code; the clamps keep
                # boxes that cross the image border on the grid
                lx, ly = max(int(x1 / s), 0), max(int(y1 / s), 0)
                rx, ry = min(int(x2 / s), w), min(int(y2 / s), h)
                if lx == rx or ly == ry:
                    masks[k][i, min(ly, h - 1), min(lx, w - 1)] = 1
                else:
                    masks[k][i, ly:ry, lx:rx] = 1
        if outside and not self._warned_outside:
            print_log(f'DeFeatLoss: {outside} ground-truth box(es) in this batch lie '
                      f'entirely outside the image (or are empty) and mark no foreground; '
                      f'check the annotations (reported once)', logger='current',
                      level=30)
            self._warned_outside = True
        return masks

    def _check_strides(self, data_samples, sizes) -> None:
        meta = data_samples[0].metainfo if data_samples else {}
        shape = meta.get('batch_input_shape') or meta.get('pad_shape') or \
            meta.get('img_shape')
        if not shape:
            return
        for k, (h, w) in enumerate(sizes):
            s = self.strides[k]
            expect = math.ceil(shape[0] / s), math.ceil(shape[1] / s)
            if abs(expect[0] - h) > 1 or abs(expect[1] - w) > 1:
                raise ValueError(
                    f'DeFeatLoss: level {k} is {h}x{w} but an input of {shape[0]}x'
                    f'{shape[1]} at stride {self.strides[k]} gives {expect[0]}x'
                    f'{expect[1]}; set strides to the neck\'s output strides (the anchor '
                    f'generator\'s), finest first; they are {self.strides}')

    # ------------------------------------------------------------------ loss
    def forward(self, student: Sequence[torch.Tensor], teacher: Sequence[torch.Tensor],
                data_samples: Optional[list] = None) -> dict:
        """Adapted student and teacher FPN features (one tensor per level) and the
        batch's data samples (their ground-truth boxes)."""
        student = [student] if isinstance(student, torch.Tensor) else list(student)
        teacher = [teacher] if isinstance(teacher, torch.Tensor) else list(teacher)
        if data_samples is None:
            raise ValueError('DeFeatLoss needs the batch data_samples (their '
                             'ground-truth boxes)')
        if len(student) != len(teacher):
            raise ValueError(f'DeFeatLoss: {len(student)} student levels and '
                             f'{len(teacher)} teacher levels')
        for k, (s, t) in enumerate(zip(student, teacher)):
            if s.shape != t.shape:
                raise ValueError(f'DeFeatLoss: level {k} student feature {tuple(s.shape)}'
                                 f' vs teacher {tuple(t.shape)}; adapt the student with a'
                                 f' connector to the teacher\'s shape')
        sizes = [tuple(s.shape[-2:]) for s in student]
        if len(sizes) > len(self.strides):
            raise ValueError(f'DeFeatLoss: {len(sizes)} pyramid levels but strides='
                             f'{self.strides}; give one stride per level')
        self._check_strides(data_samples, sizes)
        masks = self.gt_masks(data_samples, sizes, device=student[0].device)
        fg = bg = 0.
        for s, t, m in zip(student, teacher, masks):
            d = (s.float() - t.float()).pow(2)
            m = m.unsqueeze(1)
            channels = d.shape[1]
            fg_count = m.sum() * channels
            bg_count = (1 - m).sum() * channels
            fg = fg + (d * m).sum() / (2 * fg_count).clamp(min=1.0)
            bg = bg + (d * (1 - m)).sum() / (2 * bg_count).clamp(min=1.0)
        n = len(student)
        return dict(fg=self.loss_weight * self.fg_weight * fg / n,
                    bg=self.loss_weight * self.bg_weight * bg / n)


def _boxes_of(sample) -> torch.Tensor:
    """``(K, 4)`` ground-truth boxes of a data sample (mmdet ``DetDataSample``)."""
    gt = getattr(sample, 'gt_instances', None)
    if gt is None or 'bboxes' not in gt:
        return torch.zeros(0, 4)
    boxes = gt.bboxes
    boxes = getattr(boxes, 'tensor', boxes)  # mmdet box types wrap a tensor
    return boxes.reshape(-1, 4)
