"""Precompute a frozen teacher's outputs over the training set, for training without it.

    python tools/misc/cache_teacher.py CONFIG --out DIR [--views K] [--seed S]
        [--dtype auto|float16|float32] [--batch-size B] [--num-workers W]
        [--teacher NAME ...] [--cfg-options k=v ...]

Runs each frozen teacher of the distillation CONFIG on K augmented views of every
training sample (the config's own pipeline, seeded per sample and view so training can
reproduce each view exactly; see mmkd/models/distillers/teacher_cache.py), stores what
the config's teacher taps record as memory-mapped arrays in DIR, and writes
DIR/train_config.py: CONFIG with the teacher reading the cache and the training set
wrapped in ``mmkd.TeacherCacheDataset``. Train with

    python tools/train.py DIR/train_config.py

``--dtype auto`` stores a tensor in float16 when its float16 error on the first batch is
at most 1e-3 of its largest magnitude and it stays 16x inside float16's range; the
measured errors are in DIR/meta.json and printed at the end.
"""
import argparse
import copy
import os.path as osp
import time

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import mmkd  # noqa: F401
from mmkd.apis import runner_model_cfg
from mmkd.models.distillers.teacher_cache import write_teacher_cache
from mmkd.registry import DATASETS, MODELS


def parse_args():
    p = argparse.ArgumentParser(description='Cache frozen teachers\' outputs (mmkd)')
    p.add_argument('config', help='distillation config')
    p.add_argument('--out', required=True, help='cache directory')
    p.add_argument('--views', type=int, default=4, help='augmented views per sample')
    p.add_argument('--seed', type=int, default=0, help='base seed of the views')
    p.add_argument('--dtype', default='auto', choices=['auto', 'float16', 'float32'])
    p.add_argument('--batch-size', type=int, default=None,
                   help='default: the training batch size')
    p.add_argument('--num-workers', type=int, default=None,
                   help='default: the training dataloader\'s')
    p.add_argument('--teacher', nargs='*', help='teachers to cache (default: all frozen)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args()


def teacher_entries(model_cfg) -> dict:
    if model_cfg.get('teachers'):
        return model_cfg['teachers']
    return {'teacher': model_cfg['teacher']} if model_cfg.get('teacher') else {}


def cached_config(cfg: Config, cache_dir: str, names) -> Config:
    """CONFIG with the teachers reading the cache and the training set wrapped."""
    out = copy.deepcopy(cfg)
    for name, t in teacher_entries(out.model).items():
        if name in names:
            t['cache'] = dict(dir=osp.abspath(cache_dir))
    ds = out.train_dataloader.dataset
    out.train_dataloader.dataset = dict(type='mmkd.TeacherCacheDataset', dataset=ds,
                                        cache_dir=osp.abspath(cache_dir))
    return out


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmkd'))
    for t in teacher_entries(cfg.model).values():
        t.pop('cache', None)  # caching runs the real teacher
    distiller = MODELS.build(runner_model_cfg(cfg))  # normalised as in training
    dl = cfg.train_dataloader
    dataset = DATASETS.build(dl.dataset)
    names = args.teacher or distiller.frozen_teacher_names
    t0 = time.time()
    meta = write_teacher_cache(
        distiller, dataset, args.out, args.views, args.seed, names, args.dtype,
        batch_size=args.batch_size or dl.get('batch_size', 32),
        num_workers=dl.get('num_workers', 0) if args.num_workers is None
        else args.num_workers)
    out_cfg = cached_config(cfg, args.out, names)
    cfg_path = osp.join(args.out, 'train_config.py')
    out_cfg.dump(cfg_path)
    print(f'cached {meta["num_samples"]} samples x {meta["views"]} views of teachers '
          f'{list(meta["teachers"])} in {time.time() - t0:.1f} s: '
          f'{meta["bytes"] / 2**20:.1f} MiB in {args.out}')
    for name, info in meta['teachers'].items():
        for key, tap in info['taps'].items():
            for c, call in enumerate(tap['calls']):
                for e in call['elements']:
                    err = e['fp16_error']
                    print(f'  {name}.{key} call {c}: {e["dtype"]} {e["shape"]}  float16 '
                          f'error: max abs {err["abs_err"]:.3g}, relative '
                          f'{err["rel_err"]:.3g} (of max |x| {err["max_abs"]:.3g})')
    print(f'train with: python tools/train.py {cfg_path}')


if __name__ == '__main__':
    main()
