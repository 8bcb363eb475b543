"""Logit distillation from several teachers at once: three ways to combine them."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from .base import DistillLoss
from .cmkd_loss import _targets

AGGREGATIONS = ('sum', 'mean_targets', 'confidence')


@MODELS.register_module()
class MultiTeacherKDLoss(DistillLoss):
    r"""Hinton's soft-target KD from :math:`K` teachers, combined in one of three ways.

    The loss reads one logit tap per teacher, by teacher name::

        taps=dict(s_logits='student.head.fc', t_eo='eo.head.fc', t_sar='sar.head.fc'),
        losses=dict(mtkd=dict(type='mmkd.MultiTeacherKDLoss', aggregation='confidence',
                              inputs=dict(student='s_logits',
                                          teacher=dict(eo='t_eo', sar='t_sar'))))

    The distiller checks at build that each key of ``teacher`` is one of its teachers
    and that the tap it names reads that teacher; the loss checks that its ``weights``
    name exactly those teachers.

    Notation: :math:`z^s_n`, :math:`z^k_n` the student's and teacher :math:`k`'s logits
    of sample :math:`n` (:math:`N` samples, :math:`C` classes), :math:`T` the
    temperature, :math:`p^s_n = \mathrm{softmax}(z^s_n / T)`,
    :math:`p^k_n = \mathrm{softmax}(z^k_n / T)` and
    :math:`\mathrm{KL}_{k,n} = \sum_c p^k_{n,c} (\log p^k_{n,c} - \log p^s_{n,c})`.

    ``aggregation='sum'``: a weighted sum of per-teacher KD losses (Hinton, Vinyals,
    Dean, *Distilling the Knowledge in a Neural Network*, arXiv:1503.02531, once per
    teacher),

    .. math::
        L = \sum_{k} w_k \, \frac{T^2}{N} \sum_{n} \mathrm{KL}_{k,n}

    with ``weights`` :math:`w_k` as given (default :math:`1/K` each: the mean over the
    teachers, ``AVERAGE_LOSS`` of the CA-MKD authors' code). This is exactly :math:`K`
    :class:`KDLoss` entries with ``loss_weight`` :math:`w_k`, one per teacher (which
    logs each teacher's term on its own); this form checks that the weights name the
    teachers the loss reads.

    ``aggregation='mean_targets'``: one target, the (weighted) average of the teachers'
    softened probabilities,

    .. math::
        q_n = \sum_k \bar w_k \, p^k_n, \quad \bar w_k = w_k / \textstyle\sum_j w_j,
        \qquad L = \frac{T^2}{N} \sum_n \sum_c q_{n,c} (\log q_{n,c} - \log p^s_{n,c})

    (default :math:`\bar w_k = 1/K`). Since
    :math:`\sum_k \bar w_k \mathrm{KL}(p^k_n \| p^s_n) = \mathrm{KL}(q_n \| p^s_n) +
    \sum_k \bar w_k \mathrm{KL}(p^k_n \| q_n)`, it has exactly the gradient of
    ``'sum'`` with the weights :math:`\bar w_k` (on :math:`z^s_n`:
    :math:`T (p^s_n - q_n) / N`); its value is smaller by the teachers' disagreement
    :math:`\sum_k \bar w_k \mathrm{KL}(p^k_n \| q_n)`, which does not depend on the
    student, so the logged loss reads as the distance to the ensemble's prediction.
    The two differ in training only where ``weights`` do not sum to 1 (``'sum'`` scales
    the loss by their sum).

    ``aggregation='confidence'``: CA-MKD's per-sample teacher weights (Zhang, Chen,
    Wang, *Confidence-Aware Multi-Teacher Knowledge Distillation*, ICASSP 2022,
    arXiv:2201.00007). With :math:`y_n` the label (one-hot, or Mixup's ``gt_score``)
    and each teacher's cross-entropy at :math:`T = 1`,

    .. math::
        \ell_{k,n} = -\sum_c y_{n,c} \log \mathrm{softmax}(z^k_n)_c, \qquad
        a_{k,n} = \frac{1}{K - 1}\Big(1 - \frac{e^{\ell_{k,n}}}{\sum_j e^{\ell_{j,n}}}
        \Big)

        L = \frac{T^2}{N K} \sum_n \sum_k a_{k,n} \, \mathrm{KL}_{k,n}

    This is the authors' code (Rorozhl/CA-MKD, ``helper/loops.py``,
    ``ensemble_method == 'CAMKD'``): ``attention = (1 - softmax(loss_t, dim=0)) /
    (teacher_num - 1)`` over the per-sample ``CrossEntropyLoss(reduction='none')`` of
    each teacher's logits, and ``(attention * loss_div).sum() / (bsz * teacher_num)``
    with ``loss_div`` the per-sample ``KLDivLoss(reduction='none')(...).sum(-1) * T**2``
    of their ``DistillKL(is_ca=True)``. The weights sum to 1 over the teachers. At
    :math:`K = 2` they equal :math:`\mathrm{softmax}_k(-\ell_{k,n})` (as
    :math:`1 - \sigma(x) = \sigma(-x)`); from :math:`K = 3` on they do not: they are
    flatter, each at most :math:`1/(K - 1)` (cross-entropies 0, 1, 2 give 0.455, 0.378,
    0.167 where :math:`\mathrm{softmax}(-\ell)` gives 0.665, 0.245, 0.090). The extra
    :math:`1/K` of their reduction is kept, so at :math:`K = 2` the loss is half the
    weighted per-sample mean. Needs labels (the
    distiller passes ``data_samples``) and at least two teachers. Authors' defaults
    (``train_student.py``): :math:`T = 4`, cross-entropy weight 1 (``-r 1``) and KD
    weight 1 (``-a 1``): ``loss_weight=1.0`` here with ``student_loss_weight=1.0``.
    Their method also weights an intermediate-feature term by the student's features
    (``--distill inter``, ``CAMKD`` in ``distiller_zoo``), which this loss does not do.

    Reduction (all three): sum over classes, mean over the batch, times :math:`T^2`, as
    :class:`KDLoss`; ``'confidence'`` also divides by :math:`K` (the authors').

    Logged, not added to the loss: each teacher's weight as ``<loss name>.weight_<teacher>``
    (``'sum'``: :math:`w_k`; ``'mean_targets'``: :math:`\bar w_k`; ``'confidence'``: the
    batch mean of :math:`a_{k,n}`). The loss's name in ``losses=dict(...)`` must not
    contain ``'loss'`` (mmengine sums every logged key that does).

    Errors: a ``weights`` key that is no teacher the loss reads, or a teacher without a
    weight, names both (at build); teachers with different class counts name each
    teacher and its count (first batch).

    Args:
        aggregation (str): ``'sum'``, ``'mean_targets'`` or ``'confidence'``. Defaults
            to ``'sum'``.
        temperature (float): T. Defaults to 4.0 (RepDistiller's, CA-MKD's).
        weights (dict, optional): Teacher name -> :math:`w_k` for ``'sum'`` and
            ``'mean_targets'`` (all teachers, :math:`w_k \ge 0`); None: equal. Not
            accepted with ``'confidence'`` (its weights come from the labels).
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = True
    teacher_inputs = ('teacher', )  # the distiller checks: dict(<teacher name>=<tap>)

    def __init__(self, aggregation: str = 'sum', temperature: float = 4.0,
                 weights: Optional[Dict[str, float]] = None, loss_weight: float = 1.0):
        super().__init__()
        if aggregation not in AGGREGATIONS:
            raise ValueError(f'MultiTeacherKDLoss aggregation must be one of '
                             f'{AGGREGATIONS}, got {aggregation!r}')
        if temperature <= 0:
            raise ValueError(f'MultiTeacherKDLoss temperature must be > 0, got '
                             f'{temperature}')
        if weights is not None:
            if aggregation == 'confidence':
                raise ValueError("MultiTeacherKDLoss: aggregation='confidence' computes "
                                 'its teacher weights from the labels; drop weights=...')
            weights = {str(k): float(v) for k, v in dict(weights).items()}
            negative = {k: v for k, v in weights.items() if v < 0}
            if negative or not weights or not sum(weights.values()) > 0:
                raise ValueError(f'MultiTeacherKDLoss weights must be >= 0 with a positive '
                                 f'sum, got {weights}')
        self.aggregation, self.temperature = aggregation, temperature
        self.weights, self.loss_weight = weights, loss_weight

    def check_teachers(self, names: Sequence[str]) -> None:
        """Raise if ``weights`` do not name exactly the teachers ``names`` the loss reads
        (the distiller calls this at build), or 'confidence' has fewer than two."""
        names = list(names)
        if not names:
            raise ValueError('MultiTeacherKDLoss reads no teacher: give '
                             'teacher=dict(<teacher name>=<logits tap>, ...)')
        if self.aggregation == 'confidence' and len(names) < 2:
            raise ValueError(f"MultiTeacherKDLoss: aggregation='confidence' needs at least "
                             f'2 teachers (its weights are (1 - softmax over teachers) / '
                             f'(K - 1)), got {names}; use KDLoss for one teacher')
        if self.weights is None:
            return
        unknown = [k for k in self.weights if k not in names]
        if unknown:
            raise KeyError(f'MultiTeacherKDLoss weights name teacher {unknown[0]!r}, but '
                           f'the teachers it reads are {names} (inputs teacher=dict(...))')
        missing = [k for k in names if k not in self.weights]
        if missing:
            raise KeyError(f'MultiTeacherKDLoss weights give no weight for teacher '
                           f'{missing[0]!r}; the teachers it reads are {names}')

    def _teacher_logits(self, student: torch.Tensor, teacher) -> Dict[str, torch.Tensor]:
        if not isinstance(teacher, dict):
            raise TypeError(f'MultiTeacherKDLoss reads teacher=dict(<teacher name>=<logits '
                            f'tap>, ...), got {type(teacher).__name__}')
        self.check_teachers(list(teacher))
        if student.dim() != 2:
            raise ValueError(f'MultiTeacherKDLoss expects logits (N, C), the student has '
                             f'shape {tuple(student.shape)}')
        counts = {k: t.shape[-1] if t.dim() == 2 else None for k, t in teacher.items()}
        first = next(iter(counts))
        for k, t in teacher.items():
            if t.dim() != 2 or t.shape[0] != student.shape[0]:
                raise ValueError(f'MultiTeacherKDLoss: teacher {k!r} logits have shape '
                                 f'{tuple(t.shape)}, the student\'s '
                                 f'{tuple(student.shape)}; expected (N, C) for both')
            if counts[k] != counts[first]:
                raise ValueError(f'MultiTeacherKDLoss: teachers {first!r} '
                                 f'({counts[first]} classes) and {k!r} ({counts[k]} classes)'
                                 f' have different class counts; all teachers and the '
                                 f'student must predict the same classes')
        if counts[first] != student.shape[1]:
            raise ValueError(f'MultiTeacherKDLoss: the student predicts {student.shape[1]} '
                             f'classes, teacher {first!r} {counts[first]}; they must match')
        dtype = torch.promote_types(student.dtype, torch.float32)
        return {k: t.to(dtype) for k, t in teacher.items()}

    def forward(self, student: torch.Tensor, teacher: Dict[str, torch.Tensor],
                data_samples: Optional[List] = None) -> dict:
        """Student logits ``(N, C)``, ``teacher``: teacher name -> logits ``(N, C)``.
        Returns ``dict(loss=..., log=dict(weight_<teacher>=...))``."""
        teacher = self._teacher_logits(student, teacher)
        names = list(teacher)
        s = student.to(torch.promote_types(student.dtype, torch.float32))
        T, K, n = self.temperature, len(names), s.shape[0]
        log_p_s = F.log_softmax(s / T, dim=1)
        if self.aggregation == 'mean_targets':
            w = self._fixed_weights(names, s, normalise=True)
            q = sum(w[i] * F.softmax(teacher[k] / T, dim=1) for i, k in enumerate(names))
            loss = F.kl_div(log_p_s, q, reduction='none').sum(1).mean() * T**2
        else:
            kl = torch.stack([F.kl_div(log_p_s, F.softmax(teacher[k] / T, dim=1),
                                       reduction='none').sum(1) for k in names])  # (K, N)
            if self.aggregation == 'sum':
                w = self._fixed_weights(names, s, normalise=False)
                loss = (w[:, None] * kl).mean(1).sum() * T**2
            else:  # confidence: CA-MKD
                a = self.confidence_weights(teacher, data_samples)
                loss = (a * kl).sum() * T**2 / (n * K)
                w = a.detach().mean(1)
        log = {f'weight_{k}': w[i].detach() for i, k in enumerate(names)}
        return dict(loss=self.loss_weight * loss, log=log)

    def _fixed_weights(self, names, like: torch.Tensor, normalise: bool) -> torch.Tensor:
        if self.weights is None:
            return like.new_full((len(names), ), 1. / len(names))
        w = like.new_tensor([self.weights[k] for k in names])
        return w / w.sum() if normalise else w

    @staticmethod
    def confidence_weights(teacher: Dict[str, torch.Tensor], data_samples) -> torch.Tensor:
        """CA-MKD's weights ``(K, N)``: ``(1 - softmax_k(CE_k)) / (K - 1)`` with
        ``CE_k`` each teacher's per-sample cross-entropy with the label at T = 1."""
        logits = list(teacher.values())
        c = logits[0].shape[1]
        y = _targets(data_samples, c, logits[0].device)
        if y is None or bool((y.sum(1) == 0).any()):
            raise ValueError("MultiTeacherKDLoss: aggregation='confidence' weights the "
                             'teachers by their cross-entropy with the label, but some '
                             'samples of the batch have no gt_label / gt_score')
        dtype = torch.promote_types(logits[0].dtype, torch.float32)
        ce = torch.stack([-(y.to(dtype) * F.log_softmax(z.to(dtype), 1)).sum(1)
                          for z in logits])
        return (1.0 - F.softmax(ce, dim=0)) / (len(logits) - 1)
