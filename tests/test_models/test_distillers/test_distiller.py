import copy

import pytest
import torch
from conftest import batch, tiny_classifier
from mmengine.optim import build_optim_wrapper

from mmkd.models.distillers import CheckpointMismatchError, Distiller, build_model

KD = dict(kd=dict(type='mmkd.KDLoss', temperature=4.0,
                  inputs=dict(student='s_logits', teacher='t_logits')))
LOGIT_TAPS = dict(s_logits='student.head.fc', t_logits='teacher.head.fc')


def make_distiller(teacher_ckpt, student=None, teacher=None, **kwargs):
    teacher = teacher or tiny_classifier(width=16)
    kwargs.setdefault('taps', LOGIT_TAPS)
    kwargs.setdefault('losses', KD)
    return Distiller(
        student=student or tiny_classifier(width=8),
        teacher=dict(model=teacher, checkpoint=teacher_ckpt(teacher)),
        **kwargs)


def sgd(model):
    return build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.1,
                                                          momentum=0.9)))


def test_teacher_weights_and_bn_statistics_unchanged_by_training(teacher_ckpt):
    d = make_distiller(teacher_ckpt)
    d.train()
    teacher = d.teachers['teacher']
    assert not teacher.training
    before_t = copy.deepcopy(teacher.state_dict())
    before_s = copy.deepcopy(d.student.state_dict())
    assert any('running_mean' in k for k in before_t)
    optim = sgd(d)
    for i in range(3):
        log = d.train_step(batch(seed=i), optim)
        assert {'loss', 'student.loss', 'loss_kd'} <= set(log)
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, before_t[k]), f'teacher {k} changed'
    changed = [k for k, v in d.student.state_dict().items()
               if not torch.equal(v, before_s[k])]
    assert any('running_mean' in k for k in changed)  # the student's BN does update
    assert any(k.endswith('weight') for k in changed)


def test_teacher_outside_optimizer_checkpoint_and_grads(teacher_ckpt):
    d = make_distiller(
        teacher_ckpt,
        taps=dict(LOGIT_TAPS, s_feat='student.backbone.layer2',
                  t_feat='teacher.backbone.layer2'),
        connectors=dict(s_adapt=dict(type='mmkd.ConvConnector', source='s_feat',
                                     in_channels=16, out_channels=32)),
        losses=dict(KD, hint=dict(type='mmkd.FeatureMSELoss',
                                  inputs=dict(student='s_adapt', teacher='t_feat'))))
    optim = sgd(d)
    in_optim = {id(p) for g in optim.optimizer.param_groups for p in g['params']}
    teacher_params = {id(p) for p in d.teachers['teacher'].parameters()}
    assert not in_optim & teacher_params
    assert {id(p) for p in d.connectors.parameters()} <= in_optim
    assert {id(p) for p in d.student.parameters()} <= in_optim
    assert not any(k.startswith('teacher') for k in d.state_dict())

    data = d.data_preprocessor(batch(), True)
    losses = d(**data, mode='loss')
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in d.teachers['teacher'].parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in d.connectors.parameters())
    assert d.student.backbone.conv1.weight.grad.abs().sum() > 0


def test_device_moves_include_the_frozen_teacher(teacher_ckpt):
    d = make_distiller(teacher_ckpt)
    d.to(torch.float64)
    assert next(d.teachers['teacher'].parameters()).dtype == torch.float64
    d.to(torch.float32)


def test_routing_feeds_each_model_its_modality(teacher_ckpt):
    d = make_distiller(teacher_ckpt, teacher=tiny_classifier(width=16, in_channels=3),
                       student_input='sar')
    d.teacher_cfgs['teacher']['input'] = 'optical'
    seen = {}
    d.student.backbone.register_forward_pre_hook(
        lambda m, a: seen.__setitem__('student', a[0]))
    d.teachers['teacher'].backbone.register_forward_pre_hook(
        lambda m, a: seen.__setitem__('teacher', a[0]))
    sar, optical = torch.randn(2, 1, 32, 32), torch.randn(2, 3, 32, 32)
    b = batch(n=2)
    d(dict(sar=sar, optical=optical), b['data_samples'], mode='loss')
    assert seen['student'] is sar and seen['teacher'] is optical
    # validation and prediction: the student alone, on its modality
    seen.clear()
    d(dict(sar=sar), b['data_samples'], mode='predict')
    assert seen == {'student': sar}


def test_missing_modality_is_one_clear_error(teacher_ckpt):
    d = make_distiller(teacher_ckpt, student_input='sar')
    d.teacher_cfgs['teacher']['input'] = 'optical'
    with pytest.raises(KeyError, match=r"teacher 'teacher' reads modality 'optical', but "
                       r"the batch holds \['sar'\]"):
        d(dict(sar=torch.randn(2, 1, 32, 32)), batch(n=2)['data_samples'], mode='loss')
    with pytest.raises(KeyError, match='single tensor'):
        d(torch.randn(2, 1, 32, 32), batch(n=2)['data_samples'], mode='loss')


def test_taps_capture_what_they_name_and_leave_no_hooks(teacher_ckpt):
    d = make_distiller(teacher_ckpt,
                       taps=dict(LOGIT_TAPS, s_in=dict(model='student', path='head.fc',
                                                       io='input'),
                                 t_stages='teacher.backbone[0]'))
    d.eval()  # the student's BN in eval mode, so two forwards agree
    x = torch.randn(2, 1, 32, 32)
    samples = batch(n=2)['data_samples']
    with d.recorder.recording():
        d.teachers['teacher'](x, samples, mode='tensor')
        d.student(x, samples, mode='loss')
    f = d.recorder.features()
    assert torch.allclose(f['s_logits'], d.student(x, mode='tensor'))
    assert torch.allclose(f['t_logits'], d.teachers['teacher'](x, mode='tensor'))
    assert torch.allclose(f['s_in'], d.student.neck(d.student.backbone(x))[-1])
    assert f['t_stages'].shape == (2, 128, 1, 1)  # index into the backbone's tuple
    models = [d.student, d.teachers['teacher']]
    assert all(not m._forward_hooks for model in models for m in model.modules())


def test_module_called_several_times_records_a_list(teacher_ckpt):
    d = make_distiller(teacher_ckpt, taps=dict(LOGIT_TAPS, relu='student.backbone.relu'))
    with d.recorder.recording():
        d.student(torch.randn(2, 1, 32, 32), batch(n=2)['data_samples'], mode='loss')
    assert isinstance(d.recorder.records['relu'], list)


def test_unknown_tap_lists_near_matches(teacher_ckpt):
    with pytest.raises(KeyError, match=r"model 'teacher' has no module "
                       r"'backbone.layer9'.*backbone.layer"):
        make_distiller(teacher_ckpt, taps=dict(t='teacher.backbone.layer9'))
    with pytest.raises(KeyError, match=r"model 'tacher'"):
        make_distiller(teacher_ckpt, taps=dict(t='tacher.backbone'))


def test_shape_mismatch_without_connector_names_both_taps(teacher_ckpt):
    d = make_distiller(
        teacher_ckpt, taps=dict(s='student.backbone.layer3', t='teacher.backbone.layer3'),
        losses=dict(hint=dict(type='mmkd.FeatureMSELoss',
                              inputs=dict(student='s', teacher='t'))))
    with pytest.raises(ValueError, match=r"loss 'hint' \(FeatureMSELoss\) compares 's' "
                       r"with shape \(4, 32, 2, 2\) and 't' with shape \(4, 64, 2, 2\)"
                       r".*connector"):
        d.train_step(batch(), sgd(d))


def test_connector_fixes_channels_and_resolution(teacher_ckpt):
    d = make_distiller(
        teacher_ckpt,
        taps=dict(s='student.backbone.layer2', t='teacher.backbone.layer3'),
        connectors=dict(a=dict(type='mmkd.ConvConnector', source='s', like='t',
                               in_channels=16, out_channels=64)),
        losses=dict(hint=dict(type='mmkd.FeatureMSELoss',
                              inputs=dict(student='a', teacher='t'))))
    log = d.train_step(batch(), sgd(d))
    assert torch.isfinite(log['loss_hint'])


def test_missing_teacher_checkpoint(tmp_path):
    t = tiny_classifier(width=16)
    with pytest.raises(FileNotFoundError, match=r"teacher 'teacher': checkpoint "
                       r"'.*nope.pth' does not exist"):
        Distiller(student=tiny_classifier(), teacher=dict(model=t, checkpoint=str(
            tmp_path / 'nope.pth')), taps=LOGIT_TAPS, losses=KD)
    with pytest.raises(FileNotFoundError, match='has no checkpoint'):
        Distiller(student=tiny_classifier(), teacher=dict(model=t), taps=LOGIT_TAPS,
                  losses=KD)
    with pytest.raises(FileNotFoundError, match='no last_checkpoint'):
        Distiller(student=tiny_classifier(), teacher=dict(model=t, checkpoint=str(
            tmp_path)), taps=LOGIT_TAPS, losses=KD)


def test_mismatched_teacher_checkpoint_lists_keys(teacher_ckpt):
    wrong = teacher_ckpt(tiny_classifier(width=16, depth=34), 'r34.pth')
    with pytest.raises(CheckpointMismatchError) as e:
        Distiller(student=tiny_classifier(),
                  teacher=dict(model=tiny_classifier(width=16), checkpoint=wrong),
                  taps=LOGIT_TAPS, losses=KD)
    msg = str(e.value)
    assert 'does not match' in msg and 'unexpected keys' in msg
    assert 'backbone.layer1.2.' in msg and 'more)' in msg


def test_unknown_loss_and_model_types(teacher_ckpt):
    with pytest.raises(KeyError, match='NoSuchLoss'):
        make_distiller(teacher_ckpt, losses=dict(x=dict(type='mmkd.NoSuchLoss',
                                                        inputs=dict())))
    with pytest.raises(KeyError, match="student: cannot build model type 'NoSuchNet'"):
        Distiller(student=dict(type='NoSuchNet'))
    with pytest.raises(KeyError, match=r"loss 'kd' reads \{'teacher': 'nope'\}"):
        make_distiller(teacher_ckpt, losses=dict(kd=dict(
            type='mmkd.KDLoss', inputs=dict(student='s_logits', teacher='nope'))))
    with pytest.raises(KeyError, match=r"needs inputs for \['teacher'\]"):
        make_distiller(teacher_ckpt, losses=dict(kd=dict(
            type='mmkd.KDLoss', inputs=dict(student='s_logits'))))


def test_student_loss_weight_and_schedule(teacher_ckpt):
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('mmkd-test-schedule')
    d = make_distiller(teacher_ckpt, student_loss_weight=0.1,
                       losses=dict(kd=dict(KD['kd'], schedule=dict(begin=2, warmup=2))))
    d.eval()
    data = d.data_preprocessor(batch(), False)
    ref = d.student(**data, mode='loss')['loss']
    factors = []
    for it in range(5):
        hub.update_info('iter', it)
        out = d(**data, mode='loss')
        assert torch.allclose(out['student.loss'], 0.1 * ref)
        factors.append(out['loss_kd'].item())
    assert factors[0] == factors[1] == 0 < factors[4]
    assert factors[2] == pytest.approx(factors[4] / 2, rel=1e-5)
    assert factors[3] == pytest.approx(factors[4], rel=1e-5)


def test_loss_schedule_factor_at_given_iterations_and_epochs():
    """The schedule is a function of the progress it is given: 0 before ``begin`` and
    from ``end`` on, a ramp over ``warmup`` steps, in iterations or epochs."""
    from mmkd.models.distillers.schedule import LossSchedule
    ramp = LossSchedule(dict(begin=2, warmup=4, end=9))
    assert [ramp.factor(it) for it in range(11)] == [
        0, 0, 0.25, 0.5, 0.75, 1, 1, 1, 1, 0, 0]
    by_epoch = LossSchedule(dict(begin=1, by_epoch=True))
    assert [by_epoch.factor(it=100, epoch=e) for e in range(3)] == [0, 1, 1]
    assert LossSchedule(None).factor(12345) == LossSchedule({}).factor(0) == 1
    with pytest.raises(KeyError, match=r"loss 'kd': schedule keys are \['begin', 'by_epoch', "
                       r"'end', 'warmup'\], got \['start'\]"):
        LossSchedule(dict(start=3), "loss 'kd'")


@pytest.fixture
def hubs():
    """Factory of named MessageHubs (each the current one once made, as a runner's is);
    removed afterwards so that no later test reads their iteration."""
    from mmengine.logging import MessageHub
    made = []

    def make(name, state=None):
        hub = MessageHub.get_instance(name)
        if state is not None:
            hub.load_state_dict(state)
        made.append(name)
        return hub

    yield make
    for name in made:
        MessageHub._instance_dict.pop(name, None)


def test_schedules_follow_the_runners_iteration_across_a_resume(teacher_ckpt, hubs):
    """What a runner does, step by step: its RuntimeInfoHook writes runner.iter and
    runner.epoch into its MessageHub (before_train, before_train_iter), the distiller's
    step reads them (train_progress). A resumed run (a new process: a distiller built
    afresh with the checkpoint's weights, a fresh hub with its message_hub state, the
    runner's iter restored from its meta) gives every schedule the values the
    uninterrupted run had at those iterations, not a count restarted at 0."""
    from types import SimpleNamespace

    from mmengine.hooks import RuntimeInfoHook

    from mmkd.models.distillers.schedule import train_progress

    def build():
        return make_distiller(
            teacher_ckpt, student_loss_schedule=dict(begin=5),
            losses=dict(kd=dict(KD['kd'], schedule=dict(begin=2, warmup=4)))).eval()

    d = build()
    data = d.data_preprocessor(batch(), False)
    hook = RuntimeInfoHook()

    def train(d, hub, start, stop):
        """Iterations [start, stop) of a runner resumed at ``start``: the KD loss and
        whether the student's task loss is on, per iteration."""
        runner = SimpleNamespace(
            message_hub=hub, iter=start, epoch=0, max_iters=8, max_epochs=1,
            train_dataloader=SimpleNamespace(dataset=None),
            optim_wrapper=SimpleNamespace(get_lr=lambda: dict(lr=[0.1])))
        hook.before_train(runner)
        steps = []
        for it in range(start, stop):
            runner.iter = it
            hook.before_train_iter(runner, batch_idx=it)
            assert train_progress() == (it, 0)
            with torch.no_grad():
                out = d(**data, mode='loss')
            steps.append((out['loss_kd'].item(), 'student.loss' in out))
        return steps

    straight = train(d, hubs('mmkd-test-straight'), 0, 8)
    first = hubs('mmkd-test-first')
    before = train(d, first, 0, 4)
    # what CheckpointHook saves in iter_4.pth and `--resume` loads into the new process
    weights, checkpoint_hub = d.state_dict(), first.state_dict()
    resumed = build()
    resumed.load_state_dict(weights)
    after = train(resumed, hubs('mmkd-test-resumed', checkpoint_hub), 4, 8)
    assert before + after == straight
    full = straight[-1][0]
    assert [kd for kd, _ in straight] == pytest.approx(
        [0, 0, full / 4, full / 2, 3 * full / 4, full, full, full], rel=1e-5)
    assert [on for _, on in straight] == [False] * 5 + [True] * 3


def unlabelled_batch():
    data = batch()
    for s in data['data_samples']:
        del s.gt_label
    return data


def test_no_task_loss_trains_without_labels(teacher_ckpt):
    """student_losses='none': the student runs in tensor mode (its head's loss, which
    reads labels, is never called), so unlabelled batches train from the teacher."""
    d = make_distiller(teacher_ckpt, student_losses='none')
    assert d.student_losses == 'none'
    data = unlabelled_batch()
    log = d.train_step(data, sgd(d))
    assert set(log) == {'loss', 'loss_kd'} and log['loss_kd'] > 0
    supervised = make_distiller(teacher_ckpt)
    assert supervised.student_losses == 'supervised'  # the default
    with pytest.raises(AttributeError, match='gt_label'):  # the task loss needs labels
        supervised.train_step(data, sgd(d))


@pytest.fixture
def warn_afresh(monkeypatch):
    """The deprecation warnings of this process not yet given (they are given once)."""
    from mmkd.models.distillers import distiller
    monkeypatch.setattr(distiller, '_warned_deprecated', set())


def test_student_loss_weight_none_still_means_no_task_loss_and_warns_once(
        teacher_ckpt, warn_afresh):
    """The old spelling, student_loss_weight=None, is student_losses='none' with one
    FutureWarning that names the new key; the second build says nothing."""
    import warnings
    with pytest.warns(FutureWarning, match=r"student_loss_weight=None is deprecated; "
                      r"write student_losses='none'"):
        d = make_distiller(teacher_ckpt, student_loss_weight=None)
    assert (d.student_losses, d.student_loss_weight) == ('none', 1.0)
    log = d.train_step(unlabelled_batch(), sgd(d))
    assert set(log) == {'loss', 'loss_kd'} and log['loss_kd'] > 0
    with warnings.catch_warnings():
        warnings.simplefilter('error', FutureWarning)
        again = make_distiller(teacher_ckpt, student_loss_weight=None,
                               student_losses='none')
    assert again.student_losses == 'none'


@pytest.mark.parametrize('weight', [0.1, 2, dict(loss=0.)])
def test_no_task_loss_with_a_weight_is_refused_before_any_model_is_built(weight):
    """student_losses='none' with a student_loss_weight that would weight something is a
    contradiction: one ValueError naming both keys, before the (here unbuildable)
    student is built."""
    with pytest.raises(ValueError, match=r"student_losses='none' computes no task loss, "
                       r'so student_loss_weight=.* would weight nothing: drop '
                       r"student_loss_weight, or set student_losses='supervised'"):
        Distiller(student=dict(type='NoSuchNet'), student_losses='none',
                  student_loss_weight=weight)
    with pytest.raises(ValueError, match=r"student_losses='unlabelled': expected one of "
                       r"\['supervised', 'none'\]"):
        Distiller(student=dict(type='NoSuchNet'), student_losses='unlabelled')


@pytest.mark.parametrize('weight', [1.0, 0.])
def test_no_task_loss_accepts_the_default_weight_and_zero(teacher_ckpt, weight):
    """1.0 (the default, e.g. written out) and 0 (no task loss either: a base such as
    CMKD-s's, whose loss holds the CE, sets it) agree with student_losses='none'."""
    d = make_distiller(teacher_ckpt, student_losses='none', student_loss_weight=weight)
    log = d.train_step(unlabelled_batch(), sgd(d))
    assert set(log) == {'loss', 'loss_kd'}


def test_exported_student_checkpoint_loads_into_distiller(teacher_ckpt):
    d = make_distiller(teacher_ckpt)
    other, _, _ = build_model(tiny_classifier(width=8), 'other')
    d.load_state_dict(other.state_dict(), strict=True)
    for k, v in other.state_dict().items():
        assert torch.equal(d.student.state_dict()[k], v)


def test_trainable_teacher_needs_no_checkpoint_and_is_trained():
    d = Distiller(student=tiny_classifier(width=8),
                  teacher=dict(model=tiny_classifier(width=16), trainable=True),
                  taps=LOGIT_TAPS, losses=KD)
    optim = sgd(d)
    in_optim = {id(p) for g in optim.optimizer.param_groups for p in g['params']}
    assert {id(p) for p in d.teachers['teacher'].parameters()} <= in_optim
    log = d.train_step(batch(), optim)
    assert 'teacher.loss' in log


@pytest.fixture
def teacher_warn_afresh(monkeypatch):
    """The teachers' deprecation warnings not yet given in this process."""
    from mmkd.models.distillers import teachers
    monkeypatch.setattr(teachers, '_warned_deprecated', set())


def trainable(**teacher):
    return Distiller(student=tiny_classifier(width=8), taps=LOGIT_TAPS, losses=KD,
                     teacher=dict(model=tiny_classifier(width=16), trainable=True,
                                  **teacher))


def test_trainable_teacher_without_task_losses_logs_none():
    """task_losses='none': the trainable teacher runs in 'tensor' mode, no task loss."""
    d = trainable(task_losses='none')
    log = d.train_step(batch(), sgd(d))
    assert not any(k.startswith('teacher.') for k in log) and log['loss_kd'] > 0


def test_teacher_task_loss_weight_zero_still_means_none_and_warns_once(
        teacher_warn_afresh):
    """The old switch, task_loss_weight=0, is task_losses='none' with one FutureWarning
    naming the new key; an explicit 'supervised' with weight 0 is a weight (computed,
    scaled to 0)."""
    import warnings
    with pytest.warns(FutureWarning, match=r"teacher 'teacher': task_loss_weight=0 as a "
                      r"switch is deprecated; write task_losses='none'"):
        d = trainable(task_loss_weight=0)
    log = d.train_step(batch(), sgd(d))
    assert not any(k.startswith('teacher.') for k in log)
    with warnings.catch_warnings():
        warnings.simplefilter('error', FutureWarning)
        weighted = trainable(task_losses='supervised', task_loss_weight=0)
        log = weighted.train_step(batch(), sgd(weighted))
    assert log['teacher.loss'] == 0


def test_teacher_task_losses_contradictions_are_refused_at_build():
    with pytest.raises(ValueError, match=r"teacher 'teacher': task_losses='none' computes "
                       r"no task loss, so task_loss_weight=2 would weight nothing"):
        trainable(task_losses='none', task_loss_weight=2)
    with pytest.raises(ValueError, match=r"task_losses='labels': expected one of "
                       r"\['supervised', 'none'\]"):
        trainable(task_losses='labels')
    with pytest.raises(ValueError, match=r"task_losses='none' is for a trainable teacher"):
        Distiller(student=tiny_classifier(width=8), taps=LOGIT_TAPS, losses=KD,
                  teacher=dict(model=tiny_classifier(width=16), checkpoint='x.pth',
                               task_losses='none'))
