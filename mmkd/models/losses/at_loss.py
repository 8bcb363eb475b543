"""Attention transfer (AT)."""
import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from ._layer_pairs import Features, check_4d, layer_pairs, pool_to_smaller
from .base import DistillLoss


@MODELS.register_module()
class ATLoss(DistillLoss):
    r"""Match the L2-normalised spatial attention maps of student and teacher features.

    Zagoruyko, Komodakis. *Paying More Attention to Attention: Improving the Performance
    of Convolutional Neural Networks via Attention Transfer*. ICLR 2017, arXiv:1612.03928.

    .. math::
        q_{n,k}(F) = \frac{1}{C} \sum_{c=1}^{C} F_{n,c,k}^{\,p}, \qquad
        a_{n}(F) = \frac{q_{n}(F)}{\max(\lVert q_{n}(F) \rVert_2, 10^{-12})}

        L_{AT} = \sum_{l=1}^{L} \frac{1}{N K_l} \sum_{n=1}^{N} \sum_{k=1}^{K_l}
            \left( a_{n,k}(F^s_l) - a_{n,k}(F^t_l) \right)^2

    :math:`F_l` is layer :math:`l`'s ``(N, C, H, W)`` map, :math:`k` runs over its
    :math:`K_l = H W` positions and :math:`p` is the attention power. Channel counts of
    student and teacher may differ; when the spatial sizes differ, the larger map is
    adaptive-average-pooled to the smaller size first.

    Reduction: mean over batch and positions per layer, summed over layers. This is
    RepDistiller's ``Attention`` (``distiller_zoo/AT.py``, whose per-layer list the
    training loop sums) and mdistiller's ``at_loss``.

    Authors' defaults (RepDistiller ``--distill attention -a 0 -b 1000``, CE weight
    gamma=1; mdistiller ``AT``: ``P=2``, ``FEAT_WEIGHT=1000``, ``CE_WEIGHT=1``):
    ``p = 2``, loss weight (beta) 1000. Layers: ``feat[1:-1]``, the output of every
    residual stage (not the stem, not the pooled vector), i.e. taps on
    ``backbone.layer1`` ... ``backbone.layer4`` of an mmpretrain ResNet, passed as lists.
    ``loss_weight`` defaults to 1.0, **not** to the authors' beta: set
    ``loss_weight=1000.`` to reproduce them.

    Args:
        p (float): Power applied to the activations before the channel mean.
            Defaults to 2.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self, p: float = 2, loss_weight: float = 1.0):
        super().__init__()
        self.p = p
        self.loss_weight = loss_weight

    def attention(self, f: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W)`` -> ``(N, H*W)`` normalised attention map."""
        return F.normalize(f.pow(self.p).mean(1).flatten(1), dim=1)

    def forward(self, student: Features, teacher: Features) -> torch.Tensor:
        """Feature maps ``(N, C, H, W)``: one tensor each or equal-length lists."""
        loss = 0.
        for i, (s, t) in enumerate(layer_pairs(student, teacher, 'ATLoss')):
            check_4d(s, 'ATLoss', 'student', i)
            check_4d(t, 'ATLoss', 'teacher', i)
            s, t = pool_to_smaller(s.float(), t.float())
            loss = loss + (self.attention(s) - self.attention(t)).pow(2).mean()
        return self.loss_weight * loss
