"""DCM: spread of the intermediate features, and their closeness to the teacher's
(DS-CMKD, part 2 of 2)."""
import math

import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from .base import DistillLoss


@MODELS.register_module()
class DCMLoss(DistillLoss):
    r"""Spreads the student's intermediate features uniformly (on the unit sphere) while
    keeping their distribution close to the teacher's.

    Si, Dong, Qiang, Yu, Zhai, Zheng, Xu, Sun. *A Dimensional Structure based Knowledge
    Distillation Method for Cross-Modal Learning* (DS-CMKD), arXiv:2306.15977. The
    kernel term is the uniformity loss of Wang & Isola, *Understanding Contrastive
    Representation Learning through Alignment and Uniformity on the Hypersphere*, ICML
    2020, arXiv:2005.10242. The DS-CMKD authors' code is not public; this follows the
    paper's formulas.

    .. math::
        L_{DM}(u, v) = \log \frac{1}{N M} \sum_{i=1}^{N} \sum_{j=1}^{M}
            e^{-\lVert u_i - v_j \rVert^2 / \sigma^2},
        \qquad
        L_{DCM} = \underbrace{L_{DM}(t^1, t^1)}_{\texttt{self}}
            \; \underbrace{-\, L_{DM}(t^1, t^2)}_{\texttt{cross}}

    :math:`t^1` are the student's intermediate features and :math:`t^2` the teacher's
    (same shape: adapt the student with a connector), each sample flattened and, with
    ``normalize=True`` (default), L2-normalised, as in Wang & Isola (without it the
    self term has no minimum: scaling the features up sends it to :math:`-\infty`).
    The mean runs over all pairs, :math:`i = j` included (Wang & Isola's code,
    ``torch.pdist``, leaves those out; the gradient differs only by a positive factor).

    Signs, checked in the tests: minimising ``self`` pushes the student's samples apart
    (towards a uniform distribution), as the paper wants. :math:`L_{DM}(t^1, t^2)` grows
    as student samples come near teacher samples, so minimising :math:`+L_{DM}(t^1,
    t^2)` would push the student *away* from the teacher; the paper wants the student
    close to the teacher, so the cross term enters with a minus sign (``cross`` =
    :math:`-L_{DM}(t^1, t^2)`, which falls as the student approaches the teacher).
    Together they are the log-kernel analogue of the student's part of an MMD,
    :math:`E\,k(s, s') - 2\,E\,k(s, t)`: spread out, but within the teacher's
    distribution.

    The paper's text and its formula disagree here: Eq. (10) as printed reads
    :math:`L_{DM}(t^1, t^1) + L_{DM}(t^1, t^2)`, while the text after it says the second
    term "shortens the distance between :math:`t^{m_1}` and :math:`t^{m_2}`", which only
    the minus sign does. ``cross_sign='minus'`` (default) implements the text;
    ``cross_sign='plus'`` the literal Eq. (10) (minimising it pushes the student's
    features away from the teacher's), kept so the two readings can be measured beside
    each other (``tools/benchmarks/cls_evidence.py``).

    Reduction: log of the mean kernel over all ``N x M`` pairs (computed stably with
    logsumexp); the two terms returned separately.

    Ablation (DS-CMKD Table 6): ``self_term=False`` / ``cross_term=False`` drop that
    term (neither computed nor logged). The method's total is
    :math:`L_{CE} + \gamma (L_{SEM} + L_{DCM})`: ``loss_weight=gamma`` here and on
    ``SEMLoss``; the CE is the distiller's ``student_loss_weight``.

    Defaults: :math:`\sigma^2` and :math:`\gamma` of DS-CMKD are not known to us;
    ``sigma_sq=0.5`` is Wang & Isola's ``t = 2`` (:math:`t = 1/\sigma^2`),
    ``loss_weight=1.0`` ours.

    Args:
        sigma_sq (float): Kernel bandwidth :math:`\sigma^2`. Defaults to 0.5.
        normalize (bool): L2-normalise each flattened sample first. Defaults to True.
        self_term (bool): Keep :math:`L_{DM}(t^1, t^1)`. Defaults to True.
        cross_term (bool): Keep :math:`-L_{DM}(t^1, t^2)`. Defaults to True.
        loss_weight (float): Multiplier (gamma). Defaults to 1.0.
        cross_sign (str): ``'minus'`` (the text's reading) or ``'plus'`` (Eq. 10 as
            printed). Defaults to ``'minus'``.
    """

    #: Inputs the distiller checks for equal shapes before calling ``forward``.
    same_shape = ('student', 'teacher')
    needs_data_samples = False

    def __init__(self, sigma_sq: float = 0.5, normalize: bool = True,
                 self_term: bool = True, cross_term: bool = True,
                 loss_weight: float = 1.0, cross_sign: str = 'minus'):
        super().__init__()
        if cross_sign not in ('minus', 'plus'):
            raise ValueError(f"DCMLoss cross_sign must be 'minus' (the paper's text) or "
                             f"'plus' (Eq. 10 as printed), got {cross_sign!r}")
        self.cross_sign = cross_sign
        if sigma_sq <= 0:
            raise ValueError(f'DCMLoss sigma_sq must be > 0, got {sigma_sq}')
        if not (self_term or cross_term):
            raise ValueError('DCMLoss with both terms off computes nothing; remove the '
                             'loss from the config instead')
        self.sigma_sq, self.normalize = sigma_sq, normalize
        self.self_term, self.cross_term = self_term, cross_term
        self.loss_weight = loss_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> dict:
        """Student and teacher features ``(N, ...)``; returns the enabled terms."""
        s, t = student.flatten(1).float(), teacher.flatten(1).float()
        if self.normalize:
            s, t = F.normalize(s, dim=1), F.normalize(t, dim=1)
        terms = {}
        if self.self_term:
            terms['self'] = self.loss_weight * self.log_mean_kernel(s, s)
        if self.cross_term:
            sign = -1.0 if self.cross_sign == 'minus' else 1.0
            terms['cross'] = sign * self.loss_weight * self.log_mean_kernel(s, t)
        return terms

    def log_mean_kernel(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """:math:`L_{DM}(u, v)` for row vectors ``u`` (N, D) and ``v`` (M, D)."""
        # squared distances without sqrt, so the gradient is finite at u_i == v_j
        sq = u.pow(2).sum(1, keepdim=True) + v.pow(2).sum(1) - 2 * u @ v.t()
        sq = sq.clamp_min(0)
        logits = (-sq / self.sigma_sq).flatten()
        return torch.logsumexp(logits, 0) - math.log(logits.numel())
