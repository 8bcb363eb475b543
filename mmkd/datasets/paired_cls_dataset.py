"""Paired multimodal classification data: one image per modality, one label.

Three layouts, as users have them (``modalities`` names the keys, e.g. ``('eo', 'sar')``):

(a) an annotation file (``ann_file``): ``.json`` holding a list of
    ``{"eo": path, "sar": path, "label": int or class name}`` (label optional), or a text
    file with one sample per line: the paths in ``modalities`` order, then the label
    (optional), separated by whitespace or commas;
(b) one folder per modality with files matched by id (``folders=dict(eo='EO',
    sar='SAR')``, ``id_patterns=dict(eo=r'EO_(.+)\\.png', sar=r'SAR_(.+)\\.png')``: the
    NTIRE/PBVS challenge layout), labels from ``label_file`` (CSV ``id,label``) or absent;
(c) class sub-folders per modality (``folders`` as in (b), files inside
    ``<folder>/<class>/`` matched by ``id_patterns`` or by file stem); a folder is named
    by the class name or by the class index (the challenge's ``EO/0/``, ``EO/1/``).

A modality may be several single-band files (:mod:`mmkd.datasets.band_files`):
``folders=dict(sar=['S1/vv', 'S1/vh'], eo=dict(folder='S2', pattern=
r'(?P<id>.+)_B{band}\\.tif', bands=['04', '03', '02']))`` stacks VV, VH and B4, B3, B2
in that order; a missing band file is an error naming it. In layout (a) a JSON entry
may list band files (``"sar": ["vv/1.tif", "vh/1.tif"]``).

Georeferenced data may be paired by footprint and CRS instead of by name
(``pairing='footprint'`` or ``pairing=dict(by='footprint', max_days=3,
resolution=dict(eo=2.5))``, :mod:`mmkd.datasets.georef`): each reference (SAR) file
takes the overlapping partner nearest in acquisition date, and every modality is read
onto the intersection of their footprints, on the reference grid or at its own pixel
size. In layout (a) the listed pairs are kept, checked for overlap and aligned the same
way; in layout (c) only files of one class folder pair.

A sample whose partner is missing is never silently mismatched: ``on_unpaired='error'``
(default) raises naming the file; ``'skip'`` drops it and counts it in ``skipped`` under
the modality whose file was left out (logged; the meaning all paired datasets share,
:mod:`mmkd.datasets.paired_base`). Each data info is ``{'img_path': {modality: path},
'gt_label': int}`` (no ``gt_label`` when unlabelled), plus ``sample_idx``.
"""
import csv
import json
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Union

from mmpretrain.datasets import BaseDataset

from mmkd.registry import DATASETS
from .band_files import BandSpec
from .georef import align_given_pairs, pair_by_footprint, parse_pairing
from .paired_base import (  # noqa: F401  (IMG_EXTENSIONS, UnpairedSampleError: old home)
    IMG_EXTENSIONS,
    PairedFilesMixin,
    UnpairedSampleError,
    check_on_unpaired,
    first_file,
)


@DATASETS.register_module()
class PairedClsDataset(PairedFilesMixin, BaseDataset):
    """Paired multimodal classification dataset (see the module docstring).

    Args:
        modalities (Sequence[str]): Modality keys, e.g. ``('eo', 'sar')``. Give a subset
            (``('sar',)``) to read only what a model needs at test time.
        data_root (str): Root folder; relative paths are joined to it.
        ann_file (str): Layout (a): the annotation file.
        folders (dict): Layouts (b)/(c): modality -> folder under ``data_root``, a list
            of band folders, or ``dict(folder=, pattern=, bands=)`` (see above).
        id_patterns (dict, optional): modality -> regex whose ``id`` group (else first
            group) is the pairing id; default: the file stem. A ``date`` group gives
            the acquisition date for ``pairing='footprint'``.
        label_file (str, optional): Layout (b): CSV of ``id,label`` (header allowed).
        class_subfolders (bool): Layout (c) when True.
        on_unpaired (str): ``'error'`` or ``'skip'`` (also for samples missing a band
            file or, pairing by footprint, without an overlapping partner); what was
            skipped is counted in ``skipped`` (:mod:`mmkd.datasets.paired_base`).
        pairing (str | dict): ``'name'`` (default: by id) or ``'footprint'`` / a dict
            of options (:mod:`mmkd.datasets.georef`).
        max_per_class (int, optional): Keep at most this many samples of each class
            (the first in file order), for balanced subsets of large datasets.
        ann_columns (Sequence[str], optional): Layout (a), text files: the modality of
            each path column, when the file lists more modalities than are read (a
            test config reading only ``'sar'`` from an ``eo sar label`` file). Default:
            ``modalities``.
        classes (Sequence[str] | str, optional): Class names (else from layout (c) folder
            names, or ``metainfo``).
        **kwargs: Passed to mmpretrain's ``BaseDataset`` (``pipeline``, ``test_mode``,
            ``metainfo``, ``indices``, ``lazy_init`` ...).
    """

    scan_recursive = True  # class sub-folders (layout c); layout (b) looks below too

    def __init__(self,
                 modalities: Sequence[str],
                 data_root: str = '',
                 ann_file: str = '',
                 folders: Optional[Dict[str, str]] = None,
                 id_patterns: Optional[Dict[str, str]] = None,
                 label_file: Optional[str] = None,
                 class_subfolders: bool = False,
                 on_unpaired: str = 'error',
                 ann_columns: Optional[Sequence[str]] = None,
                 max_per_class: Optional[int] = None,
                 classes=None,
                 pairing: Union[str, dict] = 'name',
                 **kwargs):
        if not modalities:
            raise ValueError('PairedClsDataset needs at least one modality')
        check_on_unpaired(on_unpaired)
        if not ann_file and not folders:
            raise ValueError('give either ann_file (layout a) or folders (layouts b, c)')
        if folders is not None:
            missing = [m for m in modalities if m not in folders]
            if missing:
                raise KeyError(f'folders has no entry for modalities {missing}; it has '
                               f'{sorted(folders)}')
        self.modalities = tuple(modalities)
        self.ann_columns = tuple(ann_columns or modalities)
        self.max_per_class = max_per_class
        self.folders = dict(folders or {})
        self.id_patterns = {m: re.compile(p) for m, p in (id_patterns or {}).items()}
        self.band_specs = {m: BandSpec(m, self.folders[m], self.id_patterns.get(m))
                           for m in self.modalities if m in self.folders}
        self.pairing = parse_pairing(pairing, self.modalities)
        self.label_file = label_file
        self.class_subfolders = class_subfolders
        self.on_unpaired = on_unpaired
        self.skipped: Dict[str, int] = {}
        super().__init__(ann_file=ann_file, data_root=data_root, classes=classes,
                         **kwargs)

    # ------------------------------------------------------------------ helpers
    def _label(self, value, where: str) -> int:
        if value is None or value == '':
            return -1
        if isinstance(value, int) or str(value).lstrip('-').isdigit():
            return int(value)
        classes = self.CLASSES if self._metainfo.get('classes') else None
        if classes and value in classes:
            return list(classes).index(value)
        raise ValueError(f'{where}: label {value!r} is neither an index nor a known class '
                         f'name ({list(classes) if classes else "no classes given"})')

    def _scan_key(self, subfolder: str, pid: str) -> str:
        # layout (c): the class folder is part of the key, so only one class pairs
        return pid if not self.class_subfolders else f'{subfolder}/{pid}'

    def _georef_unpaired(self, unpaired) -> None:
        self._footprint_unpaired(self.pairing['ref'], unpaired)

    # ------------------------------------------------------------------ loading
    def load_data_list(self) -> List[dict]:
        self.skipped = {}
        if self.ann_file:
            infos = self._load_annotation_file()
        else:
            infos = self._load_folders()
        self._log_skipped()
        if self.max_per_class is not None:
            seen: Dict[int, int] = {}
            kept = []
            for info in infos:
                lab = info.get('gt_label', -1)
                seen[lab] = seen.get(lab, 0) + 1
                if seen[lab] <= self.max_per_class:
                    kept.append(info)
            infos = kept
        if not infos:
            raise ValueError(f'PairedClsDataset found no paired samples for modalities '
                             f'{self.modalities} (data_root={self.data_root!r})')
        return infos

    def _load_annotation_file(self) -> List[dict]:
        path = self.ann_file
        if not osp.isfile(path):
            raise FileNotFoundError(f'annotation file {path!r} does not exist')
        rows = []
        if path.endswith('.json'):
            with open(path) as f:
                for i, item in enumerate(json.load(f)):
                    rows.append((f'{path}[{i}]', item, item.get('label')))
        else:
            with open(path) as f:
                for i, line in enumerate(f):
                    parts = [p for p in re.split(r'[,\s]+', line.strip()) if p]
                    if not parts or parts[0].startswith('#'):
                        continue
                    all_mods = self.ann_columns
                    if len(parts) not in (len(all_mods), len(all_mods) + 1):
                        raise ValueError(f'{path}:{i + 1}: expected {len(all_mods)} paths '
                                         f'({", ".join(all_mods)}) and an optional label, '
                                         f'got {len(parts)} fields')
                    item = dict(zip(all_mods, parts))
                    label = parts[len(all_mods)] if len(parts) > len(all_mods) else None
                    rows.append((f'{path}:{i + 1}', item, label))
        infos = []
        for where, item, label in rows:
            paths = {}
            for m in self.modalities:
                if m not in item:
                    raise KeyError(f'{where}: no {m!r} entry (has {sorted(item)})')
                p = ([self._abs(b) for b in item[m]] if isinstance(item[m], list)
                     else self._abs(item[m]))
                lacking = [f for f in ([p] if isinstance(p, str) else p)
                           if not osp.isfile(f)]
                if lacking:
                    others = [o for o in self.modalities if o != m]
                    self._unpaired(others[0] if others else m, lacking[0], m)
                    break
                paths[m] = p
            else:
                info = dict(img_path=paths)
                if self.pairing is not None:
                    extra, why = align_given_pairs(self.pairing, self.modalities, paths,
                                                   self._date_patterns())
                    if extra is None:
                        self._georef_unpaired([(first_file(paths[self.pairing['ref']]),
                                                why[0], f'{where}: {why[1]}')])
                        continue
                    info.update(extra)
                lab = self._label(label, where)
                if lab >= 0:
                    info['gt_label'] = lab
                infos.append(info)
        return infos

    def _load_folders(self) -> List[dict]:
        per_mod = {m: self._scan_modality(m) for m in self.modalities}
        ids = sorted(set().union(*per_mod.values()))
        labels = self._read_label_file() if self.label_file else {}
        classes = None
        if self.class_subfolders:
            found = sorted({k.split('/')[0] for k in ids})
            if not self._metainfo.get('classes'):
                self._metainfo['classes'] = tuple(found)
            classes = list(self._metainfo['classes'])
        if self.pairing is not None:
            pairs, unpaired = pair_by_footprint(
                self.pairing, self.modalities, per_mod, self._date_patterns(),
                group=(lambda k: k.split('/')[0]) if self.class_subfolders else None)
            self._georef_unpaired(unpaired)
        else:
            pairs = self._pair_by_key(per_mod, ids)
        infos = []
        for key, paths, extra in pairs:
            info = dict(img_path=paths, **extra)
            first = first_file(paths[self.modalities[0]])
            if self.class_subfolders:
                cls = key.split('/')[0]
                if cls in classes:
                    info['gt_label'] = classes.index(cls)
                elif cls.isdigit() and int(cls) < len(classes):
                    info['gt_label'] = int(cls)  # folders named by class index
                else:
                    raise ValueError(f'class folder {cls!r} is neither a class name nor a '
                                     f'class index of {classes}')
            elif labels:
                if key not in labels:
                    raise KeyError(f'{self.label_file}: no label for id {key!r} '
                                   f'({first})')
                info['gt_label'] = labels[key]
            infos.append(info)
        return infos

    def _read_label_file(self) -> Dict[str, int]:
        path = self._abs(self.label_file)
        if not osp.isfile(path):
            raise FileNotFoundError(f'label file {path!r} does not exist')
        labels = {}
        with open(path, newline='') as f:
            for i, row in enumerate(csv.reader(f)):
                if not row or row[0].startswith('#'):
                    continue
                if i == 0 and not row[-1].strip().lstrip('-').isdigit() and not (
                        self._metainfo.get('classes') and row[-1] in self.CLASSES):
                    continue  # header
                labels[row[0].strip()] = self._label(row[-1].strip(), f'{path}:{i + 1}')
        return labels

    # ------------------------------------------------------------------ class statistics
    def class_counts(self) -> List[int]:
        """Number of labelled samples per class (length = number of classes)."""
        n = len(self.CLASSES) if self._metainfo.get('classes') else 0
        counts = [0] * n
        infos = ([self.get_data_info(i) for i in range(len(self))]
                 if self._fully_initialized else self.load_data_list())
        for info in infos:
            lab = info.get('gt_label', -1)
            if lab >= 0:
                if lab >= len(counts):
                    counts.extend([0] * (lab + 1 - len(counts)))
                counts[lab] += 1
        return counts

    def is_labelled(self) -> bool:
        return any('gt_label' in self.get_data_info(i) for i in range(min(len(self), 8)))
