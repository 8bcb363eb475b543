"""MGD: the student generates the teacher's feature map from a randomly masked copy of
its own."""
import torch
import torch.nn as nn

from mmkd.registry import MODELS
from .base import DistillLoss


@MODELS.register_module()
class MGDLoss(DistillLoss):
    r"""Masked generative distillation on one feature map.

    Yang, Li, Shao, Shi, Yuan, Yuan. *Masked Generative Distillation*. ECCV 2022,
    arXiv:2205.01529.

    The student's map :math:`F^S` (through a 1x1 align conv :math:`f_{align}` where its
    channels differ from the teacher's) is multiplied by a random spatial mask
    :math:`M \in \{0, 1\}^{N \times 1 \times H \times W}`, shared by the channels, that
    drops each position with probability :math:`\lambda`; the generation block
    :math:`\mathcal{G}` (3x3 conv, ReLU, 3x3 conv, at the teacher's width) then has to
    produce the teacher's full map :math:`F^T`:

    .. math::
        M_{n,i} = \begin{cases} 0 & u_{n,i} > 1 - \lambda \\ 1 & \text{otherwise}
                  \end{cases}, \quad u_{n,i} \sim U[0, 1), \qquad
        L = \alpha \cdot \frac{1}{N} \sum_{n,c,i}
            \big(\mathcal{G}(f_{align}(F^S) \odot M)_{n,c,i} - F^T_{n,c,i}\big)^2

    The mask is drawn with ``torch.rand((N, 1, H, W))`` at every call (a seeded run
    repeats it); the teacher carries no gradient. The align conv and the generation
    block are parameters of the loss: the distiller trains and checkpoints them, and
    the exported student drops them.

    Reduction: the squared error is summed over channels and positions and averaged
    over the batch, times :math:`\alpha` (``loss_weight``). This is the authors' code,
    ``FeatureLoss`` of ``det/mmdet/distillation/losses/mgd.py`` in yzd-v/MGD (mmrazor
    splits it into ``MGDConnector`` and ``MGDLoss`` with the same numbers); the only
    difference is that the mask is drawn on the features' device, the authors' on the
    CPU and then moved.

    Authors' defaults: detection (RetinaNet, Faster R-CNN, RepPoints: one loss per FPN
    output ``neck.fpn_convs.k``) :math:`\alpha = 2 \times 10^{-5}`, :math:`\lambda = 0.65`;
    segmentation (PSPNet, the backbone's last stage) :math:`\alpha = 2 \times 10^{-5}`,
    :math:`\lambda = 0.75`; classification (ResNet-34 -> ResNet-18)
    :math:`\alpha = 7 \times 10^{-5}`, :math:`\lambda = 0.15`.

    Args:
        student_channels (int): Channels of the student's map.
        teacher_channels (int): Channels of the teacher's map (and of the generation
            block).
        lambda_mgd (float): :math:`\lambda`, the share of positions masked. Defaults to
            0.65 (detection).
        loss_weight (float): :math:`\alpha`. Defaults to 2e-5.
    """

    same_shape = ()
    needs_data_samples = False

    def __init__(self, student_channels: int, teacher_channels: int,
                 lambda_mgd: float = 0.65, loss_weight: float = 2e-5):
        super().__init__()
        if not 0 <= lambda_mgd < 1:
            raise ValueError(f'MGDLoss lambda_mgd (the share of positions masked) must be '
                             f'in [0, 1), got {lambda_mgd}')
        self.student_channels = int(student_channels)
        self.teacher_channels = int(teacher_channels)
        self.lambda_mgd = float(lambda_mgd)
        self.loss_weight = loss_weight
        self.align = nn.Conv2d(student_channels, teacher_channels, kernel_size=1) \
            if student_channels != teacher_channels else None
        self.generation = nn.Sequential(
            nn.Conv2d(teacher_channels, teacher_channels, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(teacher_channels, teacher_channels, kernel_size=3, padding=1))

    def random_mask(self, n: int, h: int, w: int, device=None) -> torch.Tensor:
        """The ``(N, 1, H, W)`` mask: 0 where a position is dropped, 1 where kept."""
        u = torch.rand((n, 1, h, w), device=device)
        return (u <= 1 - self.lambda_mgd).float()

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """Student ``(N, C_s, H, W)`` and teacher ``(N, C_t, H, W)`` maps of one level."""
        check_pair(student, teacher, self.student_channels, self.teacher_channels,
                   'MGDLoss')
        s = student.float()
        if self.align is not None:
            s = self.align(s)
        t = teacher.detach().float()
        n, _, h, w = t.shape
        generated = self.generation(s * self.random_mask(n, h, w, device=s.device))
        return self.loss_weight * (generated - t).pow(2).sum() / n


def check_pair(student: torch.Tensor, teacher: torch.Tensor, student_channels: int,
               teacher_channels: int, name: str) -> None:
    """One level of a loss with its own align conv: (N, C, H, W) maps of the same batch
    and size, with the channels the loss was built for."""
    if not isinstance(student, torch.Tensor) or not isinstance(teacher, torch.Tensor):
        raise ValueError(f'{name} reads one map per loss (its convolutions are that '
                         f'level\'s), got {type(student).__name__} and '
                         f'{type(teacher).__name__}; give one loss per level')
    if student.dim() != 4 or teacher.dim() != 4:
        raise ValueError(f'{name}: student {tuple(student.shape)} and teacher '
                         f'{tuple(teacher.shape)} must be (N, C, H, W) feature maps')
    if student.shape[0] != teacher.shape[0] or student.shape[2:] != teacher.shape[2:]:
        raise ValueError(f'{name}: student map {tuple(student.shape)} vs teacher '
                         f'{tuple(teacher.shape)}; batch and size (H, W) must match: tap '
                         f'the same pyramid level of both, or resize the student with a '
                         f'connector (like=<the teacher tap>)')
    if student.shape[1] != student_channels or teacher.shape[1] != teacher_channels:
        raise ValueError(f'{name}: built for student_channels={student_channels}, '
                         f'teacher_channels={teacher_channels} but got maps with '
                         f'{student.shape[1]} and {teacher.shape[1]} channels; set them '
                         f'to the tapped layers\' channels')
