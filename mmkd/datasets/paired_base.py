"""What the paired datasets share: finding each modality's files, pairing them by key,
and one rule for a sample whose partner is missing.

:class:`PairedClsDataset`, :class:`PairedSegDataset` (and through it
:class:`PairedSceneWindowDataset`) mix in :class:`PairedFilesMixin`;
:class:`PairedCocoDataset`, whose files are named by the COCO entries, uses
:func:`scan_folder` for the folders it searches by footprint and
:func:`unpaired_message` for its errors.

- **Scanning** (:func:`scan_folder`): the image files of one folder (or its sub-folders
  too), ``key -> path``, the key being the file's pairing id (``id_patterns`` or the
  file stem); two files with one key are an error naming both.
- **Pairing by key** (:meth:`PairedFilesMixin._pair_by_key`): a key that every modality
  has is a sample; a key some modality lacks is *unpaired*.
- **Unpaired samples**: ``on_unpaired='error'`` (default) raises
  :class:`UnpairedSampleError`, one error naming the file and the missing partner;
  ``'skip'`` drops the sample and counts it in ``skipped`` (logged once per build).

``skipped``, one meaning for every paired dataset: ``key -> number of samples left out``
while building, counted under **the modality whose file was left out**, i.e. the one
that *had* a file but no partner (``{'eo': 1}``: one EO image had no SAR partner; a mask
without its image counts under ``'mask'``). A reason other than a missing partner file
is named in parentheses after that modality or unit: ``'sar (missing a band file)'``,
``'sar (no eo footprint partner)'``, and the window dataset's
``'scenes (smaller than the window)'`` / ``'windows (nodata > max_nodata)'``. The counts
are those of the latest build (``load_data_list`` starts them at zero).
:class:`PairedCocoDataset` keeps its own log lines in ``notes`` (boxes dropped and
clipped too).
"""
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from mmengine.logging import print_log

from .band_files import count_incomplete, match_id

IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.npy')
ON_UNPAIRED = ('error', 'skip')


class UnpairedSampleError(FileNotFoundError):
    """A modality of a sample has no partner file."""


def check_on_unpaired(on_unpaired: str) -> str:
    if on_unpaired not in ON_UNPAIRED:
        raise ValueError(f"on_unpaired must be 'error' or 'skip', got {on_unpaired!r}")
    return on_unpaired


def first_file(paths) -> str:
    """A modality's file, or the first of its band files."""
    return paths if isinstance(paths, str) else paths[0]


def is_image_file(filename: str) -> bool:
    """Whether a file name is one the paired datasets read (GDAL's ``.aux.xml``
    side-car files are not)."""
    return filename.lower().endswith(IMG_EXTENSIONS) and not filename.endswith('.aux.xml')


def scan_folder(root: str, id_fn: Callable[[str], Optional[str]], what: str,
                recursive: bool = False,
                key_fn: Optional[Callable[[str, str], str]] = None,
                unique: bool = True, missing: str = '') -> Dict[str, str]:
    """``key -> path`` of the image files of ``root``.

    Args:
        root: The folder (absolute, or relative to the working directory).
        id_fn: File name -> pairing id, None to pass the file over.
        what: Names the folder in errors (``"modality 'eo'"``, ``'mask'``).
        recursive: Sub-folders too (in sorted order).
        key_fn: ``(sub-folder relative to root, id) -> key``; default: the id.
        unique: Two files with one key are an error naming both (else the later
            file in sorted order wins).
        missing: Added after the folder in the error for a missing folder.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'{what}: folder {root!r}{missing} does not exist')
    walk = os.walk(root) if recursive else [(root, [], os.listdir(root))]
    found: Dict[str, str] = {}
    for dirpath, dirs, files in walk:
        dirs.sort()
        for fn in sorted(files):
            if not is_image_file(fn):
                continue
            pid = id_fn(fn)
            if pid is None:
                continue
            key = key_fn(osp.relpath(dirpath, root), pid) if key_fn else pid
            if unique and key in found:
                raise ValueError(f'{what}: two files share the id {key!r}: {found[key]} '
                                 f'and {osp.join(dirpath, fn)}')
            found[key] = osp.join(dirpath, fn)
    return found


def unpaired_message(path, have: str, lacking: str, why: str = '',
                     noun: str = 'samples') -> str:
    """The one error for a file without its partner: ``<file> (<modality>) has no
    <partner> partner<why>; fix the data or set on_unpaired='skip' ...``."""
    return (f'{path} ({have}) has no {lacking} partner{why}; fix the data or set '
            f"on_unpaired='skip' to drop such {noun} (they are counted and logged)")


class PairedFilesMixin:
    """Scanning, pairing by key and the unpaired rule of the folder-based paired
    datasets (see the module docstring). The dataset sets ``modalities``,
    ``id_patterns`` (key -> compiled regex), ``band_specs`` (modality ->
    :class:`~mmkd.datasets.band_files.BandSpec`), ``on_unpaired`` and ``data_root``.
    """

    #: scan sub-folders too (class sub-folders of the classification layouts)
    scan_recursive = False
    modalities: Tuple[str, ...]
    on_unpaired: str
    skipped: Dict[str, int]

    def _abs(self, path: str) -> str:
        return path if osp.isabs(path) else osp.join(self.data_root, path)

    def _pair_id(self, key: str, filename: str) -> Optional[str]:
        return match_id(self.id_patterns.get(key), filename)

    def _scan_what(self, key: str) -> str:
        """How errors about ``key``'s folder name it."""
        return f'modality {key!r}'

    def _scan_key(self, subfolder: str, pid: str) -> str:
        return pid

    def _scan(self, key: str, folder: str, id_fn=None) -> Dict[str, str]:
        """``key -> path`` of the image files of one folder of ``key`` (a modality or
        ``'mask'``)."""
        return scan_folder(self._abs(folder), id_fn or (lambda fn: self._pair_id(key, fn)),
                           self._scan_what(key), recursive=self.scan_recursive,
                           key_fn=self._scan_key)

    def _scan_modality(self, m: str) -> Dict[str, object]:
        """``key -> path`` (or band paths) of one modality; samples missing a band file
        raise or are skipped (``on_unpaired``)."""
        found, incomplete = self.band_specs[m].scan(
            lambda folder, id_fn: self._scan(m, folder, id_fn), self._abs,
            lambda fn: self._pair_id(m, fn))
        count_incomplete(incomplete, m, self.on_unpaired, self.skipped)
        return found

    def _count_skipped(self, key: str, n: int = 1) -> None:
        self.skipped[key] = self.skipped.get(key, 0) + n

    def _unpaired(self, have: str, path, lacking: str, why: str = '',
                  key: Optional[str] = None, error=None) -> None:
        """A file of ``have`` without its ``lacking`` partner: raise (``'error'``) or
        count it under ``key``, by default ``have`` (``'skip'``)."""
        if self.on_unpaired == 'error':
            raise (error or UnpairedSampleError)(unpaired_message(path, have, lacking, why))
        self._count_skipped(key or have)

    def _pair_by_key(self, per_mod: Dict[str, Dict[str, object]],
                     keys: Sequence[str]) -> List[tuple]:
        """``(key, {modality: path(s)}, {})`` for each key every modality has; a key
        some modality lacks is unpaired (named by the first modality that has it)."""
        pairs = []
        for key in keys:
            have = [m for m in self.modalities if key in per_mod[m]]
            if len(have) != len(self.modalities):
                lacking = [m for m in self.modalities if m not in have]
                self._unpaired(have[0], per_mod[have[0]][key], lacking[0])
                continue
            pairs.append((key, {m: per_mod[m][key] for m in self.modalities}, {}))
        return pairs

    def _date_patterns(self) -> Dict[str, object]:
        """modality -> the regex whose ``date`` group dates its files (band pattern or
        ``id_patterns``), for pairing by footprint."""
        out = {}
        for m in self.modalities:
            spec = self.band_specs.get(m)
            p = spec.date_pattern() if spec else self.id_patterns.get(m)
            if p is not None and 'date' in p.groupindex:
                out[m] = p
        return out

    def _footprint_unpaired(self, ref: str, unpaired) -> None:
        """The ``(path, partner, reason)`` that pairing by footprint left unpaired."""
        for path, partner, reason in unpaired:
            self._unpaired(ref, path, partner, f' by footprint: {reason}',
                           key=f'{ref} (no {partner} footprint partner)')

    def _log_skipped(self) -> None:
        if self.skipped:
            print_log(f'{type(self).__name__}: skipped (per modality whose file was left '
                      f'out; see mmkd.datasets.paired_base): {self.skipped}',
                      logger='current', level=30)
