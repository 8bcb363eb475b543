"""Structured KD's pair-wise distillation: match the similarity graph of feature nodes."""
import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from .base import DistillLoss


def _similarity(feat: torch.Tensor) -> torch.Tensor:
    """Cosine similarity between every pair of spatial nodes: ``(N, M, M)``.

    As in the authors' ``similarity``: each node's feature vector is divided by its L2
    norm (+1e-8) *with the norm detached*, so gradients flow through the numerator only.
    """
    feat = feat.float()
    norm = feat.pow(2).sum(1, keepdim=True).sqrt().detach() + 1e-8
    feat = (feat / norm).flatten(2)
    return torch.einsum('icm,icn->imn', feat, feat)


@MODELS.register_module()
class PairWiseSimilarityLoss(DistillLoss):
    r"""Pair-wise distillation of Structured Knowledge Distillation: the student's
    similarities between feature nodes imitate the teacher's.

    Liu, Chen, Liu, Qin, Luo, Wang. *Structured Knowledge Distillation for Semantic
    Segmentation*. CVPR 2019, arXiv:1903.04197 (TPAMI 2020 extension). Code:
    irfanICMLL/structure_knowledge_distillation (``CriterionPairWiseforWholeFeatAfterPool``
    and ``sim_dis_compute``); this matches it numerically.

    Nodes: each feature map is max-pooled with kernel = stride =
    ``(int(H * scale), int(W * scale))`` (``ceil_mode``), giving :math:`M` nodes
    (``scale=0.5``: 2x2 = 4 nodes, each summarising a quarter of the image). With
    :math:`\hat f_i = f_i / \mathrm{sg}(\lVert f_i \rVert_2 + 10^{-8})`,
    :math:`a_{ij} = \hat f_i^\top \hat f_j`:

    .. math::
        L_{pa} = \frac{1}{N M^2} \sum_{n} \sum_{i,j \in R} (a^s_{ij} - a^t_{ij})^2

    Reduction: sum over node pairs and the batch, divided by :math:`M^2` and :math:`N`.
    Channels may differ between student and teacher (the graph is ``M x M``); the
    spatial sizes must be equal.

    Authors' defaults (``train_options.py``): ``scale=0.5`` (``--pool-scale``), weight
    :math:`\lambda_{pa} = 1.0` (``--lambda-pa``), on the feature their PSPNet
    returns before the classifier; pixel-wise weight :math:`\lambda_{pi} = 10` (use
    ``mmkd.KDLoss`` with ``temperature=1``, see ``configs/disoptnet/README.md``).

    Args:
        scale (float): Pooling window as a fraction of the feature size. Defaults to 0.5.
        loss_weight (float): Multiplier. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self, scale: float = 0.5, loss_weight: float = 1.0):
        super().__init__()
        if not 0 < scale <= 1:
            raise ValueError(f'PairWiseSimilarityLoss scale must be in (0, 1], got {scale}')
        self.scale = scale
        self.loss_weight = loss_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        if student.shape[0] != teacher.shape[0] or student.shape[2:] != teacher.shape[2:]:
            raise ValueError(f'PairWiseSimilarityLoss: student {tuple(student.shape)} and '
                             f'teacher {tuple(teacher.shape)} features need the same batch '
                             f'and spatial size (channels may differ); resize with a '
                             f'connector')
        h, w = teacher.shape[2:]
        kernel = (max(1, int(h * self.scale)), max(1, int(w * self.scale)))
        s = F.max_pool2d(student, kernel, kernel, ceil_mode=True)
        t = F.max_pool2d(teacher.detach(), kernel, kernel, ceil_mode=True)
        m = t.shape[-1] * t.shape[-2]
        loss = (_similarity(t) - _similarity(s)).pow(2).sum() / (m * m) / t.shape[0]
        return self.loss_weight * loss
