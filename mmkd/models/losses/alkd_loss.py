"""ALKD: adversarial learning on logits (a discriminator tells teacher from student)."""
from mmkd.registry import MODELS
from ._adversarial import AdversarialKDLoss, Discriminator


@MODELS.register_module()
class ALKDLoss(AdversarialKDLoss):
    r"""Adversarial distillation on logits: a trainable discriminator learns to tell the
    teacher's logits from the student's, and the student learns to fool it.

    Papers: Xu, Hsu, Huang. *Training Shallow and Thin Networks for Acceleration via
    Knowledge Distillation with Conditional Adversarial Networks*. ICLR 2018 workshop,
    arXiv:1709.00513 (discriminator on logits, student as generator); also Wang et al.
    *KDGAN*, NeurIPS 2018, and Shen et al. *MEAL*, AAAI 2019, arXiv:1812.02425
    (discriminator on the final outputs). The dimensional-structure CMKD paper (Si et
    al., arXiv:2306.15977) compares against "ALKD"; which of these it ran could not be
    confirmed, so this is the common core of all of them.

    .. math::
        L_{disc} = \mathrm{BCE}(D(z^t), 1) + \mathrm{BCE}(D(\mathrm{sg}[z^s]), 0),
        \qquad
        L_{adv} = \mathrm{BCE}(D_{\mathrm{sg}[\theta_D]}(z^s), 1) = -\log \sigma(D(z^s))

    with :math:`z` the logits ``(N, C)`` (or score maps ``(N, C, H, W)``), :math:`D`
    the discriminator (``Discriminator``: a two-layer MLP, LeakyReLU 0.2, one logit),
    :math:`\sigma` the sigmoid and :math:`\mathrm{sg}` stop-gradient. One backward of
    :math:`L_{adv} + L_{disc}` trains the student against :math:`D` and :math:`D`
    against the student: the formulation, and why it was chosen over a
    gradient-reversal layer, is in ``mmkd/models/losses/_adversarial.py``. Returned as
    ``dict(adv=loss_weight * L_adv, disc=disc_loss_weight * L_disc)``, logged as
    ``loss_<name>.adv`` and ``loss_<name>.disc``; both enter the total loss.

    Reduction: BCE means over the batch; ``disc`` sums the real and fake halves.

    Defaults: no public code of these papers gives a loss weight that fits here (Xu et
    al. add an L1 logit loss and a label-conditioned discriminator; MEAL a KL term), so
    ``loss_weight=1.0``, ``disc_loss_weight=1.0``, ``hidden_channels=256`` are ours.
    Combine with ``KDLoss``/cross-entropy as the paper you reproduce does. The
    discriminator is trained by the distiller's optimizer; give it its own learning
    rate with ``paramwise_cfg=dict(custom_keys={'discriminator': dict(lr_mult=...)})``.

    Args:
        num_classes (int): Channels of the logits.
        hidden_channels (int): Width of the discriminator. Defaults to 256.
        loss_weight (float): Multiplier of the student's adversarial term.
            Defaults to 1.0.
        disc_loss_weight (float): Multiplier of the discriminator's term (with SGD, a
            learning-rate factor for the discriminator). Defaults to 1.0.
    """

    def __init__(self, num_classes: int, hidden_channels: int = 256,
                 loss_weight: float = 1.0, disc_loss_weight: float = 1.0):
        super().__init__(Discriminator(num_classes, hidden_channels, num_downsample=0),
                         loss_weight, disc_loss_weight)
