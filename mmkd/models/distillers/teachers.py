"""The teachers of a distiller: one class per kind, each giving its features for a batch.

DESIGN. :func:`build_teacher` turns one teacher config (``Distiller(teacher=...)`` or an
entry of ``teachers=``) into one of:

- :class:`FrozenTeacher`: its checkpoint's weights, eval mode, no gradient. It runs
  under ``no_grad``, in its ``amp`` precision and ``channels_last`` memory format, and
  hands its taps to the losses as float32. Its model is *not* a submodule of the
  distiller: that keeps it out of the optimizer, the checkpoints, the exports, DDP's
  parameter sync and the runner's ``init_weights()``/``train()``; the distiller moves it
  along in ``_apply`` (``.to()``, ``.cuda()``) and keeps it in eval mode.
- :class:`TrainableTeacher`: trained with the student; a submodule of the distiller
  (``trainable_teachers.<name>`` in checkpoints), with its own task losses, logged as
  ``<name>.<key>`` and weighted by ``task_loss_weight``, or none with
  ``task_losses='none'`` (a ``'tensor'`` forward: no labels read).
- :class:`CachedTeacher`: never runs. Its structure, built on the meta device (no
  memory), resolves the taps, whose values a
  :class:`~mmkd.models.distillers.teacher_cache.TeacherCache` reads from disk.

Each reads its part of the batch with :meth:`Teacher.read` (its modality, through its
``input_adapter``) and gives one step's features with :meth:`Teacher.features`: what its
taps recorded (tap name -> one value per module call) and its task losses. The records
are read from the recorder and returned (converted where needed), never rewritten in
it. A teacher reads its settings from its config dict at every call: that dict is the
distiller's ``teacher_cfgs[name]``.
"""
import warnings
from contextlib import nullcontext
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.runner.checkpoint import _load_checkpoint

from mmkd.registry import MODELS
from .integrity import state_hash
from .model_config import build_model, extract_state_dict, load_weights_strict, resolve_checkpoint
from .taps import Tap, TapRecorder
from .teacher_cache import TeacherCache, TeacherCacheError
from .wiring import scaled_losses

AMP_DTYPES = {None: None, False: None, 'bf16': torch.bfloat16,
              'bfloat16': torch.bfloat16, 'fp16': torch.float16, 'float16': torch.float16}
TEACHER_KEYS = {'model', 'checkpoint', 'input', 'trainable', 'task_losses',
                'task_loss_weight', 'amp', 'channels_last', 'cache', 'input_adapter'}
#: What a trainable teacher's ``task_losses`` may be (as the distiller's
#: ``student_losses``): its own task losses from the labels, or none.
TASK_LOSSES = ('supervised', 'none')
_warned_deprecated = set()  # deprecated spellings already warned about in this process

Inputs = Union[torch.Tensor, Dict[str, torch.Tensor]]
Features = Dict[str, list]


def resolve_task_losses(cfg: dict, what: str) -> Tuple[str, float]:
    """A trainable teacher's ``task_losses`` mode and ``task_loss_weight``, checked.

    ``task_loss_weight=0`` without ``task_losses``, the old spelling of
    ``task_losses='none'``, is mapped to it with a ``FutureWarning``, once per process
    (behaviour unchanged: no task loss is computed). ``'none'`` with a weight other than
    the default 1.0 or 0 is a contradiction and raises a ``ValueError`` naming both
    keys. An explicit ``task_losses='supervised'`` with weight 0 is a weight: the task
    losses are computed, logged and scaled to 0."""
    mode = cfg.get('task_losses', 'supervised')
    weight = cfg.get('task_loss_weight', 1.0)
    if mode not in TASK_LOSSES:
        raise ValueError(f"{what}: task_losses={mode!r}: expected one of "
                         f"{list(TASK_LOSSES)} ('supervised': its task losses from the "
                         f"labels, times task_loss_weight; 'none': no task loss)")
    if weight == 0 and 'task_losses' not in cfg:
        if 'task_loss_weight=0' not in _warned_deprecated:
            _warned_deprecated.add('task_loss_weight=0')
            warnings.warn(
                f"{what}: task_loss_weight=0 as a switch is deprecated; write "
                f"task_losses='none' instead (no task loss: the teacher runs in 'tensor' "
                f"mode and needs no labels). task_loss_weight is a weight only.",
                FutureWarning, stacklevel=3)
        return 'none', weight
    if mode == 'none' and weight not in (1.0, 0.0):
        raise ValueError(f"{what}: task_losses='none' computes no task loss, so "
                         f'task_loss_weight={weight!r} would weight nothing: drop '
                         f"task_loss_weight, or set task_losses='supervised'")
    return mode, weight


def route(inputs: Inputs, key: Optional[str], who: str) -> torch.Tensor:
    """The part of the batch ``who`` reads: modality ``key`` of a paired batch, or the
    batch's one tensor (``key=None``)."""
    if isinstance(inputs, dict):
        if key is None:
            raise KeyError(f'the batch holds modalities {sorted(inputs)}; set which '
                           f'one the {who} reads (student_input=... / teacher input=)')
        if key not in inputs:
            raise KeyError(f'the {who} reads modality {key!r}, but the batch holds '
                           f'{sorted(inputs)}')
        return inputs[key]
    if key is not None:
        raise KeyError(f'the {who} reads modality {key!r}, but the batch is a single '
                       f'tensor, not a paired sample (use a paired dataset or drop '
                       f'the modality key)')
    return inputs


class Teacher:
    """One teacher: its name, its config (read at every call) and its model.

    Attributes:
        read_taps (dict): Its taps that a loss or connector reads (name -> tap), given
            by the distiller once its wiring is built (:meth:`use_taps`).
    """
    frozen = False  # runs under no_grad, and so does its input adapter
    runs = True  # reads the batch and runs a forward
    run_order = 0  # frozen, cached, trainable: the order a step runs them in

    def __init__(self, name: str, cfg: dict, model: nn.Module,
                 adapter: Optional[nn.Module] = None):
        self.name, self.cfg, self.model, self.adapter = name, cfg, model, adapter
        self.read_taps: Dict[str, Tap] = {}

    @property
    def what(self) -> str:
        return f'teacher {self.name!r}'

    def use_taps(self, taps: Dict[str, Tap]) -> None:
        self.read_taps = dict(taps)

    def read(self, inputs: Inputs) -> torch.Tensor:
        """What the teacher reads: its modality, through its input adapter."""
        x = route(inputs, self.cfg.get('input'), self.what)
        if self.adapter is not None:
            with torch.no_grad() if self.frozen else nullcontext():
                x = self.adapter(x)
        return x

    def features(self, x: Optional[torch.Tensor], data_samples, recorder: TapRecorder,
                 device: torch.device) -> Tuple[Features, Dict[str, torch.Tensor]]:
        """One step: ``(tap name -> recorded values, task losses)``. ``x`` is what
        :meth:`read` gave (None for a teacher that does not run); ``recorder`` is
        recording; ``device`` is where the student's input is."""
        raise NotImplementedError


class FrozenTeacher(Teacher):
    """A teacher with fixed weights: eval mode, no gradient, not a submodule."""
    frozen = True

    def __init__(self, name: str, cfg: dict, model: nn.Module,
                 adapter: Optional[nn.Module] = None):
        super().__init__(name, cfg, model, adapter)
        load_weights_strict(model, cfg.get('checkpoint'), self.what)
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        if cfg.get('channels_last'):
            model.to(memory_format=torch.channels_last)
        self.hash = state_hash(model.state_dict())  # its weights at build

    def features(self, x, data_samples, recorder, device=None):
        """Its forward: no_grad, its precision and memory format; what its taps recorded,
        as float32 when it runs in reduced precision."""
        if self.cfg.get('channels_last') and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        dtype = AMP_DTYPES[self.cfg.get('amp')]
        autocast = torch.autocast(x.device.type, dtype=dtype) if dtype else nullcontext()
        with torch.no_grad(), autocast:
            self.model(x, data_samples, mode='tensor')
        records = recorder.records_of(self.name)
        if dtype:
            records = {t: [_float32(v) for v in values] for t, values in records.items()}
        return records, {}


class TrainableTeacher(Teacher):
    """A teacher trained with the student (a submodule of the distiller)."""
    run_order = 2

    def __init__(self, name: str, cfg: dict, model: nn.Module,
                 adapter: Optional[nn.Module] = None):
        super().__init__(name, cfg, model, adapter)
        resolve_task_losses(cfg, self.what)  # a bad mode or weight fails at build
        self.load_checkpoint()

    def load_checkpoint(self) -> None:
        """Its checkpoint's weights, if it names one (again after the runner's
        ``init_weights()``)."""
        if self.cfg.get('checkpoint'):
            load_weights_strict(self.model, self.cfg['checkpoint'], self.what)

    def features(self, x, data_samples, recorder, device=None):
        """Its forward with gradients: its own task losses (``<name>.<key>``, times
        ``task_loss_weight``; with ``task_losses='none'`` a ``'tensor'`` forward and
        none) and what its taps recorded."""
        mode, w = resolve_task_losses(self.cfg, self.what)
        own = {}
        if mode == 'supervised':
            own = scaled_losses(self.model(x, data_samples, mode='loss'), w,
                                f'{self.name}.')
        else:
            self.model(x, data_samples, mode='tensor')
        return recorder.records_of(self.name), own


class CachedTeacher(Teacher):
    """A frozen teacher whose tap outputs are read from a teacher cache."""
    runs = False
    run_order = 1

    def __init__(self, name: str, cfg: dict):
        cache_cfg = dict(cfg['cache'])
        what = f'teacher {name!r}'
        if 'dir' not in cache_cfg:
            raise KeyError(f"{what}: cache needs dir=..., got {sorted(cache_cfg)}")
        self.cache = TeacherCache(cache_cfg['dir'], cache_cfg.get('name', name))
        if cfg.get('checkpoint') and cache_cfg.get('check_checkpoint', True):
            self._check_weights(cfg['checkpoint'], cache_cfg['dir'], what)
        super().__init__(name, cfg, _meta_model(cfg['model'], what))

    def _check_weights(self, checkpoint: str, cache_dir: str, what: str) -> None:
        ckpt = resolve_checkpoint(checkpoint, what)
        found = state_hash(extract_state_dict(_load_checkpoint(ckpt, 'cpu')))
        if found != self.cache.weights_hash:
            raise TeacherCacheError(
                f'{what}: the cache {cache_dir!r} was made with other teacher '
                f'weights (hash {self.cache.weights_hash[:12]}) than {ckpt!r} '
                f'({found[:12]}); make the cache again')

    def use_taps(self, taps: Dict[str, Tap]) -> None:
        self.cache.check_taps(taps)
        super().use_taps(taps)

    def features(self, x, data_samples, recorder, device):
        """Its stored outputs for the batch's views, on ``device``; no forward."""
        return self.cache.lookup(self.read_taps, data_samples, device), {}


def build_teacher(name: str, cfg: dict) -> Teacher:
    """The teacher a config describes (see :class:`~mmkd.models.distillers.Distiller`)."""
    if 'model' not in cfg or set(cfg) - TEACHER_KEYS:
        raise KeyError(f"teacher {name!r}: expected keys {sorted(TEACHER_KEYS)} ('model' "
                       f'required), got {sorted(cfg)}')
    what = f'teacher {name!r}'
    if cfg.get('amp') not in AMP_DTYPES:
        raise ValueError(f"{what}: amp must be 'bf16', 'fp16' or None, got "
                         f"{cfg['amp']!r}")
    trainable = cfg.get('trainable', False)
    if 'task_losses' in cfg and not trainable:
        raise ValueError(f"{what}: task_losses={cfg['task_losses']!r} is for a trainable "
                         f'teacher (trainable=True); a frozen one computes no task loss')
    if cfg.get('cache'):
        if trainable:
            raise ValueError(f'{what}: only a frozen teacher can be cached')
        return CachedTeacher(name, cfg)
    model, _, _ = build_model(cfg['model'], what)
    adapter = _input_adapter(cfg, model, what) if cfg.get('input_adapter') else None
    return (TrainableTeacher if trainable else FrozenTeacher)(name, cfg, model, adapter)


def _input_adapter(cfg: dict, model: nn.Module, what: str) -> nn.Module:
    adapter = MODELS.build(dict(cfg['input_adapter']))
    if getattr(adapter, 'modality', None) is None:
        adapter.modality = cfg.get('input')
    if not cfg.get('trainable', False) and any(
            p.requires_grad for p in adapter.parameters()):
        raise ValueError(f'{what}: its input_adapter has trainable parameters, but a '
                         f'frozen teacher runs under no_grad, so they would never be '
                         f'trained; use a fixed adapter (learnable=False) or '
                         f'trainable=True')
    expects = _input_channels(model)
    out = getattr(adapter, 'out_channels', None)
    if expects is not None and out is not None and out != expects:
        raise ValueError(f'{what}: its input_adapter gives {out} channels, but the '
                         f"teacher's first convolution takes {expects}; give the "
                         f'adapter {expects} output channels (bands / weights rows)')
    return adapter


def _meta_model(model_cfg, what: str) -> nn.Module:
    """The model's structure on the meta device (no memory, no weights)."""
    try:
        with torch.device('meta'):
            model, _, _ = build_model(model_cfg, what)
    except (RuntimeError, NotImplementedError):  # a module that computes at build
        model, _, _ = build_model(model_cfg, what)
        model.to('meta')
    return model


def _input_channels(model: nn.Module) -> Optional[int]:
    """The channels a model's first convolution takes (a ResNet stem, a ViT's patch
    embedding); None when it has none."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m.in_channels
    return None


def _float32(x):
    if isinstance(x, torch.Tensor):
        return x.float() if x.is_floating_point() else x
    if isinstance(x, (list, tuple)):
        return type(x)(_float32(v) for v in x)
    return x
