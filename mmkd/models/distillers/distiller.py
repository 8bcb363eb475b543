"""The distiller: one student, one or more teachers, taps, connectors and losses.

One training step, top to bottom (:meth:`Distiller.loss`):

1. route: each model takes its modality from the batch (``inputs['sar']``, or the one
   tensor for classic compression KD); a teacher's ``input_adapter`` maps
   that modality's bands to the channels it expects (``mmkd.BandAdapter``);
2. teachers: frozen ones run in eval mode under ``no_grad`` (optionally in bf16/fp16
   autocast and channels-last), or their stored outputs are read from a teacher cache;
   taps record their features;
3. student: its own ``loss`` forward gives its task losses (with
   ``student_losses='none'`` a ``'tensor'`` forward, no labels read); taps record its
   features;
4. connectors adapt student features to the teachers' shapes (and may turn a ViT
   teacher's tokens into a map at the student's size, ``mmkd.TokenToMapConnector``);
5. losses read taps/connector outputs by name, each weighted and scheduled (a schedule
   is given the step's iteration and epoch, read once per step by
   :func:`~mmkd.models.distillers.schedule.train_progress`);
6. everything is returned as one dict of ``loss*`` keys that mmengine logs and sums,
   after a check that each is finite (before any backward pass or optimizer step).

Validation, testing and prediction run the student alone.

DESIGN. :meth:`Distiller.loss` is those six steps, one method each. What differs per kind
of teacher (frozen, trainable, cached) is one class each in ``teachers.py``; what
happens to the recorded features (connectors, losses, their schedules, the build-time
checks of what they read) is :class:`~mmkd.models.distillers.wiring.Wiring`. The
distiller keeps what mmengine sees: the registered submodules (``student``,
``trainable_teachers``, ``input_adapters``, ``connectors``, ``losses``, so the checkpoint
keys), the device moves and train/eval of the frozen teachers, and checkpoint loading.
"""
import warnings
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmkd.registry import MODELS
from .integrity import check_finite_losses, state_hash, verify_hashes
from .model_config import ModelSpec, build_model
from .schedule import LossSchedule, train_progress
from .taps import TapRecorder
from .teacher_cache import TeacherCache
from .teachers import (
    CachedTeacher,
    FrozenTeacher,
    Inputs,
    Teacher,
    TrainableTeacher,
    build_teacher,
    route,
)
from .wiring import Wiring, scaled_losses

__all__ = ['Distiller']

#: What ``student_losses`` may be: the student's own task losses from the labels, or none.
STUDENT_LOSSES = ('supervised', 'none')
_warned_deprecated = set()  # deprecated spellings already warned about in this process


def resolve_student_losses(student_losses: str, student_loss_weight
                           ) -> Tuple[str, Union[float, Dict[str, float]]]:
    """The distiller's ``student_losses`` mode and ``student_loss_weight``, checked.

    ``student_loss_weight=None``, the old spelling of ``student_losses='none'``, is
    mapped to it (weight 1.0, unused) with a ``FutureWarning``, once per process. The
    ``'none'`` mode with a weight is a contradiction (a weight of task losses that are
    not computed: the user expects them to train) and raises a ``ValueError`` naming
    both keys; only the default 1.0 and 0 pass, 0 because it agrees (no task loss
    either), so that a config can switch its base's ``student_loss_weight=0.`` (a
    loss that holds the CE itself, as CMKD's) to ``student_losses='none'``."""
    if student_losses not in STUDENT_LOSSES:
        raise ValueError(f'student_losses={student_losses!r}: expected one of '
                         f"{list(STUDENT_LOSSES)} ('supervised': the student's task "
                         f"losses from the labels, times student_loss_weight; 'none': no "
                         f'task loss, for unlabelled data)')
    if student_loss_weight is None:
        if 'student_loss_weight=None' not in _warned_deprecated:
            _warned_deprecated.add('student_loss_weight=None')
            warnings.warn(
                "Distiller: student_loss_weight=None is deprecated; write "
                "student_losses='none' instead (no task loss: the student runs in "
                "'tensor' mode and needs no labels) and leave student_loss_weight out. "
                "student_loss_weight is a weight only.", FutureWarning, stacklevel=2)
        return 'none', 1.0
    if student_losses == 'none' and (isinstance(student_loss_weight, dict)
                                     or student_loss_weight not in (1.0, 0.0)):
        raise ValueError(f"student_losses='none' computes no task loss, so "
                         f'student_loss_weight={student_loss_weight!r} would weight '
                         f"nothing: drop student_loss_weight, or set "
                         f"student_losses='supervised' to train on the labels")
    return student_losses, student_loss_weight


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
            ``task_losses`` (``'supervised'``, the default: its own task losses,
            times ``task_loss_weight``, default 1.0; ``'none'``: none, no labels read;
            the old ``task_loss_weight=0`` switch still means ``'none'``). Frozen
            teachers also take ``amp`` (``'bf16'`` or ``'fp16'``: the forward runs under
            autocast and its taps are handed to the losses as float32),
            ``channels_last`` (bool: weights and input in channels-last memory format)
            and ``cache=dict(dir=...)`` (read the teacher's outputs from a cache made by
            ``tools/misc/cache_teacher.py`` instead of running it; see
            :mod:`mmkd.datasets.teacher_cache_dataset`). ``input_adapter`` (a module config, e.g.
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
        student_losses (str): Which task losses the student has. ``'supervised'``: its
            own ``loss`` forward, from the labels, logged as ``student.<key>``, times
            ``student_loss_weight`` and ``student_loss_schedule``. ``'none'``: no task
            loss at all, the student runs in ``'tensor'`` mode and needs no labels
            (distillation on unlabelled data, from the teachers' outputs alone); a
            ``student_loss_weight`` is then refused at build, except the default 1.0
            and 0 (no task loss either). Defaults to ``'supervised'``.
        student_loss_weight (float | dict): Multiplier of the student's task losses; a
            dict weights each key (``dict(loss_cls=0.)`` trains a detector's classifier
            on soft targets only while its config, and so the exported student, keeps
            the usual loss; a zero-weighted term stays in the graph multiplied by 0).
            Defaults to 1.0. None is the deprecated spelling of
            ``student_losses='none'``: still accepted, with a ``FutureWarning``.
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
                 student_losses: str = 'supervised',
                 student_loss_weight: Union[float, Dict[str, float], None] = 1.0,
                 student_loss_schedule: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 check_finite: bool = True,
                 init_cfg: Optional[dict] = None):
        # checked first: a contradiction is refused before any model is built
        student_losses, student_loss_weight = resolve_student_losses(
            student_losses, student_loss_weight)
        own_preprocessor = data_preprocessor is not None and 'type' in data_preprocessor
        student_model, _, _ = build_model(
            student, 'student', None if own_preprocessor else data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor if own_preprocessor
            else student_model.data_preprocessor,
            init_cfg=init_cfg)
        self.student = student_model
        self.student_input = student_input
        self.student_losses = student_losses
        self.student_loss_weight = student_loss_weight
        self._student_schedule = LossSchedule(student_loss_schedule,
                                              'student_loss_schedule')
        self.student_loss_schedule = student_loss_schedule
        self.check_finite = check_finite
        self._build_teachers(teacher, teachers)

        models = dict(student=self.student, **self.teachers, **self._cached_teachers)
        self.recorder = TapRecorder(taps or {}, models)
        self.wiring = Wiring(self.recorder, models, connectors, losses,
                             list(self.teacher_cfgs))
        self.connectors = self.wiring.connectors
        self.losses = self.wiring.losses
        self._bind_read_taps()

    # ------------------------------------------------------------------ build
    def _build_teachers(self, teacher: Optional[dict],
                        teachers: Optional[Dict[str, dict]]) -> None:
        if teacher is not None and teachers is not None:
            raise ValueError('give either `teacher` or `teachers`, not both')
        teachers = dict(teacher=teacher) if teacher is not None else dict(teachers or {})
        if 'student' in teachers:
            raise ValueError("'student' is reserved; give the teacher another name")
        self.teacher_cfgs: Dict[str, dict] = {}
        self.trainable_teachers = nn.ModuleDict()
        self.input_adapters = nn.ModuleDict()  # teacher name -> its input adapter
        # A plain dict: a frozen teacher's model must not be a submodule (teachers.py).
        self._teachers: Dict[str, Teacher] = {}
        for name, cfg in teachers.items():
            t = build_teacher(name, dict(cfg))
            if t.adapter is not None:
                self.input_adapters[name] = t.adapter
            if isinstance(t, TrainableTeacher):
                self.trainable_teachers[name] = t.model
            self._teachers[name] = t
            self.teacher_cfgs[name] = t.cfg
        # frozen teachers' weights at build (TeacherHashHook, the teacher cache)
        self.teacher_hashes: Dict[str, str] = {n: t.hash for n, t in self._frozen.items()}

    def _bind_read_taps(self) -> None:
        """Tell each teacher which of its taps the losses and connectors read: a cached
        teacher stores and looks up only these."""
        read = self.wiring.read_taps()
        for name, t in self._teachers.items():
            t.use_taps({n: tap for n, tap in self.recorder.taps_of(name).items()
                        if n in read})
        self._unread_cached_taps = [n for name, t in self._teachers.items() if not t.runs
                                    for n in self.recorder.taps_of(name)
                                    if n not in t.read_taps]

    # ------------------------------------------------------------------ teachers
    @property
    def _frozen(self) -> Dict[str, FrozenTeacher]:
        return {n: t for n, t in self._teachers.items() if isinstance(t, FrozenTeacher)}

    @property
    def _cached(self) -> Dict[str, CachedTeacher]:
        return {n: t for n, t in self._teachers.items() if isinstance(t, CachedTeacher)}

    @property
    def _cached_teachers(self) -> Dict[str, nn.Module]:
        """Cached teachers' structures (on the meta device)."""
        return {n: t.model for n, t in self._cached.items()}

    def get_teacher(self, name: str) -> Teacher:
        """Teacher ``name`` as its kind's object (``FrozenTeacher``, ``TrainableTeacher``,
        ``CachedTeacher``): ``read(inputs)`` and ``features(...)`` run it as a step does."""
        return self._teachers[name]

    @property
    def teachers(self) -> Dict[str, nn.Module]:
        """The teachers that run: frozen ones, then trainable ones (name -> model)."""
        return {**{n: t.model for n, t in self._frozen.items()},
                **dict(self.trainable_teachers.items())}

    @property
    def frozen_teacher_names(self) -> List[str]:
        """Frozen teachers that run in the step (cached ones do not)."""
        return list(self._frozen)

    @property
    def teacher_caches(self) -> Dict[str, TeacherCache]:
        """Cached teachers' caches (name -> reader)."""
        return {n: t.cache for n, t in self._cached.items()}

    @property
    def loss_inputs(self) -> Dict[str, dict]:
        """Loss name -> what it reads (forward argument -> feature name(s))."""
        return self.wiring.loss_inputs

    @property
    def connector_io(self) -> Dict[str, tuple]:
        """Connector name -> its (``source``, ``like``) taps."""
        return self.wiring.connector_io

    def verify_teachers(self, when: str) -> Dict[str, str]:
        """Raise :class:`TeacherChangedError` if a frozen teacher's weights or buffers
        differ from those it was built with; return the fingerprints."""
        current = {n: state_hash(t.model.state_dict()) for n, t in self._frozen.items()}
        verify_hashes(self.teacher_hashes, current, when)
        return current

    def teacher_features(self, name: str, inputs: Inputs, data_samples=None
                         ) -> Dict[str, list]:
        """Run frozen teacher ``name`` as a training step does and return what its taps
        that a loss or connector reads record (tap name -> one value per module call);
        the teacher cache tool stores these."""
        teacher = self._frozen[name]
        x = teacher.read(inputs)
        with self.recorder.recording():
            records, _ = teacher.features(x, data_samples, self.recorder, x.device)
        missing = [t for t in teacher.read_taps if t not in records]
        if missing:
            raise RuntimeError(f'taps {missing} of teacher {name!r} recorded nothing')
        return {t: records[t] for t in teacher.read_taps}

    def init_weights(self):
        # The runner calls init_weights() after building the model; a trainable teacher
        # that starts from a checkpoint must keep those weights.
        super().init_weights()
        for name in self.trainable_teachers:
            self._teachers[name].load_checkpoint()

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        for t in self._frozen.values():
            t.model._apply(fn, *args, **kwargs)
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        for t in self._frozen.values():
            t.model.eval()  # BN statistics and dropout of a frozen teacher never change
        return self

    # ------------------------------------------------------------------ forward
    route = staticmethod(route)  # the part of the batch a model reads

    def forward(self, inputs: Inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        student_inputs = self.route(inputs, self.student_input, 'student')
        return self.student(student_inputs, data_samples, mode=mode)

    def loss(self, inputs: Inputs, data_samples: Optional[List[BaseDataElement]] = None
             ) -> Dict[str, torch.Tensor]:
        """One training step's losses, in the six steps of the module docstring."""
        student_inputs, teacher_inputs = self._route(inputs)
        it, epoch = train_progress()  # read once a step; the schedules are given it
        with self.recorder.recording():
            records, losses = self._run_teachers(teacher_inputs, data_samples,
                                                 student_inputs.device)
            losses.update(self._run_student(student_inputs, data_samples, it, epoch))
        features = self.wiring.connect(self._features(records))
        losses.update(self.wiring.compute_losses(features, data_samples, it, epoch))
        if self.check_finite:
            check_finite_losses(losses, it)
        return losses

    def _route(self, inputs: Inputs) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Step 1: what the student and each teacher that runs read."""
        student_inputs = self.route(inputs, self.student_input, 'student')
        return student_inputs, {name: t.read(inputs) for name, t in self._teachers.items()
                                if t.runs}

    def _run_teachers(self, teacher_inputs: Dict[str, torch.Tensor], data_samples,
                      device: torch.device) -> Tuple[Dict[str, list], dict]:
        """Step 2: every teacher's features (frozen ones first, then cached and trainable
        ones) and the trainable teachers' task losses."""
        records, losses = {}, {}
        for t in sorted(self._teachers.values(), key=lambda t: t.run_order):
            got, own = t.features(teacher_inputs.get(t.name), data_samples, self.recorder,
                                  device)
            records.update(got)
            losses.update(own)
        return records, losses

    def _run_student(self, x: torch.Tensor, data_samples, it: int, epoch: int) -> dict:
        """Step 3: the student's forward and its task losses (``student.<key>``), weighted
        and scheduled; with ``student_losses='none'`` a ``'tensor'`` forward and no task
        loss (unlabelled data)."""
        if self.student_losses == 'none':
            self.student(x, data_samples, mode='tensor')
            return {}
        own = self.student(x, data_samples, mode='loss')
        factor = self._student_schedule.factor(it, epoch)
        return scaled_losses(own, self.student_loss_weight, 'student.', factor)

    def _features(self, teacher_records: Dict[str, list]) -> dict:
        """Every tap's value: what the hooks recorded, with the teachers' own records in
        place of theirs (float32 copies, a cache's stored values)."""
        records = {**self.recorder.records, **teacher_records}
        return self.recorder.features(skip=self._unread_cached_taps, records=records)

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
