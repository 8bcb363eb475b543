"""Run the DisOptNet comparison on the SYNTHETIC building benchmark and print the table.

    python tools/misc/disoptnet_benchmark.py [--data data/synthetic_buildings_32_l1]
        [--size 32] [--looks 1] [--iters 300] [--batch-size 8] [--arch b0]
        [--decoder 256,128,64,32,16] [--runs teacher,unet,effnet,k3,k1,k2,k4]
        [--seed 0] [--threads 1] [--work-dir work_dirs/disoptnet_benchmark]
        [--cfg-options k=v ... --tag NAME]
    python tools/misc/disoptnet_benchmark.py --summarize DIR [DIR ...]

Generates the benchmark when missing, then trains, one after the other with the same
seed and schedule (AdamW, poly, ``--iters`` iterations of ``--batch-size``): the
optical teacher (needed by the distilled runs), the SAR-only mmseg U-Net, the SAR-only
EfficientNet U-Net, DisOptNet at split stage 3 and the split ablation (k = 1, 2, 4),
and any comparison row (``ac``: DisOptNet with the authors' code's objective, ``ft``:
fine-tuning from the optical model, ``skd``: Structured KD, ``dml``).
Each model is tested on the test split, SAR only (the teacher on optical), and the
building class's IoU / Dice / precision / recall go to ``<work-dir>/results.json`` and a
Markdown table. Runs already in ``results.json`` are skipped (delete it to redo). ``--cfg-options``
change the listed runs' configs (e.g. a loss weight); give such runs a ``--tag``, which
is appended to their names in ``results.json`` and the table, so they sit next to the
untouched runs (the teacher is always looked up untagged). ``--summarize`` reads the
``results.json`` of several work dirs (one per seed) and prints each run's building IoU
per dir and the median.

``--threads 1`` (the default) matters on a shared CPU: with more busy processes than
cores, PyTorch's OpenMP threads spin-wait on each other and a two-thread step ran 15-20x
slower than a one-thread step here.
"""
import argparse
import json
import os
import os.path as osp
import time

from mmengine.config import DictAction

RUNS = {
    'teacher': ('effnet-b3-unet_synthetic-buildings-optical_teacher.py',
                'optical EfficientNet U-Net (teacher; tested on optical)'),
    'unet': ('unet-s5_synthetic-buildings-sar.py', 'SAR-only U-Net (mmseg)'),
    'effnet': ('effnet-b3-unet_synthetic-buildings-sar.py', 'SAR-only EfficientNet U-Net'),
    'k3': ('disoptnet_effnet-b3-unet_k3_synthetic-buildings.py', 'DisOptNet, k = 3'),
    'k1': ('ablation/disoptnet_effnet-b3-unet_k1_synthetic-buildings.py',
           'DisOptNet, k = 1'),
    'k2': ('ablation/disoptnet_effnet-b3-unet_k2_synthetic-buildings.py',
           'DisOptNet, k = 2'),
    'k4': ('ablation/disoptnet_effnet-b3-unet_k4_synthetic-buildings.py',
           'DisOptNet, k = 4'),
    'ac': ('disoptnet_effnet-b3-unet_k3_synthetic-buildings_authors-code.py',
           "DisOptNet, k = 3, the authors' code's objective"),
    'ft': ('finetune-from-optical_effnet-b3-unet_synthetic-buildings-sar.py',
           'fine-tuned from the optical model'),
    'skd': ('skd_effnet-b3-unet_synthetic-buildings.py', 'Structured KD (pixel + pair)'),
    'dml': ('dml_effnet-b3-unet_synthetic-buildings.py', 'DML (mutual learning)'),
}
KEYS = ('IoU.building', 'Dice.building', 'Precision.building', 'Recall.building')
DISOPTNET = ('k1', 'k2', 'k3', 'k4', 'ac')
STAGES = dict(b0=[16, 24, 40, 112, 320], b3=[24, 32, 48, 136, 384],
              b4=[24, 32, 56, 160, 448])


def overrides(args, name, teacher_ckpt):
    data = {f'{s}_dataloader.{k}': v for s in ('train', 'val', 'test') for k, v in (
        ('dataset.data_root', args.data), ('num_workers', 0),
        ('persistent_workers', False), ('batch_size', args.batch_size))}
    opts = dict(data)
    opts.update({'train_cfg.max_iters': args.iters,
                 'train_cfg.val_interval': args.iters + 1,
                 'param_scheduler.0.end': args.iters,
                 'default_hooks.checkpoint.interval': args.iters,
                 'randomness.seed': args.seed, 'randomness.deterministic': True})
    dec = tuple(int(x) for x in args.decoder.split(','))
    arch = dict(arch=args.arch)
    head = dict(in_channels=STAGES[args.arch], decoder_channels=dec)
    if name in ('teacher', 'effnet', 'ft'):
        opts.update({'model.backbone.arch': args.arch, 'model.decode_head.in_channels':
                     head['in_channels'], 'model.decode_head.decoder_channels': dec})
    if name in ('skd', 'dml'):
        for who in ('student', 'teacher.model') if name == 'dml' else ('student', ):
            opts.update({f'model.{who}.backbone.arch': args.arch,
                         f'model.{who}.decode_head.in_channels': head['in_channels'],
                         f'model.{who}.decode_head.decoder_channels': dec})
    if name in DISOPTNET:
        s = 'model.student'
        opts.update({f'{s}.backbone.arch': args.arch,
                     f'{s}.pseudo_optical_backbone.arch': args.arch,
                     f'{s}.decode_head.in_channels': head['in_channels'],
                     f'{s}.decode_head.decoder_channels': dec,
                     f'{s}.pseudo_optical_head.in_channels': head['in_channels'],
                     f'{s}.pseudo_optical_head.decoder_channels': dec,
                     f'{s}.fusion_head.in_channels': [dec[-1]] * 2,
                     f'{s}.fusion_head.channels': dec[-1],
                     f'{s}.pseudo_optical_init.checkpoint': teacher_ckpt})
    if name in DISOPTNET or name == 'skd':
        opts['model.teacher.checkpoint'] = teacher_ckpt
    if name == 'ft':
        opts['load_from'] = teacher_ckpt
    return opts, arch


def run_one(args, name, teacher_ckpt):
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg_file = osp.join(args.configs, RUNS[name][0])
    cfg = Config.fromfile(cfg_file)
    opts, _ = overrides(args, name, teacher_ckpt)
    if name in DISOPTNET or name in ('skd', 'dml'):
        # the teacher's own config must describe the same architecture
        tcfg = Config.fromfile(cfg.model.teacher.model) if isinstance(
            cfg.model.teacher.model, str) else None
        if tcfg is not None:
            tcfg.merge_from_dict(overrides(args, 'teacher', teacher_ckpt)[0])
            cfg.model.teacher.model = tcfg.model.to_dict()
    cfg.merge_from_dict(opts)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = osp.join(args.work_dir, name + args.tag)
    t0 = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    train_s = time.time() - t0
    metrics = runner.test()
    ckpt = osp.join(cfg.work_dir, f'iter_{args.iters}.pth')
    label = RUNS[name][1] + (f' [{args.tag.strip("_-")}: {args.cfg_options}]'
                             if args.tag else '')
    return dict(config=RUNS[name][0], label=label, train_s=round(train_s),
                checkpoint=ckpt, **{k: float(metrics[k]) for k in KEYS})


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default='data/synthetic_buildings_32_l1')
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--looks', type=float, default=1.0, help='SAR speckle looks')
    p.add_argument('--num-train', type=int, default=160)
    p.add_argument('--num-test', type=int, default=40)
    p.add_argument('--iters', type=int, default=300)
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--arch', default='b0', choices=sorted(STAGES))
    p.add_argument('--decoder', default='256,128,64,32,16')
    p.add_argument('--runs', default='teacher,unet,effnet,k3,k1,k2,k4')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    p.add_argument('--work-dir', default='work_dirs/disoptnet_benchmark')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                   help='config overrides for the runs listed in --runs')
    p.add_argument('--tag', default='', help='suffix of the runs\' names with overrides')
    p.add_argument('--configs', default=osp.join(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))), 'configs', 'disoptnet'))
    p.add_argument('--summarize', nargs='+', metavar='DIR',
                   help='only print the per-seed IoU table of these work dirs')
    args = p.parse_args()
    if args.summarize:
        return summarize(args.summarize)
    if args.cfg_options and not args.tag:
        p.error('--cfg-options changes the runs: name them with --tag')
    if args.tag and 'teacher' in args.runs.split(','):
        p.error('the teacher is shared by every run: do not tag it')

    import torch

    import mmkd  # noqa: F401
    from mmkd.testing import make_synthetic_buildings
    torch.set_num_threads(args.threads)
    make_synthetic_buildings(args.data, args.num_train, args.num_test, args.num_test,
                             args.size, seed=0, looks=args.looks)
    os.makedirs(args.work_dir, exist_ok=True)
    out = osp.join(args.work_dir, 'results.json')
    results = json.load(open(out)) if osp.isfile(out) else {}
    teacher_ckpt = osp.join(args.work_dir, 'teacher', f'iter_{args.iters}.pth')
    for name in args.runs.split(','):
        if name + args.tag in results:
            continue
        if name != 'teacher' and name not in ('unet', 'effnet', 'dml') and not osp.isfile(
                teacher_ckpt):
            raise SystemExit(f'run {name!r} needs the teacher: include teacher in --runs')
        key = name + args.tag
        results[key] = run_one(args, name, teacher_ckpt)
        results[key]['settings'] = {k: v for k, v in vars(args).items()}
        with open(out, 'w') as f:
            json.dump(results, f, indent=1)
        print(f'== {key}: {results[key]}', flush=True)
    print('\n| model | config | IoU | Dice | Precision | Recall | train s |')
    print('|---|---|---|---|---|---|---|')
    for name, r in results.items():
        print(f"| {r['label']} | `{r['config']}` | " + ' | '.join(
            f'{r[k]:.2f}' for k in KEYS) + f" | {r['train_s']} |")


def summarize(dirs):
    import statistics
    res = [json.load(open(osp.join(d, 'results.json'))) for d in dirs]
    names = list(dict.fromkeys(n for r in res for n in r))
    seeds = [str(r[next(iter(r))]['settings']['seed']) for r in res]
    print('| model | ' + ' | '.join(f'seed {s}' for s in seeds) + ' | median IoU |')
    print('|---|' + '---|' * (len(dirs) + 1))
    for n in names:
        vals = [r[n]['IoU.building'] if n in r else None for r in res]
        ok = [v for v in vals if v is not None]
        label = next(r[n]['label'] for r in res if n in r)
        print(f'| {label} | ' + ' | '.join('–' if v is None else f'{v:.2f}' for v in vals)
              + f' | {statistics.median(ok):.2f} |')


if __name__ == '__main__':
    main()
