"""SEM: channel-wise decorrelation of the output embeddings (DS-CMKD, part 1 of 2)."""
from typing import Optional, Sequence

import torch
import torch.nn as nn

from mmkd.registry import MODELS
from .base import DistillLoss

_BN_EPS = 1e-5  # BatchNorm1d's eps: the standardisation is Barlow Twins' ``bn``


@MODELS.register_module()
class SEMLoss(DistillLoss):
    r"""Makes the student's output embedding channel-wise independent and correlated,
    channel by channel, with the teacher's (Barlow Twins redundancy reduction across the
    two modalities).

    Si, Dong, Qiang, Yu, Zhai, Zheng, Xu, Sun. *A Dimensional Structure based Knowledge
    Distillation Method for Cross-Modal Learning* (DS-CMKD), arXiv:2306.15977; the loss
    form and its standardisation are Zbontar et al. *Barlow Twins*, ICML 2021,
    arXiv:2103.03230. The DS-CMKD authors' code is not public; this follows the paper's
    formula and the Barlow Twins code (``facebookresearch/barlowtwins`` ``main.py``).

    .. math::
        z^s = \mathrm{std}(g_s(f^s)),\quad z^t = \mathrm{std}(g_t(f^t)),\quad
        C = \frac{1}{N} (z^s)^\top z^t \in \mathbb{R}^{d \times d},
        \qquad
        L_{SEM} = \underbrace{\sum_i (1 - C_{ii})^2}_{\texttt{on\_diag}}
            + \underbrace{\lambda \sum_i \sum_{j \ne i} C_{ij}^2}_{\texttt{off\_diag}}

    :math:`f` are the output embeddings ``(N, ...)`` (flattened), :math:`g_s, g_t`
    projectors (one each, Barlow Twins' MLP; :math:`g_t` fixed by default, below: Linear
    without bias, BatchNorm1d, ReLU, ..., Linear without bias, to
    ``d = projector_dims[-1]``), :math:`\mathrm{std}` the standardisation of each column
    over the batch, ``(x - mean) / sqrt(var + 1e-5)`` with the biased variance (what
    Barlow Twins' ``BatchNorm1d(affine=False)`` does in training mode). :math:`C_{ii} = 1`
    aligns each channel with the teacher's, and :math:`C_{ij} = 0` decorrelates different
    channels.

    Reduction: sums over the entries of :math:`C` (no mean), as Barlow Twins. Under DDP
    each GPU computes :math:`C` on its own batch (Barlow Twins all-reduces it).

    Ablation (DS-CMKD Table 6): ``on_diagonal=False`` / ``off_diagonal=False`` drop that
    term (it is then neither computed nor logged). The method's total is
    :math:`L_{CE} + \gamma (L_{SEM} + L_{DCM})`: use ``loss_weight=gamma`` here and on
    ``DCMLoss``; the CE is the distiller's ``student_loss_weight`` (0 removes it).

    Which projectors train: the paper's objective (Eq. 12) is minimised over the
    student's encoder, head and projector only,
    :math:`\min_{f^{m_1}, h^{m_1}, g^{m_1}}`, so by default (``teacher_projector=
    'frozen'``) the teacher's projector :math:`g_t` keeps its initial (random) weights
    and gets no gradient: a fixed random MLP of the frozen teacher's embedding, which the
    student's projection is pulled towards. ``teacher_projector='trainable'`` trains
    :math:`g_t` with the student (Barlow Twins' symmetric setting, where both branches
    learn); the DS-CMKD benchmark (``tools/benchmarks/cls_evidence.py``) measures both.
    With ``'frozen'`` the teacher projector's BatchNorm layers still standardise with
    the batch statistics (training mode), as Barlow Twins' projector does.

    Defaults: :math:`\lambda` = 0.0051 (Barlow Twins code; 5e-3 in its paper). The
    paper states neither the projector width nor :math:`\gamma` (its Sec. 4.4 and 6.1
    give the form, not the values): ``projector_dims=(2048, 2048, 2048)`` (Barlow
    Twins' shape at a quarter of its 8192 width) and ``loss_weight=1.0`` are our
    choices. ``projector_dims=None`` uses no projector (:math:`g` = identity; the two
    embeddings must then have equal size).

    Args:
        student_channels (int, optional): Size of the flattened student embedding.
        teacher_channels (int, optional): Size of the flattened teacher embedding.
        projector_dims (Sequence[int], optional): Output sizes of the projector's linear
            layers. Defaults to ``(2048, 2048, 2048)``.
        lambd (float): Weight of the off-diagonal term. Defaults to 0.0051.
        on_diagonal (bool): Keep the on-diagonal term. Defaults to True.
        off_diagonal (bool): Keep the off-diagonal term. Defaults to True.
        loss_weight (float): Multiplier (gamma). Defaults to 1.0.
        teacher_projector (str): ``'frozen'`` (Eq. 12: only the student's projector
            learns) or ``'trainable'``. Defaults to ``'frozen'``.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self,
                 student_channels: Optional[int] = None,
                 teacher_channels: Optional[int] = None,
                 projector_dims: Optional[Sequence[int]] = (2048, 2048, 2048),
                 lambd: float = 0.0051,
                 on_diagonal: bool = True,
                 off_diagonal: bool = True,
                 loss_weight: float = 1.0,
                 teacher_projector: str = 'frozen'):
        super().__init__()
        if teacher_projector not in ('frozen', 'trainable'):
            raise ValueError(f"SEMLoss teacher_projector must be 'frozen' (the paper's "
                             f"Eq. 12) or 'trainable', got {teacher_projector!r}")
        if not (on_diagonal or off_diagonal):
            raise ValueError('SEMLoss with both terms off computes nothing; remove the '
                             'loss from the config instead')
        if projector_dims and (student_channels is None or teacher_channels is None):
            raise ValueError('SEMLoss needs student_channels and teacher_channels to '
                             'build its projectors (or projector_dims=None for none)')
        self.project_student = _projector(student_channels, projector_dims)
        self.project_teacher = _projector(teacher_channels, projector_dims)
        self.teacher_projector = teacher_projector
        if teacher_projector == 'frozen':
            self.project_teacher.requires_grad_(False)
        self.lambd, self.loss_weight = lambd, loss_weight
        self.on_diagonal, self.off_diagonal = on_diagonal, off_diagonal

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> dict:
        """Student and teacher embeddings ``(N, ...)``; returns the enabled terms."""
        if student.shape[0] < 2:
            raise ValueError('SEMLoss standardises over the batch: it needs at least 2 '
                             f'samples, got {student.shape[0]}')
        z_s = _standardise(self.project_student(student.flatten(1).float()))
        z_t = _standardise(self.project_teacher(teacher.flatten(1).float()))
        if z_s.shape[1] != z_t.shape[1]:
            raise ValueError(f'SEMLoss compares {z_s.shape[1]} student channels with '
                             f'{z_t.shape[1]} teacher channels; give projector_dims (or '
                             f'adapt the student with a connector)')
        c = z_s.t() @ z_t / z_s.shape[0]
        diagonal = torch.diagonal(c)
        terms = {}
        if self.on_diagonal:
            terms['on_diag'] = self.loss_weight * (1 - diagonal).pow(2).sum()
        if self.off_diagonal:
            off = _off_diagonal(c).pow(2).sum()
            terms['off_diag'] = self.loss_weight * self.lambd * off
        return terms


def _off_diagonal(c: torch.Tensor) -> torch.Tensor:
    """The off-diagonal entries of a square matrix, flattened (Barlow Twins' view)."""
    d = c.shape[0]
    return c.flatten()[:-1].view(d - 1, d + 1)[:, 1:].flatten()


def _standardise(x: torch.Tensor) -> torch.Tensor:
    """Each column to zero mean and unit (biased) variance over the batch."""
    mean = x.mean(0, keepdim=True)
    var = x.var(0, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + _BN_EPS)


def _projector(in_channels: Optional[int], dims: Optional[Sequence[int]]) -> nn.Module:
    """Barlow Twins' projector: [Linear(no bias)-BN-ReLU] * (k-1), Linear(no bias)."""
    if not dims:
        return nn.Identity()
    sizes = [in_channels] + list(dims)
    layers = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(a, b, bias=False), nn.BatchNorm1d(b), nn.ReLU()]
    layers.append(nn.Linear(sizes[-2], sizes[-1], bias=False))
    return nn.Sequential(*layers)
