"""Probabilistic knowledge transfer (PKT)."""
import torch

from mmkd.registry import MODELS
from .base import DistillLoss


@MODELS.register_module()
class PKTLoss(DistillLoss):
    r"""KL divergence between the batch's cosine-similarity distributions.

    Passalis, Tefas. *Learning Deep Representations with Probabilistic Knowledge
    Transfer*. ECCV 2018, arXiv:1803.10837.

    With :math:`x_i` the i-th embedding flattened, :math:`\hat x_i = x_i / (\lVert x_i
    \rVert_2 + \epsilon)` (NaN entries set to 0) and the cosine kernel rescaled to
    [0, 1] and normalised per row into conditional probabilities,

    .. math::
        K_{ij} = \frac{1 + \hat x_i^\top \hat x_j}{2}, \qquad
        p_{j|i} = \frac{K_{ij}}{\sum_{k} K_{ik}}, \qquad
        L_{PKT} = \frac{1}{N^2} \sum_{i,j} p^t_{j|i}
            \log \frac{p^t_{j|i} + \epsilon}{p^s_{j|i} + \epsilon}, \quad
        \epsilon = 10^{-7}

    (the sum over :math:`j` includes :math:`j = i`). Student and teacher dimensions may
    differ.

    Reduction: mean over all :math:`N^2` entries, i.e. the per-sample KL divergence
    averaged over the batch and divided once more by N. This is RepDistiller's ``PKT``
    (``distiller_zoo/PKT.py``, the code of the paper's authors) and mdistiller's
    ``pkt_loss``.

    Authors' defaults (RepDistiller ``--distill pkt -a 0 -b 30000``, CE weight gamma=1;
    mdistiller ``PKT``: ``FEAT_WEIGHT=30000``): loss weight (beta) 30000. Layer: the
    embedding ``feat[-1]``, the globally pooled penultimate vector (mdistiller
    ``pooled_feat``), e.g. the tap ``'student.neck[0]'`` of an mmpretrain classifier
    (its ``GlobalAveragePooling`` returns a tuple). ``loss_weight`` defaults to 1.0,
    **not** to the authors' beta: set ``loss_weight=30000.`` to reproduce them.

    Args:
        eps (float): Stabiliser of the norms and the logarithm. Defaults to 1e-7.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self, eps: float = 1e-7, loss_weight: float = 1.0):
        super().__init__()
        self.eps = eps
        self.loss_weight = loss_weight

    def conditional_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float().flatten(1)
        x = x / (x.pow(2).sum(1, keepdim=True).sqrt() + self.eps)
        x = torch.where(torch.isnan(x), torch.zeros_like(x), x)
        k = (x @ x.t() + 1.0) / 2.0
        return k / k.sum(1, keepdim=True)

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """Embeddings ``(N, D_s)`` and ``(N, D_t)`` (extra dims are flattened)."""
        if student.shape[0] != teacher.shape[0]:
            raise ValueError(f'PKTLoss: batch sizes differ, student {tuple(student.shape)}'
                             f' and teacher {tuple(teacher.shape)}')
        p_s = self.conditional_probabilities(student)
        p_t = self.conditional_probabilities(teacher)
        loss = (p_t * torch.log((p_t + self.eps) / (p_s + self.eps))).mean()
        return self.loss_weight * loss
