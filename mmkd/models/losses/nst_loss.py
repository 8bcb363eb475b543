"""Neuron selectivity transfer (NST)."""
import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from ._layer_pairs import Features, check_4d, layer_pairs, pool_to_smaller
from .base import DistillLoss


@MODELS.register_module()
class NSTLoss(DistillLoss):
    r"""Squared MMD, with a polynomial kernel, between student and teacher channel maps.

    Huang, Wang. *Like What You Like: Knowledge Distill via Neuron Selectivity
    Transfer*. arXiv:1707.01219, 2017.

    Each channel's spatial map is one sample: :math:`f_{n,i} = F_{n,i,:} / \lVert
    F_{n,i,:} \rVert_2 \in \mathbb{R}^{HW}` (flattened, L2-normalised), and with the
    polynomial kernel :math:`k(x, y) = (x^\top y)^2` (degree 2, c = 0)

    .. math::
        L_{NST} = \sum_{l} \frac{1}{N} \sum_{n=1}^{N} \Big[
            \frac{1}{C_t^2} \sum_{i,j} k(f^t_{n,i}, f^t_{n,j})
          + \frac{1}{C_s^2} \sum_{i,j} k(f^s_{n,i}, f^s_{n,j})
          - \frac{2}{C_s C_t} \sum_{i,j} k(f^s_{n,i}, f^t_{n,j}) \Big]

    Channel counts may differ; when the spatial sizes differ, the larger map is
    adaptive-average-pooled to the smaller size first. The teacher-teacher term carries
    no gradient; it is kept (RepDistiller's ``full_loss=True``) so the loss is the MMD,
    zero when the two sets of channel maps coincide (in any channel order).

    Reduction: each kernel mean over the batch and channel pairs, summed over layers.
    This is RepDistiller's ``NSTLoss`` (``distiller_zoo/NST.py``) and mdistiller's
    ``nst_loss``.

    Authors' defaults (RepDistiller ``--distill nst -a 0 -b 50``, CE weight gamma=1;
    mdistiller ``NST``: ``FEAT_WEIGHT=50``): loss weight (beta) 50. Layers:
    ``feat[1:-1]``, the output of every residual stage (taps on ``backbone.layer1`` ...
    ``backbone.layer4``, passed as lists). ``loss_weight`` defaults to 1.0, **not** to
    the authors' beta: set ``loss_weight=50.`` to reproduce them.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    @staticmethod
    def poly_kernel_mean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Mean of ``(a_i . b_j)^2`` over the batch and all channel pairs."""
        return torch.bmm(a, b.transpose(1, 2)).pow(2).mean()

    def forward(self, student: Features, teacher: Features) -> torch.Tensor:
        """Feature maps ``(N, C, H, W)``: one tensor each or equal-length lists."""
        loss = 0.
        for i, (s, t) in enumerate(layer_pairs(student, teacher, 'NSTLoss')):
            check_4d(s, 'NSTLoss', 'student', i)
            check_4d(t, 'NSTLoss', 'teacher', i)
            s, t = pool_to_smaller(s.float(), t.float())
            s = F.normalize(s.flatten(2), dim=2)
            t = F.normalize(t.flatten(2), dim=2)
            loss = loss + (self.poly_kernel_mean(t, t).detach()
                           + self.poly_kernel_mean(s, s)
                           - 2 * self.poly_kernel_mean(s, t))
        return self.loss_weight * loss
