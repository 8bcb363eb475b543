"""Loading mmengine checkpoints under torch >= 2.6.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10.7 calls
``torch.load`` without that argument, and its training checkpoints pickle more than
tensors (the message hub's history buffers, numpy scalars, the config as meta), so
``--resume`` and ``load_from`` fail with an ``UnpicklingError``.

The fix is scoped to mmengine's own extension point: :class:`CheckpointLoader` lets a
package register the loader for a path prefix. mmkd re-registers the loader for
*local files* (the empty prefix) to call ``torch.load(..., weights_only=False)``. Nothing
else changes: ``torch.load`` elsewhere, URLs and other schemes keep torch's default.

Unpickling runs code, so only load checkpoints you trust (your own runs). Set
``MMKD_SAFE_CHECKPOINTS=1`` to keep torch's safe default (then resuming mmengine training
checkpoints will fail, but exported students, which hold only tensors and plain
metadata, still load).
"""
import os
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader

_REGISTERED = False


def load_from_trusted_local(filename, map_location=None):
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename!r} does not exist')
    return torch.load(filename, map_location=map_location, weights_only=False)


def register_trusted_local_loader():
    """Make mmengine load local checkpoints with ``weights_only=False`` (idempotent)."""
    global _REGISTERED
    if _REGISTERED or os.environ.get('MMKD_SAFE_CHECKPOINTS') == '1':
        return
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_trusted_local, force=True)
    _REGISTERED = True
