"""What ALKD and AFKD share: a discriminator and a GAN objective that one backward trains.

The distiller sums every loss term and steps one optimizer, whereas a GAN alternates two
updates: the discriminator D lowers its classification loss, then the student (the
generator) lowers its own adversarial loss against the updated D. Both happen here in
one backward, because each term only reaches its own player:

- ``disc``: D's binary cross-entropy, teacher outputs labelled real (1) and student
  outputs fake (0), with the *student outputs detached*: it trains D only;
- ``adv``: the student's non-saturating loss ``BCE(D(student), 1) = -log D(student)``,
  evaluated with *D's weights detached* (``torch.func.functional_call``): it trains the
  student only.

So one step is a simultaneous (not alternating) gradient step of the standard
non-saturating GAN game (Goodfellow et al., NIPS 2014), the form adversarial KD papers
use with the student as generator. We chose it over a gradient-reversal layer, which
gives the student the *saturating* minimax gradient ``-log(1 - D(s))``: that gradient
vanishes exactly when D wins easily, which is the usual case early in distillation and
more so across modalities. (MEAL-V2's public ``train.py`` adds the discriminator's BCE
to the student's loss under one optimizer; there the student's gradient from that term
helps D rather than fooling it, so we do not follow it.)
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

from .base import DistillLoss


class Discriminator(nn.Module):
    """Scores how teacher-like an output is (one logit per sample).

    conv1x1-LeakyReLU, then ``num_downsample`` conv3x3/stride 2-LeakyReLU, global
    average pooling and a linear layer. Vectors ``(N, C)`` are read as ``(N, C, 1, 1)``
    maps, so with ``num_downsample=0`` it is a two-layer MLP on logits or embeddings.
    """

    def __init__(self, in_channels: int, hidden_channels: int = 256,
                 num_downsample: int = 0):
        super().__init__()
        layers = [nn.Conv2d(in_channels, hidden_channels, 1), nn.LeakyReLU(0.2)]
        for _ in range(num_downsample):
            layers += [nn.Conv2d(hidden_channels, hidden_channels, 3, 2, 1),
                       nn.LeakyReLU(0.2)]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(hidden_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x[:, :, None, None]
        x = self.features(x).mean((2, 3))
        return self.fc(x).squeeze(1)


class AdversarialKDLoss(DistillLoss):
    """Base of ALKD/AFKD: returns ``dict(adv=..., disc=...)`` (see the module docstring).

    Reduction: each binary cross-entropy is a mean over the batch; ``disc`` is the sum
    of the real and fake halves (as in DCGAN-style code).
    """

    same_shape = ('student', 'teacher')
    needs_data_samples = False

    def __init__(self, discriminator: nn.Module, loss_weight: float = 1.0,
                 disc_loss_weight: float = 1.0):
        super().__init__()
        self.discriminator = discriminator
        self.loss_weight = loss_weight
        self.disc_loss_weight = disc_loss_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> dict:
        student, teacher = student.float(), teacher.detach().float()
        d = self.discriminator
        real, fake = d(teacher), d(student.detach())
        disc = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
        frozen = {name: p.detach() for name, p in d.named_parameters()}
        fooled = functional_call(d, frozen, (student, ))
        adv = F.binary_cross_entropy_with_logits(fooled, torch.ones_like(fooled))
        return dict(adv=self.loss_weight * adv, disc=self.disc_loss_weight * disc)
