"""Integrity checks of a distillation run: finite losses, unchanged frozen teachers.

- :func:`check_finite_losses` runs on every training step's loss dict, *before* the
  backward pass and the optimizer step, so a NaN/Inf never reaches the weights (and so
  never reaches a checkpoint): the run stops with the loss's name and the iteration.
- :func:`state_hash` fingerprints a model's weights and buffers; a distiller takes its
  frozen teachers' fingerprints at build and :class:`mmkd.TeacherHashHook` checks them
  at every checkpoint and after training.
"""
import hashlib
from typing import Dict, Mapping, Optional

import torch


class NonFiniteLossError(FloatingPointError):
    """A loss of a training step is NaN or infinite."""


class TeacherChangedError(RuntimeError):
    """A frozen teacher's weights or buffers differ from those it was built with."""


def _tensors(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, torch.Tensor)]
    return []


def check_finite_losses(losses: Mapping[str, object], iteration: int,
                        where: str = 'the distiller') -> None:
    """Raise :class:`NonFiniteLossError` naming every non-finite ``loss*`` entry.

    One host synchronisation per step: the finiteness of all entries is reduced on the
    device and read once; the names are only looked up when something is wrong.
    """
    named = [(k, t) for k, v in losses.items() if 'loss' in k for t in _tensors(v)]
    if not named:
        return
    flags = torch.stack([torch.isfinite(t.detach()).all() for _, t in named])
    if bool(flags.all()):
        return
    bad = sorted({k for (k, _), ok in zip(named, flags.tolist()) if not ok})
    values = {k: _describe(losses[k]) for k in losses if 'loss' in k}
    raise NonFiniteLossError(
        f'{where}: loss {", ".join(repr(k) for k in bad)} is not finite at iteration '
        f'{iteration} (losses: {values}). The step was stopped before the backward pass '
        f'and the optimizer update, so the weights and the last saved checkpoint are '
        f'intact; resume from it with a lower learning rate, gradient clipping '
        f'(optim_wrapper.clip_grad) or a smaller loss weight.')


def _describe(value) -> str:
    ts = _tensors(value)
    if not ts:
        return repr(value)
    vals = [t.detach().float().mean().item() if t.numel() else float('nan') for t in ts]
    return f'{vals[0]:.4g}' if len(vals) == 1 else '[' + ', '.join(
        f'{v:.4g}' for v in vals) + ']'


def state_hash(state: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 of a state dict: names, shapes and values (floating tensors as float32,
    so the fingerprint does not depend on device, memory format or a float32/64 copy).
    """
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name]
        if not isinstance(t, torch.Tensor):
            continue
        t = t.detach()
        if t.is_floating_point():
            t = t.to('cpu', torch.float32)
        t = t.to('cpu').contiguous()
        h.update(f'{name}:{tuple(t.shape)}:{t.dtype};'.encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def verify_hashes(expected: Dict[str, str], current: Dict[str, str],
                  when: str, hint: Optional[str] = None) -> None:
    changed = {n: (expected[n][:12], current.get(n, 'missing')[:12])
               for n in expected if current.get(n) != expected[n]}
    if changed:
        detail = '; '.join(f'teacher {n!r}: {a} -> {b}' for n, (a, b) in changed.items())
        raise TeacherChangedError(
            f'frozen teacher weights changed {when} ({detail}). '
            + (hint or 'Something updated a frozen teacher: check that no optimizer, '
               'hook or in-place operation touches the teacher\'s parameters or '
               'buffers.'))
