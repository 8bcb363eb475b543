"""A seeded, class-balanced subset of any classification dataset: few-label training.

The few-label setting is where distillation pays off most clearly: a teacher trained on
every labelled sample passes on what a student that sees only ``per_class`` labels per
class cannot learn alone (``configs/kd/README.md``: MSTAR-10 with 30 chips per class,
and the demo's synthetic chips with 10).
"""
import copy
import random
from collections import defaultdict
from typing import List, Optional, Union

from mmengine.dataset import BaseDataset

from mmkd.registry import DATASETS


@DATASETS.register_module()
class ClassSubsetDataset:
    """``per_class`` samples of each class of ``dataset``, drawn with ``seed``.

    The draw is made once, on the wrapped dataset's sorted sample order, so the same
    ``(per_class, seed)`` gives the same samples on every machine, and a baseline and a
    distilled student given the same pair read the same labelled chips. The subset keeps
    the wrapped dataset's order (no shuffling here; the sampler shuffles).

    Example (the demo's few-label student)::

        train_dataloader = dict(dataset=dict(
            type='mmkd.ClassSubsetDataset', per_class=10, seed=0,
            dataset=dict(type='CustomDataset', data_root='data/synthetic_sar',
                         data_prefix='train', pipeline=train_pipeline)))

    Args:
        dataset (dict | BaseDataset): the dataset to draw from; it must give each
            sample's label through ``get_cat_ids(idx)`` (every mmpretrain dataset does).
        per_class (int): samples kept per class (>= 1).
        seed (int, optional): the draw's seed; ``None`` keeps the first ``per_class``
            samples of each class.
        lazy_init (bool): defer loading the annotations (and the draw) to the first
            ``full_init()``, as mmengine's wrappers do.

    Raises:
        ValueError: a class with fewer than ``per_class`` samples (named, with its count).
    """

    def __init__(self, dataset: Union[BaseDataset, dict], per_class: int,
                 seed: Optional[int] = 0, lazy_init: bool = False):
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if not isinstance(dataset, BaseDataset):
            raise TypeError(f'ClassSubsetDataset: `dataset` must be a dataset config or '
                            f'an mmengine BaseDataset, got {type(dataset).__name__}')
        if int(per_class) < 1:
            raise ValueError(f'ClassSubsetDataset: per_class must be >= 1, got {per_class}')
        self.dataset, self.per_class, self.seed = dataset, int(per_class), seed
        self._metainfo = dataset.metainfo
        self.indices: List[int] = []
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    def full_init(self):
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self.indices = self.draw()
        self._fully_initialized = True

    def draw(self) -> List[int]:
        """The kept indices of the wrapped dataset, in its order."""
        by_class = defaultdict(list)
        for idx in range(len(self.dataset)):
            for cat in set(self.dataset.get_cat_ids(idx)):
                by_class[int(cat)].append(idx)
        classes = self._metainfo.get('classes')
        short = {c: len(v) for c, v in by_class.items() if len(v) < self.per_class}
        if short:

            def name(c):
                return f'{classes[c]!r} ({c})' if classes and c < len(classes) else str(c)

            detail = ', '.join(f'{name(c)}: {n}' for c, n in sorted(short.items()))
            root = getattr(self.dataset, 'data_root', '') or ''
            raise ValueError(f'ClassSubsetDataset: per_class={self.per_class} but '
                             f'{len(short)} class(es) of the dataset at {root!r} have '
                             f'fewer samples ({detail}); lower per_class')
        rng = random.Random(self.seed)
        kept = []
        for cat in sorted(by_class):
            pool = by_class[cat]
            kept += (pool[:self.per_class] if self.seed is None
                     else rng.sample(pool, self.per_class))
        return sorted(kept)

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(self.indices[idx])

    def get_cat_ids(self, idx: int) -> List[int]:
        return self.dataset.get_cat_ids(self.indices[idx])

    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self.indices)
