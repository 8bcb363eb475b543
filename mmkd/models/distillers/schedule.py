"""When a loss is on: the training progress a step reads, and the schedules that map it
to a weight factor.

DESIGN. A schedule is a pure function of the progress it is given
(:meth:`LossSchedule.factor`); it never looks the iteration up itself. Where the
progress comes from is one function, :func:`train_progress`, which each distiller
calls once at the start of a training step and passes on (``Distiller.loss`` to the
student's task losses and to :meth:`Wiring.compute_losses`; ``MutualDistiller.loss``
to its finite check).
"""
from typing import NamedTuple, Optional

from mmengine.logging import MessageHub

SCHEDULE_KEYS = frozenset({'begin', 'end', 'warmup', 'by_epoch'})


class TrainProgress(NamedTuple):
    """Where training is: the runner's ``iter`` and ``epoch`` (both counted from 0) of
    the step being run."""
    iter: int
    epoch: int


def train_progress() -> TrainProgress:
    """The iteration and epoch of the training step being run: the one place a distiller
    reads them.

    They come from the current mmengine ``MessageHub``, and why: a model has no handle
    on its runner, and the runner's :class:`~mmengine.hooks.RuntimeInfoHook` (one of the
    default hooks every ``Runner`` registers, not among the ``custom_hooks`` a config
    replaces) writes ``runner.iter`` there before every training iteration and ``runner.epoch``
    before every epoch, and again in ``before_train``. So the values are the runner's
    own counters, also after ``--resume``, where the runner restores them from the
    checkpoint before training continues: a schedule resumes where it stopped. A
    counter of the distiller's own would restart at 0 on resume unless it were
    checkpointed, and a hook of mmkd's would freeze every schedule where a config
    replaced ``custom_hooks``.

    Outside a runner (a test or a tool calling ``Distiller.loss``) it is whatever the
    current hub holds, ``TrainProgress(0, 0)`` if nothing was set.
    """
    hub = MessageHub.get_current_instance()
    return TrainProgress(hub.get_info('iter', 0), hub.get_info('epoch', 0))


class LossSchedule:
    """When a loss is on: ``dict(begin, end, warmup, by_epoch)``, in iterations (in
    epochs with ``by_epoch=True``).

    The factor at a step is 0 outside ``[begin, end)``, a linear ramp over ``warmup``
    steps after ``begin`` (``(step - begin + 1) / warmup``), 1 otherwise. No schedule
    (None or ``{}``) is always 1.

    Args:
        cfg (dict, optional): The schedule; keys ``begin`` (default 0), ``end``
            (default None: never off), ``warmup`` (default 0), ``by_epoch`` (default
            False).
        what (str): What it schedules, for the error on an unknown key (``"loss 'kd'"``,
            ``'student_loss_schedule'``).
    """

    def __init__(self, cfg: Optional[dict] = None, what: str = 'schedule'):
        if cfg and set(cfg) - SCHEDULE_KEYS:
            raise KeyError(f'{what}: schedule keys are {sorted(SCHEDULE_KEYS)}, got '
                           f'{sorted(cfg)}')
        self.cfg = dict(cfg or {})

    def factor(self, it: int, epoch: int = 0) -> float:
        """The weight multiplier at iteration ``it`` (epoch ``epoch`` with
        ``by_epoch=True``)."""
        if not self.cfg:
            return 1.0
        step = epoch if self.cfg.get('by_epoch', False) else it
        begin, end = self.cfg.get('begin', 0), self.cfg.get('end')
        if step < begin or (end is not None and step >= end):
            return 0.0
        warmup = self.cfg.get('warmup', 0)
        return min(1.0, (step - begin + 1) / warmup) if warmup > 0 else 1.0

    def __repr__(self) -> str:
        return f'LossSchedule({self.cfg})'
