"""The mmkd demo: train a teacher, a student baseline and a distilled student, side by side.

    python tools/demo.py                    # bundled synthetic SAR chips (generated here)
    python tools/demo.py --labels-per-class 0   # the students get every label too
    python tools/demo.py --data mstar       # real MSTAR chips (needs mstar10.tar.gz)
    python tools/demo.py --epochs 30 --work-dir work_dirs/demo
    python tools/demo.py --verbose          # mmengine's logs on the terminal too

The terminal gets one line per stage (setup check, teacher, baseline, distilled student,
evaluation) with a progress bar and ETA, the final table and the path of a picture of the
results (``<work-dir>/demo_results.png``, numbers in ``demo_results.json``). mmengine's
logs go to each run's folder (their paths are printed); ``--verbose`` streams them as
well. Every run goes through the same configs and mmengine runners as ``tools/train.py``; the
distilled student is evaluated from its *exported* checkpoint with a plain mmpretrain
runner (no distiller), which is how users load it.

The default is the setting distillation is for: the teacher is trained on every
training chip, the two students on **10 labelled chips per class** (the same seeded draw,
``mmkd.ClassSubsetDataset``), so the teacher knows much more than a student can learn
alone. The final table prints the distilled student's gain next to the gain and 95 %
interval measured over 3 seeds (``configs/kd/README.md``, ``cls_evidence.py
kd-synthetic``). ``--labels-per-class N`` draws N per class instead (``0``: every label,
the ``*synthetic-sar_baseline`` / ``kd_*synthetic-sar`` configs; there the student alone
comes close to the teacher and the demo shows no clear effect).
"""
import argparse
import json
import os.path as osp
import sys
import tarfile
import time
import traceback

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmkd  # noqa: F401
from mmkd.models.distillers.model_config import load_weights_strict
from mmkd.testing import make_synthetic_sar
from mmkd.utils.demo_output import DemoConsole, StageFailed, write_results_json, write_results_png

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    'synthetic': dict(  # few labels for the students (the default)
        teacher='configs/kd/resnet34_synthetic-sar_teacher.py',
        baseline='configs/kd/resnet18-w32_synthetic-sar-10shot_baseline.py',
        kd='configs/kd/kd_resnet34_resnet18-w32_synthetic-sar-10shot.py'),
    'synthetic-all-labels': dict(
        teacher='configs/kd/resnet34_synthetic-sar_teacher.py',
        baseline='configs/kd/resnet18-w32_synthetic-sar_baseline.py',
        kd='configs/kd/kd_resnet34_resnet18-w32_synthetic-sar.py'),
    'mstar': dict(
        teacher='configs/kd/resnet34_mstar10_teacher.py',
        baseline='configs/kd/resnet18-w32_mstar10_baseline.py',
        kd='configs/kd/kd_resnet34_resnet18-w32_mstar10.py'),
}


def find_config(rel):
    """Configs next to this script's repo, or inside the installed package (mim)."""
    for base in (REPO, osp.join(osp.dirname(mmkd.__file__), '.mim')):
        if osp.isfile(osp.join(base, rel)):
            return osp.join(base, rel)
    raise FileNotFoundError(rel)


def prepare_data(kind, data_dir, shared, say=print):
    if kind == 'synthetic':
        root = osp.join(data_dir, 'synthetic_sar')
        say(f'[demo] synthetic SAR chips (generated, not real radar data) in {root}')
        return make_synthetic_sar(root)
    root = osp.join(data_dir, 'mstar10')
    if not osp.isdir(osp.join(root, 'train')):
        archive = osp.join(shared, 'mstar10.tar.gz')
        if not osp.isfile(archive):
            raise SystemExit(f'[demo] MSTAR archive {archive} not found; run the default '
                             f'demo (synthetic data) or pass --shared')
        say(f'[demo] extracting {archive} to {data_dir}')
        with tarfile.open(archive) as tar:
            tar.extractall(data_dir, filter='data')
    return root


# Where the demo's numbers are measured over 3 seeds (tools/benchmarks/cls_evidence.py)
EVIDENCE = {'synthetic': 'configs/kd/evidence-synthetic/results.json'}


def run(config, work_dir, data_root, epochs, seed, extra=None, train=True,
        build=Runner.from_cfg, labels_per_class=None):
    """Build (and train) one run; a student whose training set is a
    ``ClassSubsetDataset`` draws its labelled subset with ``seed`` too, and
    ``labels_per_class`` (N > 0) draws N per class for any student."""
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    train_set = cfg.train_dataloader.dataset
    if labels_per_class and train_set.get('type') != 'mmkd.ClassSubsetDataset':
        cfg.train_dataloader.dataset = dict(
            type='mmkd.ClassSubsetDataset', per_class=labels_per_class, dataset=train_set)
        train_set = cfg.train_dataloader.dataset
    if train_set.get('type') == 'mmkd.ClassSubsetDataset':
        train_set.seed = seed
        if labels_per_class:
            train_set.per_class = labels_per_class
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        target = cfg[split].dataset
        if target.get('type') == 'mmkd.ClassSubsetDataset':
            target = target.dataset
        target.data_root = data_root
    if epochs:
        cfg.train_cfg.max_epochs = epochs
        cfg.train_cfg.val_interval = epochs
        cfg.param_scheduler.T_max = epochs
    if extra:
        cfg.merge_from_dict(extra)
    runner = build(cfg)
    if train:
        runner.train()
    return runner


def count_params(model):
    return sum(p.numel() for p in model.parameters()) / 1e6


def main():
    parser = argparse.ArgumentParser(description='mmkd demo: teacher vs student vs KD')
    parser.add_argument('--data', choices=['synthetic', 'mstar'], default='synthetic')
    parser.add_argument('--labels-per-class', type=int, default=None,
                        help='labelled training images per class for the two students '
                        '(default: 10 on the synthetic chips, every label on MSTAR; 0: '
                        'every label)')
    parser.add_argument('--data-dir', default=osp.join(REPO, 'data'))
    parser.add_argument('--shared', default=osp.join(REPO, '..', 'shared', 'data'),
                        help='folder holding mstar10.tar.gz (for --data mstar)')
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'demo'))
    parser.add_argument('--epochs', type=int, default=None,
                        help='epochs per run (default: the configs\' own)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--teacher-checkpoint',
                        help='reuse a trained teacher instead of training one')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides applied to all three runs (key=value)')
    parser.add_argument('--verbose', action='store_true',
                        help="stream mmengine's logs to the terminal as well (they are "
                        "always written to each run's folder)")
    args = parser.parse_args()

    ui = DemoConsole(STAGES, verbose=args.verbose, work_dir=args.work_dir)
    try:
        demo(args, ui)
    except StageFailed:
        return 1  # its traceback and log path are on the terminal already
    finally:
        ui.close()
    return 0


# The lines the terminal shows, in order (key, title).
STAGES = [('setup', 'setup check'), ('teacher', 'teacher (ResNet-34)'),
          ('baseline', 'baseline (ResNet-18 w32)'), ('kd', 'distilled student (KD)'),
          ('eval', 'evaluation')]


class _Demo:
    """What the demo's stages share: the command line, the console (and the runner
    builder it hooks), the setting's configs and data, and each tested model's
    results (metrics and parameter count), time and confusion matrix, in table
    order."""

    key = 'accuracy/top1'

    def __init__(self, args, ui):
        self.args, self.ui, self.build = args, ui, ui.build_runner
        self.results, self.times, self.confusions = {}, {}, {}

    def setup(self):
        """Stage ``setup``: the libraries import (their versions are its summary), the
        setting's three configs are found and its data is generated or extracted;
        says where mmengine's logs go."""
        args, ui = self.args, self.ui
        with ui.stage('setup') as stage:
            import mmcv
            import mmengine
            import torch
            kind = args.data
            if kind == 'synthetic' and args.labels_per_class == 0:
                kind = 'synthetic-all-labels'
            self.configs = {k: find_config(v) for k, v in CONFIGS[kind].items()}
            self.data_root = prepare_data(
                args.data, args.data_dir, args.shared,
                say=lambda text: ui.say(text.replace('[demo] ', '')))
            stage.set_summary(f'mmkd {mmkd.__version__}, torch {torch.__version__}, '
                              f'mmcv {mmcv.__version__}, mmengine {mmengine.__version__}')
            ui.say(f"mmengine's logs: in each run's folder under {args.work_dir}"
                   + ('' if args.verbose else ' (--verbose streams them here too)'))

    def done(self, stage, name, runner):
        """The model's test result, its confusion matrix and its line's summary."""
        metrics = runner.test()
        self.results[name] = (metrics, count_params(runner.model))
        self.confusions[name] = stage.recorder.confusion() if stage.recorder else None
        classes = stage.recorder.classes if stage.recorder else None
        stage.set_summary(f'top-1 {metrics[self.key]:.2f} %')
        return classes

    def teacher(self):
        """Stage ``teacher``: train the teacher (or build it and load
        ``--teacher-checkpoint``) and test it, timed; returns the checkpoint the
        distiller reads (the run folder: its last one) and the test classes."""
        args = self.args
        t0 = time.time()
        teacher_dir = osp.join(args.work_dir, 'teacher')
        with self.ui.stage('teacher') as stage:
            if args.teacher_checkpoint:
                runner = run(self.configs['teacher'], teacher_dir, self.data_root,
                             args.epochs, args.seed, extra=args.cfg_options, train=False,
                             build=self.build)
                load_weights_strict(runner.model, args.teacher_checkpoint, 'teacher')
                teacher_ckpt = args.teacher_checkpoint
            else:
                runner = run(self.configs['teacher'], teacher_dir, self.data_root,
                             args.epochs, args.seed, extra=args.cfg_options,
                             build=self.build)
                teacher_ckpt = teacher_dir  # its last checkpoint
            classes = self.done(stage, 'teacher (ResNet-34)', runner)
        self.times['teacher (ResNet-34)'] = time.time() - t0
        return teacher_ckpt, classes

    def baseline(self):
        """Stage ``baseline``: train and test the student alone, timed."""
        args = self.args
        t0 = time.time()
        with self.ui.stage('baseline') as stage:
            runner = run(self.configs['baseline'],
                         osp.join(args.work_dir, 'student_baseline'), self.data_root,
                         args.epochs, args.seed, extra=args.cfg_options, build=self.build,
                         labels_per_class=args.labels_per_class)
            self.done(stage, 'student baseline (ResNet-18 w32)', runner)
        self.times['student baseline (ResNet-18 w32)'] = time.time() - t0

    def distill(self, teacher_ckpt):
        """Stage ``kd``: train the distilled student from ``teacher_ckpt`` (training
        exports it); returns its run folder and the time it started (its time runs on
        through the exported student's test)."""
        args = self.args
        t0 = time.time()
        kd_dir = osp.join(args.work_dir, 'student_kd')
        with self.ui.stage('kd') as stage:
            run(self.configs['kd'], kd_dir, self.data_root, args.epochs, args.seed,
                extra={**args.cfg_options, 'model.teacher.checkpoint': teacher_ckpt},
                build=self.build, labels_per_class=args.labels_per_class)
            stage.set_summary('student exported')
        return kd_dir, t0

    def evaluate(self, kd_dir, t0, classes):
        """Stage ``eval``: test the exported student with a plain mmpretrain runner (no
        distiller; the test/val ``--cfg-options`` only), time the KD row from ``t0``,
        then the figure; returns its path (None when it could not be written)."""
        args = self.args
        with self.ui.stage('eval') as stage:
            # Evaluate the exported student with a plain mmpretrain runner: no distiller.
            exported = Config.fromfile(osp.join(kd_dir, 'student', 'student_config.py'))
            exported.work_dir = osp.join(kd_dir, 'exported_test')
            exported.merge_from_dict({k: v for k, v in args.cfg_options.items()
                                      if k.startswith(('test_dataloader', 'val_dataloader'))})
            runner = self.build(exported)
            load_weights_strict(runner.model, osp.join(kd_dir, 'student', 'student.pth'),
                                'exported student')
            self.done(stage, 'student + KD (exported)', runner)
            self.times['student + KD (exported)'] = time.time() - t0
            figure = write_figure(args, self.ui, self.results, self.times, self.confusions,
                                  classes, self.key)
            top1 = self.results['student + KD (exported)'][0][self.key]
            stage.set_summary(f'student + KD top-1 {top1:.2f} %'
                              + ('; figure written' if figure else ''))
        return figure


def demo(args, ui):
    """The five stages in order (a failing one stops the demo), then the console closed
    and the final table printed."""
    d = _Demo(args, ui)
    d.setup()
    teacher_ckpt, classes = d.teacher()
    d.baseline()
    kd_dir, t0 = d.distill(teacher_ckpt)
    figure = d.evaluate(kd_dir, t0, classes)
    logs = [(s.title, p) for s in ui.stages.values() for p in s.log_paths]
    ui.close()
    print_table(args, ui, d.results, d.times, d.key, kd_dir, figure, logs)


def print_table(args, ui, results, times, key, kd_dir, figure, logs):
    """The final table: each model's parameters, top-1, gain over the baseline and
    time, the KD gain (beside the measured one in the README's setting), the exported
    student, the figure, every run's mmengine log and the warnings count."""
    base = results['student baseline (ResNet-18 w32)'][0][key]
    print('\n' + '=' * 78)
    print(f'mmkd demo on {args.data} data'
          + (' (synthetic: generated chips, not real radar)' if args.data == 'synthetic'
             else ' (MSTAR SOC, real SAR)') + f', seed {args.seed}')
    print(f'{"model":36s} {"params (M)":>10s} {"top-1 (%)":>10s} {"vs baseline":>12s} '
          f'{"time (s)":>8s}')
    for name, (metrics, params) in results.items():
        acc = metrics[key]
        print(f'{name:36s} {params:10.2f} {acc:10.2f} {acc - base:+12.2f} '
              f'{times[name]:8.0f}')
    gain = results['student + KD (exported)'][0][key] - base
    print(f'student + KD vs baseline here: {gain:+.2f} points (one seed, {args.seed})')
    measured = measured_gain(args)
    if measured:
        print(measured)
    print(f'exported student: {osp.join(kd_dir, "student")}')
    if figure:
        print(f'figure: {figure}')
    print('=' * 78)
    print('mmengine logs:')
    for title, path in logs:
        print(f'  {title:28s} {path}')
    if ui.warnings:
        print(f'{ui.warnings} Python warning(s) written to {ui.log_path}')


def measured_gain(args):
    """The line that puts this run's gain next to the one measured over 3 seeds in the
    README (``cls_evidence.py``), when the setting is the measured one."""
    if (args.data != 'synthetic' or args.labels_per_class not in (None, 10)
            or args.epochs or args.cfg_options):
        return None  # not the setting the README measured
    path = osp.join(REPO, EVIDENCE['synthetic'])
    try:
        with open(path) as fh:
            res = json.load(fh)
        st = res['stats']['kd']
        runs = res['runs']
    except (OSError, KeyError, ValueError):
        return None
    spread = max(r['acc'] for r in runs['baseline'].values()) - min(
        r['acc'] for r in runs['baseline'].values())
    return (f'measured over {st["n"]} seeds ({osp.relpath(path, REPO)}): KD vs baseline '
            f'{st["mean"]:+.2f} +- {st["half_width"]:.2f} points (paired, 95 % CI; per '
            f'seed {", ".join(f"{d:+.1f}" for d in st["diffs"])}); the baseline\'s own '
            f'seed-to-seed spread {spread:.1f} points')


def write_figure(args, ui, results, times, confusions, classes, key):
    """The picture and its numbers next to the run; a failure here is shown in full
    but does not cost the table."""
    models = {name: dict(top1=float(metrics[key]), params_m=round(params, 3),
                         time_s=round(times.get(name, 0.), 1),
                         confusion=confusions.get(name))
              for name, (metrics, params) in results.items()}
    title = (f'mmkd demo on {args.data} data'
             + (' (synthetic: generated chips, not real radar)' if args.data == 'synthetic'
                else ' (MSTAR SOC, real SAR)') + f', seed {args.seed}')
    try:
        png = write_results_png(osp.join(args.work_dir, 'demo_results.png'), models,
                                classes, title)
        write_results_json(osp.join(args.work_dir, 'demo_results.json'), models, classes,
                           data=args.data, seed=args.seed, metric=key)
    except Exception:
        ui.say('the results figure could not be written:\n' + traceback.format_exc())
        return None
    return png


if __name__ == '__main__':
    sys.exit(main())
