"""Teacher caches, the writing side: run a distiller's frozen teachers once per stored view.

:func:`write_teacher_cache` (what ``tools/misc/cache_teacher.py`` runs) draws ``views``
views of every sample through :class:`mmkd.datasets.TeacherCacheDataset`, runs the
frozen teachers on them as a training step does
(:meth:`mmkd.models.distillers.Distiller.teacher_features`) and stores what their taps
that a loss or connector reads record, one memory-mapped array per stored tensor. The
format and the layout are described in :mod:`mmkd.datasets.teacher_cache_dataset`; the
reader is :class:`mmkd.models.distillers.teacher_cache.TeacherCache`.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log

from mmkd.datasets.teacher_cache_dataset import (
    CACHE_VERSION,
    TeacherCacheDataset,
    TeacherCacheError,
)
from mmkd.models.distillers.teacher_cache import tap_key

FP16_MAX = float(np.finfo(np.float16).max)
DTYPES = ('auto', 'float16', 'float32')


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
    log = log or (lambda msg: print_log(msg, logger='current'))
    names = _teachers_to_cache(distiller, teachers, dtype)
    _mark_incomplete(cache_dir)
    wrapped = TeacherCacheDataset(dataset, None, views, seed, verify=False)
    loader = torch.utils.data.DataLoader(
        _Views(wrapped), batch_size=batch_size, shuffle=False, num_workers=num_workers,
        collate_fn=collate_fn or pseudo_collate)
    writer = _CacheWriter(cache_dir, len(wrapped), views, dtype, max_rel_err)
    meta_teachers = {name: _teacher_meta(distiller, name) for name in names}
    distiller.eval()
    done = 0
    for batch in loader:
        done += writer.add_batch(distiller, distiller.data_preprocessor(batch, True),
                                 meta_teachers)
        if log and (done // batch_size) % 20 == 0:
            log(f'cached {done}/{len(wrapped) * views} views')
    return writer.finish(meta_teachers, seed)


def check_cacheable(distiller) -> None:
    """Refuse configs whose teacher input depends on the batch."""
    pre = distiller.data_preprocessor
    augments = [m for m in pre.modules() if getattr(m, 'batch_augments', None)]
    if augments:
        raise TeacherCacheError(
            'the data preprocessor has batch augmentations (Mixup/CutMix): the teacher\'s '
            'input depends on which samples share a batch, so its outputs cannot be '
            'cached per sample. Train with the online teacher, or drop batch_augments.')


def fp16_error(x: torch.Tensor) -> dict:
    """Largest absolute and relative (to the largest magnitude) error of storing ``x``
    in float16, and whether it overflows."""
    x = x.detach().float()
    peak = x.abs().max().item() if x.numel() else 0.
    err = (x.half().float() - x).abs().max().item() if x.numel() else 0.
    return dict(max_abs=peak, abs_err=err, rel_err=err / peak if peak else 0.,
                overflow=peak >= FP16_MAX)


# ------------------------------------------------------------------------ the steps
def _teachers_to_cache(distiller, teachers: Optional[Sequence[str]], dtype: str) -> list:
    """The frozen teachers to cache (default: all), after the checks of the request."""
    check_cacheable(distiller)
    names = list(teachers or distiller.frozen_teacher_names)
    unknown = [n for n in names if n not in distiller.frozen_teacher_names]
    if unknown or not names:
        raise TeacherCacheError(f'no frozen teacher {unknown or ""} to cache; the config '
                                f'has frozen teachers {distiller.frozen_teacher_names}')
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be 'auto', 'float16' or 'float32', got {dtype!r}")
    return names


def _mark_incomplete(cache_dir: str) -> None:
    """Create ``cache_dir``; a meta.json in it goes (the cache is incomplete until the
    new one is written, last)."""
    os.makedirs(cache_dir, exist_ok=True)
    if osp.isfile(osp.join(cache_dir, 'meta.json')):
        os.remove(osp.join(cache_dir, 'meta.json'))


def _teacher_meta(distiller, name: str) -> dict:
    """A teacher's entry in meta.json; ``taps`` fills on the first batch."""
    cfg = distiller.teacher_cfgs[name]
    return dict(hash=distiller.teacher_hashes[name], checkpoint=cfg.get('checkpoint'),
                input=cfg.get('input'), taps={})


class _Views(torch.utils.data.Dataset):
    """Flat index ``j`` -> view ``j % views`` of sample ``j // views``."""

    def __init__(self, wrapped: TeacherCacheDataset):
        self.wrapped = wrapped

    def __len__(self):
        return len(self.wrapped) * self.wrapped.views

    def __getitem__(self, j):
        return self.wrapped.get_view(j // self.wrapped.views, j % self.wrapped.views)


class _CacheWriter:
    """The memory-mapped arrays and the view records of a cache being written.

    An array per (teacher, tap key, module call, tensor of the call), created on the
    first batch with that batch's shape and the dtype the ``dtype`` policy picks;
    every batch writes its rows ``[sample index, view]``."""

    def __init__(self, cache_dir: str, num_samples: int, views: int, dtype: str,
                 max_rel_err: float):
        self.cache_dir, self.num_samples, self.views = cache_dir, num_samples, views
        self.dtype, self.max_rel_err = dtype, max_rel_err
        self.records: List[List[Optional[dict]]] = [[None] * views
                                                    for _ in range(num_samples)]
        self.arrays: Dict[tuple, np.ndarray] = {}

    def add_batch(self, distiller, data: dict, meta_teachers: Dict[str, dict]) -> int:
        """Store one preprocessed batch's teacher features; returns its size."""
        samples = data['data_samples']
        index = np.array([s.metainfo['cache_index'] for s in samples])
        view = np.array([s.metainfo['cache_view'] for s in samples])
        for s, i, v in zip(samples, index, view):
            self.records[i][v] = s.metainfo['cache_record']
        for name, meta in meta_teachers.items():
            feats = distiller.teacher_features(name, data['inputs'], samples)
            for tap_name, calls in feats.items():
                key = tap_key(distiller.recorder.taps[tap_name])
                if key not in meta['taps']:
                    meta['taps'][key] = dict(calls=[self._open(name, key, c, value)
                                                    for c, value in enumerate(calls)])
                self._write(name, key, tap_name, calls, meta['taps'][key], index, view)
        return len(samples)

    def _open(self, teacher: str, key: str, call: int, value) -> dict:
        """The arrays of one module call of a tap; its entry in meta.json."""
        elements = [self._open_array(teacher, (teacher, key, call, e), x)
                    for e, x in enumerate(_elements(value))]
        return dict(elements=elements, sequence=not torch.is_tensor(value))

    def _open_array(self, teacher: str, array_key: tuple, x: torch.Tensor) -> dict:
        err = fp16_error(x)
        use16 = self.dtype == 'float16' or (
            self.dtype == 'auto' and err['rel_err'] <= self.max_rel_err
            and err['max_abs'] * 16 < FP16_MAX)
        fname = f'{len(self.arrays):03d}.npy'
        shape = (self.num_samples, self.views) + tuple(x.shape[1:])
        os.makedirs(osp.join(self.cache_dir, teacher), exist_ok=True)
        self.arrays[array_key] = np.lib.format.open_memmap(
            osp.join(self.cache_dir, teacher, fname), mode='w+',
            dtype=np.float16 if use16 else np.float32, shape=shape)
        return dict(file=fname, shape=list(x.shape[1:]),
                    dtype='float16' if use16 else 'float32', fp16_error=err)

    def _write(self, teacher: str, key: str, tap_name: str, calls: list, info: dict,
               index: np.ndarray, view: np.ndarray) -> None:
        if len(calls) != len(info['calls']):
            raise TeacherCacheError(f'tap {tap_name!r} recorded {len(calls)} calls '
                                    f'here and {len(info["calls"])} on the first batch')
        for c, value in enumerate(calls):
            for e, x in enumerate(_elements(value)):
                arr = self.arrays[(teacher, key, c, e)]
                if tuple(x.shape[1:]) != arr.shape[2:]:
                    raise TeacherCacheError(
                        f'tap {tap_name!r} has shape {tuple(x.shape[1:])} on this batch '
                        f'and {arr.shape[2:]} on the first: the inputs vary in size '
                        f'(padding to the batch), which a per-sample cache cannot hold. '
                        f'Use a fixed-size pipeline.')
                x = x.detach().float().cpu().numpy()
                if arr.dtype == np.float16 and np.abs(x).max(initial=0) >= FP16_MAX:
                    raise TeacherCacheError(
                        f'tap {tap_name!r} exceeds the float16 range on a later batch; '
                        f'make the cache with --dtype float32')
                arr[index, view] = x

    def finish(self, meta_teachers: Dict[str, dict], seed: int) -> dict:
        """Flush the arrays, write views.json, then meta.json (last); return the meta."""
        missing = sum(r is None for rec in self.records for r in rec)
        if missing:
            raise TeacherCacheError(f'{missing} views were not produced')
        for arr in self.arrays.values():
            arr.flush()
        with open(osp.join(self.cache_dir, 'views.json'), 'w') as f:
            json.dump(self.records, f)
        meta = dict(version=CACHE_VERSION, num_samples=self.num_samples, views=self.views,
                    seed=seed, teachers=meta_teachers,
                    bytes=int(sum(a.nbytes for a in self.arrays.values())))
        with open(osp.join(self.cache_dir, 'meta.json'), 'w') as f:
            json.dump(meta, f, indent=1)
        return meta


def _elements(value) -> List[torch.Tensor]:
    if torch.is_tensor(value):
        return [value]
    if isinstance(value, (list, tuple)) and all(torch.is_tensor(v) for v in value):
        return list(value)
    raise TeacherCacheError(f'a tap records {type(value).__name__}; only tensors and '
                            f'tuples of tensors can be cached')
