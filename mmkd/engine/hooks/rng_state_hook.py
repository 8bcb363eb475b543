"""Exact resumption: random number generator states and the position inside an epoch.

mmengine 0.10 checkpoints hold the weights, the optimizer, the schedulers and the
message hub, but not the random number generators: a resumed run draws other
augmentations (Python ``random``, NumPy), other dropout masks (torch) and, with a teacher
cache, other stored views than the uninterrupted run would have. And an epoch-based loop
always restarts an epoch from its first batch, so a checkpoint saved mid-epoch
(``CheckpointHook(by_epoch=False, interval=N)``) replays that epoch's first batches.

:class:`RNGStateHook` stores the RNG states in every checkpoint and, on resume, restores
them at the moment the uninterrupted run would have drawn its next batch, after skipping
(without loading them) the batches of the interrupted epoch that were already trained.
With ``randomness=dict(seed=..., deterministic=True)`` and ``num_workers=0``, the resumed
run's weights then equal the uninterrupted run's bit for bit
(``tests/test_engine/test_resilience.py`` kills a run with SIGKILL mid-epoch to check it).

What it cannot restore:

- **An unseeded run** (``randomness=dict(seed=None)``, mmengine's default): each process
  draws its own seed, and the data sampler is built with the new process's seed before
  the checkpoint is read, so the resumed epochs shuffle the data in another order than
  the interrupted run would have (mmengine then resets the global RNGs to the
  checkpoint's seed, and this hook restores their states, but the sampler keeps its
  own). :func:`warn_unseeded_resume` says so when such a run is resumed (this hook, and
  ``tools/train.py`` for configs without it).

- **Dataloader workers** (``num_workers > 0``): each worker has its own RNGs, seeded by
  mmengine from the seed and the worker id when the workers start. Batches of a resumed
  epoch are the same samples in the same order, but their random augmentations differ
  from the uninterrupted run's (the model side, in the main process, is restored).
- **Several processes**: the checkpoint is written by rank 0, so every rank restores rank
  0's states. That is exact when all ranks draw alike (mmengine's default
  ``diff_rank_seed=False`` seeds them equally and a pipeline with a fixed number of draws
  per sample keeps them equal); otherwise the resumed run is reproducible but not equal.
- Something that draws random numbers between a checkpoint and the next batch
  (a validation pipeline with random transforms, at an epoch-end checkpoint).
"""
import itertools
import logging
import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop

from mmkd.registry import HOOKS


def warn_unseeded_resume(seed, where: str) -> Optional[str]:
    """Log a warning when a run is resumed (from ``where``) with no seed; return it
    (None when ``seed`` is set)."""
    if seed is not None:
        return None
    msg = (f'resuming {where} with no seed set (randomness.seed is None): the resumed '
           f'run will not reproduce the uninterrupted one. This process drew a new '
           f'random seed, so the data sampler shuffles in another order (and '
           f'dataloader workers augment differently) than the interrupted run would '
           f'have. For exact resumption set a seed before the first run and keep it '
           f'when resuming: randomness=dict(seed=0) in the config, or --cfg-options '
           f'randomness.seed=0.')
    print_log(msg, logger='current', level=logging.WARNING)
    return msg


def get_rng_states() -> dict:
    states = dict(python=random.getstate(), numpy=np.random.get_state(),
                  torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return states


def set_rng_states(states: dict) -> None:
    random.setstate(states['python'])
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'].cpu())
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in states['cuda']])


class SkipFirstBatches:
    """A batch sampler wrapper that, on its next iteration only, skips ``n`` batches
    (indices only: nothing is loaded) and then calls ``on_start``, just before the first
    batch that is loaded. Later iterations pass through."""

    def __init__(self, batch_sampler, n: int, on_start=None):
        self.batch_sampler, self.skip, self.on_start = batch_sampler, n, on_start
        self._first = True

    def __iter__(self):
        if not self._first:
            self.skip = 0
        self._first = False
        return self._iterate(self.skip, self.on_start)

    def _iterate(self, n, on_start):
        it = iter(self.batch_sampler)  # a sampler's own draws come before the restore,
        for _ in itertools.islice(it, n):  # as they did at the start of the epoch
            pass
        if on_start is not None:
            self.on_start = None
            on_start()
        yield from it

    def __len__(self):
        return max(0, len(self.batch_sampler) - self.skip)

    def __getattr__(self, name):
        if name == 'batch_sampler':
            raise AttributeError(name)
        return getattr(self.batch_sampler, name)


def _install(loader, wrapper) -> None:
    # DataLoader forbids re-assigning batch_sampler after construction (a guard against
    # changing it mid-iteration); this happens before the epoch's iterator exists.
    loader._iterator = None
    object.__setattr__(loader, 'batch_sampler', wrapper)


class _ReplayedIterations:
    """Answers mmengine's "advance the dataloader" loop of an iteration-based resume
    with nothing, then delegates to an iterator already at the right position."""

    def __init__(self, iterator, skip_calls: int):
        self.iterator, self.skip_calls = iterator, skip_calls

    def __iter__(self):
        return self

    def __next__(self):
        if self.skip_calls:
            self.skip_calls -= 1
            return None
        return next(self.iterator)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save Python/NumPy/torch RNG states in checkpoints; on resume, restore them and
    continue mid-epoch from the next batch (see the module docstring for the limits).

    Use it with iteration-granular checkpoints to lose little work on a crash::

        default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False,
                                             interval=500))
        custom_hooks = [dict(type='mmkd.RNGStateHook')]
    """

    priority = 'LOWEST'  # before_train_epoch: the last thing before the first batch

    def __init__(self):
        self._pending = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_states'] = dict(states=get_rng_states(),
                                        world_size=get_world_size())

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):
            return  # load_from: new training from these weights, fresh random streams
        meta = checkpoint.get('meta') or {}
        # mmengine reads its seed from the config until resume() replaces it, after
        # this call, with the checkpoint's: None here means the config set none
        warn_unseeded_resume(runner._randomness_cfg.get('seed'),
                             f'at epoch {meta.get("epoch", "?")}, iteration '
                             f'{meta.get("iter", "?")}')
        self._pending = checkpoint.get('rng_states')
        if self._pending is None:
            print_log('RNGStateHook: the checkpoint holds no RNG states (saved without '
                      'this hook); the resumed run draws new random numbers',
                      logger='current', level=30)

    def before_train_epoch(self, runner) -> None:
        if self._pending is None:
            return
        saved, self._pending = self._pending, None
        states = saved['states']
        if saved.get('world_size', 1) > 1 or get_world_size() > 1:
            print_log('RNGStateHook: several processes; every rank restores rank 0\'s '
                      'RNG states', logger='current')
        loop, loader = runner.train_loop, runner.train_loop.dataloader
        if isinstance(loop, EpochBasedTrainLoop):
            done = runner.iter - runner.epoch * len(loader)
        elif isinstance(loop, IterBasedTrainLoop):
            sampler = getattr(loader.batch_sampler, 'sampler', loader.sampler)
            if type(sampler).__name__ == 'InfiniteSampler':
                epoch, done = 0, runner.iter
            else:
                epoch, done = divmod(runner.iter, len(loader))
                if hasattr(sampler, 'set_epoch'):
                    sampler.set_epoch(epoch)
        else:
            print_log(f'RNGStateHook: {type(loop).__name__} is neither epoch- nor '
                      f'iteration-based; RNG states restored at the epoch start',
                      logger='current', level=30)
            set_rng_states(states)
            return

        if done <= 0:
            set_rng_states(states)  # a boundary: before the epoch's loader iterator
        else:
            _install(loader, SkipFirstBatches(loader.batch_sampler, done,
                                              lambda: set_rng_states(states)))
            print_log(f'RNGStateHook: resuming mid-epoch: skipping the {done} batches '
                      f'already trained, RNG states restored', logger='current')
        if isinstance(loop, IterBasedTrainLoop):
            from mmengine.runner.loops import _InfiniteDataloaderIterator
            fresh = _InfiniteDataloaderIterator(loader)
            fresh._epoch = epoch
            loop.dataloader_iterator = _ReplayedIterations(fresh, runner.iter)
