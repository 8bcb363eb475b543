"""What tools/demo.py shows a person (mmkd.utils.demo_output) and what
tools/setup_env.sh says about itself. No training: fake runners and loops, seconds."""
import importlib.util
import io
import os
import os.path as osp
import shutil
import subprocess
import sys
import uuid
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.hooks import Hook
from mmengine.logging import MMLogger

from mmkd.utils import demo_output
from mmkd.utils.demo_output import (
    DemoConsole,
    PredictionRecorder,
    ProgressHook,
    QuietRunner,
    StageFailed,
    fmt_duration,
    mute_terminal,
    per_class_accuracy,
    write_results_json,
    write_results_png,
)

STAGES = [('setup', 'setup check'), ('teacher', 'teacher'), ('eval', 'evaluation')]
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def fake_runner(max_iters=6, max_epochs=2, val=2, test=3, log_file=None):
    """Just what the hooks read: loops with dataloaders, iter, epoch, logger.log_file."""
    dataset = SimpleNamespace(metainfo=dict(classes=('a', 'b', 'c')))
    return SimpleNamespace(
        train_loop=SimpleNamespace(max_iters=max_iters, max_epochs=max_epochs),
        val_loop=SimpleNamespace(dataloader=list(range(val))),
        test_loop=SimpleNamespace(dataloader=_Loader(test, dataset)),
        iter=0, epoch=0, logger=SimpleNamespace(log_file=log_file))


class _Loader(list):
    def __init__(self, n, dataset):
        super().__init__(range(n))
        self.dataset = dataset


def drive_training(hook, runner, iters_per_epoch=3, seen=None):
    hook.before_train(runner)
    for epoch in range(runner.train_loop.max_epochs):
        runner.epoch = epoch
        hook.before_train_epoch(runner)
        for i in range(iters_per_epoch):
            hook.after_train_iter(runner, i)
            runner.iter += 1
            if seen is not None:
                seen.append(hook.stage.done)


# ------------------------------------------------------------------- progress hook
def test_progress_hook_advances_once_per_iteration_and_names_the_epoch():
    out = io.StringIO()
    with DemoConsole(STAGES, stream=out) as ui:
        with ui.stage('teacher') as stage:
            hook, runner, seen = ProgressHook(stage), fake_runner(), []
            drive_training(hook, runner, seen=seen)
            assert seen == [1, 2, 3, 4, 5, 6]  # one step per train iteration
            assert stage.total == 6 and stage.note == 'epoch 2/2'
            hook.before_val_epoch(runner)
            assert stage.total == 8 and stage.note == 'validating'
            for i in range(2):
                hook.after_val_iter(runner, i)
            hook.before_test_epoch(runner)
            assert stage.total == 11 and stage.note == 'testing'
            for i in range(3):
                hook.after_test_iter(runner, i)
            assert stage.done == stage.total == 11
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0] == '[demo] teacher ...'
    assert lines[-1].startswith('[demo] teacher: done in ')
    # plain output: a line per 10 % at most, with the epoch and an ETA; no control codes
    progress = [ln for ln in lines if ' %,' in ln]
    assert 1 <= len(progress) <= 9
    assert 'epoch 1/2' in text and 'ETA ' in text
    assert '\x1b' not in text and '\r' not in text


def test_progress_hook_hooks_are_mmengine_stages():
    """Misspelt hook methods would silently never be called."""
    assert set(ProgressHook(None).get_triggered_stages()) == {
        'before_train', 'before_train_epoch', 'after_train_iter', 'before_val_epoch',
        'after_val_iter', 'before_test_epoch', 'after_test_iter'}
    assert set(PredictionRecorder().get_triggered_stages()) == {
        'before_test_epoch', 'after_test_iter'}
    assert set(ProgressHook.__dict__) & set(Hook.stages) == set(
        ProgressHook(None).get_triggered_stages())


def test_progress_hook_resumed_run_counts_the_remaining_iterations():
    out = io.StringIO()
    with DemoConsole(STAGES, stream=out) as ui, ui.stage('teacher') as stage:
        runner = fake_runner(max_iters=10)
        runner.iter = 4
        ProgressHook(stage).before_train(runner)
        assert stage.total == 6


def test_prediction_recorder_confusion_matrix():
    from mmpretrain.structures import DataSample
    rec, runner = PredictionRecorder(), fake_runner()
    rec.before_test_epoch(runner)
    outputs = [DataSample().set_gt_label(g).set_pred_label(p)
               for g, p in [(0, 0), (1, 2), (2, 2), (1, 1)]]
    rec.after_test_iter(runner, 0, outputs=outputs[:2])
    rec.after_test_iter(runner, 1, outputs=outputs[2:])
    # a score-only sample counts through its argmax
    rec.after_test_iter(runner, 2, outputs=[
        DataSample().set_gt_label(0).set_pred_score(torch.tensor([.1, .7, .2]))])
    assert rec.classes == ('a', 'b', 'c')
    np.testing.assert_array_equal(rec.confusion(), [[1, 1, 0], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_allclose(per_class_accuracy(rec.confusion()), [50, 50, 100])
    assert PredictionRecorder().confusion() is None


# ------------------------------------------------------------------------ quiet logs
def test_mute_terminal_keeps_info_off_stdout_but_in_the_log_file(tmp_path, capsys):
    log_file = str(tmp_path / 'run.log')
    logger = MMLogger.get_instance(f'quiet-{uuid.uuid4().hex}', log_file=log_file)
    mute_terminal(logger)
    logger.info('Epoch(train) [1][20/32]  lr: 5.0e-02  loss: 2.30')
    logger.error('a real problem')
    out = capsys.readouterr().out
    assert 'Epoch(train)' not in out
    assert 'a real problem' in out  # errors still reach the terminal
    text = open(log_file).read()
    assert 'Epoch(train) [1][20/32]' in text and 'a real problem' in text


def _tiny_runner(cls, work_dir):
    return cls(model=torch.nn.Linear(2, 2), work_dir=str(work_dir),
               experiment_name=f'quiet-test-{uuid.uuid4().hex[:8]}',
               env_cfg=dict(dist_cfg=dict(backend='gloo')))


def test_quiet_runner_keeps_mmengine_lines_off_stdout(tmp_path, capsys):
    """The environment dump and config a Runner logs at construction, and what it logs
    later, go to its log file only; a plain Runner prints them (as --verbose does)."""
    from mmengine.runner import Runner
    loud = _tiny_runner(Runner, tmp_path / 'loud')
    loud_out = capsys.readouterr().out
    assert 'System environment' in loud_out  # what the terminal used to get

    runner = _tiny_runner(QuietRunner, tmp_path / 'quiet')
    runner.logger.info('Epoch(train) [1][20/32]  loss: 2.30')
    out = capsys.readouterr().out
    assert out == ''
    text = open(runner.logger.log_file).read()
    assert 'System environment' in text and 'Epoch(train) [1][20/32]' in text
    assert osp.dirname(runner.logger.log_file).startswith(str(tmp_path / 'quiet'))
    del loud


def test_quiet_console_sends_python_warnings_to_demo_log(tmp_path, capsys):
    shown = warnings.showwarning
    ui = DemoConsole(STAGES, work_dir=str(tmp_path), stream=io.StringIO())
    with ui.stage('setup'):
        warnings.warn('a noisy library warning', UserWarning)
    ui.close()
    assert warnings.showwarning is shown  # restored
    assert 'noisy' not in capsys.readouterr().err
    assert ui.warnings == 1
    assert 'a noisy library warning' in open(tmp_path / 'demo.log').read()


def test_build_runner_quiet_and_hooked(monkeypatch, tmp_path):
    built = {}

    class FakeRunner:
        @classmethod
        def from_cfg(cls, cfg):
            built['cls'] = cls
            r = cls()
            r.logger, r.hooks = SimpleNamespace(log_file=str(tmp_path / 'x.log')), []
            r.register_hook = r.hooks.append
            return r

    class FakeQuiet(FakeRunner):
        pass

    monkeypatch.setattr(demo_output, 'QuietRunner', FakeQuiet)
    monkeypatch.setattr(demo_output, 'Runner', FakeRunner)
    out = io.StringIO()
    for verbose, expected in ((False, FakeQuiet), (True, FakeRunner)):
        with DemoConsole(STAGES, stream=out, verbose=verbose) as ui:
            with pytest.raises(RuntimeError):
                ui.build_runner({})  # outside a stage
            with ui.stage('teacher') as stage:
                runner = ui.build_runner({})
        assert built['cls'] is expected
        assert [type(h) for h in runner.hooks] == [ProgressHook, PredictionRecorder]
        assert runner.hooks[0].stage is stage and stage.recorder is runner.hooks[1]
        assert stage.log_path == str(tmp_path / 'x.log')
    assert f'teacher: mmengine log {tmp_path / "x.log"}' in out.getvalue()


# ----------------------------------------------------------------------------- picture
RESULTS = {
    'teacher (ResNet-34)': dict(top1=95.0, confusion=[[19, 1, 0], [0, 20, 0], [1, 0, 19]]),
    'student baseline (ResNet-18 w32)': dict(top1=80.0,
                                             confusion=[[16, 4, 0], [2, 17, 1], [3, 2, 15]]),
    'student + KD (exported)': dict(top1=86.7, confusion=[[18, 2, 0], [1, 18, 1], [2, 2, 16]]),
}


def test_png_writer_writes_a_png(tmp_path):
    path = write_results_png(str(tmp_path / 'run' / 'demo_results.png'), RESULTS,
                             classes=['2S1', 'BMP2', 'T72'], title='mmkd demo, seed 0')
    data = open(path, 'rb').read()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000
    # without per-class results (e.g. a recorder saw no labels): the accuracy panel only
    bare = {k: dict(top1=v['top1'], confusion=None) for k, v in RESULTS.items()}
    data = open(write_results_png(str(tmp_path / 'bare.png'), bare), 'rb').read()
    assert data[:8] == PNG_MAGIC and len(data) > 1_000


def test_json_writer_has_per_class_accuracy(tmp_path):
    import json
    path = write_results_json(str(tmp_path / 'r.json'), RESULTS, ['2S1', 'BMP2', 'T72'],
                              seed=0)
    data = json.load(open(path))
    assert data['seed'] == 0 and data['classes'] == ['2S1', 'BMP2', 'T72']
    assert data['models']['teacher (ResNet-34)']['per_class_top1'] == [95.0, 100.0, 95.0]


# ------------------------------------------------------------------------------ errors
def test_a_failing_stage_prints_traceback_and_log_path(tmp_path, capsys):
    out = io.StringIO()
    ui = DemoConsole(STAGES, work_dir=str(tmp_path), stream=out)
    with pytest.raises(StageFailed) as info:
        with ui.stage('teacher') as stage:
            stage.attach(fake_runner(log_file='/runs/teacher/20240101_000000.log'))
            raise ValueError('CUDA out of memory (a stand-in)')
    err = info.value
    assert isinstance(err.__cause__, ValueError)
    assert err.log_path == '/runs/teacher/20240101_000000.log'
    assert '/runs/teacher/20240101_000000.log' in str(err)
    stderr = capsys.readouterr().err
    assert 'Traceback (most recent call last)' in stderr
    assert 'ValueError: CUDA out of memory (a stand-in)' in stderr
    # the log path comes after the traceback, where a person looks
    assert stderr.rindex('/runs/teacher/20240101_000000.log') > stderr.index('ValueError')
    assert 'teacher: FAILED after' in out.getvalue()
    assert 'ValueError: CUDA out of memory' in open(tmp_path / 'demo.log').read()
    ui.close()  # again: a no-op


def test_a_stage_failing_before_its_runner_says_so(capsys):
    ui = DemoConsole(STAGES, stream=io.StringIO())
    with pytest.raises(StageFailed, match='no mmengine log was started'):
        with ui.stage('setup'):
            raise FileNotFoundError('configs/kd/missing.py')
    assert 'FileNotFoundError: configs/kd/missing.py' in capsys.readouterr().err


def test_rich_rows_on_a_terminal_and_errors_after_them(capsys):
    from rich.console import Console
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=110, color_system=None)
    ui = DemoConsole(STAGES, live=True, console=console)
    with ui.stage('setup') as stage:
        stage.set_summary('mmkd 0.0')
    with pytest.raises(StageFailed):
        with ui.stage('teacher') as stage:
            stage.add_total(4)
            stage.advance(2)
            raise RuntimeError('boom')
    text = buf.getvalue()
    assert 'setup check' in text and 'mmkd 0.0' in text and 'evaluation' in text
    assert 'RuntimeError: boom' in capsys.readouterr().err


def test_non_tty_stream_gets_plain_lines():
    class Pipe(io.StringIO):
        def isatty(self):
            return False

    ui = DemoConsole(STAGES, stream=Pipe())
    assert type(ui._view).__name__ == '_PlainView'
    ui.close()
    assert fmt_duration(5) == '0:05' and fmt_duration(3725) == '1:02:05'
    assert fmt_duration(None) == '-:--'


# ---------------------------------------------------------------- the demo, wired up
def load_demo():
    spec = importlib.util.spec_from_file_location('mmkd_demo_tool',
                                                  osp.join(REPO, 'tools', 'demo.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class _DemoRunner:
    """Stands in for an mmengine Runner: calls the registered hooks as a real loop
    would, 2 epochs of 3 iterations, a 2-batch test split of 3 classes."""
    accuracy = iter([95.0, 80.0, 86.67])

    def __init__(self, cfg, log_file, fail=False):
        self.cfg, self.hooks, self.fail = cfg, [], fail
        self.logger = SimpleNamespace(log_file=log_file)
        self.model = torch.nn.Linear(10, 3)
        base = fake_runner(max_iters=6, max_epochs=2, val=1, test=2)
        self.train_loop, self.val_loop, self.test_loop = (base.train_loop, base.val_loop,
                                                          base.test_loop)
        self.iter = self.epoch = 0

    def register_hook(self, hook, priority=None):
        self.hooks.append(hook)

    def call(self, name, *args, **kwargs):
        for hook in self.hooks:
            getattr(hook, name)(self, *args, **kwargs)

    def train(self):
        self.call('before_train')
        for self.epoch in range(2):
            self.call('before_train_epoch')
            for i in range(3):
                if self.fail and self.iter == 4:
                    raise RuntimeError('loss is nan')
                self.call('after_train_iter', i)
                self.iter += 1
        self.call('before_val_epoch')
        self.call('after_val_iter', 0)

    def test(self):
        from mmpretrain.structures import DataSample
        self.call('before_test_epoch')
        for i in range(2):
            self.call('after_test_iter', i, outputs=[
                DataSample().set_gt_label(g).set_pred_label((g + i) % 3) for g in range(3)])
        return {'accuracy/top1': next(self.accuracy)}


def _fake_demo(monkeypatch, tmp_path, fail_stage=None):
    demo = load_demo()
    from mmengine.config import Config

    class FakeQuiet:
        @classmethod
        def from_cfg(cls, cfg):
            name = osp.basename(cfg.work_dir)
            return _DemoRunner(cfg, osp.join(cfg.work_dir, '20240101_000000', 'x.log'),
                               fail=(name == fail_stage))

    monkeypatch.setattr(demo_output, 'QuietRunner', FakeQuiet)
    monkeypatch.setattr(demo, 'prepare_data', lambda *a, **k: str(tmp_path / 'data'))
    monkeypatch.setattr(demo, 'load_weights_strict', lambda *a, **k: None)
    real_fromfile = Config.fromfile

    class FakeConfig:
        @staticmethod
        def fromfile(path):  # the exported student's config is written by training
            return real_fromfile(path) if osp.isfile(path) else Config(dict(
                test_dataloader=dict(), val_dataloader=dict()))

    monkeypatch.setattr(demo, 'Config', FakeConfig)
    _DemoRunner.accuracy = iter([95.0, 80.0, 86.67])
    argv = ['demo.py', '--work-dir', str(tmp_path / 'demo'), '--epochs', '2']
    monkeypatch.setattr(sys, 'argv', argv)
    return demo


def test_demo_prints_stages_table_figure_and_logs(monkeypatch, tmp_path, capsys):
    demo = _fake_demo(monkeypatch, tmp_path)
    assert demo.main() == 0
    out = capsys.readouterr().out
    for title in ('setup check', 'teacher (ResNet-34)', 'baseline (ResNet-18 w32)',
                  'distilled student (KD)', 'evaluation'):
        assert f'[demo] {title}: done in ' in out
    assert 'student + KD (exported)' in out and '+6.67' in out  # the table, as before
    png = osp.join(str(tmp_path / 'demo'), 'demo_results.png')
    assert f'figure: {png}' in out
    assert open(png, 'rb').read(8) == PNG_MAGIC
    assert osp.isfile(osp.join(str(tmp_path / 'demo'), 'demo_results.json'))
    assert 'mmengine logs:' in out and '20240101_000000' in out
    assert '\x1b' not in out  # captured stdout is not a terminal: plain lines


def test_demo_failing_stage_exits_1_with_traceback_and_log(monkeypatch, tmp_path, capsys):
    demo = _fake_demo(monkeypatch, tmp_path, fail_stage='student_baseline')
    assert demo.main() == 1
    captured = capsys.readouterr()
    assert 'RuntimeError: loss is nan' in captured.err
    log = osp.join(str(tmp_path / 'demo'), 'student_baseline', '20240101_000000', 'x.log')
    assert log in captured.err
    assert 'baseline (ResNet-18 w32): FAILED after' in captured.out
    assert '=' * 78 not in captured.out  # no table from a half-run demo


# -------------------------------------------------------------------------- setup_env
def _stub_python(path, log):
    """A stand-in interpreter for tools/setup_env.sh: records its arguments, prints
    what the script reads from it, installs nothing."""
    path.write_text(f'''#!/usr/bin/env bash
echo "$*" >> {log}
case "$*" in
  *"-m venv "*) d="${{@: -1}}"; mkdir -p "$d/bin"; cp "$0" "$d/bin/python";;
  *"torch.__version__"*) echo 2.1.2+cpu;;
  *"sys.version_info"*) echo cp311;;
  *"cache dir"*) echo /stub/pip-cache;;
  *"mmkd.__version__"*) echo "mmkd 0.0 | mmcv 2.1.0 | mmengine 0.10.7";;
  *" wheel "*) w=""; prev=""; for a in "$@"; do [ "$prev" = -w ] && w=$a; prev=$a; done
               touch "$w/mmcv-2.1.0-cp311-cp311-linux_x86_64.whl";;
esac
exit 0
''')
    path.chmod(0o755)


@pytest.mark.skipif(shutil.which('bash') is None, reason='needs bash')
def test_setup_env_says_stages_times_and_caches(tmp_path):
    """tools/setup_env.sh against a stub interpreter: a fresh machine, then the no-op."""
    log = tmp_path / 'calls.log'
    _stub_python(tmp_path / 'python-stub', log)
    env = dict(os.environ, PYTHON=str(tmp_path / 'python-stub'),
               MMKD_VENV=str(tmp_path / 'venv'), MMKD_CACHE=str(tmp_path / 'cache'),
               MAX_JOBS='1')

    def setup():
        done = subprocess.run(['bash', osp.join(REPO, 'tools', 'setup_env.sh')], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stderr

    first = setup()
    for text in ('virtual environment: created', 'compiling mmcv 2.1.0',
                 f'{tmp_path}/cache/wheels/torch-2.1.2+cpu-cp311', 'pip cache: /stub/pip-cache',
                 'total '):
        assert text in first, first
    assert 'done in' in first
    calls = log.read_text()
    assert ' wheel ' in calls and 'install -q -r' in calls

    log.write_text('')
    again = setup()
    assert 'environment up to date' in again and 'reusing' in again
    calls = log.read_text()
    assert ' wheel ' not in calls and 'requirements/torch.txt' not in calls
    assert '--force-reinstall' in calls  # mmkd itself, as before
