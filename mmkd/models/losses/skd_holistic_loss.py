"""Structured KD's holistic distillation: a Wasserstein critic on whole score maps."""
import torch
import torch.nn as nn
from torch.func import functional_call

from mmkd.registry import MODELS
from .base import DistillLoss


class ScoreMapCritic(nn.Module):
    """Conv4x4/stride 2 + LeakyReLU(0.1) stages and a 1x1 score, averaged over space.

    The authors' critic (``networks/sagan_models.py``) is SAGAN's: the same conv stages
    with spectral normalisation, two self-attention layers and a BatchNorm on the input.
    Spectral norm and BatchNorm are left out: WGAN-GP's gradient penalty already bounds
    the critic, and BatchNorm mixes the samples the per-sample penalty is taken on.
    """

    def __init__(self, in_channels: int, base_channels: int = 64, num_stages: int = 3):
        super().__init__()
        layers, c = [], in_channels
        for i in range(num_stages):
            layers += [nn.Conv2d(c, base_channels * 2**i, 4, 2, 1), nn.LeakyReLU(0.1)]
            c = base_channels * 2**i
        layers.append(nn.Conv2d(c, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).mean((1, 2, 3))


@MODELS.register_module()
class SKDHolisticLoss(DistillLoss):
    r"""Holistic distillation of Structured Knowledge Distillation (Liu et al., CVPR
    2019, arXiv:1903.04197): a critic scores whole segmentation maps, the teacher's as
    real and the student's as fake, under the WGAN-GP objective.

    .. math::
        L_{disc} = \lambda_d \left( \mathbb{E}[D(\mathrm{sg}[Q^s])] - \mathbb{E}[D(Q^t)]
            + \lambda_{gp} \, \mathbb{E}[(\lVert \nabla_{\hat Q} D(\hat Q) \rVert_2 - 1)^2]
            \right),
        \qquad
        L_{adv} = -\lambda_d \, \mathbb{E}[D_{\mathrm{sg}[\theta_D]}(Q^s)]

    with :math:`Q` the score maps (logits ``(N, C, H, W)``) and :math:`\hat Q` random
    interpolations between teacher and student maps. As in ``_adversarial.py``, one
    backward trains the critic with ``disc`` (student detached) and the student with
    ``adv`` (critic weights detached); the authors alternate a generator step and a
    critic step. Returned as ``dict(adv=..., disc=...)``; both enter the total loss.

    Reduction: means over the batch. Authors' defaults (``train_options.py``):
    :math:`\lambda_d = 0.1` (``--lambda-d``, on both terms), :math:`\lambda_{gp} = 10`
    (``--lambda-gp``), ``wgan-gp``, critic width 64 (``--adv-conv-dim``) and its own
    learning rate 4e-4 (``--lr-d``; set it with
    ``paramwise_cfg=dict(custom_keys={'critic': dict(lr_mult=...)})``).

    Args:
        num_classes (int): Channels of the score maps.
        base_channels (int): Critic width. Defaults to 64.
        num_stages (int): Stride-2 conv stages of the critic. Defaults to 3.
        lambda_gp (float): Gradient penalty weight. Defaults to 10.
        loss_weight (float): :math:`\lambda_d`. Defaults to 0.1.
    """

    same_shape = ('student', 'teacher')
    needs_data_samples = False

    def __init__(self, num_classes: int, base_channels: int = 64, num_stages: int = 3,
                 lambda_gp: float = 10.0, loss_weight: float = 0.1):
        super().__init__()
        self.critic = ScoreMapCritic(num_classes, base_channels, num_stages)
        self.lambda_gp = lambda_gp
        self.loss_weight = loss_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> dict:
        s, t = student.float(), teacher.detach().float()
        d = self.critic
        s_fixed = s.detach()
        alpha = torch.rand(s.shape[0], 1, 1, 1, device=s.device)
        mixed = (alpha * t + (1 - alpha) * s_fixed).requires_grad_(True)
        with torch.enable_grad():
            grad, = torch.autograd.grad(d(mixed).sum(), mixed, create_graph=True)
        gp = (grad.flatten(1).norm(2, dim=1) - 1).pow(2).mean()
        disc = d(s_fixed).mean() - d(t).mean() + self.lambda_gp * gp
        frozen = {name: p.detach() for name, p in d.named_parameters()}
        adv = -functional_call(d, frozen, (s, )).mean()
        return dict(adv=self.loss_weight * adv, disc=self.loss_weight * disc)
