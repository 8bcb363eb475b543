"""Similarity-preserving knowledge distillation (SP)."""
import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from ._layer_pairs import Features, layer_pairs
from .base import DistillLoss


@MODELS.register_module()
class SPLoss(DistillLoss):
    r"""Match the row-normalised batch similarity (Gram) matrices of student and teacher.

    Tung, Mori. *Similarity-Preserving Knowledge Distillation*. ICCV 2019,
    arXiv:1907.09682.

    With :math:`Q \in \mathbb{R}^{N \times D}` a layer's features flattened per sample
    (any shape ``(N, ...)``; student and teacher dimensions may differ),

    .. math::
        G = Q Q^\top, \qquad \tilde G_{i,:} = \frac{G_{i,:}}{\max(\lVert G_{i,:}
            \rVert_2, 10^{-12})}, \qquad
        L_{SP} = \sum_{l} \frac{1}{N^2} \lVert \tilde G^t_l - \tilde G^s_l \rVert_F^2

    Reduction: sum of squares over the ``N x N`` matrix divided by :math:`N^2`, summed
    over layers. This is RepDistiller's ``Similarity`` (``distiller_zoo/SP.py``) and
    mdistiller's ``sp_loss`` (both return a 1-element tensor; this returns a scalar).

    Authors' defaults (RepDistiller ``--distill similarity -a 0 -b 3000``, CE weight
    gamma=1; mdistiller ``SP``: ``FEAT_WEIGHT=3000``): loss weight (beta) 3000. Layer:
    ``feat[-2]``, the last residual stage's output before pooling (mdistiller:
    ``feats[-1]``, the same map), e.g. a tap on ``backbone.layer4``. ``loss_weight``
    defaults to 1.0, **not** to the authors' beta: set ``loss_weight=3000.`` to
    reproduce them.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    @staticmethod
    def similarity(f: torch.Tensor) -> torch.Tensor:
        q = f.flatten(1)
        return F.normalize(q @ q.t(), dim=1)

    def forward(self, student: Features, teacher: Features) -> torch.Tensor:
        """Features ``(N, ...)``: one tensor each or equal-length lists."""
        loss = 0.
        for s, t in layer_pairs(student, teacher, 'SPLoss'):
            n = s.shape[0]
            diff = self.similarity(t.float()) - self.similarity(s.float())
            loss = loss + diff.pow(2).sum() / (n * n)
        return self.loss_weight * loss
