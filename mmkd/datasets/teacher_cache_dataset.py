"""Teacher caches, the data side: the format, and the dataset that reproduces the views.

A frozen teacher's output on a sample depends only on the sample and its augmentation.
:func:`mmkd.apis.write_teacher_cache` (``tools/misc/cache_teacher.py``) runs the teacher
over the training set for ``views`` augmented views per sample and stores what the
config's teacher taps record; training then draws one stored view per sample
(:class:`mmkd.datasets.TeacherCacheDataset`) and reads the teacher's features from disk
(:class:`mmkd.models.distillers.teacher_cache.TeacherCache`, beside the distiller)
instead of running the teacher.

DESIGN. The cache lives in three places: this module (the format both sides share and
the dataset wrapper, which imports no model code), the reader beside the distiller, and
the writer in :mod:`mmkd.apis.teacher_cache` (it runs a distiller's teachers).

**Reproducing a view.** View ``v`` of sample ``i`` is produced by running the dataset's
own pipeline with Python's ``random``, NumPy's global RNG and torch's CPU RNG seeded from
``(seed, i, v)`` (:func:`view_seed`), in the cache tool and in training alike. So every
transform that draws from those RNGs (mmkd's ``Paired*`` transforms, mmpretrain's and
mmdet's random flips/crops, ``SimulateSAR``'s speckle, ...) gives the same view
bit-for-bit, without knowing its parameters. Each stored view keeps a record: the CRC32
of every input tensor and the parameters the pipeline writes (``flip``,
``flip_direction``, ``crop_box``, ``rotate_angle``); training checks it
(``verify=True``), so a changed pipeline, another dataset or a transform with a private
RNG is an error naming the sample, never silently wrong targets.

Not supported (refused when caching): batch augmentations in the data preprocessor
(Mixup, CutMix: the teacher's input depends on the batch) and inputs whose shape varies
between samples after the data preprocessor (padding to the batch's largest image).

**Layout** of a cache directory::

    meta.json             num_samples, views, seed, per teacher: weights hash, input,
                          stored taps (shape, dtype, measured float16 error)
    views.json            per sample and view: the record checked in training
    <teacher>/<k>.npy     one memory-mapped array per stored tensor, shape
                          (num_samples, views, *feature shape), float16 or float32

``meta.json`` is written last: a cache without it is incomplete and is refused.
"""
import json
import os.path as osp
import random
import zlib
from contextlib import contextmanager
from typing import Optional

import numpy as np
import torch

from mmkd.registry import DATASETS

CACHE_VERSION = 1
RECORD_KEYS = ('flip', 'flip_direction', 'crop_box', 'rotate_angle')


class TeacherCacheError(RuntimeError):
    """A teacher cache is missing, incomplete or does not match the run."""


def view_seed(seed: int, index: int, view: int) -> int:
    seq = np.random.SeedSequence([int(seed), int(index), int(view)])
    return int(seq.generate_state(1)[0])


@contextmanager
def seeded(seed: int):
    """Seed Python, NumPy and torch (CPU) RNGs, and restore their states afterwards, so
    the run's own random streams are untouched by producing a view."""
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


def _plain(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, float):
        return round(v, 6)
    return v


def view_record(sample: dict) -> dict:
    """CRC32 of the packed input tensor(s) and the augmentation parameters written by
    the pipeline, for one packed sample (``dict(inputs=..., data_samples=...)``)."""
    inputs = sample['inputs']
    items = inputs.items() if isinstance(inputs, dict) else [('', inputs)]
    crc = {m: zlib.crc32(np.ascontiguousarray(t.numpy() if torch.is_tensor(t) else t)
                         .tobytes()) for m, t in items}
    meta = sample['data_samples'].metainfo
    return dict(crc=crc, **{k: _plain(meta[k]) for k in RECORD_KEYS if k in meta})


@DATASETS.register_module()
class TeacherCacheDataset:
    """Wraps a training dataset so each sample is one of the views stored in a teacher
    cache, produced again bit-for-bit (see the module docstring).

    ``__getitem__(i)`` draws a view ``v`` uniformly (Python's ``random``, so a resumed
    run with restored RNG states draws the same), reproduces it, and writes
    ``cache_index=i`` and ``cache_view=v`` into the sample's metainfo, where the
    distiller finds the stored teacher outputs.

    Args:
        dataset (dict | Dataset): The training dataset (config or object).
        cache_dir (str, optional): The cache; None only while writing one.
        views (int, optional): Views per sample; default: the cache's.
        seed (int, optional): Base seed of the views; default: the cache's.
        verify (bool): Check each view against its stored record. Defaults to True.
    """

    def __init__(self, dataset, cache_dir: Optional[str] = None,
                 views: Optional[int] = None, seed: Optional[int] = None,
                 verify: bool = True, **unknown):
        if unknown:
            keys = ', '.join(sorted(unknown))
            raise TeacherCacheError(
                f'TeacherCacheDataset got {keys}: that belongs to the dataset it wraps '
                f'(train_dataloader.dataset.dataset.{sorted(unknown)[0]}=... in '
                f'--cfg-options). The cache was written with that dataset\'s pipeline, '
                f'so a changed pipeline or data root needs a new cache '
                f'(tools/misc/cache_teacher.py with those options).')
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.cache_dir = cache_dir
        self.records = None
        if cache_dir is not None:
            meta = read_meta(cache_dir)
            if views is not None and views != meta['views']:
                raise TeacherCacheError(f'{cache_dir}: the cache holds {meta["views"]} '
                                        f'views per sample, the config asks for {views}')
            views, seed = meta['views'], meta['seed']
            if len(self.dataset) != meta['num_samples']:
                raise TeacherCacheError(
                    f'{cache_dir} was made for {meta["num_samples"]} samples but the '
                    f'training set has {len(self.dataset)}: another dataset or split? '
                    f'Re-run tools/misc/cache_teacher.py with this config.')
            if verify:
                with open(osp.join(cache_dir, 'views.json')) as f:
                    self.records = json.load(f)
        if not views or views < 1:
            raise ValueError(f'views must be >= 1, got {views}')
        self.views, self.seed, self.verify = int(views), int(seed or 0), verify

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name):  # metainfo, get_gt_labels, class_counts, full_init...
        if name == 'dataset':
            raise AttributeError(name)
        return getattr(self.dataset, name)

    @property
    def metainfo(self):
        return self.dataset.metainfo

    def __getitem__(self, index: int) -> dict:
        return self.get_view(index, random.randrange(self.views))

    def get_view(self, index: int, view: int) -> dict:
        with seeded(view_seed(self.seed, index, view)):
            prepare = getattr(self.dataset, 'prepare_data', None)
            if prepare is not None:
                if not getattr(self.dataset, '_fully_initialized', True):
                    self.dataset.full_init()
                sample = prepare(index)
            else:
                sample = self.dataset[index]
        if sample is None:
            raise TeacherCacheError(
                f'the pipeline dropped sample {index} (returned None); cached teachers '
                f'need a pipeline that keeps every sample')
        record = view_record(sample)
        if self.records is not None and self.records[index][view] != record:
            raise TeacherCacheError(
                f'sample {index}, view {view} differs from the view stored in '
                f'{self.cache_dir}: stored {self.records[index][view]}, now {record}. The '
                f'data, the pipeline or a transform\'s random source changed since the '
                f'cache was made; re-run tools/misc/cache_teacher.py (or set '
                f'verify=False if you know better).')
        sample['data_samples'].set_metainfo(dict(cache_index=index, cache_view=view,
                                                 cache_record=record))
        return sample


def read_meta(cache_dir: str) -> dict:
    """A cache's meta.json, refused when the cache is missing, incomplete or of another
    version."""
    path = osp.join(cache_dir, 'meta.json')
    if not osp.isdir(cache_dir):
        raise TeacherCacheError(f'teacher cache {cache_dir!r} does not exist; make it with '
                                f'tools/misc/cache_teacher.py CONFIG --out {cache_dir}')
    if not osp.isfile(path):
        raise TeacherCacheError(f'teacher cache {cache_dir!r} is incomplete (no meta.json):'
                                f' the caching run did not finish; run it again')
    with open(path) as f:
        meta = json.load(f)
    if meta.get('version') != CACHE_VERSION:
        raise TeacherCacheError(f'{cache_dir}: cache version {meta.get("version")}, this '
                                f'mmkd reads version {CACHE_VERSION}; make it again')
    return meta

