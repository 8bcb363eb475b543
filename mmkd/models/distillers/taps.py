"""Taps: features captured from any module of any model by its path, with forward hooks.

A tap is written ``'<model>.<module path>'`` (``'student.backbone.layer3'``,
``'teacher.neck'``), optionally with an index into a tuple/list output
(``'teacher.neck[0]'``), or as a dict ``dict(model=..., path=..., io='output'|'input',
index=None)``. ``io='input'`` captures the module's first positional input (e.g. the
pre-activation of a block, or what a classifier's ``fc`` receives).

Hooks live only inside :meth:`TapRecorder.recording`, so validation, testing, export and
any later use of the models see no hook. A module called several times in one forward
(a detection head shared across FPN levels) records a list, one entry per call.
"""
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, Optional, Union

import torch.nn as nn

from .model_config import close_matches

_INDEX = re.compile(r'^(.*)\[(-?\d+)\]$')


@dataclass
class Tap:
    name: str
    model: str
    path: str
    io: str = 'output'
    index: Optional[int] = None


def parse_tap(name: str, spec: Union[str, dict]) -> Tap:
    if isinstance(spec, str):
        index = None
        m = _INDEX.match(spec)
        if m:
            spec, index = m.group(1), int(m.group(2))
        model, _, path = spec.partition('.')
        if not path:
            raise ValueError(f"tap {name!r}: {spec!r} names no module; write "
                             f"'<model>.<module path>', e.g. 'student.backbone.layer3'")
        return Tap(name, model, path, 'output', index)
    if isinstance(spec, dict):
        unknown = set(spec) - {'model', 'path', 'io', 'index'}
        if unknown or 'model' not in spec or 'path' not in spec:
            raise ValueError(f'tap {name!r}: a dict tap has keys model, path and optional '
                             f'io, index; got {sorted(spec)}')
        io = spec.get('io', 'output')
        if io not in ('output', 'input'):
            raise ValueError(f"tap {name!r}: io must be 'output' or 'input', got {io!r}")
        return Tap(name, spec['model'], spec['path'], io, spec.get('index'))
    raise TypeError(f'tap {name!r}: expected a string or dict, got {type(spec)}')


class TapRecorder:
    """Resolves taps against the models at build time and records them during a step."""

    def __init__(self, taps: Dict[str, Union[str, dict]], models: Dict[str, nn.Module]):
        self.taps = {name: parse_tap(name, spec) for name, spec in (taps or {}).items()}
        self.modules: Dict[str, nn.Module] = {}
        for tap in self.taps.values():
            if tap.model not in models:
                raise KeyError(f'tap {tap.name!r} reads model {tap.model!r}, but the '
                               f'distiller has models {sorted(models)}')
            named = dict(models[tap.model].named_modules())
            if tap.path not in named:
                near = close_matches(tap.path, [k for k in named if k])
                hint = f' Did you mean {near}?' if near else ''
                raise KeyError(f'tap {tap.name!r}: model {tap.model!r} has no module '
                               f'{tap.path!r}.{hint}')
            self.modules[tap.name] = named[tap.path]
        self.records: Dict[str, list] = {}

    def _hook(self, tap: Tap):
        def hook(module, args, output):
            value = args[0] if tap.io == 'input' else output
            if tap.index is not None:
                try:
                    value = value[tap.index]
                except (IndexError, TypeError, KeyError):
                    n = len(value) if isinstance(value, (list, tuple)) else 'not a sequence'
                    raise IndexError(f'tap {tap.name!r}: index [{tap.index}] into the '
                                     f'{tap.io} of {tap.model}.{tap.path} ({n} items)'
                                     ) from None
            self.records.setdefault(tap.name, []).append(value)
        return hook

    @contextmanager
    def recording(self):
        """Register the hooks, yield, and always remove them again."""
        self.records = {}
        handles = [self.modules[name].register_forward_hook(self._hook(tap))
                   for name, tap in self.taps.items()]
        try:
            yield self
        finally:
            for h in handles:
                h.remove()

    def taps_of(self, model: str) -> Dict[str, Tap]:
        """The taps that read ``model``."""
        return {n: t for n, t in self.taps.items() if t.model == model}

    def records_of(self, model: str) -> Dict[str, list]:
        """What the taps that read ``model`` recorded (tap name -> one value per call)."""
        return {n: self.records[n] for n in self.taps_of(model) if n in self.records}

    def features(self, skip=(), records: Optional[Dict[str, list]] = None) -> dict:
        """name -> value (a list when the module ran several times) of ``records``
        (default: what the hooks recorded). ``skip``: taps not expected to record (a
        cached teacher's taps that no loss reads)."""
        records = self.records if records is None else records
        missing = [n for n in self.taps if n not in records and n not in skip]
        if missing:
            where = {n: f'{self.taps[n].model}.{self.taps[n].path}' for n in missing}
            raise RuntimeError(f'taps {where} recorded nothing: those modules did not run '
                               f'in the forward pass used for distillation')
        return {n: v[0] if len(v) == 1 else v for n, v in records.items()}
