"""The wiring of a distiller: taps -> connectors -> losses, built once, run every step.

DESIGN. :class:`~mmkd.models.distillers.Distiller` runs the models and records their
taps; what happens to the recorded features afterwards is here, in :class:`Wiring`
(MMRazor splits its distillers the same way, into the algorithm that runs the models and
the ``ConfigurableDistiller`` that computes the losses, but without its mapping
dictionaries: a connector names its ``source`` tap and a loss its ``inputs`` directly).

- At build each connector's ``source``/``like`` must be a tap and each loss's ``inputs``
  a tap or a connector; a loss that reads one input per teacher (its
  ``teacher_inputs``) must name teachers of the distiller, and every forward argument
  a loss requires must be among its ``inputs``.
- Every step :meth:`Wiring.connect` adds the connectors' outputs to the features and
  :meth:`Wiring.compute_losses` calls each loss on what it reads (with the batch's
  ``data_samples`` when it takes them: :func:`call_loss`), times its schedule factor,
  named ``loss_<name>``. On the first batch it checks the shapes a loss compares and
  names the loss in an input error.

The connectors and losses are ``nn.ModuleDict`` s that the distiller registers as its
own ``connectors`` and ``losses``, so checkpoint keys are ``connectors.*`` and
``losses.*``; :class:`Wiring` is a plain object that holds them, not a module.
"""
import inspect
from typing import Dict, List, Optional, Set

import torch
import torch.nn as nn

from mmkd.registry import MODELS
from ..losses.base import LossContract, loss_contract
from .schedule import LossSchedule
from .taps import TapRecorder


def scaled_losses(losses: dict, weight, prefix: str, factor: float = 1.0) -> dict:
    """Task losses under ``prefix``, scaled by one weight, or per key (``dict(loss_cls=0.)``;
    keys not named keep weight 1), times the schedule ``factor``.

    A weight of 0 keeps the term multiplied by 0 (logged, still in the graph, so DDP
    sees every parameter used). A schedule that is off (``factor == 0``) drops the
    terms, so what only they reach gets no gradient and no weight decay (an
    initialisation stage; under DDP set ``find_unused_parameters=True`` for it)."""
    if factor == 0:
        return {}
    out = {}
    for k, v in losses.items():
        w = (weight.get(k, 1.0) if isinstance(weight, dict) else weight) * factor
        if 'loss' in k and w != 1.0:
            v = [x * w for x in v] if isinstance(v, (list, tuple)) else v * w
        out[prefix + k] = v
    return out


# ----------------------------------------------------------------------- calling a loss
def call_loss(loss_fn: nn.Module, kwargs: dict, data_samples,
              contract: Optional[LossContract] = None):
    """Call a loss on its inputs, adding the batch's ``data_samples`` when it takes them.

    The one place that decides it, from the loss's contract
    (:func:`mmkd.models.losses.loss_contract`: a :class:`~mmkd.models.losses.DistillLoss`
    declares ``needs_data_samples``; a plain ``nn.Module`` is read once from its
    ``forward``), read at build by :class:`Wiring`."""
    if contract is None:
        contract = loss_contract(loss_fn)
    if contract.needs_data_samples:
        kwargs = dict(kwargs, data_samples=data_samples)
    return loss_fn(**kwargs)


def _required_args(loss_fn: nn.Module) -> List[str]:
    """The forward arguments a config must give a loss (``data_samples`` comes from the
    batch)."""
    params = inspect.signature(loss_fn.forward).parameters
    return [p for p, v in params.items() if v.default is inspect.Parameter.empty
            and v.kind is v.POSITIONAL_OR_KEYWORD and p != 'data_samples']


# ----------------------------------------------------------------------------- wiring
class Wiring:
    """Connectors and losses of a distiller, and what each reads.

    Args:
        recorder (TapRecorder): The distiller's taps.
        models (dict): name -> model the taps read (for connectors' ``bind_source``).
        connectors (dict, optional): name -> connector config with ``source``, ``like``.
        losses (dict, optional): name -> loss config with ``inputs``, ``schedule``.
        teachers (list[str]): The distiller's teacher names.
    """

    def __init__(self, recorder: TapRecorder, models: Dict[str, nn.Module],
                 connectors: Optional[Dict[str, dict]], losses: Optional[Dict[str, dict]],
                 teachers: List[str]):
        self.recorder = recorder
        self.teachers = list(teachers)
        self.connectors = nn.ModuleDict()
        self.connector_io: Dict[str, tuple] = {}
        for name, cfg in (connectors or {}).items():
            self._add_connector(name, dict(cfg), models)
        self.losses = nn.ModuleDict()
        self.loss_inputs: Dict[str, Dict[str, str]] = {}
        self.loss_schedules: Dict[str, LossSchedule] = {}
        self.loss_contracts: Dict[str, LossContract] = {}
        for name, cfg in (losses or {}).items():
            self._add_loss(name, dict(cfg))
        self._checked_shapes = False

    # ------------------------------------------------------------------ build
    def _add_connector(self, name: str, cfg: dict, models: Dict[str, nn.Module]) -> None:
        taps = self.recorder.taps
        source, like = cfg.pop('source', None), cfg.pop('like', None)
        for role, tap in (('source', source), ('like', like)):
            if (tap is not None or role == 'source') and tap not in taps:
                raise KeyError(f'connector {name!r}: {role}={tap!r} is not a tap; '
                               f'taps are {sorted(taps)}')
        if name in taps:
            raise ValueError(f'connector {name!r} has the name of a tap')
        self.connectors[name] = MODELS.build(cfg)
        self.connector_io[name] = (source, like)
        if hasattr(self.connectors[name], 'bind_source'):
            tap = taps[source]
            self.connectors[name].bind_source(source, models[tap.model], tap.path)

    def _add_loss(self, name: str, cfg: dict) -> None:
        inputs = dict(cfg.pop('inputs', {}))
        schedule = LossSchedule(cfg.pop('schedule', None), f'loss {name!r}')
        features = set(self.recorder.taps) | set(self.connectors)
        unknown = {arg: f for arg, f in inputs.items()
                   if any(x not in features for x in _names(f))}
        if unknown:
            raise KeyError(f'loss {name!r} reads {unknown}, which are neither taps nor '
                           f'connectors; features are {sorted(features)}')
        loss_fn = self.losses[name] = MODELS.build(cfg)
        self.loss_contracts[name] = loss_contract(loss_fn, name)
        self._check_teacher_inputs(name, loss_fn, inputs)
        missing = [p for p in _required_args(loss_fn) if p not in inputs]
        if missing:
            raise KeyError(f'loss {name!r} ({type(loss_fn).__name__}) needs inputs for '
                           f'{missing}; give them in inputs=dict(...)')
        self.loss_inputs[name] = inputs
        self.loss_schedules[name] = schedule

    def _feature_model(self, feature: str) -> str:
        """The model a feature is read from (a connector's: its source tap's)."""
        if feature in self.connector_io:
            feature = self.connector_io[feature][0]
        return self.recorder.taps[feature].model

    def _check_teacher_inputs(self, name: str, loss_fn: nn.Module, inputs: dict) -> None:
        """Inputs a loss reads per teacher (its ``teacher_inputs``, e.g. a multi-teacher
        loss's ``teacher=dict(eo='t_eo_logits', sar='t_sar_logits')``): each key must
        be a teacher of the distiller and its feature must be read from that teacher.
        The loss is then told the teacher names (``check_teachers``), so what it
        configures per teacher is checked at build, not on the first batch."""
        for arg in self.loss_contracts[name].teacher_inputs:
            what = f'loss {name!r} ({type(loss_fn).__name__})'
            f = inputs.get(arg)
            if not isinstance(f, dict):
                raise TypeError(f'{what} reads one input per teacher: give {arg}=dict('
                                f'<teacher name>=<tap>, ...), got {arg}={f!r}')
            for teacher, feature in f.items():
                if teacher not in self.teachers:
                    raise KeyError(f'{what}: {arg}=dict({teacher}=...) names teacher '
                                   f'{teacher!r}, but the distiller\'s teachers are '
                                   f'{sorted(self.teachers)}')
                model = self._feature_model(feature)
                if model != teacher:
                    raise ValueError(f'{what}: {arg}=dict({teacher}={feature!r}) reads '
                                     f'{feature!r}, a feature of {model!r}, not of teacher '
                                     f'{teacher!r}')
            check = getattr(loss_fn, 'check_teachers', None)
            if check is not None:
                check(list(f))

    def read_taps(self) -> Set[str]:
        """The taps that a loss or a connector reads."""
        return {x for ins in self.loss_inputs.values() for f in ins.values()
                for x in _names(f)} | {t for io in self.connector_io.values() for t in io
                                       if t}

    # ------------------------------------------------------------------ step
    def connect(self, features: dict) -> dict:
        """``features`` with each connector's output added under its name."""
        features = dict(features)
        for name, connector in self.connectors.items():
            source, like = self.connector_io[name]
            src = features[source]
            sizes = [None] * len(_as_list(src)) if like is None else [
                _spatial_size(v) for v in _as_list(features[like])]
            if len(sizes) != len(_as_list(src)):
                raise ValueError(f'connector {name!r}: source {source!r} has '
                                 f'{len(_as_list(src))} entries but like={like!r} has '
                                 f'{len(sizes)}')
            out = [connector(x, s) for x, s in zip(_as_list(src), sizes)]
            features[name] = out if isinstance(src, (list, tuple)) else out[0]
        return features

    def compute_losses(self, features: dict, data_samples, it: int, epoch: int = 0
                       ) -> Dict[str, torch.Tensor]:
        """Each loss on what it reads, times its schedule factor at ``it``/``epoch``:
        ``loss_<name>`` (``loss_<name>.<term>`` for a dict of terms), and what it logs."""
        losses = {}
        for name, loss_fn in self.losses.items():
            value = self._loss_value(name, loss_fn, features, data_samples)
            factor = self.loss_schedules[name].factor(it, epoch)
            losses.update(_loss_entries(name, value, factor))
        self._checked_shapes = True
        return losses

    def _loss_value(self, name: str, loss_fn: nn.Module, features: dict, data_samples):
        kwargs = {arg: _gather(features, f) for arg, f in self.loss_inputs[name].items()}
        if self._checked_shapes:
            return call_loss(loss_fn, kwargs, data_samples, self.loss_contracts[name])
        # the first batch: an input error names the loss and what it reads
        self._check_shapes(name, loss_fn, kwargs)
        try:
            return call_loss(loss_fn, kwargs, data_samples, self.loss_contracts[name])
        except ValueError as e:
            if type(e) is not ValueError:  # a specific error type stays as is
                raise
            raise ValueError(f'loss {name!r} ({type(loss_fn).__name__}) reading '
                             f'{self.loss_inputs[name]}: {e}') from e

    def _check_shapes(self, name: str, loss_fn: nn.Module, kwargs: dict) -> None:
        """On the first batch: inputs a loss compares element-wise must match in shape."""
        pair = self.loss_contracts[name].same_shape
        if not pair:
            return
        a, b = (_as_list(kwargs[p]) for p in pair)
        fa, fb = (self.loss_inputs[name][p] for p in pair)
        if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
            sa = [tuple(x.shape) for x in a]
            sb = [tuple(y.shape) for y in b]
            if all(x.dim() == 2 for x in a + b):  # vectors / logits (N, C)
                hint = (f"{fa}_adapted=dict(type='mmkd.LinearConnector', source={fa!r}, "
                        f'in_features={sa[0][1]}, out_features={sb[0][1]})')
                what = 'size'
            else:
                hint = (f"{fa}_adapted=dict(type='mmkd.ConvConnector', source={fa!r}, "
                        f'like={fb!r}, in_channels=..., out_channels=...)')
                what = 'channels and size'
            raise ValueError(
                f'loss {name!r} ({type(loss_fn).__name__}) compares {fa!r} with shape '
                f'{sa if len(sa) > 1 else sa[0]} and {fb!r} with shape '
                f'{sb if len(sb) > 1 else sb[0]}; they must match. Add a connector that '
                f'maps {fa!r} to the teacher\'s {what}, e.g. connectors=dict({hint}) and '
                f'read it in the loss.')


def _loss_entries(name: str, value, factor: float) -> dict:
    """What loss ``name`` returned as logged entries: first what it logs (its ``'log'``),
    then ``loss_<name>`` or, for a dict of terms, ``loss_<name>.<term>``, times
    ``factor``."""
    out = {}
    if isinstance(value, dict) and 'log' in value:
        value = dict(value)
        out.update(_logged_scalars(name, value.pop('log')))
        if set(value) == {'loss'}:  # one loss term besides what is only logged
            value = value['loss']
    if isinstance(value, dict):
        for k, v in value.items():
            out[f'loss_{name}.{k}' if not k.startswith('loss') else
                f'loss_{name}.{k[4:].lstrip("_")}'] = v * factor
    else:
        out[f'loss_{name}'] = value * factor
    return out


def _logged_scalars(name: str, values: dict) -> dict:
    """What a loss returns under ``'log'``: scalars logged as ``<loss name>.<key>``,
    detached and not summed into the total loss. mmengine's ``parse_losses`` sums every
    logged key that contains ``'loss'``, so such a key is refused."""
    out = {}
    for k, v in values.items():
        key = f'{name}.{k}'
        if 'loss' in key:
            raise ValueError(f'loss {name!r} logs {k!r} as {key!r}, which contains '
                             f"'loss': mmengine would add it to the total loss. Give the "
                             f"loss a name without 'loss' (losses=dict(<name>=...))")
        out[key] = v.detach() if isinstance(v, torch.Tensor) else torch.as_tensor(
            float(v))
    return out


def _names(f):
    """A loss input names one feature, a list of features (multi-layer losses) or a dict
    of them (one per teacher)."""
    if isinstance(f, str):
        return [f]
    return list(f.values()) if isinstance(f, dict) else list(f)


def _gather(features: dict, f):
    """The value(s) of a loss input: a tensor, a list or a dict like the input's names."""
    if isinstance(f, str):
        return features[f]
    if isinstance(f, dict):
        return {k: features[x] for k, x in f.items()}
    return [features[x] for x in f]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _spatial_size(x: torch.Tensor):
    return tuple(x.shape[-2:]) if x.dim() == 4 else None
