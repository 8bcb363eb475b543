"""FitNets-style feature imitation."""
import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from .base import DistillLoss


@MODELS.register_module()
class FeatureMSELoss(DistillLoss):
    r"""Mean squared error between (adapted) student and teacher features.

    Romero et al. *FitNets: Hints for Thin Deep Nets*. ICLR 2015, arXiv:1412.6550.

    .. math::
        L = \frac{1}{|F|} \sum_{i} \left( \phi(r(F^s))_i - \phi(F^t)_i \right)^2

    where :math:`r` is the regressor (an mmkd connector, e.g. ``ConvConnector``, declared
    on the distiller) and :math:`\phi` an optional normalisation: ``None`` (FitNets),
    ``'channel'`` (each position's feature vector L2-normalised over channels) or
    ``'layer'`` (each sample's whole feature map standardised to zero mean, unit
    variance, as in feature-imitation work that compares maps of different scales).

    Reduction: ``'mean'`` over every element (``nn.MSELoss()``, what RepDistiller's
    ``HintLoss`` and mdistiller's ``FitNet`` use), ``'sum'`` divided by the batch size,
    or ``'relative'``: the squared error relative to the teacher's energy,

    .. math::
        L = \frac{\sum_{i} (\phi(r(F^s))_i - \phi(F^t)_i)^2}
                 {\sum_{i} \phi(F^t)_i^2}
          = \frac{\mathrm{MSE}}{\mathrm{mean}(\phi(F^t)^2)}

    over the whole batch (the denominator carries no gradient). It does not depend on
    the scale of the features: 0 when the student matches the teacher, 1 when it
    predicts zeros, about 2 for an independent zero-mean map of the same energy. One loss per
    stage then weighs every stage alike, whatever its activations' magnitude (raw MSE
    on deep CNN stages is dominated by the stage with the largest activations and can
    be an order of magnitude above a task loss of CE + Dice).

    Authors' defaults (RepDistiller ``--distill hint``, mdistiller ``FITNET``): hint
    layer = the student's 2nd stage output against the teacher's, weight 100 with
    cross-entropy 1.0 (``loss_weight=100.``).

    Args:
        normalize (str | None): ``None``, ``'channel'`` or ``'layer'``.
        reduction (str): ``'mean'``, ``'sum'`` or ``'relative'``. Defaults to
            ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    #: Inputs the distiller checks for equal shapes before calling ``forward``.
    same_shape = ('student', 'teacher')
    needs_data_samples = False

    def __init__(self, normalize=None, reduction: str = 'mean', loss_weight: float = 1.0):
        super().__init__()
        if normalize not in (None, 'channel', 'layer'):
            raise ValueError(f"FeatureMSELoss normalize must be None, 'channel' or "
                             f"'layer', got {normalize!r}")
        if reduction not in ('mean', 'sum', 'relative'):
            raise ValueError(f"FeatureMSELoss reduction must be 'mean', 'sum' or "
                             f"'relative', got {reduction!r}")
        self.normalize = normalize
        self.reduction = reduction
        self.loss_weight = loss_weight

    def _norm(self, x: torch.Tensor) -> torch.Tensor:
        if self.normalize == 'channel':
            return F.normalize(x, dim=1)
        if self.normalize == 'layer':
            flat = x.flatten(1)
            mean = flat.mean(1, keepdim=True)
            std = flat.std(1, keepdim=True)
            return ((flat - mean) / (std + 1e-6)).view_as(x)
        return x

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        s, t = self._norm(student.float()), self._norm(teacher.float())
        if self.reduction == 'mean':
            loss = F.mse_loss(s, t)
        elif self.reduction == 'relative':
            energy = t.detach().pow(2).mean().clamp(min=torch.finfo(torch.float32).eps)
            loss = F.mse_loss(s, t) / energy
        else:
            loss = F.mse_loss(s, t, reduction='sum') / s.shape[0]
        return self.loss_weight * loss
