"""Relational knowledge distillation (RKD)."""
import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from .base import DistillLoss


@MODELS.register_module()
class RKDLoss(DistillLoss):
    r"""Match the pairwise distances and triplet angles of student and teacher embeddings.

    Park, Kim, Lu, Cho. *Relational Knowledge Distillation*. CVPR 2019,
    arXiv:1904.05068.

    With :math:`x_i` the i-th embedding flattened (student and teacher dimensions may
    differ), :math:`d_{ij} = \lVert x_i - x_j \rVert_2` (:math:`d_{ii} = 0`),
    :math:`\mu = \mathrm{mean}_{i \ne j}\, d_{ij}` and
    :math:`e_{ij} = (x_j - x_i) / \lVert x_j - x_i \rVert_2` (:math:`e_{ii} = 0`),

    .. math::
        L_{D} = \frac{1}{N^2} \sum_{i,j} \ell_\delta\!\left(
            \frac{d^s_{ij}}{\mu^s}, \frac{d^t_{ij}}{\mu^t} \right), \qquad
        L_{A} = \frac{1}{N^3} \sum_{i,j,k} \ell_\delta\!\left(
            \langle e^s_{ij}, e^s_{ik} \rangle, \langle e^t_{ij}, e^t_{ik} \rangle \right)

        L_{RKD} = w_d L_D + w_a L_A

    where :math:`\ell_\delta` is the Huber loss with :math:`\delta = 1`
    (``F.smooth_l1_loss``) and :math:`\langle e_{ij}, e_{ik} \rangle` is the cosine of
    the angle at :math:`x_i` of the triangle :math:`(x_i, x_j, x_k)`. Squared distances
    are clamped at 1e-12 before the square root. Both terms are invariant to scaling
    either embedding by any non-zero factor (independently), to translations and to
    orthogonal transforms of either embedding.

    Reduction: means over all :math:`N^2` pairs (diagonal included, where both are 0)
    and all :math:`N^3` triplets. This is RepDistiller's ``RKDLoss``
    (``distiller_zoo/RKD.py``) and mdistiller's ``rkd_loss`` with ``squared=False``,
    ``eps=1e-12``. A batch of one sample has no pairs: the reference returns NaN
    (mean of an empty set), this returns 0 so a last batch of one cannot poison
    the weights.

    Authors' defaults (RepDistiller ``--distill rkd -a 0 -b 1``, CE weight gamma=1;
    mdistiller ``RKD``: ``DISTANCE_WEIGHT=25``, ``ANGLE_WEIGHT=50``,
    ``FEAT_WEIGHT=1``): :math:`w_d = 25`, :math:`w_a = 50`, loss weight (beta) 1.
    Layer: the embedding ``feat[-1]``, the globally pooled penultimate vector
    (mdistiller ``pooled_feat``), e.g. the tap ``'student.neck[0]'`` of an mmpretrain
    classifier (its ``GlobalAveragePooling`` returns a tuple).
    Here the ``loss_weight`` default 1.0 **is** the authors' beta, and the
    ``distance_weight``/``angle_weight`` defaults are theirs.

    Args:
        distance_weight (float): :math:`w_d`. Defaults to 25.
        angle_weight (float): :math:`w_a`. Defaults to 50.
        eps (float): Clamp of the squared distances. Defaults to 1e-12.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self, distance_weight: float = 25., angle_weight: float = 50.,
                 eps: float = 1e-12, loss_weight: float = 1.0):
        super().__init__()
        self.distance_weight = distance_weight
        self.angle_weight = angle_weight
        self.eps = eps
        self.loss_weight = loss_weight

    def normalized_distances(self, x: torch.Tensor) -> torch.Tensor:
        """Pairwise Euclidean distances divided by their mean over distinct pairs."""
        sq = x.pow(2).sum(1)
        d = (sq.unsqueeze(1) + sq.unsqueeze(0) - 2 * x @ x.t()).clamp(min=self.eps).sqrt()
        d = d * (1 - torch.eye(len(x), dtype=d.dtype, device=d.device))  # d_ii = 0
        return d / d[d > 0].mean()

    @staticmethod
    def angles(x: torch.Tensor) -> torch.Tensor:
        """Cosines <e_ij, e_ik> for all triplets, flattened to ``N**3`` values."""
        e = F.normalize(x.unsqueeze(0) - x.unsqueeze(1), p=2, dim=2)  # e[i, j]
        return torch.bmm(e, e.transpose(1, 2)).flatten()

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """Embeddings ``(N, D_s)`` and ``(N, D_t)`` (extra dims are flattened)."""
        if student.shape[0] != teacher.shape[0]:
            raise ValueError(f'RKDLoss: batch sizes differ, student {tuple(student.shape)}'
                             f' and teacher {tuple(teacher.shape)}')
        s = student.float().flatten(1)
        t = teacher.float().flatten(1)
        if len(s) < 2:
            return s.sum() * 0.
        with torch.no_grad():
            t_d, t_angle = self.normalized_distances(t), self.angles(t)
        loss_d = F.smooth_l1_loss(self.normalized_distances(s), t_d)
        loss_a = F.smooth_l1_loss(self.angles(s), t_angle)
        loss = self.distance_weight * loss_d + self.angle_weight * loss_a
        return self.loss_weight * loss
