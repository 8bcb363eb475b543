"""A modality made of several single-band files, as Copernicus products and most public
remote-sensing sets ship them (Sentinel-1 VV and VH, Sentinel-2 B4, B3, B2).

A paired dataset's ``folders`` entry for one modality may be:

- a folder (``'SAR'``): one file per sample, as before;
- a list of folders, one per band (``['S1/vv', 'S1/vh']``): files matched by id in
  each (the id from ``id_patterns[modality]`` or the file stem), stacked in the order
  listed;
- a dict with a band pattern, torchgeo-style: ``dict(folder='S2', pattern=
  r'(?P<id>T\\w+_\\d{8})_B{band}\\.tif', bands=['04', '03', '02'])``: ``{band}`` in the
  regex stands for each entry of ``bands``; files whose other parts agree (the
  ``id`` group, or the whole name with the band replaced) are one sample, stacked in
  the order of ``bands``.

The sample's ``img_path[modality]`` is then the list of band files, which
``mmkd.LoadMultiModalImages`` reads and stacks. A sample that lacks one band file is
never read with fewer bands: the dataset raises :class:`MissingBandError` naming the
file that is missing (``on_unpaired='skip'`` drops and counts such samples instead).
A band that *no* file matches (a band pattern or band name that does not fit the
file names, an empty band folder) is a config error, raised whatever ``on_unpaired``
says, naming the pattern, the folder and the names it holds.

A named group ``date`` in ``id_patterns[modality]`` or the band pattern gives the
acquisition date used when pairing by footprint (:mod:`mmkd.datasets.georef`).
"""
import os
import os.path as osp
import re
from typing import Callable, Dict, List, Optional, Union

IdFn = Callable[[str], Optional[str]]
Scan = Callable[[str, IdFn], Dict[str, str]]


class MissingBandError(FileNotFoundError):
    """A sample of a multi-file modality lacks one of its band files."""


def match_id(pattern: Optional['re.Pattern'], filename: str) -> Optional[str]:
    """The pairing id of ``filename``: the ``id`` group of ``pattern`` if it has one,
    else its first group; the file stem without a pattern; None when it does not
    match."""
    if pattern is None:
        return osp.splitext(filename)[0]
    m = pattern.fullmatch(filename) or pattern.search(filename)
    if m is None:
        return None
    if 'id' in pattern.groupindex:
        return m.group('id')
    return m.group(1) if pattern.groups else m.group(0)


class BandSpec:
    """One modality's ``folders`` entry (see the module docstring)."""

    def __init__(self, modality: str, spec, id_pattern: Optional[str] = None):
        self.modality = modality
        self.id_pattern = re.compile(id_pattern) if isinstance(id_pattern, str) \
            else id_pattern
        self.pattern = None
        self.bands: Optional[List[str]] = None
        where = f'folders[{modality!r}]'
        if isinstance(spec, str):
            self.folders = [spec]
        elif isinstance(spec, (list, tuple)):
            if not spec or not all(isinstance(f, str) for f in spec):
                raise TypeError(f'{where}: a list of band folders must hold folder names '
                                f'(str), got {spec!r}')
            self.folders = list(spec)
            self.bands = [f.rstrip('/').split('/')[-1] for f in spec]
        elif isinstance(spec, dict):
            unknown = sorted(set(spec) - {'folder', 'pattern', 'bands'})
            if unknown or not all(k in spec for k in ('folder', 'pattern', 'bands')):
                raise TypeError(f'{where}: a band pattern is dict(folder=..., pattern='
                                f"r'..._B{{band}}\\.tif', bands=[...]), got keys "
                                f'{sorted(spec)}')
            if '{band}' not in spec['pattern']:
                raise ValueError(f"{where}: the pattern {spec['pattern']!r} has no "
                                 f'{{band}} placeholder for the band name')
            if not spec['bands']:
                raise ValueError(f'{where}: bands is empty')
            self.folders = [spec['folder']]
            self.pattern_text = spec['pattern']
            self.bands = [str(b) for b in spec['bands']]
            alts = '|'.join(re.escape(b) for b in sorted(self.bands, key=len,
                                                          reverse=True))
            self.pattern = re.compile(spec['pattern'].replace('{band}',
                                                              f'(?P<band>{alts})'))
        else:
            raise TypeError(f'{where} must be a folder (str), a list of band folders or '
                            f"dict(folder=, pattern=, bands=), got {type(spec).__name__}")

    @property
    def multi(self) -> bool:
        return self.bands is not None

    def date_pattern(self) -> Optional['re.Pattern']:
        for p in (self.pattern, self.id_pattern):
            if p is not None and 'date' in p.groupindex:
                return p
        return None

    def _band_id(self, band: str) -> IdFn:
        pattern = self.pattern

        def id_fn(filename: str) -> Optional[str]:
            m = pattern.fullmatch(filename) or pattern.search(filename)
            if m is None or m.group('band') != band:
                return None
            if 'id' in pattern.groupindex:
                return m.group('id')
            s, e = m.span('band')
            return filename[:s] + '{band}' + filename[e:]
        return id_fn

    def expected_file(self, present: str, band_index: int) -> str:
        """The file a missing band should have, from a present band's file."""
        if self.pattern is not None:
            name = osp.basename(present)
            m = self.pattern.fullmatch(name) or self.pattern.search(name)
            s, e = m.span('band')
            return osp.join(osp.dirname(present),
                            name[:s] + self.bands[band_index] + name[e:])
        return self.folders[band_index]

    def scan(self, scan: Scan, abs_fn: Callable[[str], str], pair_id: IdFn):
        """``(id -> path or [band paths], id -> message for samples missing a band)``.

        ``scan(folder, id_fn)`` is the dataset's own folder scanner (``id -> path``),
        ``pair_id`` its id of a file name (for one folder, or one folder per band).
        """
        if not self.multi:
            return scan(self.folders[0], pair_id), {}
        per_band = []
        for i, band in enumerate(self.bands):
            if self.pattern is not None:
                per_band.append(scan(self.folders[0], self._band_id(band)))
            else:
                per_band.append(scan(self.folders[i], pair_id))
        self._check_every_band_matches(per_band, abs_fn)
        complete: Dict[str, Union[str, List[str]]] = {}
        incomplete: Dict[str, str] = {}
        for key in sorted(set().union(*per_band)):
            have = [i for i, found in enumerate(per_band) if key in found]
            if len(have) == len(self.bands):
                complete[key] = [found[key] for found in per_band]
                continue
            present = per_band[have[0]][key]
            lacking = [i for i in range(len(self.bands)) if i not in have]
            if self.pattern is not None:
                missing = ', '.join(repr(self.expected_file(present, i)) for i in lacking)
                what = f'band file {missing} is missing'
            else:
                missing = ', '.join(f'{self.bands[i]!r} (no file with id {key!r} in '
                                    f'{abs_fn(self.folders[i])!r})' for i in lacking)
                what = f'band {missing} is missing'
            incomplete[key] = (f'modality {self.modality!r}: {what}; the sample has '
                               f'{present} (band {self.bands[have[0]]!r})')
        return complete, incomplete

    def _check_every_band_matches(self, per_band: List[Dict[str, str]],
                                  abs_fn: Callable[[str], str]) -> None:
        """A band that no file matches is a config error (a wrong pattern, band name or
        folder), not a few incomplete samples: raise whatever ``on_unpaired`` says,
        since skipping would drop every sample."""
        empty = [i for i, found in enumerate(per_band) if not found]
        if not empty:
            return
        where = f'modality {self.modality!r}'
        if self.pattern is not None:
            folder = abs_fn(self.folders[0])
            if len(empty) == len(self.bands):
                names = _some_files(folder)
                raise MissingBandError(
                    f"{where}: the band pattern r'{self.pattern_text}' with bands "
                    f'{self.bands} matches no file in {folder!r} (it holds '
                    f'{names or "no file"}); fix '
                    f'pattern= or bands= in folders[{self.modality!r}] so that '
                    f'{{band}} stands for the band part of these names')
            have = next(i for i in range(len(self.bands)) if i not in empty)
            example = sorted(per_band[have].values())[0]
            raise MissingBandError(
                f'{where}: no file in {folder!r} matches band {self.bands[empty[0]]!r} '
                f"of the band pattern r'{self.pattern_text}', while band "
                f'{self.bands[have]!r} matches {len(per_band[have])} file(s) such as '
                f'{osp.basename(example)!r} (band {self.bands[empty[0]]!r} would be '
                f'{osp.basename(self.expected_file(example, empty[0]))!r}); fix bands= '
                f'in folders[{self.modality!r}] or add the band\'s files')
        folder = abs_fn(self.folders[empty[0]])
        raise MissingBandError(
            f'{where}: the band folder {folder!r} (band {self.bands[empty[0]]!r}) '
            f'holds no image file' + (f' matching id_patterns[{self.modality!r}]'
                                      if self.id_pattern is not None else '')
            + f'; fix folders[{self.modality!r}] or add the band\'s files')


def _some_files(folder: str, n: int = 3) -> List[str]:
    """The first ``n`` file names under ``folder`` (sub-folders too), for messages."""
    out: List[str] = []
    for dirpath, dirs, files in os.walk(folder):
        dirs.sort()
        out += [osp.relpath(osp.join(dirpath, f), folder) for f in sorted(files)]
        if len(out) >= n:
            break
    return out[:n]


def count_incomplete(incomplete: Dict[str, str], modality: str, on_unpaired: str,
                     skipped: Dict[str, int]) -> None:
    """Raise for the first sample missing a band file (``on_unpaired='error'``) or
    count such samples in ``skipped`` (the paired datasets' shared rule)."""
    for message in incomplete.values():
        if on_unpaired == 'error':
            raise MissingBandError(f"{message}; fix the data or set on_unpaired="
                                   f"'skip' to drop such samples (they are counted "
                                   f"and logged)")
        key = f'{modality} (missing a band file)'
        skipped[key] = skipped.get(key, 0) + 1
