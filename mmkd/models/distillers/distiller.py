"""The distiller: one student, one or more teachers, taps, connectors and losses.

One training step, top to bottom (:meth:`Distiller.loss`):

1. route: each model takes its modality from the batch (``inputs['sar']``, or the one
   tensor for classic compression KD); a teacher's ``input_adapter`` maps
   that modality's bands to the channels it expects (``mmkd.BandAdapter``);
2. teachers: frozen ones run in eval mode under ``no_grad`` (optionally in bf16/fp16
   autocast and channels-last), or their stored outputs are read from a teacher cache;
   taps record their features;
3. student: its own ``loss`` forward gives its task losses; taps record its features;
4. connectors adapt student features to the teachers' shapes (and may turn a ViT
   teacher's tokens into a map at the student's size, ``mmkd.TokenToMapConnector``);
5. losses read taps/connector outputs by name, each weighted and scheduled;
6. everything is returned as one dict of ``loss*`` keys that mmengine logs and sums,
   after a check that each is finite (before any backward pass or optimizer step).

Validation, testing and prediction run the student alone.
"""
import inspect
from contextlib import nullcontext
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel
from mmengine.runner.checkpoint import _load_checkpoint
from mmengine.structures import BaseDataElement

from mmkd.registry import MODELS
from .integrity import check_finite_losses, state_hash, verify_hashes
from .model_config import (
    ModelSpec,
    build_model,
    extract_state_dict,
    load_weights_strict,
    resolve_checkpoint,
)
from .taps import TapRecorder
from .teacher_cache import TeacherCache, TeacherCacheError

_AMP_DTYPES = {None: None, False: None, 'bf16': torch.bfloat16,
               'bfloat16': torch.bfloat16, 'fp16': torch.float16, 'float16': torch.float16}

Inputs = Union[torch.Tensor, Dict[str, torch.Tensor]]


_SCHEDULE_KEYS = {'begin', 'end', 'warmup', 'by_epoch'}


def _schedule_factor(schedule: Optional[dict], it: int, epoch: int = 0) -> float:
    """Weight multiplier at iteration ``it`` (epoch ``epoch`` with ``by_epoch=True``): 0
    outside [begin, end), a linear ramp over ``warmup`` steps after ``begin``, 1
    otherwise."""
    if not schedule:
        return 1.0
    step = epoch if schedule.get('by_epoch', False) else it
    begin, end = schedule.get('begin', 0), schedule.get('end')
    if step < begin or (end is not None and step >= end):
        return 0.0
    warmup = schedule.get('warmup', 0)
    return min(1.0, (step - begin + 1) / warmup) if warmup > 0 else 1.0


def _check_schedule(schedule: Optional[dict], what: str) -> None:
    if schedule and set(schedule) - _SCHEDULE_KEYS:
        raise KeyError(f'{what}: schedule keys are {sorted(_SCHEDULE_KEYS)}, got '
                       f'{sorted(schedule)}')


@MODELS.register_module()
class Distiller(BaseModel):
    """Trains ``student`` with task losses plus distillation losses from frozen teachers.

    Args:
        student (dict | str): The student model: an inline model config or the path of
            a config file (``'mmpretrain::resnet/resnet18_8xb32_in1k.py'``, or local).
        teacher (dict, optional): One teacher, named ``'teacher'``; shorthand for
            ``teachers=dict(teacher=...)``. Keys: ``model`` (dict or config path),
            ``checkpoint`` (required unless ``trainable``), ``input`` (the batch's
            modality key it reads; None = the same tensor as the student),
            ``trainable`` (default False: frozen, eval mode, no_grad, outside the
            optimizer and the checkpoints) and, for trainable teachers,
            ``task_loss_weight`` (default 1.0; 0 disables its own task loss). Frozen
            teachers also take ``amp`` (``'bf16'`` or ``'fp16'``: the forward runs under
            autocast and its taps are handed to the losses as float32),
            ``channels_last`` (bool: weights and input in channels-last memory format)
            and ``cache=dict(dir=...)`` (read the teacher's outputs from a cache made by
            ``tools/misc/cache_teacher.py`` instead of running it; see
            ``teacher_cache.py``). ``input_adapter`` (a module config, e.g.
            ``dict(type='mmkd.BandAdapter', in_channels=1, bands=[0, 0, 0])``) maps the
            bands of the modality it reads to the channels it was built for (an RGB
            teacher on grey EO or on SAR); it runs on the routed, normalised input. A
            learnable one only on a trainable teacher (a frozen one has no gradient).
        teachers (dict, optional): Several teachers by name, each as ``teacher``.
        taps (dict): Feature name -> ``'<model>.<module path>'`` (see ``taps.py``).
        connectors (dict, optional): Name -> connector config with ``source`` (a tap)
            and optional ``like`` (a tap whose spatial size the output takes). Its
            output is a feature under its own name. ``source`` is normally a student
            tap; it may be a teacher's (``mmkd.TokenToMapConnector`` turns a ViT
            teacher's tokens into a map at the student's size). A connector with a
            ``bind_source(tap, model, path)`` method is given its source tap, model and
            module path at build (to name the tap in errors, read the model's layout).
        losses (dict): Name -> loss config with ``inputs`` (the loss's forward argument
            -> a feature name, or a list of names for losses over several layers, which
            then receive a list, or a dict ``<teacher name>=<feature>`` for losses that
            read one input per teacher, which then receive a dict) and optional
            ``schedule=dict(begin, end, warmup)`` in iterations (in epochs with
            ``by_epoch=True``). Logged as ``loss_<name>``; what a loss returns under
            ``'log'`` (per-teacher weights) is logged as ``<name>.<key>`` and not added
            to the total loss.
        student_input (str, optional): Modality key the student reads; None when the
            batch holds one tensor.
        student_loss_weight (float | dict | None): Multiplier of the student's task losses,
            which are logged as ``student.<key>``; a dict weights each key (``dict(
            loss_cls=0.)`` trains a detector's classifier on soft targets only while its
            config, and so the exported student, keeps the usual loss; a zero-weighted
            term stays in the graph multiplied by 0). None: no task loss at all, the
            student runs in ``'tensor'`` mode and needs no labels (distillation on
            unlabelled data, from the teacher's outputs alone). Defaults to 1.0.
        student_loss_schedule (dict, optional): When the task losses are on, as a
            loss's ``schedule`` (e.g. ``dict(begin=30, by_epoch=True)``: off in an
            initialisation stage of 30 epochs, as RepDistiller's FSP). While off they
            are dropped (not multiplied by 0), so what only they reach (the classifier)
            gets no gradient and no weight decay. Defaults to None (always on).
        data_preprocessor (dict, optional): Without ``type`` it is the student's own
            preprocessor settings (what a runner config's top-level
            ``data_preprocessor`` holds); with a ``type`` it is built as is and runs
            before routing (e.g. a per-modality preprocessor for paired data).
        check_finite (bool): Stop with :class:`NonFiniteLossError`, naming the loss and
            the iteration, when a loss is NaN/Inf, before the backward pass. Defaults
            to True.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 student: ModelSpec,
                 teacher: Optional[dict] = None,
                 teachers: Optional[Dict[str, dict]] = None,
                 taps: Optional[Dict[str, Union[str, dict]]] = None,
                 connectors: Optional[Dict[str, dict]] = None,
                 losses: Optional[Dict[str, dict]] = None,
                 student_input: Optional[str] = None,
                 student_loss_weight: Union[float, Dict[str, float], None] = 1.0,
                 student_loss_schedule: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 check_finite: bool = True,
                 init_cfg: Optional[dict] = None):
        own_preprocessor = data_preprocessor is not None and 'type' in data_preprocessor
        student_model, _, _ = build_model(
            student, 'student', None if own_preprocessor else data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor if own_preprocessor
            else student_model.data_preprocessor,
            init_cfg=init_cfg)
        self.student = student_model
        self.student_input = student_input
        self.student_loss_weight = student_loss_weight
        _check_schedule(student_loss_schedule, 'student_loss_schedule')
        self.student_loss_schedule = student_loss_schedule

        if teacher is not None and teachers is not None:
            raise ValueError('give either `teacher` or `teachers`, not both')
        teachers = dict(teacher=teacher) if teacher is not None else dict(teachers or {})
        if 'student' in teachers:
            raise ValueError("'student' is reserved; give the teacher another name")
        self.teacher_cfgs: Dict[str, dict] = {}
        self.trainable_teachers = nn.ModuleDict()
        # Frozen teachers are deliberately *not* registered as submodules: that keeps
        # them out of the optimizer, out of state_dict/checkpoints/exports, out of DDP's
        # parameter sync, and safe from the runner's init_weights() and train() calls.
        # ``_apply`` below still moves them with the distiller (.to(), .cuda(), ...).
        object.__setattr__(self, '_frozen_teachers', {})
        # Cached teachers never run: their structure (on the meta device, no memory)
        # only resolves the taps, whose values come from the cache.
        object.__setattr__(self, '_cached_teachers', {})
        self.teacher_caches: Dict[str, TeacherCache] = {}
        self.teacher_hashes: Dict[str, str] = {}  # frozen teachers' weights at build
        self.check_finite = check_finite
        self.input_adapters = nn.ModuleDict()  # teacher name -> its input adapter
        for name, cfg in teachers.items():
            self._add_teacher(name, dict(cfg))

        models = dict(student=self.student, **self.teachers, **self._cached_teachers)
        self.recorder = TapRecorder(taps or {}, models)

        self.connectors = nn.ModuleDict()
        self.connector_io: Dict[str, tuple] = {}
        for name, cfg in (connectors or {}).items():
            cfg = dict(cfg)
            source, like = cfg.pop('source', None), cfg.pop('like', None)
            for role, tap in (('source', source), ('like', like)):
                if (tap is not None or role == 'source') and tap not in self.recorder.taps:
                    raise KeyError(f'connector {name!r}: {role}={tap!r} is not a tap; '
                                   f'taps are {sorted(self.recorder.taps)}')
            if name in self.recorder.taps:
                raise ValueError(f'connector {name!r} has the name of a tap')
            self.connectors[name] = MODELS.build(cfg)
            self.connector_io[name] = (source, like)
            if hasattr(self.connectors[name], 'bind_source'):
                tap = self.recorder.taps[source]
                self.connectors[name].bind_source(source, models[tap.model], tap.path)

        features = set(self.recorder.taps) | set(self.connectors)
        self.losses = nn.ModuleDict()
        self.loss_inputs: Dict[str, Dict[str, str]] = {}
        self.loss_schedules: Dict[str, Optional[dict]] = {}
        for name, cfg in (losses or {}).items():
            cfg = dict(cfg)
            inputs = dict(cfg.pop('inputs', {}))
            schedule = cfg.pop('schedule', None)
            _check_schedule(schedule, f'loss {name!r}')
            unknown = {arg: f for arg, f in inputs.items()
                       if any(x not in features for x in _names(f))}
            if unknown:
                raise KeyError(f'loss {name!r} reads {unknown}, which are neither taps nor '
                               f'connectors; features are {sorted(features)}')
            self.losses[name] = MODELS.build(cfg)
            self._check_teacher_inputs(name, self.losses[name], inputs)
            params = inspect.signature(self.losses[name].forward).parameters
            missing = [p for p, v in params.items() if v.default is inspect.Parameter.empty
                       and v.kind is v.POSITIONAL_OR_KEYWORD and p not in inputs
                       and p != 'data_samples']
            if missing:
                raise KeyError(f'loss {name!r} ({type(self.losses[name]).__name__}) needs '
                               f'inputs for {missing}; give them in inputs=dict(...)')
            self.loss_inputs[name] = inputs
            self.loss_schedules[name] = schedule
        self._checked_shapes = False

        # What the losses and connectors read: a cached teacher stores and looks up
        # only these of its taps.
        read = {x for ins in self.loss_inputs.values() for f in ins.values()
                for x in _names(f)} | {t for io in self.connector_io.values() for t in io
                                       if t}
        self._read_taps = {n: [t for t in self.recorder.taps_of(n) if t in read]
                           for n in self.teacher_cfgs}
        for name, cache in self.teacher_caches.items():
            cache.check_taps({t: self.recorder.taps[t] for t in self._read_taps[name]})
        self._unread_cached_taps = [t for n in self.teacher_caches
                                    for t in self.recorder.taps_of(n)
                                    if t not in self._read_taps[n]]

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
        for arg in getattr(loss_fn, 'teacher_inputs', ()):
            what = f'loss {name!r} ({type(loss_fn).__name__})'
            f = inputs.get(arg)
            if not isinstance(f, dict):
                raise TypeError(f'{what} reads one input per teacher: give {arg}=dict('
                                f'<teacher name>=<tap>, ...), got {arg}={f!r}')
            for teacher, feature in f.items():
                if teacher not in self.teacher_cfgs:
                    raise KeyError(f'{what}: {arg}=dict({teacher}=...) names teacher '
                                   f'{teacher!r}, but the distiller\'s teachers are '
                                   f'{sorted(self.teacher_cfgs)}')
                model = self._feature_model(feature)
                if model != teacher:
                    raise ValueError(f'{what}: {arg}=dict({teacher}={feature!r}) reads '
                                     f'{feature!r}, a feature of {model!r}, not of teacher '
                                     f'{teacher!r}')
            check = getattr(loss_fn, 'check_teachers', None)
            if check is not None:
                check(list(f))

    # ------------------------------------------------------------------ teachers
    def _add_teacher(self, name: str, cfg: dict) -> None:
        known = {'model', 'checkpoint', 'input', 'trainable', 'task_loss_weight', 'amp',
                 'channels_last', 'cache', 'input_adapter'}
        if 'model' not in cfg or set(cfg) - known:
            raise KeyError(f"teacher {name!r}: expected keys {sorted(known)} ('model' "
                           f'required), got {sorted(cfg)}')
        what = f'teacher {name!r}'
        if cfg.get('amp') not in _AMP_DTYPES:
            raise ValueError(f"{what}: amp must be 'bf16', 'fp16' or None, got "
                             f"{cfg['amp']!r}")
        trainable = cfg.get('trainable', False)
        if cfg.get('cache'):
            if trainable:
                raise ValueError(f'{what}: only a frozen teacher can be cached')
            self._add_cached_teacher(name, cfg, what)
            return
        model, _, _ = build_model(cfg['model'], what)
        if cfg.get('input_adapter'):
            self._add_input_adapter(name, cfg, model, what)
        if trainable:
            if cfg.get('checkpoint'):
                load_weights_strict(model, cfg['checkpoint'], what)
            self.trainable_teachers[name] = model
        else:
            load_weights_strict(model, cfg.get('checkpoint'), what)
            model.eval()
            for p in model.parameters():
                p.requires_grad_(False)
            if cfg.get('channels_last'):
                model.to(memory_format=torch.channels_last)
            self._frozen_teachers[name] = model
            self.teacher_hashes[name] = state_hash(model.state_dict())
        self.teacher_cfgs[name] = cfg

    def _add_input_adapter(self, name: str, cfg: dict, model: nn.Module, what: str) -> None:
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
        self.input_adapters[name] = adapter

    def _teacher_input(self, name: str, inputs: Inputs) -> torch.Tensor:
        """What teacher ``name`` reads: its modality, through its input adapter."""
        x = self.route(inputs, self.teacher_cfgs[name].get('input'), f'teacher {name!r}')
        if name in self.input_adapters:
            frozen = name in self._frozen_teachers
            with torch.no_grad() if frozen else nullcontext():
                x = self.input_adapters[name](x)
        return x

    def _add_cached_teacher(self, name: str, cfg: dict, what: str) -> None:
        cache_cfg = dict(cfg['cache'])
        if 'dir' not in cache_cfg:
            raise KeyError(f"{what}: cache needs dir=..., got {sorted(cache_cfg)}")
        cache = TeacherCache(cache_cfg['dir'], cache_cfg.get('name', name))
        if cfg.get('checkpoint') and cache_cfg.get('check_checkpoint', True):
            ckpt = resolve_checkpoint(cfg['checkpoint'], what)
            found = state_hash(extract_state_dict(_load_checkpoint(ckpt, 'cpu')))
            if found != cache.weights_hash:
                raise TeacherCacheError(
                    f'{what}: the cache {cache_cfg["dir"]!r} was made with other teacher '
                    f'weights (hash {cache.weights_hash[:12]}) than {ckpt!r} '
                    f'({found[:12]}); make the cache again')
        try:
            with torch.device('meta'):
                model, _, _ = build_model(cfg['model'], what)
        except (RuntimeError, NotImplementedError):  # a module that computes at build
            model, _, _ = build_model(cfg['model'], what)
            model.to('meta')
        self._cached_teachers[name] = model
        self.teacher_caches[name] = cache
        self.teacher_cfgs[name] = cfg

    def verify_teachers(self, when: str) -> Dict[str, str]:
        """Raise :class:`TeacherChangedError` if a frozen teacher's weights or buffers
        differ from those it was built with; return the fingerprints."""
        current = {n: state_hash(t.state_dict()) for n, t in self._frozen_teachers.items()}
        verify_hashes(self.teacher_hashes, current, when)
        return current

    @property
    def frozen_teacher_names(self) -> List[str]:
        """Frozen teachers that run in the step (cached ones do not)."""
        return list(self._frozen_teachers)

    def _run_frozen_teacher(self, name: str, x: torch.Tensor, data_samples) -> None:
        """Forward of a frozen teacher: no_grad, its precision and memory format; its
        taps record (as float32 when it runs in reduced precision)."""
        cfg = self.teacher_cfgs[name]
        if cfg.get('channels_last') and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        dtype = _AMP_DTYPES[cfg.get('amp')]
        autocast = torch.autocast(x.device.type, dtype=dtype) if dtype else nullcontext()
        with torch.no_grad(), autocast:
            self._frozen_teachers[name](x, data_samples, mode='tensor')
        if dtype:
            records = self.recorder.records
            for tap in self.recorder.taps_of(name):
                if tap in records:
                    records[tap] = [_float32(v) for v in records[tap]]

    def teacher_features(self, name: str, inputs: Inputs, data_samples=None
                         ) -> Dict[str, list]:
        """Run frozen teacher ``name`` as a training step does and return what its taps
        that a loss or connector reads record (tap name -> one value per module call);
        the teacher cache tool stores these."""
        x = self._teacher_input(name, inputs)
        with self.recorder.recording():
            self._run_frozen_teacher(name, x, data_samples)
        records = self.recorder.records
        missing = [t for t in self._read_taps[name] if t not in records]
        if missing:
            raise RuntimeError(f'taps {missing} of teacher {name!r} recorded nothing')
        return {t: records[t] for t in self._read_taps[name]}

    def init_weights(self):
        # The runner calls init_weights() after building the model; a trainable teacher
        # that starts from a checkpoint must keep those weights.
        super().init_weights()
        for name, t in self.trainable_teachers.items():
            if self.teacher_cfgs[name].get('checkpoint'):
                load_weights_strict(t, self.teacher_cfgs[name]['checkpoint'],
                                    f'teacher {name!r}')

    @property
    def teachers(self) -> Dict[str, nn.Module]:
        return {**self._frozen_teachers, **dict(self.trainable_teachers.items())}

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        for t in self._frozen_teachers.values():
            t._apply(fn, *args, **kwargs)
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        for t in self._frozen_teachers.values():
            t.eval()  # BN statistics and dropout of a frozen teacher never change
        return self

    # ------------------------------------------------------------------ routing
    @staticmethod
    def route(inputs: Inputs, key: Optional[str], who: str) -> torch.Tensor:
        """The part of the batch ``who`` reads."""
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

    # ------------------------------------------------------------------ forward
    def forward(self, inputs: Inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        student_inputs = self.route(inputs, self.student_input, 'student')
        return self.student(student_inputs, data_samples, mode=mode)

    def loss(self, inputs: Inputs, data_samples: Optional[List[BaseDataElement]] = None
             ) -> Dict[str, torch.Tensor]:
        student_inputs = self.route(inputs, self.student_input, 'student')
        teacher_inputs = {name: self._teacher_input(name, inputs)
                          for name in self.teacher_cfgs if name not in self.teacher_caches}
        losses = {}
        with self.recorder.recording():
            for name in self._frozen_teachers:
                self._run_frozen_teacher(name, teacher_inputs[name], data_samples)
            for name, cache in self.teacher_caches.items():  # stored outputs, no forward
                taps = {t: self.recorder.taps[t] for t in self._read_taps[name]}
                self.recorder.add(cache.lookup(taps, data_samples, student_inputs.device))
            for name, t in self.trainable_teachers.items():
                w = self.teacher_cfgs[name].get('task_loss_weight', 1.0)
                if w:
                    own = t(teacher_inputs[name], data_samples, mode='loss')
                    losses.update(self._scaled(own, w, f'{name}.'))
                else:
                    t(teacher_inputs[name], data_samples, mode='tensor')
            if self.student_loss_weight is None:  # unlabelled: no task loss
                self.student(student_inputs, data_samples, mode='tensor')
            else:
                student_losses = self.student(student_inputs, data_samples, mode='loss')
        hub = MessageHub.get_current_instance()
        it, epoch = hub.get_info('iter', 0), hub.get_info('epoch', 0)
        if self.student_loss_weight is not None:
            task_factor = _schedule_factor(self.student_loss_schedule, it, epoch)
            losses.update(self._scaled(student_losses, self.student_loss_weight,
                                       'student.', task_factor))
        features = self.recorder.features(skip=self._unread_cached_taps)

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

        for name, loss_fn in self.losses.items():
            kwargs = {arg: _gather(features, f) for arg, f in self.loss_inputs[name].items()}
            if not self._checked_shapes:
                self._check_shapes(name, loss_fn, kwargs)
            if 'data_samples' in inspect.signature(loss_fn.forward).parameters:
                kwargs['data_samples'] = data_samples
            if self._checked_shapes:
                value = loss_fn(**kwargs)
            else:  # the first batch: an input error names the loss and what it reads
                try:
                    value = loss_fn(**kwargs)
                except ValueError as e:
                    if type(e) is not ValueError:  # a specific error type stays as is
                        raise
                    raise ValueError(f'loss {name!r} ({type(loss_fn).__name__}) reading '
                                     f'{self.loss_inputs[name]}: {e}') from e
            factor = _schedule_factor(self.loss_schedules[name], it, epoch)
            if isinstance(value, dict) and 'log' in value:
                value = dict(value)
                losses.update(_logged_scalars(name, value.pop('log')))
                if set(value) == {'loss'}:  # one loss term besides what is only logged
                    value = value['loss']
            if isinstance(value, dict):
                for k, v in value.items():
                    losses[f'loss_{name}.{k}' if not k.startswith('loss') else
                           f'loss_{name}.{k[4:].lstrip("_")}'] = v * factor
            else:
                losses[f'loss_{name}'] = value * factor
        self._checked_shapes = True
        if self.check_finite:
            check_finite_losses(losses, it)
        return losses

    @staticmethod
    def _scaled(losses: dict, weight, prefix: str, factor: float = 1.0) -> dict:
        """Scale task losses by one weight, or per key (``dict(loss_cls=0.)``; keys not
        named keep weight 1), times the schedule ``factor``.

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

    def _check_shapes(self, name: str, loss_fn: nn.Module, kwargs: dict) -> None:
        """On the first batch: inputs a loss compares element-wise must match in shape."""
        pair = getattr(loss_fn, 'same_shape', None)
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

    # ------------------------------------------------------------------ loading
    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        # An exported student checkpoint (plain host-library keys) loads into the
        # distiller's student: tools/test.py and `load_from` accept either kind.
        student_prefix = prefix + 'student.'
        own = [k for k in state_dict if k.startswith(prefix)]
        if own and not any(k.startswith(student_prefix) for k in own) and not any(
                k.startswith(prefix + 'connectors.') for k in own):
            print_log('loading a plain student checkpoint into the distiller\'s student',
                      logger='current')
            for k in own:
                state_dict[student_prefix + k[len(prefix):]] = state_dict.pop(k)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


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


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _float32(x):
    if isinstance(x, torch.Tensor):
        return x.float() if x.is_floating_point() else x
    if isinstance(x, (list, tuple)):
        return type(x)(_float32(v) for v in x)
    return x


def _input_channels(model: nn.Module) -> Optional[int]:
    """The channels a model's first convolution takes (a ResNet stem, a ViT's patch
    embedding); None when it has none."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m.in_channels
    return None


def _spatial_size(x: torch.Tensor):
    return tuple(x.shape[-2:]) if x.dim() == 4 else None
