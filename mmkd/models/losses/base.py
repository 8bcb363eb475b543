"""The contract between a distillation loss and the distiller that calls it.

A loss says, as class attributes of :class:`DistillLoss`, what the distiller must do
around its ``forward``: which inputs it compares element-wise (checked for equal shapes on
the first batch), whether it is given the batch's ``data_samples``, and which inputs it
reads once per teacher. The distiller reads these once, when it builds the loss, through
:func:`loss_contract`, which checks them against the loss's code
(:func:`check_loss_contract`) and raises one :class:`LossContractError` naming the loss's
config name and everything that disagrees.

A loss that does not inherit :class:`DistillLoss` (one of a user's own) still works: its
contract is read the way the distiller always read it, the attributes where it has them,
``data_samples`` from its ``forward`` signature, once at build.
"""
import inspect
import numbers
from typing import NamedTuple, Optional, Sequence, Tuple, Type, Union

import torch.nn as nn


class LossContractError(TypeError):
    """A loss's declared contract (:class:`DistillLoss` attributes) disagrees with its code.

    Raised at build, naming the loss as the config names it and what to change.
    """


class LossContract(NamedTuple):
    """What the distiller needs to know to call one loss (:func:`loss_contract`)."""

    #: ``()`` or the two ``forward`` arguments whose inputs must have equal shapes.
    same_shape: Tuple[str, ...]
    #: Whether ``forward`` is given ``data_samples=`` (the batch's data samples).
    needs_data_samples: bool
    #: ``forward`` arguments read once per teacher, as ``dict(<teacher name>=<tap>)``.
    teacher_inputs: Tuple[str, ...]


class DistillLoss(nn.Module):
    """Base of mmkd's distillation losses: the contract with the distiller, declared.

    A loss subclasses it, sets the class attributes below in its class body (each mmkd
    loss sets ``same_shape`` and ``needs_data_samples`` explicitly, even when the
    default fits) and writes ``__init__`` and ``forward`` as any ``nn.Module``; this
    class adds no constructor arguments, parameters or buffers, so a loss's state dict
    and config are the same as with a plain ``nn.Module`` base. The distiller checks the
    declaration once, when it builds the loss (:func:`check_loss_contract`).

    ``forward(<input>, ..., [data_samples])`` takes one argument per input the config
    maps (``inputs=dict(student=..., teacher=...)``) and returns a tensor, or a dict of
    named terms (each logged as ``loss_<name>.<key>`` and summed into the total loss),
    optionally with ``log=dict(k=scalar)``: values only logged, detached, not summed.

    ``loss_weight``: a loss whose constructor takes ``loss_weight`` stores it as
    ``self.loss_weight`` (a number) and multiplies what it returns by it itself (the
    distiller applies only the loss's ``schedule``); other weights of one loss
    (``disc_loss_weight``) are its own business.
    """

    #: ``()`` (no shape check), or the names of two ``forward`` arguments that the loss
    #: compares element-wise, e.g. ``('student', 'teacher')``: on the first batch the
    #: distiller checks that their inputs (or each pair of tensors of two lists) have
    #: equal shapes and, if not, names a connector that would make them so.
    same_shape: Tuple[str, ...] = ()
    #: ``True`` when ``forward`` takes ``data_samples`` (labels, boxes, sample indices):
    #: the distiller passes the batch's data samples as ``data_samples=``. It must agree
    #: with ``forward``'s signature.
    needs_data_samples: bool = False
    #: Names of ``forward`` arguments read once per teacher (a multi-teacher loss's
    #: ``('teacher',)``): configured as ``teacher=dict(<teacher name>=<tap>, ...)`` and
    #: given a dict of tensors by teacher name.
    teacher_inputs: Tuple[str, ...] = ()

    def check_teachers(self, names: Sequence[str]) -> None:
        """Called at build with the teacher names a loss with ``teacher_inputs`` reads,
        to check what it configures per teacher (weights by name) before training. The
        base accepts any."""


LossOrClass = Union[nn.Module, Type[nn.Module]]


def _what(loss: LossOrClass, name: Optional[str]) -> str:
    cls = loss if isinstance(loss, type) else type(loss)
    return f'loss {name!r} ({cls.__name__})' if name else f'loss {cls.__name__}'


def _names(value, attr: str, pair: bool, problems: list) -> Tuple[str, ...]:
    """``value`` as a tuple of argument names (``None``: none); ``pair``: none or two."""
    if value is None:
        value = ()
    if (not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value)
            or (pair and len(value) not in (0, 2))):
        want = '() or a tuple of two names' if pair else 'a tuple of names'
        problems.append(f'{attr} must be {want} of forward arguments '
                        f"(e.g. ('student', 'teacher')), got {value!r}")
        return ()
    return tuple(value)


def _contract(loss: LossOrClass, name: Optional[str], declared: bool) -> LossContract:
    cls = loss if isinstance(loss, type) else type(loss)
    params = inspect.signature(cls.forward).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    takes_data_samples = 'data_samples' in params
    problems = []

    same_shape = _names(getattr(loss, 'same_shape', ()), 'same_shape', True, problems)
    if len(set(same_shape)) == 1:
        problems.append(f'same_shape names {same_shape[0]!r} twice')
    teacher_inputs = _names(getattr(loss, 'teacher_inputs', ()), 'teacher_inputs', False,
                            problems)
    if not takes_any:
        for attr, args in (('same_shape', same_shape), ('teacher_inputs', teacher_inputs)):
            unknown = [a for a in args if a not in params or a in ('self', 'data_samples')]
            if unknown:
                problems.append(f'{attr} names {unknown}, which forward does not take; its '
                                f'arguments are {[p for p in params if p != "self"]}')

    needs = getattr(loss, 'needs_data_samples', None)
    if needs is None and not declared:  # a loss of a user's own: as its forward says
        needs = takes_data_samples
    if type(needs) is not bool:
        problems.append(f'needs_data_samples must be True or False, got {needs!r}')
    elif needs != takes_data_samples:
        problems.append(
            f'needs_data_samples = {needs} but forward '
            f'{"takes" if takes_data_samples else "does not take"} data_samples: set '
            f'needs_data_samples = {takes_data_samples} in the class (or change forward)')

    init = inspect.signature(cls.__init__).parameters
    if declared and not isinstance(loss, type) and 'loss_weight' in init:
        w = getattr(loss, 'loss_weight', None)
        if not isinstance(w, numbers.Real) or isinstance(w, bool):
            problems.append(f'takes loss_weight but self.loss_weight is {w!r}, not a '
                            f'number: store the constructor\'s loss_weight in it')

    if problems:
        raise LossContractError(f'{_what(loss, name)} breaks the loss contract '
                                f'(mmkd.models.losses.DistillLoss): ' + '; '.join(problems))
    return LossContract(same_shape, bool(needs), teacher_inputs)


def check_loss_contract(loss: LossOrClass, name: Optional[str] = None) -> LossContract:
    """Check a :class:`DistillLoss`'s declared contract against its code, once.

    ``same_shape`` and ``teacher_inputs`` must be tuples of ``forward`` argument names
    (``same_shape`` none or two), ``needs_data_samples`` a bool that agrees with whether
    ``forward`` takes ``data_samples``, and a loss built with a ``loss_weight`` must hold
    it as a number in ``self.loss_weight`` (checked on an instance; a class gets the rest).

    Args:
        loss: the built loss, or its class.
        name: its name in the distiller's ``losses=dict(<name>=...)``, for the error.

    Returns:
        LossContract: the declaration.

    Raises:
        LossContractError: listing every disagreement, naming the loss as ``name``.
    """
    cls = loss if isinstance(loss, type) else type(loss)
    if not issubclass(cls, DistillLoss):
        raise LossContractError(f'{_what(loss, name)} does not inherit '
                                f'mmkd.models.losses.DistillLoss: use loss_contract()')
    return _contract(loss, name, declared=True)


def loss_contract(loss: LossOrClass, name: Optional[str] = None) -> LossContract:
    """The contract of any loss the distiller builds: what it reads once, at build.

    A :class:`DistillLoss` gets its declaration, checked (:func:`check_loss_contract`).
    Any other ``nn.Module`` (a loss of a user's own) is read as the distiller always read
    it: ``same_shape`` and ``teacher_inputs`` where it has them (none otherwise), and
    ``data_samples`` passed when its ``forward`` signature has that argument (or as its
    ``needs_data_samples`` says, checked the same way, where it has one). What it does
    with a ``loss_weight`` is not checked.

    Args:
        loss: the built loss, or its class.
        name: its name in the distiller's ``losses=dict(<name>=...)``, for the error.

    Returns:
        LossContract: ``(same_shape, needs_data_samples, teacher_inputs)``.

    Raises:
        LossContractError: a declaration that disagrees with the code, naming ``name``.
    """
    cls = loss if isinstance(loss, type) else type(loss)
    return _contract(loss, name, declared=issubclass(cls, DistillLoss))
