"""SemCKD: cross-layer distillation with attention-based layer association."""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log

from mmkd.registry import MODELS
from .base import DistillLoss


@MODELS.register_module()
class SemCKDLoss(DistillLoss):
    r"""Each student layer imitates every teacher layer, weighted per sample by a learned
    attention that associates student layers with the teacher layers of like semantics.

    Chen, Mei, Zhang, Wang, Wang, Feng, Chen. *Cross-Layer Distillation with Semantic
    Calibration*. AAAI 2021, arXiv:2012.03236.

    .. math::
        L = \frac{1}{N\,S} \sum_{n=1}^{N} \sum_{i=1}^{S} \sum_{j=1}^{T}
            \alpha^{n}_{ij}\, \frac{1}{|F^t_j|}
            \big\lVert P_{ij}(\tilde F^s_{i,n}) - \tilde F^t_{j,n} \big\rVert^2,
        \qquad
        \alpha^{n}_{i\cdot} = \mathrm{softmax}_j\Big(
            \frac{\langle q_i(G^s_i)_n,\, k_j(G^t_j)_n \rangle}{\text{soft}}\Big)

    :math:`F^s_i` (:math:`i = 1..S`) and :math:`F^t_j` (:math:`j = 1..T`) are the student
    and teacher feature maps; for each pair the larger map is average-pooled to the
    smaller one's size (:math:`\tilde F`); :math:`P_{ij}` is a trainable
    conv1x1-BN-ReLU-conv3x3-BN-ReLU-conv1x1 projection to the teacher's channels (middle
    width twice those); :math:`G_i = F_i F_i^\top` is the ``N x N`` Gram matrix of the
    flattened batch, and its row ``n`` the input of the trainable query/key embeddings
    :math:`q_i, k_j` (Linear-ReLU-Linear, L2-normalised, from ``N`` to ``N / factor``).
    The attention is trained by this loss too.

    Reduction: the per-pair squared error averaged over its elements (C*H*W), weighted
    by the attention, summed over pairs and samples, divided by N*S. This is the
    authors' code: ``DefangChen/SemCKD`` (also in ``DefangChen/SimKD``)
    ``models/util.py::SelfA`` + ``distiller_zoo/SemCKD.py::SemCKDLoss``, with their
    module layout and initialisation (PyTorch defaults).

    Batch size: the query/key embeddings read rows of the ``N x N`` Gram matrix, so
    their width is the training batch size, fixed at build time (the authors pass
    ``opt.batch_size``). The authors skip training batches smaller than that (the last
    one of an epoch); here such a batch gives a zero SemCKD loss (with a one-time
    warning) and the step still trains on the other losses. ``drop_last=True`` in the
    train dataloader avoids those batches altogether. Under DDP, ``batch_size`` is the
    per-GPU batch size.

    Authors' defaults (``scripts/run_cifar_distill.sh``: ``--distill semckd -r 1 -a 1
    -b 400``; ``soft=1.0``, ``factor=4``): features ``feat[1:-1]`` (the outputs of every
    stage, e.g. ``backbone.layer1..layer4`` of a ResNet), SemCKD weight 400 with
    cross-entropy 1.0 and KD (T=4) 1.0: ``loss_weight=400.`` here, plus a ``KDLoss``.

    Args:
        student_channels (Sequence[int]): Channels of each student feature, in order.
        teacher_channels (Sequence[int]): Channels of each teacher feature, in order.
        batch_size (int): Training batch size (per GPU).
        soft (float): Temperature of the attention softmax. Defaults to 1.0.
        factor (int): Reduction of the query/key width (``batch_size // factor``).
            Defaults to 4.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self,
                 student_channels: Sequence[int],
                 teacher_channels: Sequence[int],
                 batch_size: int,
                 soft: float = 1.0,
                 factor: int = 4,
                 loss_weight: float = 1.0):
        super().__init__()
        if not student_channels or not teacher_channels:
            raise ValueError('SemCKDLoss needs student_channels and teacher_channels, '
                             'one entry per feature')
        if batch_size // factor < 1:
            raise ValueError(f'SemCKDLoss: batch_size // factor must be >= 1, got '
                             f'{batch_size} // {factor}')
        self.student_channels = list(student_channels)
        self.teacher_channels = list(teacher_channels)
        self.batch_size, self.soft, self.loss_weight = batch_size, soft, loss_weight
        width = batch_size // factor
        self.query = nn.ModuleList(_Embed(batch_size, width) for _ in student_channels)
        self.key = nn.ModuleList(_Embed(batch_size, width) for _ in teacher_channels)
        self.proj = nn.ModuleList(
            nn.ModuleList(_projection(s, t) for t in teacher_channels)
            for s in student_channels)
        self._warned = False

    def forward(self, student: List[torch.Tensor], teacher: List[torch.Tensor]
                ) -> torch.Tensor:
        """Lists of student and teacher feature maps ``(N, C, H, W)``."""
        self._check(student, self.student_channels, 'student')
        self._check(teacher, self.teacher_channels, 'teacher')
        n = student[0].shape[0]
        if n != self.batch_size:
            if n > self.batch_size:
                raise ValueError(f'SemCKDLoss was built for batch_size={self.batch_size} '
                                 f'but got {n} samples; set batch_size to the per-GPU '
                                 f'training batch size')
            if not self._warned:
                print_log(f'SemCKDLoss: a batch of {n} < batch_size={self.batch_size} '
                          f'samples gets no SemCKD loss (the authors skip such batches; '
                          f'set drop_last=True to avoid them)', logger='current',
                          level=30)
                self._warned = True
            # zero, but still connected to every parameter (DDP expects their grads)
            return sum(p.sum() for p in self.parameters()) * 0.

        # The attention in float32 even under AMP: Gram entries sum C*H*W products and
        # easily exceed the float16 range.
        with torch.autocast(student[0].device.type, enabled=False):
            query = torch.stack([q(_gram(f)) for q, f in zip(self.query, student)], 1)
            key = torch.stack([k(_gram(f)) for k, f in zip(self.key, teacher)], 2)
            attention = F.softmax(torch.bmm(query, key) / self.soft, dim=-1)  # N, S, T

        errors = []
        for i, f_s in enumerate(student):
            row = []
            for j, f_t in enumerate(teacher):
                if f_s.shape[2] > f_t.shape[2]:  # pool the larger map (by height)
                    f_s_ij = F.adaptive_avg_pool2d(f_s, f_t.shape[2:])
                    f_t_ij = f_t
                else:
                    f_s_ij = f_s
                    f_t_ij = F.adaptive_avg_pool2d(f_t, f_s.shape[2:])
                diff = self.proj[i][j](f_s_ij).float() - f_t_ij.float()
                row.append(diff.pow(2).flatten(1).mean(1))
            errors.append(torch.stack(row, 1))
        errors = torch.stack(errors, 1)  # (N, S, T)
        loss = (attention * errors).sum() / (n * len(student))
        return self.loss_weight * loss

    @staticmethod
    def _check(features, channels, who):
        if not isinstance(features, (list, tuple)):
            raise TypeError(f'SemCKDLoss {who} input must be a list of features, e.g. '
                            f"inputs=dict({who}=['{who[0]}1', '{who[0]}2', ...])")
        got = [f.shape[1] if f.dim() == 4 else tuple(f.shape) for f in features]
        if any(f.dim() != 4 for f in features) or got != channels:
            raise ValueError(f'SemCKDLoss {who} features must be (N, C, H, W) maps with '
                             f'channels {channels} ({who}_channels); got {got}')


def _gram(feature: torch.Tensor) -> torch.Tensor:
    """``N x N`` inner products of the flattened samples of a batch."""
    flat = feature.flatten(1).float()
    return flat @ flat.t()


class _Embed(nn.Module):
    """The authors' ``MLPEmbed``: Linear-ReLU-Linear, then L2 normalisation."""

    def __init__(self, dim_in: int, dim_out: int):
        super().__init__()
        self.linear1 = nn.Linear(dim_in, 2 * dim_out)
        self.linear2 = nn.Linear(2 * dim_out, dim_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.linear2(F.relu(self.linear1(x))), dim=1)


def _projection(in_channels: int, out_channels: int) -> nn.Sequential:
    """The authors' ``Proj`` / ``AAEmbed``: 1x1, 3x3, 1x1 convolutions."""
    mid = 2 * out_channels
    return nn.Sequential(
        nn.Conv2d(in_channels, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
        nn.Conv2d(mid, mid, 3, padding=1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
        nn.Conv2d(mid, out_channels, 1, bias=False))
