"""The loss contract (``mmkd.models.losses.base``): every mmkd loss declares it, the
declaration is checked against the code with one error naming the loss, and a loss that
does not inherit the base still gets the contract the distiller always read."""
import inspect

import pytest
import torch
import torch.nn as nn

import mmkd.models  # noqa: F401  (registers the losses)
from mmkd.models.losses import (
    DistillLoss,
    LossContract,
    LossContractError,
    check_loss_contract,
    loss_contract,
)
from mmkd.registry import MODELS

LOSSES = sorted((name, cls) for name, cls in MODELS.module_dict.items()
                if cls.__module__.startswith('mmkd.models.losses.'))
IDS = [name for name, _ in LOSSES]

# constructor arguments of the losses that have required ones (small, so building is fast)
REQUIRED = {
    'AFKDLoss': dict(in_channels=4),
    'ALKDLoss': dict(num_classes=5),
    'CCLoss': dict(student_channels=4, teacher_channels=6),
    'CMKDLoss': dict(num_classes=5),
    'CRDLoss': dict(student_channels=4, teacher_channels=6, n_data=32, nce_k=8),
    'FGDLoss': dict(student_channels=4, teacher_channels=6),
    'MGDLoss': dict(student_channels=4, teacher_channels=6),
    'ReviewKDLoss': dict(student_channels=[4, 8], teacher_channels=[6, 12]),
    'SEMLoss': dict(student_channels=4, teacher_channels=6, projector_dims=(8, 8)),
    'SKDHolisticLoss': dict(num_classes=5),
    'SemCKDLoss': dict(student_channels=[4, 8], teacher_channels=[6, 12], batch_size=8),
    'VIDLoss': dict(student_channels=4, teacher_channels=6),
}


def _legacy(loss):
    """What the distiller read before the contract: attributes by duck typing and
    ``data_samples`` from the forward signature."""
    return (tuple(getattr(loss, 'same_shape', None) or ()),
            'data_samples' in inspect.signature(loss.forward).parameters,
            tuple(getattr(loss, 'teacher_inputs', ())))


def test_the_registry_holds_the_losses():
    assert len(LOSSES) >= 30
    assert {'KDLoss', 'MultiTeacherKDLoss', 'PseudoLabelSegLoss', 'DKDLoss'} <= set(IDS)


@pytest.mark.parametrize('name,cls', LOSSES, ids=IDS)
def test_every_mmkd_loss_inherits_the_base_and_declares_its_contract(name, cls):
    assert issubclass(cls, DistillLoss), f'{name} does not inherit DistillLoss'
    own = [k for k in cls.__mro__ if k not in (DistillLoss, nn.Module, object)]
    for attr in ('same_shape', 'needs_data_samples'):
        assert any(attr in vars(k) for k in own), f'{name} does not declare {attr}'
    contract = check_loss_contract(cls, name)
    assert isinstance(contract, LossContract)
    # the declared values are what the distiller read by duck typing: nothing changes
    assert tuple(contract) == _legacy(cls)
    assert loss_contract(cls, name) == contract


@pytest.mark.parametrize('name,cls', LOSSES, ids=IDS)
def test_every_built_mmkd_loss_passes_the_check(name, cls):
    loss = MODELS.build(dict(type=f'mmkd.{name}', **REQUIRED.get(name, {})))
    contract = check_loss_contract(loss, name.lower())
    assert tuple(contract) == _legacy(loss)
    assert loss_contract(loss, name.lower()) == contract
    if 'loss_weight' in inspect.signature(cls.__init__).parameters:
        default = inspect.signature(cls.__init__).parameters['loss_weight'].default
        assert loss.loss_weight == default


def test_the_contracts_of_the_loss_families():
    assert loss_contract(MODELS.get('mmkd.KDLoss')) == (('student', 'teacher'), False, ())
    assert loss_contract(MODELS.get('mmkd.DKDLoss')) == (('student', 'teacher'), True, ())
    assert loss_contract(MODELS.get('mmkd.MultiTeacherKDLoss')) == ((), True, ('teacher', ))
    # wrapping host (mmseg) losses
    assert loss_contract(MODELS.get('mmkd.PseudoLabelSegLoss')) == (
        ('student', 'teacher'), False, ())
    assert loss_contract(MODELS.get('mmkd.PDFDistilLoss')) == ((), False, ())


def test_the_base_adds_no_state_or_arguments():
    class Plain(DistillLoss):
        same_shape = ()
        needs_data_samples = False

        def forward(self, student, teacher):
            return (student - teacher).pow(2).mean()

    loss = Plain()
    assert loss.state_dict() == {} and list(loss.parameters()) == []
    assert loss_contract(loss, 'plain') == ((), False, ())
    assert set(MODELS.build(dict(type='mmkd.KDLoss')).state_dict()) == set()


# ----------------------------------------------------------------- wrong declarations
class _ForgotDataSamples(DistillLoss):
    same_shape = ('student', 'teacher')

    def forward(self, student, teacher, data_samples=None):
        return student.sum()


class _NoDataSamples(DistillLoss):
    needs_data_samples = True

    def forward(self, student, teacher):
        return student.sum()


class _BoolSameShape(DistillLoss):
    same_shape = True

    def forward(self, student, teacher):
        return student.sum()


class _UnknownSameShape(DistillLoss):
    same_shape = ('student', 'teachr')

    def forward(self, student, teacher):
        return student.sum()


class _TwiceSameShape(DistillLoss):
    same_shape = ('student', 'student')

    def forward(self, student, teacher):
        return student.sum()


class _StringNeeds(DistillLoss):
    needs_data_samples = 'yes'

    def forward(self, student, teacher, data_samples=None):
        return student.sum()


class _StringTeacherInputs(DistillLoss):
    teacher_inputs = 'teacher'

    def forward(self, student, teacher):
        return student.sum()


class _WeightNotStored(DistillLoss):
    def __init__(self, loss_weight: float = 1.0):
        super().__init__()

    def forward(self, student, teacher):
        return student.sum()


@pytest.mark.parametrize('cls,says', [
    (_ForgotDataSamples, 'needs_data_samples = False but forward takes data_samples: set '
                         'needs_data_samples = True'),
    (_NoDataSamples, 'needs_data_samples = True but forward does not take data_samples'),
    (_BoolSameShape, "same_shape must be () or a tuple of two names of forward arguments "
                     "(e.g. ('student', 'teacher')), got True"),
    (_UnknownSameShape, "same_shape names ['teachr'], which forward does not take; its "
                        "arguments are ['student', 'teacher']"),
    (_TwiceSameShape, "same_shape names 'student' twice"),
    (_StringNeeds, "needs_data_samples must be True or False, got 'yes'"),
    (_StringTeacherInputs, "teacher_inputs must be a tuple of names"),
    (_WeightNotStored, 'takes loss_weight but self.loss_weight is None, not a number'),
])
def test_a_wrong_declaration_is_one_error_naming_the_loss(cls, says):
    for check in (check_loss_contract, loss_contract):
        with pytest.raises(LossContractError) as e:
            check(cls(), 'my_kd')
        msg = str(e.value)
        assert msg.startswith(f"loss 'my_kd' ({cls.__name__}) breaks the loss contract"), msg
        assert says in msg, msg
    assert issubclass(LossContractError, TypeError)


def test_every_disagreement_is_in_the_one_error():
    class Bad(DistillLoss):
        same_shape = ('student', 'x')

        def __init__(self, loss_weight=1.0):
            super().__init__()
            self.loss_weight = 'one'

        def forward(self, student, teacher, data_samples=None):
            return student.sum()

    with pytest.raises(LossContractError) as e:
        loss_contract(Bad(), 'bad')
    msg = str(e.value)
    assert "names ['x']" in msg and 'needs_data_samples = True' in msg
    assert "self.loss_weight is 'one'" in msg
    # the class alone is checked without the instance's loss_weight
    with pytest.raises(LossContractError) as e:
        check_loss_contract(Bad, 'bad')
    assert 'loss_weight' not in str(e.value)


def test_the_check_is_for_the_base_only():
    with pytest.raises(LossContractError, match=r"loss 'l1' \(L1Loss\) does not inherit "
                                                r'mmkd.models.losses.DistillLoss: use '
                                                r'loss_contract\(\)'):
        check_loss_contract(nn.L1Loss(), 'l1')


# ------------------------------------------------------------------ third-party losses
class _UserLoss(nn.Module):
    def __init__(self, loss_weight=1.0):
        super().__init__()
        self.w = loss_weight

    def forward(self, student, teacher):
        return self.w * (student - teacher).abs().mean()


class _UserLabelledLoss(nn.Module):
    same_shape = ('student', 'teacher')

    def forward(self, student, teacher, data_samples=None):
        return (student - teacher).abs().mean()


class _UserNoneSameShape(nn.Module):
    same_shape = None

    def forward(self, student, teacher):
        return (student - teacher).abs().mean()


class _UserKwargs(nn.Module):
    same_shape = ['a', 'b']

    def forward(self, **inputs):
        return sum(x.sum() for x in inputs.values())


def test_a_plain_module_loss_gets_the_contract_it_always_had():
    for loss, want in [(_UserLoss(), ((), False, ())),
                       (_UserLabelledLoss(), (('student', 'teacher'), True, ())),
                       (_UserNoneSameShape(), ((), False, ())),
                       (_UserKwargs(), (('a', 'b'), False, ())),
                       (nn.MSELoss(), ((), False, ()))]:
        contract = loss_contract(loss, 'user')
        assert contract == want and tuple(contract) == _legacy(loss)
        assert contract.same_shape == want[0]
        assert contract.needs_data_samples is want[1]
    # a loss of a user's own, registered and built from a config as the distiller does
    MODELS.register_module(name='_ContractUserLoss', module=_UserLabelledLoss, force=True)
    try:
        loss = MODELS.build(dict(type='mmkd._ContractUserLoss'))
        assert loss_contract(loss, 'user') == (('student', 'teacher'), True, ())
        s, t = torch.zeros(2, 3), torch.ones(2, 3)
        assert loss(s, t, data_samples=None).item() == 1.0
    finally:
        MODELS.module_dict.pop('_ContractUserLoss')


def test_a_plain_module_that_declares_is_checked_the_same_way():
    class Declares(nn.Module):
        needs_data_samples = True

        def forward(self, student, teacher):
            return student.sum()

    with pytest.raises(LossContractError, match=r"loss 'user' \(Declares\) breaks the "
                                                r'loss contract.*needs_data_samples = True '
                                                r'but forward does not take'):
        loss_contract(Declares(), 'user')
    with pytest.raises(LossContractError, match='same_shape must be'):
        loss_contract(type('S', (nn.Module, ), {'same_shape': 'student',
                                               'forward': lambda self, student: 0})())
