"""What ``tools/demo.py`` shows a person: one line per stage with a progress bar and an
ETA, mmengine's own logs in each run's folder (their paths printed), a picture of the
results, and errors in full.

* :class:`DemoConsole` owns the stage lines. On a terminal it draws them with ``rich``
  (one live row per stage); anywhere else (CI, a pipe, ``--verbose``) it prints plain
  lines, a few per stage (every 10 %), with no control codes.
* :class:`ProgressHook` is a plain mmengine hook that moves a stage's bar once per
  train, val and test iteration and names the epoch; :class:`PredictionRecorder` keeps
  the test split's labels and predictions for the per-class picture.
* :class:`QuietRunner` is an mmengine ``Runner`` whose logger writes to its log file
  only; ERROR records still reach the terminal.
* :func:`write_results_png` draws the three models' accuracy, per-class accuracy and
  confusion matrices.

A stage that raises prints the traceback in full, then the path of its mmengine log, and
raises :class:`StageFailed` (its ``__cause__`` is the original error).

``rich`` and ``matplotlib`` are mmengine's own requirements; both are imported only when
used.
"""
import contextlib
import json
import logging
import os
import os.path as osp
import sys
import time
import traceback
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop, Runner

__all__ = ['DemoConsole', 'ProgressHook', 'PredictionRecorder', 'QuietRunner',
           'StageFailed', 'mute_terminal', 'write_results_png', 'write_results_json',
           'per_class_accuracy', 'fmt_duration']


def fmt_duration(seconds: Optional[float]) -> str:
    """``0:07``, ``2:05``, ``1:02:05``; ``-:--`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return '-:--'
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f'{h}:{m:02d}:{s:02d}' if h else f'{m}:{s:02d}'


# --------------------------------------------------------------------------- logging
def mute_terminal(logger: logging.Logger, level: int = logging.ERROR) -> logging.Logger:
    """Raise the level of ``logger``'s terminal handlers to ``level``; its file handlers
    (the run's log file) keep everything."""
    for handler in logger.handlers:
        if (isinstance(handler, logging.StreamHandler)
                and not isinstance(handler, logging.FileHandler)):
            handler.setLevel(max(handler.level, level))
    return logger


class QuietRunner(Runner):
    """An mmengine ``Runner`` that logs to ``<work_dir>/<timestamp>/<timestamp>.log`` only:
    the config dump, environment, hook table and per-iteration lines stay off the
    terminal, ERROR records do not."""

    def build_logger(self, log_level='INFO', log_file=None, **kwargs):
        return mute_terminal(super().build_logger(log_level=log_level, log_file=log_file,
                                                  **kwargs))


# ----------------------------------------------------------------------------- hooks
class ProgressHook(Hook):
    """Advances ``stage`` (anything with ``add_total``, ``advance`` and ``set_note``)
    once per train, val and test iteration; names the epoch of epoch-based loops."""

    priority = 'VERY_LOW'

    def __init__(self, stage):
        self.stage = stage

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        self.stage.add_total(max(int(loop.max_iters) - int(runner.iter), 0))
        self._by_epoch = not isinstance(loop, IterBasedTrainLoop)

    def before_train_epoch(self, runner) -> None:
        if getattr(self, '_by_epoch', True):
            self.stage.set_note(f'epoch {runner.epoch + 1}/{runner.train_loop.max_epochs}')

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.stage.advance()

    def before_val_epoch(self, runner) -> None:
        self.stage.add_total(len(runner.val_loop.dataloader))
        self.stage.set_note('validating')

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.stage.advance()

    def before_test_epoch(self, runner) -> None:
        self.stage.add_total(len(runner.test_loop.dataloader))
        self.stage.set_note('testing')

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.stage.advance()


def _label(sample, key) -> Optional[int]:
    value = sample.get(key) if hasattr(sample, 'get') else getattr(sample, key, None)
    if value is None and key == 'pred_label':
        score = sample.get('pred_score') if hasattr(sample, 'get') else None
        if score is not None:
            return int(np.asarray(score.detach().cpu() if hasattr(score, 'detach')
                                  else score).argmax())
    if value is None:
        return None
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return int(np.asarray(value).reshape(-1)[0])


class PredictionRecorder(Hook):
    """Keeps each test sample's ground truth and predicted label (single-label
    classification outputs: ``gt_label``, ``pred_label`` or ``pred_score``)."""

    priority = 'VERY_LOW'

    def __init__(self):
        self.gt: List[int] = []
        self.pred: List[int] = []
        self.classes: Optional[Tuple[str, ...]] = None

    def before_test_epoch(self, runner) -> None:
        self.gt, self.pred = [], []
        dataset = getattr(runner.test_loop.dataloader, 'dataset', None)
        classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
        self.classes = tuple(classes) if classes else None

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        for sample in outputs or ():
            gt, pred = _label(sample, 'gt_label'), _label(sample, 'pred_label')
            if gt is not None and pred is not None:
                self.gt.append(gt)
                self.pred.append(pred)

    def confusion(self, num_classes: Optional[int] = None) -> Optional[np.ndarray]:
        """Counts, rows the true class and columns the predicted one; None if empty."""
        if not self.gt:
            return None
        n = num_classes or (len(self.classes) if self.classes else
                            max(max(self.gt), max(self.pred)) + 1)
        matrix = np.zeros((n, n), dtype=np.int64)
        np.add.at(matrix, (np.asarray(self.gt), np.asarray(self.pred)), 1)
        return matrix


# ---------------------------------------------------------------------------- stages
class StageFailed(RuntimeError):
    """A demo stage raised; the traceback and ``log_path`` were printed already."""

    def __init__(self, stage: str, log_path: Optional[str]):
        self.stage, self.log_path = stage, log_path
        where = f'mmengine log: {log_path}' if log_path else 'no mmengine log was started'
        super().__init__(f'{stage} failed; {where}')


class Stage:
    """One line of the output: a title, a total and a count of steps, a note."""

    def __init__(self, console: 'DemoConsole', key: str, title: str):
        self.console, self.key, self.title = console, key, title
        self.total = 0
        self.done = 0
        self.note = ''
        self.state = 'pending'  # running, done, failed
        self.started: Optional[float] = None
        self.finished: Optional[float] = None
        self.log_paths: List[str] = []
        self.recorder: Optional[PredictionRecorder] = None
        self.summary = ''

    @property
    def log_path(self) -> Optional[str]:
        return self.log_paths[-1] if self.log_paths else None

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.
        return (self.finished or time.time()) - self.started

    @property
    def eta(self) -> Optional[float]:
        if not self.done or not self.total:
            return None
        return self.elapsed * max(self.total - self.done, 0) / self.done

    def add_total(self, n: int) -> None:
        self.total += int(n)
        self.console._view.update(self)

    def advance(self, n: int = 1) -> None:
        self.done += int(n)
        self.console._view.update(self)

    def set_note(self, text: str) -> None:
        self.note = text
        self.console._view.update(self)

    def attach(self, runner) -> None:
        """Take the runner's log file; print where it is."""
        path = getattr(getattr(runner, 'logger', None), 'log_file', None)
        if path:
            self.log_paths.append(path)
            self.console.say(f'{self.title}: mmengine log {path}')

    def set_summary(self, text: str) -> None:
        """What the stage's line says once it is done (e.g. its accuracy)."""
        self.summary = text


class _PlainView:
    """Lines of text: start, every 10 %, done. For pipes, CI logs and --verbose."""

    def __init__(self, stream):
        self.stream = stream
        self._printed: Dict[str, int] = {}

    def _print(self, text):
        print(f'[demo] {text}', file=self.stream, flush=True)

    def say(self, text):
        self._print(text)

    def start(self, stage):
        self._printed[stage.key] = 0
        self._print(f'{stage.title} ...')

    def update(self, stage):
        if stage.state != 'running' or not stage.total:
            return
        tenth = stage.done * 10 // stage.total * 10
        if self._printed.get(stage.key, 0) < tenth < 100:  # 100 % is the 'done' line
            self._printed[stage.key] = tenth
            note = f' {stage.note},' if stage.note else ''
            self._print(f'{stage.title}: {tenth:3d} %,{note} elapsed '
                        f'{fmt_duration(stage.elapsed)}, ETA {fmt_duration(stage.eta)}')

    def finish(self, stage):
        if stage.state == 'done':
            tail = f' ({stage.summary})' if stage.summary else ''
            self._print(f'{stage.title}: done in {fmt_duration(stage.elapsed)}{tail}')
        else:
            self._print(f'{stage.title}: FAILED after {fmt_duration(stage.elapsed)}')

    def close(self):
        pass


class _RichView:
    """One live row per stage (rich), drawn on a terminal only."""

    def __init__(self, stages: Sequence[Stage], console):
        from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn
        from rich.spinner import Spinner
        from rich.table import Column
        from rich.text import Text

        class Status(ProgressColumn):
            def __init__(self):
                super().__init__()
                self.spinner = Spinner('dots', style='cyan')

            def render(self, task):
                state = task.fields.get('state')
                if state == 'done':
                    return Text('✓', style='green')
                if state == 'failed':
                    return Text('✗', style='bold red')
                if state == 'running':
                    return self.spinner.render(task.get_time())
                return Text('·', style='dim')

        class Percent(ProgressColumn):
            def __init__(self):
                super().__init__(table_column=Column(no_wrap=True, width=5))

            def render(self, task):
                if task.fields.get('state') == 'pending' or not task.fields.get('steps'):
                    return Text('     ')
                return Text(f'{task.percentage:4.0f}%')

        class Times(ProgressColumn):
            def __init__(self):
                super().__init__(table_column=Column(no_wrap=True, min_width=14))

            def render(self, task):
                # rich's own time-remaining uses its recent speed samples; this one is
                # over the whole stage, steadier across slow train and fast val steps.
                state = task.fields.get('state')
                if state == 'pending':
                    return Text('')
                elapsed = task.elapsed or 0.
                if state != 'running':
                    return Text(fmt_duration(elapsed))
                eta = None
                if task.completed and task.fields.get('steps'):
                    eta = elapsed * max(task.total - task.completed, 0) / task.completed
                return Text(f'{fmt_duration(elapsed)}  ETA {fmt_duration(eta)}')

        self.progress = Progress(
            Status(), TextColumn('{task.description}', style='bold',
                                 table_column=Column(no_wrap=True)),
            BarColumn(bar_width=24, table_column=Column(no_wrap=True)), Percent(), Times(),
            # the note takes what the fixed columns leave, cut with an ellipsis
            TextColumn('{task.fields[note]}', style='dim', table_column=Column(
                no_wrap=True, overflow='ellipsis', ratio=1)),
            console=console, refresh_per_second=4, transient=False, expand=True,
            redirect_stdout=True, redirect_stderr=True)
        width = max(len(s.title) for s in stages)
        self.tasks = {s.key: self.progress.add_task(
            s.title.ljust(width), total=1, completed=0, start=False, state='pending',
            note='', steps=0) for s in stages}
        self.progress.start()

    def say(self, text):
        self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def start(self, stage):
        self.progress.start_task(self.tasks[stage.key])
        self.update(stage)

    def update(self, stage):
        self.progress.update(
            self.tasks[stage.key], total=max(stage.total, 1),
            completed=min(stage.done, max(stage.total, 1)), state=stage.state,
            steps=stage.total, note=stage.note)

    def finish(self, stage):
        tid = self.tasks[stage.key]
        if stage.state == 'done':
            total = max(stage.total, 1)
            self.progress.update(tid, total=total, completed=total, state='done',
                                 steps=total, note=stage.summary)
        else:
            self.progress.update(tid, state='failed', note='failed')
        self.progress.stop_task(tid)

    def close(self):
        self.progress.stop()


def _is_tty(stream) -> bool:
    try:
        return bool(stream.isatty()) and os.environ.get('TERM', '') != 'dumb'
    except Exception:  # closed or odd streams
        return False


class DemoConsole:
    """The demo's stage lines and everything printed around them.

    Args:
        stages: ``(key, title)`` of each stage, in order (all are shown from the start on
            a terminal).
        verbose: stream mmengine's logs to the terminal as plain mmengine does (the
            stage lines are then plain text between them).
        work_dir: where ``demo.log`` (stage timeline, Python warnings, tracebacks) goes.
        stream: where the stage lines go (default ``sys.stdout``).
        live: force (True) or forbid (False) the rich rows; default: only on a terminal
            and not with ``verbose``.
        console: a ``rich.console.Console`` to draw on (tests, recordings).
    """

    def __init__(self, stages: Sequence[Tuple[str, str]], verbose: bool = False,
                 work_dir: Optional[str] = None, stream=None, live: Optional[bool] = None,
                 console=None):
        self.stream = stream if stream is not None else sys.stdout
        self.verbose = verbose
        self.stages = {key: Stage(self, key, title) for key, title in stages}
        self.current: Optional[Stage] = None
        self._log = None
        self.log_path = None
        if work_dir:
            os.makedirs(work_dir, exist_ok=True)
            self.log_path = osp.join(work_dir, 'demo.log')
            self._log = open(self.log_path, 'a', encoding='utf-8')
        self.warnings = 0
        self._warn_ctx = None
        if not verbose:
            # Python warnings would scroll over the rows; they go to demo.log.
            self._warn_ctx = warnings.catch_warnings()
            self._warn_ctx.__enter__()
            warnings.showwarning = self._showwarning
        if live is None:
            live = not verbose and _is_tty(self.stream)
        if live:
            if console is None:
                from rich.console import Console
                console = Console(file=self.stream)
            self._view = _RichView(list(self.stages.values()), console)
        else:
            self._view = _PlainView(self.stream)
        self._closed = False

    # ------------------------------------------------------------------ plumbing
    def _write_log(self, text: str) -> None:
        if self._log is not None and not self._log.closed:
            stamp = time.strftime('%Y-%m-%d %H:%M:%S')
            self._log.write(''.join(f'{stamp} {line}\n' for line in text.splitlines()))
            self._log.flush()

    def _showwarning(self, message, category, filename, lineno, file=None, line=None):
        self.warnings += 1
        self._write_log(warnings.formatwarning(message, category, filename, lineno, line)
                        .rstrip())

    def say(self, text: str) -> None:
        """A line above the stage rows (or between the plain lines)."""
        self._write_log(text)
        if not self._closed:
            self._view.say(text)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        """Stop drawing (the rows stay on screen); restore the warning handler."""
        if self._closed:
            return
        self._closed = True
        self._view.close()
        if self._warn_ctx is not None:
            self._warn_ctx.__exit__(None, None, None)
            self._warn_ctx = None
        if self._log is not None:
            self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ------------------------------------------------------------------ stages
    @contextlib.contextmanager
    def stage(self, key: str):
        """Run a stage: its row goes from waiting to running to done (or failed).

        On an exception the rows stop, the traceback goes to stderr in full followed by
        the stage's mmengine log path, and :class:`StageFailed` is raised from it.
        ``KeyboardInterrupt`` and ``SystemExit`` pass through unchanged (after the log
        path)."""
        stage = self.stages[key]
        stage.state, stage.started = 'running', time.time()
        self.current = stage
        self._write_log(f'{stage.title}: started')
        self._view.start(stage)
        try:
            yield stage
        except Exception as exc:
            err = StageFailed(stage.title, stage.log_path)
            text = traceback.format_exc()
            self._fail(stage, text + str(err))
            print(text, end='', file=sys.stderr, flush=True)
            print(f'[demo] {err}', file=sys.stderr, flush=True)
            if self.log_path:
                print(f'[demo] stage timeline and warnings: {self.log_path}',
                      file=sys.stderr, flush=True)
            raise err from exc
        except BaseException:
            self._fail(stage, traceback.format_exc())
            where = f'; mmengine log: {stage.log_path}' if stage.log_path else ''
            print(f'[demo] {stage.title} stopped{where}', file=sys.stderr, flush=True)
            raise
        else:
            stage.state, stage.finished = 'done', time.time()
            self._write_log(f'{stage.title}: done in {fmt_duration(stage.elapsed)}'
                            + (f' ({stage.summary})' if stage.summary else ''))
            self._view.finish(stage)
        finally:
            self.current = None

    def _fail(self, stage: Stage, text: str) -> None:
        stage.state, stage.finished = 'failed', time.time()
        self._write_log(f'{stage.title}: FAILED after {fmt_duration(stage.elapsed)}\n'
                        + text)
        self._view.finish(stage)
        self.close()  # a traceback must not be drawn over by the live rows

    def build_runner(self, cfg):
        """``Runner.from_cfg`` for the current stage: quiet unless ``verbose``, with the
        stage's :class:`ProgressHook` and a :class:`PredictionRecorder` registered, and
        its log path taken (and printed)."""
        stage = self.current
        if stage is None:
            raise RuntimeError('build_runner must be called inside a stage')
        runner = (Runner if self.verbose else QuietRunner).from_cfg(cfg)
        stage.attach(runner)
        runner.register_hook(ProgressHook(stage))
        stage.recorder = PredictionRecorder()
        runner.register_hook(stage.recorder)
        return runner


# ---------------------------------------------------------------------------- picture
def per_class_accuracy(confusion) -> np.ndarray:
    """Top-1 per true class, in %, from a confusion matrix (rows: true class)."""
    matrix = np.asarray(confusion, dtype=np.float64)
    rows = matrix.sum(axis=1)
    return np.divide(np.diag(matrix) * 100., rows, out=np.full(len(rows), np.nan),
                     where=rows > 0)


def write_results_png(path: str, models: Dict[str, dict],
                      classes: Optional[Sequence[str]] = None,
                      title: Optional[str] = None) -> str:
    """Draw ``models`` (name -> ``dict(top1=float, confusion=matrix or None)``) to ``path``:
    top-1 of each model, per-class accuracy side by side, one confusion matrix each
    (rows normalised to 100 %). Returns ``path``."""
    from matplotlib.figure import Figure

    names = list(models)
    with_cm = [n for n in names if models[n].get('confusion') is not None]
    n_classes = (len(np.asarray(models[with_cm[0]]['confusion'])) if with_cm else 0)
    if classes is None or len(classes) != n_classes:
        classes = [str(i) for i in range(n_classes)]
    colours = ['#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3']

    fig = Figure(figsize=(4.2 * max(len(with_cm), 3), 8.6 if with_cm else 4.2),
                 layout='constrained')
    grid = fig.add_gridspec(2 if with_cm else 1, max(len(with_cm), 3),
                            height_ratios=[1, 1.25] if with_cm else None)
    ax = fig.add_subplot(grid[0, 0])
    tops = [float(models[n]['top1']) for n in names]
    bars = ax.bar(range(len(names)), tops, color=colours[:len(names)])
    for bar, value in zip(bars, tops):
        ax.annotate(f'{value:.2f}', (bar.get_x() + bar.get_width() / 2, value),
                    ha='center', va='bottom', fontsize=9)
    ax.set_xticks(range(len(names)), [n.replace(' (', '\n(') for n in names], fontsize=8)
    ax.set_ylabel('top-1 accuracy (%)')
    ax.set_ylim(0, 105)
    ax.set_title('test top-1')

    if with_cm:
        ax = fig.add_subplot(grid[0, 1:])
        width = 0.8 / len(with_cm)
        x = np.arange(n_classes)
        for i, name in enumerate(with_cm):
            ax.bar(x + (i - (len(with_cm) - 1) / 2) * width,
                   per_class_accuracy(models[name]['confusion']), width,
                   label=name, color=colours[names.index(name) % len(colours)])
        ax.set_xticks(x, classes, rotation=30, ha='right', fontsize=8)
        ax.set_ylabel('accuracy (%)')
        ax.set_ylim(0, 118)
        ax.set_yticks(range(0, 101, 20))
        ax.set_title('per-class accuracy (test split)')
        ax.legend(fontsize=8, loc='upper center', ncol=len(with_cm), frameon=False)
        for i, name in enumerate(with_cm):
            ax = fig.add_subplot(grid[1, i])
            matrix = np.asarray(models[name]['confusion'], dtype=np.float64)
            rows = matrix.sum(axis=1, keepdims=True)
            norm = np.divide(matrix * 100., rows, out=np.zeros_like(matrix),
                             where=rows > 0)
            ax.imshow(norm, cmap='Blues', vmin=0, vmax=100)
            if n_classes <= 12:  # the row percentages, readable at this size
                for (r, c), value in np.ndenumerate(norm):
                    if value >= 0.5:
                        ax.text(c, r, f'{value:.0f}', ha='center', va='center',
                                fontsize=6, color='white' if value > 60 else 'black')
            ax.set_xticks(range(n_classes), classes, rotation=90, fontsize=7)
            ax.set_yticks(range(n_classes), classes, fontsize=7)
            ax.set_xlabel('predicted')
            if i == 0:
                ax.set_ylabel('true')
            ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def write_results_json(path: str, models: Dict[str, dict],
                       classes: Optional[Sequence[str]] = None, **meta) -> str:
    """The numbers behind the picture, for scripts."""
    out = dict(meta, classes=list(classes) if classes else None, models={})
    for name, entry in models.items():
        item = {k: v for k, v in entry.items() if k != 'confusion'}
        if entry.get('confusion') is not None:
            matrix = np.asarray(entry['confusion'])
            item['confusion'] = matrix.tolist()
            item['per_class_top1'] = [None if v != v else round(float(v), 2)
                                      for v in per_class_accuracy(matrix)]
        out['models'][name] = item
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
    return path
