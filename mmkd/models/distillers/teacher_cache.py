"""Teacher caches, the reading side: a cached teacher's stored tap outputs for a batch.

A teacher configured with ``cache=dict(dir=...)`` never runs: the distiller's
:class:`~mmkd.models.distillers.teachers.CachedTeacher` reads what its taps recorded
when the cache was written, through :class:`TeacherCache`, for the views
:class:`mmkd.datasets.TeacherCacheDataset` put in the batch. The format, the views and
the layout of a cache directory are described in
:mod:`mmkd.datasets.teacher_cache_dataset`; the writer is
:func:`mmkd.apis.write_teacher_cache`.
"""
import os.path as osp
from typing import Dict, Sequence, Tuple

import numpy as np
import torch

from mmkd.datasets.teacher_cache_dataset import TeacherCacheError, read_meta
from .taps import Tap


def tap_key(tap: Tap) -> str:
    """What a tap reads, independent of the name a config gives it."""
    index = '' if tap.index is None else f'[{tap.index}]'
    return f'{tap.path}:{tap.io}{index}'


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
        index, view = self._views_of(data_samples)
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

    def _views_of(self, data_samples: Sequence) -> Tuple[np.ndarray, np.ndarray]:
        """The sample indices and views of a batch (written by the dataset wrapper)."""
        try:
            index = np.array([s.metainfo['cache_index'] for s in data_samples])
            view = np.array([s.metainfo['cache_view'] for s in data_samples])
        except (KeyError, TypeError, AttributeError):
            raise TeacherCacheError(
                f'teacher {self.teacher!r} reads a cache but the batch carries no '
                f'cache_index/cache_view: wrap the training dataset in '
                f"dict(type='mmkd.TeacherCacheDataset', dataset=..., cache_dir="
                f"{self.cache_dir!r}) (the cache tool writes such a config)") from None
        return index, view
