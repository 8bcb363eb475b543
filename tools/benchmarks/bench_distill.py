"""Benchmark of a distillation pair: what distilling costs over training the student.

    python tools/benchmarks/bench_distill.py --pair {retinanet,resnet_sar,resnet32x4,seg}
        (or --config CONFIG) [--repeats 20] [--warmup 3] [--batch-size B] [--threads T]
        [--json out.json]
        [--teacher-amp bf16|fp16] [--channels-last] [--teacher-variants] [--razor [PATH]]
        [--no-memory] [--no-loader] [--no-cache] [--data-dir DIR] [--device cuda]

In one process, interleaved in rounds (A B C D A B C D ..., medians over ``--repeats``
rounds after ``--warmup``), on one real batch of the pair's training data:

- ``student``:   the student's training step alone (data preprocessing, forward, task
                 loss, backward, SGD step), i.e. the baseline run without a teacher;
- ``teacher``:   the frozen teacher's forward alone (no_grad, eval mode); with several
                 frozen teachers, each one's forward is timed on its own and the kind's
                 time is their sum;
- ``kd``:        the full mmkd distillation step (``Distiller.train_step``);
- ``kd_cached``: the distillation step reading the teacher's outputs from a teacher
                 cache (mmkd/apis/teacher_cache.py) instead of running it;
- ``razor``:     with ``--razor``, MMRazor 1.0.0's ``SingleTeacherDistill`` expressing
                 the same pair and loss (classification pairs);
- ``teacher[V]``: with ``--teacher-variants``, the teacher's forward again under each
                 variant V of ``bf16`` (autocast), ``cl`` (channels-last) and
                 ``bf16+cl``, in the same rounds, so precision and memory format are
                 compared on equal terms (printed as a ratio to the fp32 teacher).

Printed: each step's median time, the ratio KD / student next to its analytic floor
``r* = 1 + sum_k t(teacher_k) / t(student)`` (a distillation step cannot be cheaper than
the student's step plus every teacher's forward; each teacher's own median and its
one-teacher floor ``1 + t(teacher_k) / t(student)`` too), mmkd's overhead over the floor
(target <= 3 %), the cached step's ratio (target <= 1.10) and MMRazor's ratio.

Peak memory (``--no-memory`` skips it): each kind runs ``--memory-steps`` steps in a
fresh subprocess, which reports its resident-set high-water mark (``VmHWM``, reset after
imports through ``/proc/self/clear_refs``) minus its resident set after imports: model
weights, optimizer state and activations of that kind alone (the student kind builds no
teacher). ``tracemalloc`` cannot see torch's CPU tensors and torch has no CPU allocator
statistics; a shared process would hide one kind's peak in pages freed by another. The
subprocesses run glibc with ``MALLOC_MMAP_THRESHOLD_=65536 MALLOC_ARENA_MAX=1``, so
freed tensors go back to the system at once and the high-water mark is live memory, not
allocator caching (without it, repeated runs of one kind differed by 15 %; with it, by
under 1 %). Target: ``peak(kd) <= 1.15 x (peak(student) + teacher weight bytes)``.

Loader (``--no-loader`` skips it): images/s of the pair's training dataloader as the
config builds it (its workers and pipeline), against the images/s of the KD step it
feeds (target: at least 2x).

``--device cuda`` runs every kind on the GPU: each timing waits for the device
(``torch.cuda.synchronize`` before and after), and peak memory is the CUDA allocator's
high-water mark of that kind's steps in its own subprocess (``max_memory_allocated``:
weights, optimizer state and activations; the loader and the teacher cache are read on
the CPU as in training). ``tools/benchmarks/gpu_check.sh`` runs it on the demo's pairs.

``--config`` measures any distillation config instead of a named pair (one teacher or
several, e.g. the run configs ``tools/benchmarks/cls_evidence.py`` writes): its own data,
batch size and optimizer, as written.

Data (``--pair``): the config's data root when present (``data/mstar10``, ``data/cifar10``), else a
generated stand-in in ``--data-dir`` (synthetic detection scenes at 512 px, synthetic
buildings, synthetic SAR chips, random CIFAR-size images). Teachers get random weights
(timing does not depend on them). The JSON (``--json``) holds every measurement.
"""
import argparse
import copy
import json
import os
import os.path as osp
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

KINDS = ('student', 'teacher', 'kd', 'kd_cached', 'razor')

PAIRS = {
    'retinanet': dict(
        config='configs/det_kd/kd_soft_r50-pafpn_r18-fpn_synthetic-det.py',
        title='RetinaNet R50-PAFPN -> R18-FPN, 512x512, QFL soft targets',
        data='synthetic_det', size=512),
    'resnet_sar': dict(
        config='configs/kd/kd_resnet34_resnet18-w32_mstar10.py',
        title='ResNet-34 -> ResNet-18 (w32), 64x64 MSTAR SAR chips, Hinton KD',
        data='mstar10', razor=True),
    'resnet32x4': dict(
        config=None,
        title='resnet32x4 -> resnet8x4 (CIFAR ResNets), 32x32, Hinton KD',
        data='cifar10', razor=True),
    'seg': dict(
        config='configs/disoptnet/skd_effnet-b3-unet_synthetic-buildings.py',
        title='EfficientNet-B3 U-Net optical -> SAR, 128x128, pixel + pair-wise KD',
        data='synthetic_buildings'),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--pair', choices=sorted(PAIRS))
    p.add_argument('--config', help='a distillation config to measure instead of a '
                   'named pair (its data root, batch size and optimizer as written)')
    p.add_argument('--repeats', type=int, default=20, help='measured rounds')
    p.add_argument('--warmup', type=int, default=3, help='unmeasured rounds first')
    p.add_argument('--batch-size', type=int, help='default: the config\'s')
    p.add_argument('--threads', type=int, help='torch threads (default: torch\'s)')
    p.add_argument('--json', help='write the results here')
    p.add_argument('--teacher-amp', choices=['bf16', 'fp16'],
                   help='teacher forward under autocast')
    p.add_argument('--channels-last', action='store_true',
                   help='teacher weights and input in channels-last format')
    p.add_argument('--razor', nargs='?', const='/tmp/razor-pkgs', default=None,
                   help='also measure MMRazor 1.0.0 (a folder holding it, e.g. from '
                   '`pip install --target /tmp/razor-pkgs --no-deps mmrazor==1.0.0 '
                   'joblib cloudpickle`)')
    p.add_argument('--teacher-variants', action='store_true',
                   help='also time the teacher forward under bf16 autocast, '
                        'channels-last and both, interleaved')
    p.add_argument('--device', default='cpu',
                   help="where the steps run: 'cpu' or a torch CUDA device ('cuda', "
                   "'cuda:1'); on CUDA each timing waits for the device "
                   "(torch.cuda.synchronize) and peak memory is the CUDA allocator's "
                   "(torch.cuda.max_memory_allocated, per kind, after a reset)")
    p.add_argument('--no-memory', action='store_true')
    p.add_argument('--no-loader', action='store_true')
    p.add_argument('--no-cache', action='store_true')
    p.add_argument('--loader-batches', type=int, default=20)
    p.add_argument('--memory-steps', type=int, default=3)
    p.add_argument('--data-dir', default=osp.join(REPO, 'work_dirs', 'bench_data'))
    p.add_argument('--keep-work', action='store_true',
                   help='keep the temporary folder (teacher weights, batch, cache)')
    p.add_argument('--_child', help=argparse.SUPPRESS)
    p.add_argument('--_state', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if bool(args.pair) == bool(args.config):
        p.error('give one of --pair and --config')
    if args.device != 'cpu':
        import torch
        if not args.device.startswith('cuda') or not torch.cuda.is_available():
            p.error(f'--device {args.device}: no CUDA device here (torch '
                    f'{torch.__version__}, cuda available: {torch.cuda.is_available()})')
    return args


def pair_spec(args):
    """The named pair, or a ``--config`` as one (its own data: nothing generated)."""
    if args.pair:
        return PAIRS[args.pair]
    path = osp.abspath(args.config)
    return dict(config=path, title=osp.splitext(osp.basename(path))[0], data=None)


def pair_argv(args):
    """What names the pair on a child's command line."""
    return ['--pair', args.pair] if args.pair else ['--config', osp.abspath(args.config)]


# ----------------------------------------------------------------------------- configs
def resnet32x4_config(data_root):
    from mmengine.config import Config

    def classifier(arch):
        return dict(
            type='mmpretrain.ImageClassifier',
            backbone=dict(type='mmkd.CifarResNet', arch=arch),
            neck=dict(type='mmpretrain.GlobalAveragePooling'),
            head=dict(type='mmpretrain.LinearClsHead', num_classes=10, in_channels=256,
                      loss=dict(type='mmpretrain.CrossEntropyLoss'), topk=(1, )),
            data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=10,
                                   mean=[125.3, 123.0, 113.9], std=[63.0, 62.1, 66.7],
                                   to_rgb=True))

    return Config(dict(
        default_scope='mmpretrain',
        model=dict(type='mmkd.Distiller', student=classifier('resnet8x4'),
                   teacher=dict(model=classifier('resnet32x4'), checkpoint=None),
                   taps=dict(s_logits='student.head.fc', t_logits='teacher.head.fc'),
                   losses=dict(kd=dict(type='mmkd.KDLoss', temperature=4.0,
                                       loss_weight=0.9,
                                       inputs=dict(student='s_logits',
                                                   teacher='t_logits'))),
                   student_loss_weight=0.1),
        train_dataloader=dict(
            batch_size=64, num_workers=2, persistent_workers=True,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(type='mmpretrain.CustomDataset', data_root=data_root,
                         data_prefix='train', with_label=True, pipeline=[
                             dict(type='LoadImageFromFile'),
                             dict(type='RandomCrop', crop_size=32, padding=4),
                             dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                             dict(type='PackInputs')])),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9,
                                          weight_decay=5e-4))))


def prepare_data(kind, data_dir):
    """The data root to read: the repo's data when present, else a generated stand-in."""
    if kind == 'mstar10' and osp.isdir(osp.join(REPO, 'data/mstar10/train')):
        return osp.join(REPO, 'data/mstar10')
    if kind == 'cifar10' and osp.isdir(osp.join(REPO, 'data/cifar10/train')):
        return osp.join(REPO, 'data/cifar10')
    root = osp.join(data_dir, kind)
    if kind == 'synthetic_det':
        from mmkd.testing import make_synthetic_det
        return make_synthetic_det(root, num_train=64, num_val=8, size=512)
    if kind == 'synthetic_buildings':
        from mmkd.testing import make_synthetic_buildings
        return make_synthetic_buildings(root, num_train=64, num_val=8, num_test=8)
    if kind == 'mstar10':  # stand-in: synthetic SAR chips at MSTAR's 128 px
        from mmkd.testing import make_synthetic_sar
        return make_synthetic_sar(root, train_per_class=20, test_per_class=2, size=128)
    if kind == 'cifar10':
        import cv2
        import numpy as np
        rng = np.random.default_rng(0)
        for c in range(10):
            os.makedirs(osp.join(root, 'train', f'c{c}'), exist_ok=True)
            for i in range(64):
                cv2.imwrite(osp.join(root, 'train', f'c{c}', f'{i}.png'),
                            rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
        return root
    raise ValueError(kind)


def pair_config(args, work):
    """The pair's config with its data root, batch size, input size and teacher options
    set, and a random-weight checkpoint for every frozen teacher."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmkd.models.distillers import build_model
    spec = pair_spec(args)
    data_root = prepare_data(spec['data'], args.data_dir) if spec['data'] else None
    if spec['config'] is None:
        cfg = resnet32x4_config(data_root)
    else:
        cfg = Config.fromfile(osp.join(REPO, spec['config']))
        if data_root:
            cfg.train_dataloader.dataset.data_root = data_root
    init_default_scope(cfg.get('default_scope', 'mmkd'))
    if args.batch_size:
        cfg.train_dataloader.batch_size = args.batch_size
    if spec.get('size'):  # detection: resize the 512 px scenes to 512
        for t in cfg.train_dataloader.dataset.pipeline:
            if t['type'] == 'Resize':
                t['scale'] = (spec['size'], spec['size'])
    teachers = cfg.model.get('teachers') or {'teacher': cfg.model.teacher}
    for name, t in teachers.items():
        torch.manual_seed(0)
        model, _, _ = build_model(t['model'], f'teacher {name!r}')
        path = osp.join(work, f'teacher_{name}.pth')
        torch.save({'state_dict': model.state_dict()}, path)
        t['checkpoint'] = path
        if args.teacher_amp:
            t['amp'] = args.teacher_amp
        if args.channels_last:
            t['channels_last'] = True
    from mmkd.apis import runner_model_cfg
    cfg.model = runner_model_cfg(cfg)  # every model below is built as the runner would
    return cfg


# ----------------------------------------------------------------------------- steps
def build_optim(model, cfg):
    """The config's optimizer wrapper (SGD, gradient clipping where configured)."""
    from mmengine.optim import build_optim_wrapper
    return build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))


def student_only(model_cfg):
    """The distiller config without teachers, taps, connectors and losses: the student
    and the same data preprocessor (what a student-only process holds)."""
    out = copy.deepcopy(model_cfg)
    for k in ('teacher', 'teachers', 'connectors'):
        out.pop(k, None)
    out['taps'], out['losses'] = {}, {}
    return out


class Steps:
    """Each measured kind as a zero-argument callable on one fixed batch."""

    def __init__(self, cfg, work, kinds, razor_path=None, device='cpu'):
        import torch

        from mmkd.registry import MODELS
        self.cfg, self.kinds, self.device = cfg, kinds, torch.device(device)
        self.batch = torch.load(osp.join(work, 'batch.pth'), weights_only=False)
        self.fns = {}

        def build(model_cfg):  # on the measured device (its data preprocessor too)
            return MODELS.build(model_cfg).to(self.device)
        if {'teacher', 'kd'} & set(kinds):
            self.d = build(copy.deepcopy(cfg.model))
            self.d.train()
            if 'kd' in kinds:
                self.optim = build_optim(self.d, cfg)
                self.fns['kd'] = lambda: self.d.train_step(self.batch, self.optim)
            if 'teacher' in kinds:
                self.fns['teacher'] = self.teacher_forward
        for kind in kinds:
            if kind.startswith('teacher['):
                vcfg = copy.deepcopy(cfg.model)
                teachers = vcfg.get('teachers') or {'teacher': vcfg.teacher}
                variant = kind[len('teacher['):-1].split('+')
                for t in teachers.values():
                    t['amp'] = 'bf16' if 'bf16' in variant else None
                    t['channels_last'] = 'cl' in variant
                dv = build(vcfg)
                dv.train()
                self.fns[kind] = lambda dv=dv: self.teacher_forward(dv)
        if 'student' in kinds:  # alone in a memory subprocess: no teacher is built
            self.s = self.d if hasattr(self, 'd') else build(student_only(cfg.model))
            self.s.train()
            self.student_optim = build_optim(self.s.student, cfg)
            self.fns['student'] = self.student_step
        if 'kd_cached' in kinds:
            ccfg = copy.deepcopy(cfg.model)
            teachers = ccfg.get('teachers') or {'teacher': ccfg.teacher}
            for t in teachers.values():
                t['cache'] = dict(dir=osp.join(work, 'cache'))
            self.dc = build(ccfg)
            self.dc.train()
            self.cached_batch = torch.load(osp.join(work, 'cached_batch.pth'),
                                           weights_only=False)
            self.cached_optim = build_optim(self.dc, cfg)
            self.fns['kd_cached'] = lambda: self.dc.train_step(self.cached_batch,
                                                               self.cached_optim)
        if 'razor' in kinds:
            self.razor = build_razor(cfg, razor_path).to(self.device)
            self.razor.train()
            self.razor_optim = build_optim(self.razor, cfg)
            self.fns['razor'] = lambda: self.razor.train_step(self.batch, self.razor_optim)

    def student_step(self):
        """The student's own training step, on the same preprocessed batch."""
        d, optim = self.s, self.student_optim
        with optim.optim_context(d.student):
            data = d.data_preprocessor(self.batch, True)
            x = d.route(data['inputs'], d.student_input, 'student')
            losses = d.student(x, data['data_samples'], mode='loss')
        loss, log = d.student.parse_losses(losses)
        optim.update_params(loss)
        return log

    def teacher_forward(self, d=None):
        """Every frozen teacher's forward, each timed on its own
        (``self.teacher_times``: name -> seconds)."""
        import torch
        d = d or self.d
        with torch.no_grad():
            data = d.data_preprocessor(self.batch, True)
        times = {}
        for name in d.frozen_teacher_names:
            teacher = d.get_teacher(name)
            x = teacher.read(data['inputs'])
            self.sync()
            t0 = time.perf_counter()
            teacher.features(x, data['data_samples'], d.recorder, x.device)
            self.sync()
            times[name] = time.perf_counter() - t0
        self.teacher_times = times

    def sync(self):
        """Wait for the device's queued work (CUDA runs asynchronously)."""
        if self.device.type == 'cuda':
            import torch
            torch.cuda.synchronize(self.device)

    def timed(self, kind):
        self.sync()
        t0 = time.perf_counter()
        self.fns[kind]()
        self.sync()
        elapsed = time.perf_counter() - t0
        if kind.startswith('teacher'):  # preprocessing is part of the student step
            return sum(self.teacher_times.values())  # r*: the teachers' forwards summed
        return elapsed


# ----------------------------------------------------------------------------- MMRazor
def import_mmrazor(path):
    """Import MMRazor 1.0.0 under torch 2.x: its quantization structures import names
    torch renamed (``reverse2`` ...); distillation never uses them, so they are stubbed."""
    import types
    if path and path not in sys.path:
        sys.path.insert(0, path)
    stub = types.ModuleType('mmrazor.structures.quantization')
    stub.__path__, stub.__all__ = [], []

    def missing(name):
        if name.startswith('__'):
            raise AttributeError(name)
        return type(name, (), {})

    stub.__getattr__ = missing
    sys.modules.setdefault('mmrazor.structures.quantization', stub)
    import mmrazor  # noqa: F401
    from mmrazor.models import SingleTeacherDistill  # noqa: F401
    return mmrazor


def build_razor(cfg, path):
    """The pair as MMRazor's SingleTeacherDistill: same student, teacher, taps, loss."""
    import_mmrazor(path)
    from mmengine.registry import DefaultScope
    from mmrazor.registry import MODELS as RAZOR_MODELS

    from mmkd.models.distillers import resolve_model_cfg
    m = cfg.model
    student, _ = resolve_model_cfg(m.student)
    teacher, _ = resolve_model_cfg(m.teacher.model)
    kd = m.losses.kd
    algo = dict(
        type='mmrazor.SingleTeacherDistill',
        architecture=student.to_dict(), teacher=teacher.to_dict(),
        teacher_ckpt=m.teacher.checkpoint,
        distiller=dict(
            type='mmrazor.ConfigurableDistiller',
            student_recorders=dict(fc=dict(type='mmrazor.ModuleOutputs',
                                           source='head.fc')),
            teacher_recorders=dict(fc=dict(type='mmrazor.ModuleOutputs',
                                           source='head.fc')),
            distill_losses=dict(loss_kl=dict(type='mmrazor.KLDivergence',
                                             tau=kd.temperature,
                                             loss_weight=kd.get('loss_weight', 1.0))),
            loss_forward_mappings=dict(loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        return RAZOR_MODELS.build(algo)


# ----------------------------------------------------------------------------- memory
def _status(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024
    return 0


def child_memory(args):
    """In a fresh process: peak resident memory of one kind's steps over the resident
    memory after imports."""
    import resource

    import torch
    state = json.load(open(args._state))
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmkd  # noqa: F401
    import mmkd.models  # noqa: F401
    if args._child == 'razor':
        import_mmrazor(state['razor'])
    cfg = Config.fromfile(osp.join(state['work'], 'config.py'))
    init_default_scope(cfg.get('default_scope', 'mmkd'))
    if args.device != 'cpu':  # the CUDA allocator's peak: weights, optimizer, activations
        torch.cuda.reset_peak_memory_stats(args.device)
        base = torch.cuda.memory_allocated(args.device)
        steps = Steps(cfg, state['work'], [args._child], state.get('razor'), args.device)
        for _ in range(args.memory_steps):
            steps.fns[args._child]()
        peak = torch.cuda.max_memory_allocated(args.device) - base
        print('MEMORY ' + json.dumps(dict(kind=args._child, peak_bytes=peak,
                                          allocator='cuda')))
        return
    reset = True
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # resets VmHWM to the current resident set
    except OSError:
        reset = False
    base = _status('VmRSS')
    base_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    steps = Steps(cfg, state['work'], [args._child], state.get('razor'))
    for _ in range(args.memory_steps):
        steps.fns[args._child]()
    peak = _status('VmHWM') if reset else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print('MEMORY ' + json.dumps(dict(kind=args._child, peak_bytes=peak - (
        base if reset else base_maxrss), hwm_reset=reset)))


def measure_memory(args, state_path, kinds):
    out = {}
    for kind in kinds:
        cmd = [sys.executable, osp.abspath(__file__)] + pair_argv(args) + [
            '--_child', kind, '--_state', state_path, '--memory-steps',
            str(args.memory_steps), '--device', args.device]
        if args.threads:
            cmd += ['--threads', str(args.threads)]
        # glibc returns blocks >= 64 KiB to the system when freed, in one arena: the
        # high-water mark then measures live memory, not what the allocator keeps
        env = dict(os.environ, PYTHONPATH=REPO, MALLOC_MMAP_THRESHOLD_='65536',
                   MALLOC_ARENA_MAX='1')
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env)
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith('MEMORY ')]
        if proc.returncode or not line:
            out[kind] = dict(error=(proc.stderr or proc.stdout)[-2000:])
            continue
        out[kind] = json.loads(line[-1][len('MEMORY '):])
    return out


# ----------------------------------------------------------------------------- loader
def measure_loader(cfg, batches):
    from mmengine.runner import Runner
    loader = Runner.build_dataloader(copy.deepcopy(cfg.train_dataloader), seed=0)
    it = iter(loader)
    next(it)  # workers started, first batch out
    t0, n = time.perf_counter(), 0
    for _ in range(batches):
        try:
            b = next(it)
        except StopIteration:
            it = iter(loader)
            b = next(it)
        n += len(b['data_samples'])
    elapsed = time.perf_counter() - t0
    return dict(images=n, seconds=elapsed, images_per_s=n / elapsed,
                num_workers=cfg.train_dataloader.get('num_workers', 0))


# ----------------------------------------------------------------------------- main
def first_batch(cfg):
    from mmengine.runner import Runner
    dl = copy.deepcopy(cfg.train_dataloader)
    dl['num_workers'], dl['persistent_workers'] = 0, False
    return next(iter(Runner.build_dataloader(dl, seed=0)))


def make_cache(cfg, work, batch_size):
    """A 1-view teacher cache of the first ``batch_size`` training samples and the batch
    the cached distiller reads."""
    import torch
    from mmengine.dataset import pseudo_collate

    from mmkd.apis import write_teacher_cache
    from mmkd.datasets import TeacherCacheDataset
    from mmkd.registry import DATASETS, MODELS
    dataset = DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))
    subset = torch.utils.data.Subset(dataset, range(batch_size))
    d = MODELS.build(copy.deepcopy(cfg.model))
    write_teacher_cache(d, subset, osp.join(work, 'cache'), views=1,
                        batch_size=batch_size, log=lambda m: None)
    wrapped = TeacherCacheDataset(subset, osp.join(work, 'cache'))
    batch = pseudo_collate([wrapped.get_view(i, 0) for i in range(batch_size)])
    torch.save(batch, osp.join(work, 'cached_batch.pth'))
    meta = json.load(open(osp.join(work, 'cache', 'meta.json')))
    return dict(bytes_per_view=meta['bytes'] // batch_size)


def prepare(args):
    """Set the torch threads, register mmkd's modules, make the work folder (printed
    with the pair), write its config and the first training batch there; the pair's
    spec, the work folder, the config and the batch size."""
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    import mmkd  # noqa: F401
    import mmkd.models  # noqa: F401
    spec = pair_spec(args)
    work = tempfile.mkdtemp(prefix=f'bench_{args.pair or "config"}_')
    print(f'pair: {spec["title"]}\nwork dir: {work}', flush=True)
    cfg = pair_config(args, work)
    cfg.dump(osp.join(work, 'config.py'))
    batch = first_batch(cfg)
    torch.save(batch, osp.join(work, 'batch.pth'))
    return spec, work, cfg, len(batch['data_samples'])


def measured_kinds(args, spec, cfg, work, bs):
    """The kinds to time, in round order: student, teacher, kd, then kd_cached (its
    teacher cache written now, unless ``--no-cache``), razor (``--razor`` on a pair
    MMRazor can express; said so otherwise) and the teacher variants. Returns the
    kinds, the cache's info (None without) and MMRazor's path (None without)."""
    kinds = ['student', 'teacher', 'kd']
    cache_info = None
    if not args.no_cache:
        cache_info = make_cache(cfg, work, bs)
        kinds.append('kd_cached')
    razor_path = None
    if args.razor is not None and spec.get('razor'):
        razor_path = args.razor
        kinds.append('razor')
    elif args.razor is not None:
        print(f'MMRazor: not measured for {args.pair or spec["title"]} (classification '
              f'pairs only: its single-input distiller cannot express this pair\'s taps and losses '
              f'without new MMRazor code)')
    if args.teacher_variants:
        kinds += ['teacher[bf16]', 'teacher[cl]', 'teacher[bf16+cl]']
    return kinds, cache_info, razor_path


def time_rounds(args, cfg, work, kinds, razor_path):
    """Time every kind once a round, ``--warmup`` unmeasured rounds then ``--repeats``
    measured ones, each round's times printed; each teacher's own forward is kept from
    the measured teacher steps. Returns the measured times by kind, each teacher's,
    and the frozen teachers' weight bytes; the steps' models are freed on return,
    before the memory is measured."""
    steps = Steps(cfg, work, kinds, razor_path, args.device)
    times, last, each = {k: [] for k in kinds}, {}, {}
    for r in range(args.warmup + args.repeats):
        for k in kinds:
            t = steps.timed(k)
            if r >= args.warmup:
                times[k].append(t)
                if k == 'teacher':
                    for name, v in steps.teacher_times.items():
                        each.setdefault(name, []).append(v)
            last[k] = t
        print(f'round {r + 1}/{args.warmup + args.repeats}'
              f'{" (warm-up)" if r < args.warmup else ""}: '
              + '  '.join(f'{k} {last[k]:.3f}s' for k in kinds), flush=True)
    teacher_bytes = sum(t.numel() * t.element_size() for name in
                        steps.d.frozen_teacher_names
                        for t in steps.d.teachers[name].state_dict().values())
    return times, each, teacher_bytes


def base_results(args, spec, bs, times, each, teacher_bytes):
    """The results' pair, settings, machine, command and times (medians, every
    round's, each teacher's median) and the teacher weight bytes."""
    import torch
    med = {k: statistics.median(v) for k, v in times.items()}
    return dict(
        pair=args.pair or spec['title'], config=spec['config'], title=spec['title'],
        batch_size=bs, repeats=args.repeats,
        warmup=args.warmup, threads=torch.get_num_threads(),
        teacher_amp=args.teacher_amp, channels_last=args.channels_last,
        machine=dict(python=platform.python_version(), torch=torch.__version__,
                     cpu=platform.processor() or platform.machine(),
                     cores=os.cpu_count(), device=args.device,
                     gpu=(torch.cuda.get_device_name(args.device)
                          if args.device != 'cpu' else None)),
        command=' '.join([osp.relpath(sys.argv[0], REPO)] + sys.argv[1:]),
        seconds=dict(median=med, all=times,
                     teacher_each={n: statistics.median(v) for n, v in each.items()}),
        teacher_weight_bytes=teacher_bytes)


def add_ratios(results, cache_info):
    """``results['ratios']``: KD / student beside its floor r* (the teachers' forwards
    summed; each teacher's own floor too), the cached step's and MMRazor's ratios when
    measured (with the cache's info) and each teacher variant's over the fp32 one."""
    med = results['seconds']['median']
    r_star = 1 + med['teacher'] / med['student']  # the teachers' forwards summed
    ratio = med['kd'] / med['student']
    results['ratios'] = dict(
        kd_over_student=ratio, floor_r_star=r_star, overhead_over_floor=ratio / r_star - 1,
        floor_r_star_each={n: 1 + v / med['student'] for n, v in
                           results['seconds']['teacher_each'].items()})
    if 'kd_cached' in med:
        results['ratios']['kd_cached_over_student'] = med['kd_cached'] / med['student']
        results['cache'] = cache_info
    if 'razor' in med:
        results['ratios']['razor_over_student'] = med['razor'] / med['student']
        results['ratios']['razor_overhead_over_floor'] = \
            med['razor'] / med['student'] / r_star - 1
    variants = {k: med[k] / med['teacher'] for k in med if k.startswith('teacher[')}
    if variants:
        results['ratios']['teacher_variant_over_fp32'] = variants


def add_memory(args, results, work, razor_path, kinds):
    """``results['memory']``: each kind's peak (not the teacher variants) in its own
    subprocess, told the work folder and MMRazor's path by ``state.json``; and the
    ratio of KD's peak to the student's plus the teacher weights when both ran."""
    state = osp.join(work, 'state.json')
    json.dump(dict(work=work, razor=razor_path), open(state, 'w'))
    mem = measure_memory(args, state, [k for k in kinds if '[' not in k])
    results['memory'] = mem
    ok = all('peak_bytes' in mem.get(k, {}) for k in ('student', 'kd'))
    if ok:
        bound = mem['student']['peak_bytes'] + results['teacher_weight_bytes']
        results['memory_ratio'] = dict(
            kd_over_student_plus_teacher=mem['kd']['peak_bytes'] / bound)


def add_loader(args, results, cfg):
    """``results['loader']``: the training dataloader's images/s beside the KD step's
    and their ratio."""
    bs, med = results['batch_size'], results['seconds']['median']
    results['loader'] = measure_loader(cfg, args.loader_batches)
    results['loader']['kd_step_images_per_s'] = bs / med['kd']
    results['loader']['loader_over_kd_step'] = \
        results['loader']['images_per_s'] / (bs / med['kd'])


def finish(args, results, work):
    """Print the report, write ``--json`` (said so) and remove the work folder unless
    ``--keep-work``."""
    report(results)
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
        print(f'wrote {args.json}')
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    """Measure the pair (a memory child's own step with ``--_child``); return the
    results.

    Prepare the work folder and batch, choose the kinds, time them in rounds, then
    the results: times and ratios, peak memory and the loader (unless skipped), the
    report and the JSON."""
    args = parse_args(argv)
    if args._child:
        return child_memory(args)
    spec, work, cfg, bs = prepare(args)
    kinds, cache_info, razor_path = measured_kinds(args, spec, cfg, work, bs)
    times, each, teacher_bytes = time_rounds(args, cfg, work, kinds, razor_path)
    results = base_results(args, spec, bs, times, each, teacher_bytes)
    add_ratios(results, cache_info)
    if not args.no_memory:
        add_memory(args, results, work, razor_path, kinds)
    if not args.no_loader:
        add_loader(args, results, cfg)
    finish(args, results, work)
    return results


def report(r):
    med, ratios = r['seconds']['median'], r['ratios']
    mib = 2 ** 20
    where = r['machine'].get('gpu') or f'{r["threads"]} threads'
    print(f'\n== {r["title"]}  (batch {r["batch_size"]}, {where}, '
          f'{r["repeats"]} rounds, medians)')
    for k, v in med.items():
        print(f'  {k:<16} {v * 1000:9.1f} ms   {r["batch_size"] / v:8.1f} img/s')
    each = r['seconds'].get('teacher_each', {})
    if len(each) > 1:  # several teachers: each one's forward and one-teacher floor
        for n, v in each.items():
            print(f'    teacher {n:<12} {v * 1000:7.1f} ms   alone: floor '
                  f'{ratios["floor_r_star_each"][n]:.3f}')
    print(f'  KD / student        {ratios["kd_over_student"]:.3f}   floor r* = '
          f'{ratios["floor_r_star"]:.3f}'
          f'{" (1 + sum of the teachers / student)" if len(each) > 1 else ""}'
          f'   overhead over floor '
          f'{100 * ratios["overhead_over_floor"]:+.1f} %  (target <= +3 %)')
    if 'kd_cached_over_student' in ratios:
        print(f'  KD cached / student {ratios["kd_cached_over_student"]:.3f}   '
              f'(target <= 1.10; {r["cache"]["bytes_per_view"]} bytes stored per sample '
              f'and view)')
    if 'razor_over_student' in ratios:
        print(f'  MMRazor / student   {ratios["razor_over_student"]:.3f}   overhead over '
              f'floor {100 * ratios["razor_overhead_over_floor"]:+.1f} %')
    for k, v in ratios.get('teacher_variant_over_fp32', {}).items():
        print(f'  {k:<16} / teacher (fp32) {v:.3f}')
    if 'memory' in r:
        parts = []
        for k, m in r['memory'].items():
            parts.append(f'{k} {m["peak_bytes"] / mib:.0f} MiB' if 'peak_bytes' in m
                         else f'{k} failed ({m["error"].strip().splitlines()[-1][:120]})')
        print(f'  peak memory: {", ".join(parts)}; teacher weights '
              f'{r["teacher_weight_bytes"] / mib:.0f} MiB')
        if 'memory_ratio' in r:
            print(f'  peak KD / (student + teacher weights) '
                  f'{r["memory_ratio"]["kd_over_student_plus_teacher"]:.3f}  '
                  f'(target <= 1.15)')
    if 'loader' in r:
        ld = r['loader']
        print(f'  loader {ld["images_per_s"]:.1f} img/s ({ld["num_workers"]} workers) vs '
              f'KD step {ld["kd_step_images_per_s"]:.1f} img/s: '
              f'{ld["loader_over_kd_step"]:.2f}x  (target >= 2x)')


if __name__ == '__main__':
    main()
