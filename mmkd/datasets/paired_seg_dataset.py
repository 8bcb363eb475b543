"""Paired multimodal segmentation data: one image per modality, one mask.

Two layouts (``modalities`` names the keys, e.g. ``('sar', 'optical')``):

(a) ``layout='folders'``, one folder per modality and a mask folder, files matched by id
    (the file stem, or the first group of ``id_patterns[modality]``)::

        data_root/sar/<id>.tif  data_root/optical/<id>.png  data_root/masks/<id>.png

    ``split_file`` (one id per line) selects a split; ``mask_folder=None`` (or reading a
    test split without masks) gives unlabelled samples. This is what
    ``tools/dataset_converters/spacenet6.py`` and ``tools/misc/make_synthetic_buildings.py``
    write.
(b) ``layout='spacenet6'``, the SpaceNet 6 (MSAW, Rotterdam) distribution as downloaded::

        data_root/SAR-Intensity/SN6_Train_AOI_11_Rotterdam_SAR-Intensity_<ImageId>.tif
        data_root/PS-RGB/SN6_Train_AOI_11_Rotterdam_PS-RGB_<ImageId>.tif
        data_root/SummaryData/SN6_Train_AOI_11_Rotterdam_Buildings.csv
        data_root/SummaryData/SAR_orientations.txt

    with ``<ImageId> = <strip start>_<strip end>_tile_<n>``. The footprints (pixel-
    coordinate WKT polygons, column ``PolygonWKT_Pix``) are read from the CSV and
    rasterised per sample by ``mmkd.LoadSegMask``; the strip's look direction (0: imaged
    from the north, 1: from the south) is ``sar_orientation`` in each sample, for
    ``mmkd.AlignSAROrientation``. ``folders`` defaults to ``dict(sar='SAR-Intensity',
    optical='PS-RGB')``. The public test split has SAR only: read it with
    ``modalities=('sar',)`` and ``buildings_csv=None``.

In layout (a) a modality may be several single-band files (a list of band folders, or
``dict(folder=, pattern=r'..._B{band}\\.tif', bands=[...])``, see
:mod:`mmkd.datasets.band_files`), stacked in the order given; and georeferenced
modalities may be paired by footprint and CRS (``pairing='footprint'``, see
:mod:`mmkd.datasets.georef`): each ``ref_modality`` file takes the overlapping partner
nearest in date, every modality is read onto the intersection, and the mask (in the
``ref_modality`` file's pixel frame, matched by its id) is cut to it by
``mmkd.LoadSegMask``.

Each data info: ``img_path`` (modality -> path), ``seg_map_path`` (layout a, when
labelled) or ``footprints`` (layout b: list of WKT strings), ``sar_orientation``
(layout b), ``ref_modality`` (the labels' frame), ``sample_id``, ``seg_fields``.
Errors a user can cause (a modality without its partner, a mask without an image, an
empty or malformed CSV, an unknown id in the split file) are raised at build time,
naming the file. With ``on_unpaired='skip'`` a sample without its partner (or mask) is
dropped and counted in ``skipped`` under the modality whose file was left out (``'mask'``
for a mask without its image), the meaning all paired datasets share
(:mod:`mmkd.datasets.paired_base`).
"""
import csv
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset

from mmkd.registry import DATASETS
from .band_files import BandSpec
from .coco_annotations import AnnotationFileError  # noqa: F401  (re-exported)
from .georef import pair_by_footprint, parse_pairing
from .paired_base import (  # noqa: F401  (IMG_EXTENSIONS, UnpairedSampleError: old home)
    IMG_EXTENSIONS,
    PairedFilesMixin,
    UnpairedSampleError,
    check_on_unpaired,
    first_file,
)

SN6_ID = r'(\d{14}_\d{14}_tile_\d+)\.tif$'
SN6_COLUMNS = ('ImageId', 'PolygonWKT_Pix')


@DATASETS.register_module()
class PairedSegDataset(PairedFilesMixin, BaseDataset):
    """Paired multimodal semantic segmentation dataset (see the module docstring).

    Args:
        modalities (Sequence[str]): Modality keys to read, e.g. ``('sar', 'optical')``;
            ``('sar',)`` reads the student's modality only (test time).
        data_root (str): Root folder.
        layout (str): ``'folders'`` or ``'spacenet6'``.
        folders (dict, optional): modality -> folder under ``data_root`` (layout a:
            or a list of band folders, or ``dict(folder=, pattern=, bands=)``).
        mask_folder (str, optional): Layout (a): folder of masks (uint8 class index per
            pixel, PNG or TIFF). None: unlabelled.
        id_patterns (dict, optional): modality (or ``'mask'``) -> regex whose ``id``
            group (else first group) is the pairing id. Default: the file stem (layout
            b: the ImageId). A ``date`` group gives the acquisition date for
            ``pairing='footprint'``.
        split_file (str, optional): Ids to keep, one per line.
        buildings_csv (str, optional): Layout (b): the footprint CSV. Default: the one
            ``SummaryData/*_Buildings.csv``; None for unlabelled (test) data.
        orientation_file (str, optional): Layout (b): default
            ``SummaryData/SAR_orientations.txt`` when it exists.
        ref_modality (str, optional): The modality whose pixel frame the masks are in
            (default: ``'sar'`` if read, else the first modality).
        on_unpaired (str): ``'error'`` (default) or ``'skip'`` (drop and count in
            ``skipped``, :mod:`mmkd.datasets.paired_base`).
        pairing (str | dict): ``'name'`` (default) or ``'footprint'`` / a dict of
            options (layout a; :mod:`mmkd.datasets.georef`; its ``ref`` is
            ``ref_modality``).
        **kwargs: mmengine ``BaseDataset`` arguments (``pipeline``, ``test_mode``,
            ``metainfo``, ``indices``, ``lazy_init`` ...).
    """

    METAINFO = dict(classes=('background', 'building'), palette=[[0, 0, 0], [255, 0, 0]])

    def __init__(self,
                 modalities: Sequence[str],
                 data_root: str = '',
                 layout: str = 'folders',
                 folders: Optional[Dict[str, str]] = None,
                 mask_folder: Optional[str] = None,
                 id_patterns: Optional[Dict[str, str]] = None,
                 split_file: Optional[str] = None,
                 buildings_csv: Optional[str] = 'auto',
                 orientation_file: Optional[str] = 'auto',
                 ref_modality: Optional[str] = None,
                 on_unpaired: str = 'error',
                 pairing: Union[str, dict] = 'name',
                 **kwargs):
        if not modalities:
            raise ValueError('PairedSegDataset needs at least one modality')
        if layout not in ('folders', 'spacenet6'):
            raise ValueError(f"layout must be 'folders' or 'spacenet6', got {layout!r}")
        check_on_unpaired(on_unpaired)
        self.modalities = tuple(modalities)
        self.layout = layout
        default = dict(sar='SAR-Intensity', optical='PS-RGB') if layout == 'spacenet6' \
            else {}
        self.folders = dict(default, **(folders or {}))
        missing = [m for m in self.modalities if m not in self.folders]
        if missing:
            raise KeyError(f'folders has no entry for modalities {missing}; it has '
                           f'{sorted(self.folders)}')
        self.mask_folder = mask_folder
        patterns = dict(id_patterns or {})
        if layout == 'spacenet6':
            for m in self.modalities:
                patterns.setdefault(m, SN6_ID)
        self.id_patterns = {m: re.compile(p) for m, p in patterns.items()}
        self.split_file = split_file
        self.buildings_csv = buildings_csv
        self.orientation_file = orientation_file
        self.ref_modality = ref_modality or ('sar' if 'sar' in self.modalities
                                             else self.modalities[0])
        if self.ref_modality not in self.modalities:
            raise KeyError(f'ref_modality {self.ref_modality!r} is not among the '
                           f'modalities read {self.modalities}')
        self.on_unpaired = on_unpaired
        self.skipped: Dict[str, int] = {}
        self.band_specs = {m: BandSpec(m, self.folders[m], self.id_patterns.get(m))
                           for m in self.modalities}
        if layout == 'spacenet6' and any(b.multi for b in self.band_specs.values()):
            raise ValueError('band files (a list or dict in folders) are for the '
                             "'folders' layout; SpaceNet 6 tiles hold all their bands")
        if isinstance(pairing, dict) and pairing.get('ref') not in (None,
                                                                    self.ref_modality):
            raise ValueError(f"pairing ref {pairing['ref']!r} differs from ref_modality "
                             f'{self.ref_modality!r}; the masks are in the ref_modality '
                             f'frame: set ref_modality')
        self.pairing = parse_pairing(pairing, self.modalities, self.ref_modality)
        if self.pairing is not None and layout != 'folders':
            raise ValueError(
                "pairing by footprint is for layout='folders': in the SpaceNet 6 "
                'download the SAR-Intensity and PS-RGB tiles of one ImageId cover one '
                "extent and pair by that id (pairing='name'); for optical products on "
                'another grid, tools/dataset_converters/spacenet6.py reprojects them '
                'onto the SAR grid')
        super().__init__(data_root=data_root, **kwargs)

    # ------------------------------------------------------------------ helpers
    def _scan_what(self, key: str) -> str:
        return key

    def _pairs(self, per_mod: Dict[str, Dict[str, object]], ids: List[str]):
        """``(id, {modality: path(s)}, extra)`` by id, or by footprint."""
        if self.pairing is None:
            return self._pair_by_key(per_mod, ids)
        ref = self.ref_modality
        samples = dict(per_mod)
        samples[ref] = {k: v for k, v in per_mod[ref].items() if k in set(ids)}
        pairs, unpaired = pair_by_footprint(self.pairing, self.modalities, samples,
                                            self._date_patterns())
        self._footprint_unpaired(ref, unpaired)
        return pairs

    # ------------------------------------------------------------------ loading
    def load_data_list(self) -> List[dict]:
        self.skipped = {}
        per_mod = {m: self._scan_modality(m) for m in self.modalities}
        masks = self._scan('mask', self.mask_folder) if (
            self.layout == 'folders' and self.mask_folder) else None
        footprints, orientations = {}, {}
        if self.layout == 'spacenet6':
            footprints = self._read_footprints()
            orientations = self._read_orientations()
        ids = sorted(set().union(*per_mod.values())) if self.pairing is None else \
            sorted(per_mod[self.ref_modality])
        if self.split_file:
            wanted = self._read_split()
            unknown = [i for i in wanted if i not in ids]
            if unknown:
                raise AnnotationFileError(
                    f'{self._abs(self.split_file)}: ids {unknown[:5]} have no image in '
                    f'{[self._abs(self.folders[m]) for m in self.modalities]}')
            ids = [i for i in ids if i in set(wanted)]
        infos = []
        for pid, paths, extra in self._pairs(per_mod, ids):
            info = dict(img_path=paths, sample_id=pid, ref_modality=self.ref_modality,
                        seg_fields=[], reduce_zero_label=False, **extra)
            if masks is not None:
                if pid not in masks:
                    self._unpaired(self.ref_modality, first_file(paths[self.ref_modality]),
                                   'mask')
                    continue
                info['seg_map_path'] = masks[pid]
            if self.layout == 'spacenet6':
                if footprints is not None:
                    info['footprints'] = footprints.get(pid, [])
                if orientations:
                    strip = '_'.join(pid.split('_')[:2])
                    if strip not in orientations:
                        raise AnnotationFileError(
                            f'{self._orientation_path()}: no look direction for strip '
                            f'{strip!r} (tile {pid})')
                    info['sar_orientation'] = orientations[strip]
            infos.append(info)
        if masks is not None:
            stray = sorted(set(masks) - set(per_mod[self.ref_modality]))
            for pid in ([] if self.split_file else stray):
                self._unpaired('mask', masks[pid], self.ref_modality)
        self._log_skipped()
        if not infos:
            raise ValueError(f'PairedSegDataset found no samples for modalities '
                             f'{self.modalities} under {self.data_root!r}')
        return infos

    def _read_split(self) -> List[str]:
        path = self._abs(self.split_file)
        if not osp.isfile(path):
            raise FileNotFoundError(f'split file {path!r} does not exist')
        with open(path) as f:
            ids = [line.strip() for line in f if line.strip() and not line.startswith('#')]
        if not ids:
            raise AnnotationFileError(f'split file {path!r} lists no ids')
        return ids

    # ------------------------------------------------------------------ SpaceNet 6
    def _csv_path(self) -> Optional[str]:
        if self.buildings_csv is None:
            return None
        if self.buildings_csv != 'auto':
            return self._abs(self.buildings_csv)
        summary = self._abs('SummaryData')
        found = sorted(f for f in os.listdir(summary) if f.endswith('_Buildings.csv')) \
            if osp.isdir(summary) else []
        if len(found) != 1:
            raise FileNotFoundError(
                f'SpaceNet 6 layout: expected one SummaryData/*_Buildings.csv under '
                f'{self.data_root!r}, found {found}; give buildings_csv= (or None for '
                f'unlabelled test data)')
        return osp.join(summary, found[0])

    def _read_footprints(self) -> Optional[Dict[str, List[str]]]:
        path = self._csv_path()
        return None if path is None else read_footprint_csv(path)

    def _orientation_path(self) -> Optional[str]:
        if self.orientation_file is None:
            return None
        if self.orientation_file == 'auto':
            path = self._abs(osp.join('SummaryData', 'SAR_orientations.txt'))
            return path if osp.isfile(path) else None
        return self._abs(self.orientation_file)

    def _read_orientations(self) -> Dict[str, int]:
        path = self._orientation_path()
        if path is None:
            return {}
        return read_sar_orientations(path)


def read_sar_orientations(path: str) -> Dict[str, int]:
    """SpaceNet 6 ``SAR_orientations.txt``: ``<strip> <0|1>`` per line (0: the strip
    was imaged from the north, 1: from the south)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'SAR orientation file {path!r} does not exist')
    out = {}
    with open(path) as f:
        for i, line in enumerate(f):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2 or parts[1] not in ('0', '1'):
                raise AnnotationFileError(f'{path}:{i + 1}: expected "<strip> <0|1>", '
                                          f'got {line.strip()!r}')
            out[parts[0]] = int(parts[1])
    if not out:
        raise AnnotationFileError(f'SAR orientation file {path!r} is empty')
    return out


def read_footprint_csv(path: str) -> Dict[str, List[str]]:
    """SpaceNet footprint CSV -> ``ImageId -> [pixel WKT polygons]`` (tiles listed with
    ``POLYGON EMPTY`` map to an empty list)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'footprint CSV {path!r} does not exist')
    out: Dict[str, List[str]] = {}
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames:
            raise AnnotationFileError(f'footprint CSV {path!r} is empty (no header, no '
                                      f'rows)')
        lacking = [c for c in SN6_COLUMNS if c not in reader.fieldnames]
        if lacking:
            raise AnnotationFileError(f'footprint CSV {path!r} lacks columns {lacking} '
                                      f'(has {reader.fieldnames})')
        for row in reader:
            wkt = (row['PolygonWKT_Pix'] or '').strip()
            polys = out.setdefault(row['ImageId'].strip(), [])
            if wkt and 'EMPTY' not in wkt.upper():
                polys.append(wkt)
    if not out:
        raise AnnotationFileError(f'footprint CSV {path!r} has a header but no rows')
    return out
