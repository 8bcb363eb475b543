"""Contrastive representation distillation with memory banks over the whole dataset."""
import math
from typing import List, Optional, Tuple

import torch
import torch.distributed as torch_dist
import torch.nn as nn
import torch.nn.functional as F
from mmengine import dist

from mmkd.registry import MODELS
from .base import DistillLoss

_EPS = 1e-7  # RepDistiller's ``crd/criterion.py`` eps


@MODELS.register_module()
class CRDLoss(DistillLoss):
    r"""CRD: the student's and teacher's embeddings of one image are a positive pair,
    embeddings of other images (kept in memory banks) are negatives, scored by NCE.

    Tian, Krishnan, Isola. *Contrastive Representation Distillation*. ICLR 2020,
    arXiv:1910.10699.

    .. math::
        v^s_n = \frac{W_s f^s_n + b_s}{\lVert W_s f^s_n + b_s \rVert},\quad
        h^s_{n,k} = \exp(\langle v^s_n, M^t_{j_{n,k}}\rangle / \tau) / Z^s,\qquad
        L^s = -\frac{1}{N}\sum_{n=1}^{N}\Big[
              \log\frac{h^s_{n,0}}{h^s_{n,0} + K/D + \epsilon}
              + \sum_{k=1}^{K}\log\frac{K/D}{h^s_{n,k} + K/D + \epsilon}\Big]

    and symmetrically :math:`L^t` with the teacher's embedding :math:`v^t` against the
    student's memory :math:`M^s`; :math:`L = L^s + L^t`. :math:`f` are the penultimate
    features (flattened), :math:`W` trainable linear embeddings to ``feat_dim``,
    :math:`j_{n,0}` the index of sample ``n`` in the dataset and :math:`j_{n,1..K}` its
    :math:`K` negatives, :math:`D` = ``n_data``, :math:`\tau` = ``nce_t``, :math:`\epsilon
    = 10^{-7}`. :math:`Z^s, Z^t` are constants fixed on the first training batch as
    ``mean(exp(scores / tau)) * n_data`` (RepDistiller's estimate of the partition
    function). After each training step the rows of the seen samples are updated:
    :math:`M_j \leftarrow \mathrm{normalize}(m M_j + (1-m) v_n)`, momentum :math:`m` =
    ``nce_m``; teacher embeddings go to :math:`M^t`, student embeddings to :math:`M^s`.

    Reduction: sum over the K+1 scores of a sample, mean over the batch, then the two
    directions summed. Numerically RepDistiller's ``crd/criterion.py::CRDLoss`` with
    ``crd/memory.py::ContrastMemory`` (same embedding, memory initialisation
    ``U(-1/sqrt(feat_dim/3), +1/sqrt(feat_dim/3))``, Z, NCE and update), given the same
    negative indices. The scores are computed as one product with the whole memory
    followed by a gather (instead of RepDistiller's gather of ``N*(K+1)`` memory rows
    and a bmm): the same numbers, up to float rounding, with far less memory.

    Sample indices: read from ``data_samples[i].sample_idx``, which mmengine's
    ``BaseDataset`` sets to the sample's position in the dataset and mmpretrain's
    ``PackInputs`` keeps in the metainfo. ``n_data`` must be the training set's length
    (``len(dataset)``; with ``ConcatDataset`` the sub-datasets' indices collide, so wrap
    the data in one dataset instead).

    Negatives: RepDistiller's CIFAR-100 loader (``CIFAR100InstanceSample`` with
    ``mode='exact'``) draws, for each sample, K indices *without replacement from the
    samples of the other classes*, passed as ``contrast_idx`` with the positive first.
    A loss cannot see the labels of the whole dataset, so by default this one does what
    ``ContrastMemory`` itself does when no ``contrast_idx`` is given: K indices drawn
    uniformly *with replacement* over the dataset, except that the positive is excluded
    (``exclude_positive=True``; ``False`` is exactly ``ContrastMemory``'s fallback, in
    which the positive may also be drawn as a negative). So the differences from the
    CIFAR runs are: same-class samples can be negatives (about 1/num_classes of them
    for balanced data), and some indices repeat (each draw has the same marginal
    distribution as without replacement, so the sum over negatives has the same
    expectation). To
    reproduce RepDistiller's class-aware sampling exactly, give every data sample a
    ``contrast_idx`` (K+1 indices, positive first) in its metainfo (e.g. a dataset
    wrapper plus ``PackInputs(meta_keys=(..., 'contrast_idx'))``): it is used as is.

    Memory banks and Z are registered buffers: saved in checkpoints and restored on
    resume. They update only in training mode. Under DDP the updates of all ranks are
    gathered, so every rank's banks stay identical.

    Authors' defaults (RepDistiller ``train_student.py --distill crd``, README
    ``-a 0 -b 0.8``): ``feat_dim=128, nce_k=16384, nce_t=0.07, nce_m=0.5``, features
    ``feat[-1]`` (the pooled penultimate features, e.g. a tap on the classifier's
    ``head.fc`` input), CRD weight 0.8 with cross-entropy 1.0 and no KD term:
    ``loss_weight=0.8`` here, ``student_loss_weight=1.0`` on the distiller.

    Args:
        student_channels (int): Size of the flattened student feature.
        teacher_channels (int): Size of the flattened teacher feature.
        n_data (int): Number of samples in the training set.
        feat_dim (int): Embedding size. Defaults to 128.
        nce_k (int): Negatives per sample. Defaults to 16384.
        nce_t (float): Temperature. Defaults to 0.07.
        nce_m (float): Momentum of the memory update. Defaults to 0.5.
        exclude_positive (bool): Never draw a sample as its own negative.
            Defaults to True.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    same_shape = ()
    needs_data_samples = True

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 n_data: int,
                 feat_dim: int = 128,
                 nce_k: int = 16384,
                 nce_t: float = 0.07,
                 nce_m: float = 0.5,
                 exclude_positive: bool = True,
                 loss_weight: float = 1.0):
        super().__init__()
        if n_data < 2:
            raise ValueError(f'CRDLoss n_data must be the training set size (>= 2), got '
                             f'{n_data}')
        if nce_k < 1 or nce_t <= 0 or not 0 <= nce_m < 1:
            raise ValueError(f'CRDLoss needs nce_k >= 1, nce_t > 0 and 0 <= nce_m < 1, '
                             f'got nce_k={nce_k}, nce_t={nce_t}, nce_m={nce_m}')
        self.n_data, self.nce_k, self.nce_t, self.nce_m = n_data, nce_k, nce_t, nce_m
        self.exclude_positive = exclude_positive
        self.loss_weight = loss_weight
        self.embed_student = nn.Linear(student_channels, feat_dim)
        self.embed_teacher = nn.Linear(teacher_channels, feat_dim)
        stdv = 1. / math.sqrt(feat_dim / 3)
        for name in ('memory_student', 'memory_teacher'):
            self.register_buffer(name, torch.rand(n_data, feat_dim) * 2 * stdv - stdv)
        # Z of the student-anchored and teacher-anchored scores; -1 = not yet set.
        self.register_buffer('z_student', torch.tensor(-1.))
        self.register_buffer('z_teacher', torch.tensor(-1.))

    def forward(self, student: torch.Tensor, teacher: torch.Tensor,
                data_samples=None) -> torch.Tensor:
        """Student and teacher features ``(N, ...)`` and the batch's data samples."""
        idx, contrast_idx = self._indices(data_samples, student)
        return self.loss_weight * self.contrast(student, teacher, idx, contrast_idx)

    def contrast(self, student: torch.Tensor, teacher: torch.Tensor, idx: torch.Tensor,
                 contrast_idx: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The unweighted loss for dataset indices ``idx`` (``N``) and, optionally, given
        ``contrast_idx`` (``N, K+1``, positive first); negatives are drawn otherwise."""
        v_s = F.normalize(self.embed_student(student.flatten(1)).float(), dim=1)
        v_t = F.normalize(self.embed_teacher(teacher.flatten(1)).float(), dim=1)
        if contrast_idx is None:
            contrast_idx = self.draw(idx)
        # Each anchor against the *other* model's memory, in float32 even under AMP
        # (exp(1 / 0.07) overflows float16). The clones keep the scores' saved tensors
        # intact when the banks are updated in place below.
        with torch.autocast(v_s.device.type, enabled=False):
            h_s = torch.exp((v_s @ self.memory_teacher.clone().t())
                            .gather(1, contrast_idx) / self.nce_t)
            h_t = torch.exp((v_t @ self.memory_student.clone().t())
                            .gather(1, contrast_idx) / self.nce_t)
        for z, h in ((self.z_student, h_s), (self.z_teacher, h_t)):
            if z < 0:  # first batch: fix the normalisation constant (mean over ranks)
                value = h.detach().mean() * self.n_data
                dist.all_reduce(value, op='mean')
                z.fill_(value.item())
        loss = self._nce(h_s / self.z_student) + self._nce(h_t / self.z_teacher)
        if self.training:
            self._update(idx, v_s.detach(), v_t.detach())
        return loss

    def _nce(self, h: torch.Tensor) -> torch.Tensor:
        """NCE loss of normalised scores ``h`` (``N, K+1``), positive in column 0."""
        noise = (h.shape[1] - 1) / self.n_data  # K * P_noise, P_noise uniform = 1/n_data
        log_d1 = torch.log(h[:, 0] / (h[:, 0] + noise + _EPS))
        log_d0 = torch.log(noise / (h[:, 1:] + noise + _EPS))
        return -(log_d1.sum() + log_d0.sum()) / h.shape[0]

    def draw(self, idx: torch.Tensor) -> torch.Tensor:
        """``(N, K+1)`` indices: ``idx`` then K uniform negatives per sample."""
        shape = (idx.shape[0], self.nce_k)
        if self.exclude_positive:  # uniform over the n_data - 1 other samples
            neg = torch.randint(0, self.n_data - 1, shape, device=idx.device)
            neg += (neg >= idx[:, None]).long()
        else:
            neg = torch.randint(0, self.n_data, shape, device=idx.device)
        return torch.cat([idx[:, None], neg], dim=1)

    @torch.no_grad()
    def _update(self, idx: torch.Tensor, v_s: torch.Tensor, v_t: torch.Tensor) -> None:
        idx, v_s, v_t = (_gather_from_ranks(x) for x in (idx, v_s, v_t))
        m = self.nce_m
        for memory, v in ((self.memory_student, v_s), (self.memory_teacher, v_t)):
            rows = memory.index_select(0, idx) * m + v * (1 - m)
            memory.index_copy_(0, idx, F.normalize(rows, dim=1))

    def _indices(self, data_samples, like: torch.Tensor
                 ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        if not data_samples:
            raise ValueError('CRDLoss needs the batch data_samples (each with its '
                             'sample_idx); the distiller passes them to forward')
        idx = [ds.get('sample_idx') for ds in data_samples]
        if any(i is None for i in idx):
            raise KeyError("CRDLoss reads each data sample's `sample_idx` (its index in "
                           'the dataset), which is missing: mmengine datasets set it; '
                           "keep it in PackInputs' meta_keys")
        idx = torch.tensor([int(i) for i in idx], dtype=torch.long, device=like.device)
        if idx.min() < 0 or idx.max() >= self.n_data:
            raise ValueError(f'CRDLoss got sample_idx {int(idx.max())} but n_data='
                             f'{self.n_data}: set n_data to the training set size')
        given: List = [ds.get('contrast_idx') for ds in data_samples]
        if any(c is None for c in given):
            return idx, None
        contrast_idx = torch.stack([torch.as_tensor(c, dtype=torch.long) for c in given])
        return idx, contrast_idx.to(like.device)


def _gather_from_ranks(x: torch.Tensor) -> torch.Tensor:
    """``x`` of every DDP rank concatenated along dim 0 (batch sizes may differ)."""
    world_size = dist.get_world_size()
    if world_size == 1:
        return x
    size = torch.tensor([x.shape[0]], device=x.device)
    sizes = [torch.zeros_like(size) for _ in range(world_size)]
    torch_dist.all_gather(sizes, size)
    longest = int(max(sizes))
    padded = x.new_zeros((longest, ) + tuple(x.shape[1:]))
    padded[:x.shape[0]] = x
    chunks = [torch.empty_like(padded) for _ in range(world_size)]
    torch_dist.all_gather(chunks, padded)
    return torch.cat([c[:int(n)] for c, n in zip(chunks, sizes)])
