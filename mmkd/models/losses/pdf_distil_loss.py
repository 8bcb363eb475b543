"""PDF-Distil: feature imitation weighted by teacher-student prediction disagreement."""
from typing import List, Sequence

import torch

from mmkd.registry import MODELS
from .base import DistillLoss
from .head_checks import check_same_classes


@MODELS.register_module()
class PDFDistilLoss(DistillLoss):
    r"""Prediction-disagreement-weighted feature imitation over FPN levels.

    Zhang, Fromont, Lefèvre, Avignon. *PDF-Distil: including Prediction Disagreements in
    Feature-based Distillation for object detection*. BMVC 2021.

    For every image :math:`n` and location :math:`l` of every pyramid level, the
    disagreement is the Euclidean distance between the teacher's and the student's
    sigmoid class-score vectors, averaged over the :math:`A` anchors of the location; the
    weights normalise it over the whole batch (all images, levels and locations):

    .. math::
        d_{n,l} = \frac{1}{A} \sum_{a=1}^{A}
            \Big\| \sigma(z^T_{n,l,a}) - \sigma(z^S_{n,l,a}) \Big\|_2, \qquad
        w_{n,l} = \frac{d_{n,l}}{\sum_{n',l'} d_{n',l'}}

    .. math::
        L = \lambda \sum_{n,l} w_{n,l}\, \frac{1}{C} \sum_{c=1}^{C}
            \big( r(F^S)_{n,c,l} - F^T_{n,c,l} \big)^2

    with :math:`F^S, F^T` the student's and teacher's FPN features (the student's through
    the adaptation conv :math:`r`, an mmkd ``ConvConnector(kernel_size=3)`` per level),
    :math:`z^S, z^T` their classification logits (taps on ``bbox_head.retina_cls``,
    ``(N, A*K, H, W)`` per level, anchors outermost as in mmdet). The weights carry no
    gradient. Since :math:`\sum w = 1`, the loss is a weighted mean of the per-location
    squared feature difference; with equal disagreement everywhere it is the plain MSE.

    Reduction: weighted sum over images, levels and locations, mean over channels.
    This is numerically the authors' code: ``zhanghengdev/MutualGuide``,
    ``utils/loss/hint_loss.py`` at commit 28705e1 (the BMVC-era version), ``HintLoss``
    with ``mode='pdf'``, ``multi_anchor=True`` (``avg_pool1d`` over each location's
    anchors), whose weights, expanded over channels, sum to one over the batch.
    Where every disagreement is zero (identical predictions) the weights are zero and so
    is the loss (the authors' code divides by zero there).

    Authors' defaults: factor :math:`\lambda = 5` (``loss_weight=5.0``), adaptation
    layer a 3x3 conv per level on the student's neck outputs (MutualGuide's
    ``dist_layers``), teacher features the teacher's neck outputs. The authors' detector
    has 6 anchors per location; mmdet's RetinaNet has 9 (``num_anchors``).

    Args:
        num_anchors (int): Anchors per location in the classification output.
            Defaults to 9 (mmdet RetinaNet).
        loss_weight (float): :math:`\lambda`. Defaults to 5.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self, num_anchors: int = 9, loss_weight: float = 5.0):
        super().__init__()
        if num_anchors < 1:
            raise ValueError(f'PDFDistilLoss num_anchors must be >= 1, got {num_anchors}')
        self.num_anchors = num_anchors
        self.loss_weight = loss_weight

    @torch.no_grad()
    def pdf_weights(self, student_cls: Sequence[torch.Tensor],
                    teacher_cls: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """The weights :math:`w`, one ``(N, 1, H, W)`` tensor per level; they sum to one
        over the batch (zero everywhere when there is no disagreement)."""
        student_cls, teacher_cls = _as_list(student_cls), _as_list(teacher_cls)
        check_same_classes(student_cls, teacher_cls, 'PDFDistilLoss', self.num_anchors)
        dists = []
        for s, t in zip(student_cls, teacher_cls):
            n, ak, h, w = s.shape
            if ak % self.num_anchors:
                raise ValueError(f'PDFDistilLoss: classification output with {ak} '
                                 f'channels is not num_anchors={self.num_anchors} times a '
                                 f'class count; set num_anchors to the head\'s anchors '
                                 f'per location')
            a = self.num_anchors
            diff = t.float().sigmoid().view(n, a, ak // a, h, w) - \
                s.float().sigmoid().view(n, a, ak // a, h, w)
            dists.append(diff.pow(2).sum(2).sqrt().mean(1, keepdim=True))
        total = sum(d.sum() for d in dists)
        total = total.clamp(min=torch.finfo(total.dtype).tiny)
        return [d / total for d in dists]

    def forward(self, student: Sequence[torch.Tensor], teacher: Sequence[torch.Tensor],
                student_cls: Sequence[torch.Tensor], teacher_cls: Sequence[torch.Tensor]
                ) -> torch.Tensor:
        """Adapted student features, teacher features and both classification outputs,
        each a list with one tensor per pyramid level."""
        student, teacher = _as_list(student), _as_list(teacher)
        student_cls = _as_list(student_cls)
        if not len(student) == len(teacher) == len(student_cls):
            raise ValueError(f'PDFDistilLoss: {len(student)} student feature levels, '
                             f'{len(teacher)} teacher levels and {len(student_cls)} '
                             f'classification levels; they must be the same levels')
        for lvl, (s, t, c) in enumerate(zip(student, teacher, student_cls)):
            if s.shape != t.shape:
                raise ValueError(f'PDFDistilLoss: level {lvl} student feature '
                                 f'{tuple(s.shape)} vs teacher {tuple(t.shape)}; adapt '
                                 f'the student with a connector to the teacher\'s shape')
            if s.shape[-2:] != c.shape[-2:]:
                raise ValueError(f'PDFDistilLoss: level {lvl} features are '
                                 f'{tuple(s.shape[-2:])} but its classification map is '
                                 f'{tuple(c.shape[-2:])}; pass the features and scores '
                                 f'of the same pyramid levels, in the same order')
        weights = self.pdf_weights(student_cls, teacher_cls)
        loss = sum((w * (s.float() - t.float()).pow(2).mean(1, keepdim=True)).sum()
                   for w, s, t in zip(weights, student, teacher))
        return self.loss_weight * loss


def _as_list(x):
    return [x] if isinstance(x, torch.Tensor) else list(x)
