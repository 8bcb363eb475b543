"""AFKD: adversarial learning on features (a discriminator tells teacher from student)."""
from mmkd.registry import MODELS
from ._adversarial import AdversarialKDLoss, Discriminator


@MODELS.register_module()
class AFKDLoss(AdversarialKDLoss):
    r"""Adversarial distillation on features: a trainable discriminator learns to tell
    the teacher's features from the (adapted) student's, and the student learns to fool
    it, so the student's feature *distribution* moves to the teacher's without an
    element-wise match.

    Papers: Wang, Xu, Xu, Tao. *Adversarial Learning of Portable Student Networks*.
    AAAI 2018 (discriminator on features); Chung, Park, Kim, Kwak. *Feature-map-level
    Online Adversarial Knowledge Distillation*. ICML 2020, arXiv:2002.01775
    (discriminator on feature maps). The dimensional-structure CMKD paper (Si et al.,
    arXiv:2306.15977) compares against "AFKD"; which of these it ran could not be
    confirmed, so this is their common core.

    .. math::
        L_{disc} = \mathrm{BCE}(D(F^t), 1) + \mathrm{BCE}(D(\mathrm{sg}[F^s]), 0),
        \qquad
        L_{adv} = \mathrm{BCE}(D_{\mathrm{sg}[\theta_D]}(F^s), 1)

    with :math:`F` feature maps ``(N, C, H, W)`` or vectors ``(N, C)`` of equal shape
    (adapt the student with a connector, e.g. ``ConvConnector`` with ``like=``),
    :math:`D` the discriminator (``Discriminator``: conv1x1, ``num_downsample``
    stride-2 conv3x3, LeakyReLU 0.2, global average pooling, one logit) and
    :math:`\mathrm{sg}` stop-gradient. The single-backward formulation (simultaneous
    non-saturating GAN steps) and why it was chosen are in
    ``mmkd/models/losses/_adversarial.py``. Returned as ``dict(adv=..., disc=...)``.

    Reduction: BCE means over the batch; ``disc`` sums the real and fake halves.

    Defaults: ours (no public code fits here): ``hidden_channels=256``,
    ``num_downsample=1``, ``loss_weight=1.0``, ``disc_loss_weight=1.0``.

    Args:
        in_channels (int): Channels of the features.
        hidden_channels (int): Width of the discriminator. Defaults to 256.
        num_downsample (int): Stride-2 conv3x3 layers. Defaults to 1.
        loss_weight (float): Multiplier of the student's adversarial term.
            Defaults to 1.0.
        disc_loss_weight (float): Multiplier of the discriminator's term.
            Defaults to 1.0.
    """

    def __init__(self, in_channels: int, hidden_channels: int = 256,
                 num_downsample: int = 1, loss_weight: float = 1.0,
                 disc_loss_weight: float = 1.0):
        super().__init__(Discriminator(in_channels, hidden_channels, num_downsample),
                         loss_weight, disc_loss_weight)
