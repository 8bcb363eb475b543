"""Correlation congruence (CC), as in the code its authors released."""
from typing import Optional

import torch
import torch.nn as nn

from mmkd.registry import MODELS
from .base import DistillLoss


@MODELS.register_module()
class CCLoss(DistillLoss):
    r"""Correlation congruence between linearly embedded student and teacher features.

    Peng, Jin, Liu, Li, Wu, Liu, Zhou, Zhang. *Correlation Congruence for Knowledge
    Distillation*. ICCV 2019, arXiv:1904.01802.

    Both features are flattened per sample and mapped by their own trainable linear
    embedding (RepDistiller's ``LinearEmbed``: ``nn.Linear`` with bias, no
    normalisation) to :math:`z^s_i = W_s x^s_i + b_s`, :math:`z^t_i = W_t x^t_i + b_t`
    in :math:`\mathbb{R}^{D}`; with :math:`\delta_i = |z^s_i - z^t_i|` (element-wise),

    .. math::
        L_{CC} = \frac{1}{N - 1} \sum_{i=1}^{N-1} \sum_{d=1}^{D}
            \delta_{i,d}\, \delta_{i+1,d}

    i.e. the correlation of the embedding errors of consecutive samples of the batch.
    This is the form of RepDistiller's ``Correlation`` (``distiller_zoo/CC.py``, code
    the paper's authors e-mailed to RepDistiller), which this matches, embeddings
    included; it is not the paper's Gaussian-kernel correlation matrix. mdistiller has
    no CC. Both embeddings are trained (RepDistiller puts ``embed_s`` and ``embed_t``
    in its optimizer); here they are submodules of the loss, so the distiller trains
    and checkpoints them and the export drops them. A batch of one sample has no
    consecutive pair: the reference returns NaN, this returns 0.

    Reduction: sum over embedding dimensions, mean over the N - 1 consecutive pairs.

    Authors' defaults (RepDistiller ``--distill correlation -a 0 -b 0.02``, CE weight
    gamma=1, ``--feat_dim 128``): embedding dimension 128, loss weight (beta) 0.02.
    Layer: the embedding ``feat[-1]``, the globally pooled penultimate vector, e.g.
    the tap ``'student.neck[0]'`` of an mmpretrain classifier (its
    ``GlobalAveragePooling`` returns a tuple). ``loss_weight`` defaults to 1.0,
    **not** to the authors' beta: set ``loss_weight=0.02`` to reproduce them.

    Args:
        student_channels (int): Flattened size of a student feature, e.g. 512 for
            a ResNet-18's pooled vector. None: no student embedding.
        teacher_channels (int): Same for the teacher. None: no teacher embedding.
        embed_channels (int): Output size D of both embeddings. Defaults to 128.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self, student_channels: Optional[int], teacher_channels: Optional[int],
                 embed_channels: int = 128, loss_weight: float = 1.0):
        super().__init__()
        self.student_channels = student_channels
        self.teacher_channels = teacher_channels
        self.embed_s = (nn.Linear(student_channels, embed_channels)
                        if student_channels is not None else nn.Identity())
        self.embed_t = (nn.Linear(teacher_channels, embed_channels)
                        if teacher_channels is not None else nn.Identity())
        self.loss_weight = loss_weight

    @staticmethod
    def _flat(x: torch.Tensor, channels: Optional[int], who: str) -> torch.Tensor:
        x = x.flatten(1)
        if channels is not None and x.shape[1] != channels:
            raise ValueError(f'CCLoss was built with {who}_channels={channels}, but the '
                             f'{who} feature has {x.shape[1]} values per sample')
        return x

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """Features ``(N, ...)``, flattened per sample to the configured sizes."""
        z_s = self.embed_s(self._flat(student, self.student_channels, 'student'))
        z_t = self.embed_t(self._flat(teacher, self.teacher_channels, 'teacher'))
        if z_s.shape != z_t.shape:
            raise ValueError(f'CCLoss compares embeddings of shape {tuple(z_s.shape)} '
                             f'(student) and {tuple(z_t.shape)} (teacher); give '
                             f'student_channels/teacher_channels so both are embedded')
        if len(z_s) < 2:
            return z_s.sum() * 0.
        delta = (z_s - z_t).abs()
        loss = (delta[:-1] * delta[1:]).sum(1).mean()
        return self.loss_weight * loss
