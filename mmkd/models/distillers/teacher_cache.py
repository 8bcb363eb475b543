"""Cached outputs of frozen teachers: run the teacher once per stored view, not per step.

A frozen teacher's output on a sample depends only on the sample and its augmentation.
``tools/misc/cache_teacher.py`` runs the teacher over the training set for ``views``
augmented views per sample and stores what the config's teacher taps record; training
then draws one stored view per sample and reads the teacher's features from disk instead
of running the teacher.

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
import os
import os.path as osp
import random
import zlib
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import print_log

from mmkd.registry import DATASETS
from .taps import Tap

CACHE_VERSION = 1
RECORD_KEYS = ('flip', 'flip_direction', 'crop_box', 'rotate_angle')
FP16_MAX = float(np.finfo(np.float16).max)


class TeacherCacheError(RuntimeError):
    """A teacher cache is missing, incomplete or does not match the run."""


def tap_key(tap: Tap) -> str:
    """What a tap reads, independent of the name a config gives it."""
    index = '' if tap.index is None else f'[{tap.index}]'
    return f'{tap.path}:{tap.io}{index}'


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


class TeacherCache:
    """Reads one teacher's stored tap outputs for a batch (memory-mapped, lazily).

    Args:
        cache_dir (str): The cache directory.
        teacher (str): The teacher's name in the cache.
    """

    def __init__(self, cache_dir: str, teacher: str):
        self.cache_dir, self.teacher = cache_dir, teacher
        meta = read_meta(cache_dir)
        if teacher not in meta['teachers']:
            raise TeacherCacheError(f'{cache_dir} holds teachers {sorted(meta["teachers"])}'
                                    f', not {teacher!r}')
        self.info = meta['teachers'][teacher]
        self.views = meta['views']
        self._arrays: Dict[str, np.ndarray] = {}

    @property
    def weights_hash(self) -> str:
        return self.info['hash']

    def check_taps(self, taps: Dict[str, Tap]) -> None:
        missing = {n: f'{t.model}.{tap_key(t)}' for n, t in taps.items()
                   if tap_key(t) not in self.info['taps']}
        if missing:
            raise TeacherCacheError(
                f'{self.cache_dir} has no stored features for taps {missing} (it holds '
                f'{sorted(self.info["taps"])}); re-run tools/misc/cache_teacher.py with '
                f'this config')

    def _array(self, fname: str) -> np.ndarray:
        if fname not in self._arrays:
            self._arrays[fname] = np.load(osp.join(self.cache_dir, self.teacher, fname),
                                          mmap_mode='r')
        return self._arrays[fname]

    def lookup(self, taps: Dict[str, Tap], data_samples: Sequence,
               device: torch.device) -> Dict[str, list]:
        """tap name -> list of recorded values (one per module call), float32."""
        try:
            index = np.array([s.metainfo['cache_index'] for s in data_samples])
            view = np.array([s.metainfo['cache_view'] for s in data_samples])
        except (KeyError, TypeError, AttributeError):
            raise TeacherCacheError(
                f'teacher {self.teacher!r} reads a cache but the batch carries no '
                f'cache_index/cache_view: wrap the training dataset in '
                f"dict(type='mmkd.TeacherCacheDataset', dataset=..., cache_dir="
                f"{self.cache_dir!r}) (the cache tool writes such a config)") from None
        out = {}
        for name, tap in taps.items():
            calls = []
            for call in self.info['taps'][tap_key(tap)]['calls']:
                parts = [torch.from_numpy(np.ascontiguousarray(
                    self._array(e['file'])[index, view])).to(device, torch.float32)
                    for e in call['elements']]
                calls.append(parts[0] if not call['sequence'] else tuple(parts))
            out[name] = calls
        return out


# ----------------------------------------------------------------------------- writing
def _elements(value) -> List[torch.Tensor]:
    if torch.is_tensor(value):
        return [value]
    if isinstance(value, (list, tuple)) and all(torch.is_tensor(v) for v in value):
        return list(value)
    raise TeacherCacheError(f'a tap records {type(value).__name__}; only tensors and '
                            f'tuples of tensors can be cached')


def fp16_error(x: torch.Tensor) -> dict:
    """Largest absolute and relative (to the largest magnitude) error of storing ``x``
    in float16, and whether it overflows."""
    x = x.detach().float()
    peak = x.abs().max().item() if x.numel() else 0.
    err = (x.half().float() - x).abs().max().item() if x.numel() else 0.
    return dict(max_abs=peak, abs_err=err, rel_err=err / peak if peak else 0.,
                overflow=peak >= FP16_MAX)


class _Views(torch.utils.data.Dataset):
    """Flat index ``j`` -> view ``j % views`` of sample ``j // views``."""

    def __init__(self, wrapped: TeacherCacheDataset):
        self.wrapped = wrapped

    def __len__(self):
        return len(self.wrapped) * self.wrapped.views

    def __getitem__(self, j):
        return self.wrapped.get_view(j // self.wrapped.views, j % self.wrapped.views)


def check_cacheable(distiller) -> None:
    """Refuse configs whose teacher input depends on the batch."""
    pre = distiller.data_preprocessor
    augments = [m for m in pre.modules() if getattr(m, 'batch_augments', None)]
    if augments:
        raise TeacherCacheError(
            'the data preprocessor has batch augmentations (Mixup/CutMix): the teacher\'s '
            'input depends on which samples share a batch, so its outputs cannot be '
            'cached per sample. Train with the online teacher, or drop batch_augments.')


def write_teacher_cache(distiller, dataset, cache_dir: str, views: int, seed: int = 0,
                        teachers: Optional[Sequence[str]] = None, dtype: str = 'auto',
                        batch_size: int = 32, num_workers: int = 0, collate_fn=None,
                        max_rel_err: float = 1e-3, log=None) -> dict:
    """Run the frozen ``teachers`` of ``distiller`` over ``views`` views of every sample
    of ``dataset`` and store their tap outputs in ``cache_dir``. Returns the meta.

    ``dtype``: ``'float16'``, ``'float32'`` or ``'auto'`` (float16 for every stored
    tensor whose float16 relative error on the first batch is at most ``max_rel_err``
    and whose magnitude stays 16x below float16's range, else float32).
    """
    from mmengine.dataset import pseudo_collate
    log = log or (lambda msg: print_log(msg, logger='current'))
    check_cacheable(distiller)
    names = list(teachers or distiller.frozen_teacher_names)
    unknown = [n for n in names if n not in distiller.frozen_teacher_names]
    if unknown or not names:
        raise TeacherCacheError(f'no frozen teacher {unknown or ""} to cache; the config '
                                f'has frozen teachers {distiller.frozen_teacher_names}')
    if dtype not in ('auto', 'float16', 'float32'):
        raise ValueError(f"dtype must be 'auto', 'float16' or 'float32', got {dtype!r}")
    os.makedirs(cache_dir, exist_ok=True)
    if osp.isfile(osp.join(cache_dir, 'meta.json')):
        os.remove(osp.join(cache_dir, 'meta.json'))  # incomplete until written again
    wrapped = TeacherCacheDataset(dataset, None, views, seed, verify=False)
    n = len(wrapped)
    loader = torch.utils.data.DataLoader(
        _Views(wrapped), batch_size=batch_size, shuffle=False, num_workers=num_workers,
        collate_fn=collate_fn or pseudo_collate)
    records: List[List[Optional[dict]]] = [[None] * views for _ in range(n)]
    arrays: Dict[tuple, np.ndarray] = {}
    meta_teachers = {
        name: dict(hash=distiller.teacher_hashes[name],
                   checkpoint=distiller.teacher_cfgs[name].get('checkpoint'),
                   input=distiller.teacher_cfgs[name].get('input'), taps={})
        for name in names}
    distiller.eval()
    done = 0
    for batch in loader:
        data = distiller.data_preprocessor(batch, True)
        samples = data['data_samples']
        index = np.array([s.metainfo['cache_index'] for s in samples])
        view = np.array([s.metainfo['cache_view'] for s in samples])
        for s, i, v in zip(samples, index, view):
            records[i][v] = s.metainfo['cache_record']
        for name in names:
            feats = distiller.teacher_features(name, data['inputs'], samples)
            taps_info = meta_teachers[name]['taps']
            for tap_name, calls in feats.items():
                key = tap_key(distiller.recorder.taps[tap_name])
                if key not in taps_info:
                    taps_info[key] = dict(calls=[])
                    for c, value in enumerate(calls):
                        elements = []
                        for e, x in enumerate(_elements(value)):
                            err = fp16_error(x)
                            use16 = dtype == 'float16' or (
                                dtype == 'auto' and err['rel_err'] <= max_rel_err
                                and err['max_abs'] * 16 < FP16_MAX)
                            fname = f'{len(arrays):03d}.npy'
                            shape = (n, views) + tuple(x.shape[1:])
                            os.makedirs(osp.join(cache_dir, name), exist_ok=True)
                            arrays[(name, key, c, e)] = np.lib.format.open_memmap(
                                osp.join(cache_dir, name, fname), mode='w+',
                                dtype=np.float16 if use16 else np.float32, shape=shape)
                            elements.append(dict(file=fname, shape=list(x.shape[1:]),
                                                 dtype='float16' if use16 else 'float32',
                                                 fp16_error=err))
                        taps_info[key]['calls'].append(dict(
                            elements=elements, sequence=not torch.is_tensor(value)))
                if len(calls) != len(taps_info[key]['calls']):
                    raise TeacherCacheError(f'tap {tap_name!r} recorded {len(calls)} calls '
                                            f'here and {len(taps_info[key]["calls"])} '
                                            f'on the first batch')
                for c, value in enumerate(calls):
                    for e, x in enumerate(_elements(value)):
                        arr = arrays[(name, key, c, e)]
                        if tuple(x.shape[1:]) != arr.shape[2:]:
                            raise TeacherCacheError(
                                f'tap {tap_name!r} has shape {tuple(x.shape[1:])} on this '
                                f'batch and {arr.shape[2:]} on the first: the inputs vary '
                                f'in size (padding to the batch), which a per-sample '
                                f'cache cannot hold. Use a fixed-size pipeline.')
                        x = x.detach().float().cpu().numpy()
                        if arr.dtype == np.float16 and np.abs(x).max(initial=0) >= FP16_MAX:
                            raise TeacherCacheError(
                                f'tap {tap_name!r} exceeds the float16 range on a later '
                                f'batch; make the cache with --dtype float32')
                        arr[index, view] = x
        done += len(samples)
        if log and (done // batch_size) % 20 == 0:
            log(f'cached {done}/{n * views} views')
    missing = sum(r is None for rec in records for r in rec)
    if missing:
        raise TeacherCacheError(f'{missing} views were not produced')
    for arr in arrays.values():
        arr.flush()
    with open(osp.join(cache_dir, 'views.json'), 'w') as f:
        json.dump(records, f)
    meta = dict(version=CACHE_VERSION, num_samples=n, views=views, seed=seed,
                teachers=meta_teachers,
                bytes=int(sum(a.nbytes for a in arrays.values())))
    with open(osp.join(cache_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    return meta
