"""Paired multimodal detection data in COCO format: one image per modality, one set of
boxes.

mmdet's ``CocoDataset`` reads the annotation file as usual; each image entry then names
one file per modality through a template (``modalities``), so a colour/infrared pair
(VEDAI), an optical/SAR pair or the bundled synthetic benchmark need no second
annotation file::

    modalities=dict(optical='optical/{}', infrared='infrared/{}')   # a folder each
    modalities=dict(optical='Vehicules512/{vedai_id}_co.png',       # a suffix each
                    infrared='Vehicules512/{vedai_id}_ir.png')

A template is formatted with the COCO image entry: ``{}`` / ``{file_name}`` is its
``file_name``, ``{stem}`` and ``{ext}`` its parts, and any other key of the entry
(``{id}``, ``{vedai_id}`` ...) its value; a template without ``{`` is a folder prefix.
A modality made of single-band files takes a list of templates, stacked in that order
(``sar=['vv/{stem}.tif', 'vh/{stem}.tif']``); a missing band file is reported like a
missing partner, naming it.
Georeferenced modalities may be paired by footprint and CRS instead
(``pairing='footprint'`` or ``pairing=dict(by='footprint', max_days=3)``, the options
and their meaning as in :mod:`mmkd.datasets.georef`). The boxes are in the pixels of the
``ref_modality`` file each COCO entry names; every other modality is either

- named by a template as above: the pair is kept, checked for overlap (and acquisition
  date, with ``max_days``), like an annotation file's pairs in ``PairedClsDataset``;
- a folder to search, ``dict(folder='S2')`` (or a band pattern,
  ``dict(folder='S2', pattern=r'(?P<id>.+)_B{band}\\.tif', bands=['04', '03',
  '02'])``): the file whose footprint overlaps the reference file's, nearest in
  acquisition date, is the partner, whatever its name.

Dates come from a ``(?P<date>...)`` group of ``date_patterns[modality]`` (matched on
the file name) or of the band pattern, else from the GeoTIFF's ``TIFFTAG_DATETIME``.
Unlike segmentation and classification, the sample's grid is the *whole* reference
file (not the footprints' intersection), so the boxes and the annotation file that
``CocoMetric`` evaluates against stay in one frame; partners are read onto it
(``LoadMultiModalImages``), nodata where they do not cover it (its ``nodata=`` option
handles those pixels), and ``resolution`` may set a partner's pixel size but not the
reference's. An entry whose ``width`` x ``height`` differ from its reference file's is
refused (:class:`~mmkd.datasets.AnnotationFileError`). A reference image without a
partner raises :class:`UnpairedSampleError` saying how far the nearest candidate is or
how many days apart (``on_unpaired='error'``), or is skipped and counted (``'skip'``).

Paths are relative to ``data_root``. Each data info has ``img_path`` as a dict
``modality -> path`` (read with ``mmkd.LoadMultiModalImages``) and ``ref_modality``, the
modality whose pixel frame the boxes are in (all modalities of one entry are expected to
share its ``width`` x ``height``, as co-registered pairs do).

What happens with bad input, at build time, each logged once with a count:

- **a modality without its partner file** (an infrared image whose optical image is
  missing): ``on_unpaired='error'`` (default) raises :class:`UnpairedSampleError` naming
  the file and the missing partner; ``'skip'`` drops the image and logs how many.
  An image missing in *every* modality is always an error (a wrong ``data_root``).
- **boxes outside the image**: mmdet's ``CocoDataset.parse_data_info`` already drops,
  silently, boxes that do not overlap their image and boxes under 1 px; here they are
  counted and logged, and boxes that cross the border are clipped to the image
  (``clip_boxes=True``), since the paired geometric transforms do not clip.
- **images without boxes** (none annotated, or none left after the above): with
  ``filter_cfg=dict(filter_empty_gt=True)`` they are left out of training and counted
  (mmdet's own filter misses images whose every box was dropped); in ``test_mode`` they
  are kept, as mmdet keeps them.
- **classes the annotation file does not have**: a ``metainfo`` class name missing from
  the file's categories raises, naming both lists (mmdet would silently drop every box
  of that class). Without ``metainfo`` classes, the file's categories are read (mmdet
  would take COCO's 80 classes).
"""
import os.path as osp
import re
import string
from typing import Dict, List, Optional, Union

import numpy as np
from mmdet.datasets import CocoDataset
from mmengine.logging import print_log

from mmkd.registry import DATASETS
from .band_files import BandSpec, count_incomplete
from .coco_annotations import AnnotationFileError, load_coco_annotation
from .georef import by_name, pair_by_footprint, parse_pairing
from .host_pipeline import (  # noqa: F401
    DET_META_KEYS,
    first_image,
    host_pipeline,
    is_raster_file,
    prune_pipeline,
)
from .paired_base import (  # noqa: F401  (IMG_EXTENSIONS: re-exported)
    IMG_EXTENSIONS,
    UnpairedSampleError,
    check_on_unpaired,
    first_file,
    scan_folder,
    unpaired_message,
)


def _template(value):
    """A modality's template; a plain folder becomes ``<folder>/{}``; a list (band
    files) is a list of templates; a dict (a folder searched by footprint) is kept."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return [_template(v) for v in value]
    if '{' in value:
        return value
    return value + '{}' if not value or value.endswith('/') else value + '/{}'


def template_fields(template: str) -> List[str]:
    """The field names a template uses (``''`` for ``{}``)."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


@DATASETS.register_module()
class PairedCocoDataset(CocoDataset):
    """COCO-format detection dataset with one image per modality (see the module
    docstring).

    Args:
        modalities (dict): modality -> file template (or folder), e.g.
            ``dict(optical='optical/{}', infrared='infrared/{}')``, a list of
            templates (band files) or, pairing by footprint, ``dict(folder=...)`` for
            a partner searched in that folder. Give only the modalities to read
            (``dict(infrared=...)`` at test time).
        ref_modality (str, optional): The modality whose pixel frame the boxes are in;
            default: the first of ``modalities``.
        on_unpaired (str): ``'error'`` (default) or ``'skip'``.
        clip_boxes (bool): Clip boxes that cross the image border to it. Defaults to
            True.
        check_files (bool): Check at build time that every modality's file exists.
            Defaults to True.
        pairing (str | dict): ``'name'`` (default: the templates name each file) or
            ``'footprint'`` / a dict of options (see the module docstring and
            :mod:`mmkd.datasets.georef`; ``ref`` is ``ref_modality``).
        date_patterns (dict, optional): modality -> regex with a ``date`` group, read
            from the file name, for ``pairing`` with ``max_days``.

    Attributes:
        notes (dict): What was dropped, clipped or skipped while loading, with counts
            (also logged).
        **kwargs: mmdet ``CocoDataset`` arguments (``ann_file``, ``data_root``,
            ``metainfo``, ``filter_cfg``, ``pipeline``, ``test_mode`` ...).
            ``data_prefix`` is not used for images (the templates are).
    """

    def __init__(self,
                 modalities: Dict[str, str],
                 ref_modality: Optional[str] = None,
                 on_unpaired: str = 'error',
                 clip_boxes: bool = True,
                 check_files: bool = True,
                 pairing: Union[str, dict] = 'name',
                 date_patterns: Optional[Dict[str, str]] = None,
                 **kwargs):
        if not modalities or not isinstance(modalities, dict):
            raise ValueError('PairedCocoDataset needs modalities as a dict modality -> '
                             "file template, e.g. dict(optical='optical/{}', "
                             "infrared='infrared/{}')")
        check_on_unpaired(on_unpaired)
        self.modalities = {m: _template(t) for m, t in modalities.items()}
        self.ref_modality = ref_modality or next(iter(self.modalities))
        if self.ref_modality not in self.modalities:
            raise KeyError(f'ref_modality {self.ref_modality!r} is not among the '
                           f'modalities read ({list(self.modalities)})')
        self.on_unpaired = on_unpaired
        self.clip_boxes = clip_boxes
        self.check_files = check_files
        self._setup_pairing(pairing, date_patterns or {})
        self.notes: Dict[str, int] = {}
        self._classes_given = bool((kwargs.get('metainfo') or {}).get('classes'))
        kwargs.setdefault('data_prefix', dict(img=''))
        super().__init__(**kwargs)

    def _setup_pairing(self, pairing, date_patterns: Dict[str, str]) -> None:
        """Check the footprint options against the modalities (the ref's file is
        named by each entry; a dict modality is searched, by footprint only)."""
        ref = self.ref_modality
        searched = [m for m, t in self.modalities.items() if isinstance(t, dict)]
        if isinstance(pairing, dict) and pairing.get('ref') not in (None, ref):
            raise ValueError(f"pairing ref {pairing['ref']!r} differs from ref_modality "
                             f'{ref!r}; the boxes are in the ref_modality file\'s '
                             f'pixels: set ref_modality')
        self.pairing = parse_pairing(pairing, tuple(self.modalities), ref)
        if self.pairing is None and searched:
            raise ValueError(f'modalities[{searched[0]!r}] = '
                             f'{self.modalities[searched[0]]!r} is a folder to search '
                             f"by footprint: set pairing='footprint', or give a file "
                             f"template such as '{searched[0]}/{{}}'")
        if ref in searched:
            raise ValueError(f'modalities[{ref!r}]: the ref_modality file of each COCO '
                             f"entry holds its boxes and must be named by a template "
                             f"(e.g. '{ref}/{{}}'), not searched for")
        if self.pairing is not None and (self.pairing['resolution'] or {}).get(ref):
            raise ValueError(f'pairing resolution for {ref!r}: the boxes are in the '
                             f'{ref!r} file\'s pixels, which must stay as they are; '
                             f'resize with mmkd.PairedResize in the pipeline instead')
        unknown = sorted(set(date_patterns) - set(self.modalities))
        if unknown:
            raise KeyError(f'date_patterns names modalities {unknown} that are not read '
                           f'({list(self.modalities)})')
        self.date_patterns = {m: re.compile(p) for m, p in date_patterns.items()}
        for m, p in self.date_patterns.items():
            if 'date' not in p.groupindex:
                raise ValueError(f'date_patterns[{m!r}] = {p.pattern!r} has no '
                                 f'(?P<date>...) group')
        self.band_specs = {}
        for m in searched:
            spec = self.modalities[m]
            if 'folder' not in spec:
                raise TypeError(f'modalities[{m!r}]: a folder to search is '
                                f"dict(folder=...) (with pattern= and bands= for band "
                                f'files), got keys {sorted(spec)}')
            self.band_specs[m] = BandSpec(m, spec if 'pattern' in spec or 'bands' in spec
                                          else spec['folder'])

    # ------------------------------------------------------------------ paths
    def modality_path(self, modality: str, img_info: dict) -> Optional[str]:
        """The file of ``modality`` for one COCO image entry (None for a folder
        searched by footprint: the pairing fills it in)."""
        file_name = img_info['file_name']
        stem, ext = osp.splitext(file_name)
        fields = dict(img_info, file_name=file_name, stem=stem, ext=ext)
        template = self.modalities[modality]
        if isinstance(template, dict):
            return None
        if isinstance(template, list):  # band files
            return [self._format(t, modality, file_name, fields, img_info)
                    for t in template]
        return self._format(template, modality, file_name, fields, img_info)

    def _format(self, template, modality, file_name, fields, img_info) -> str:
        try:
            rel = template.format(file_name, **fields)
        except (KeyError, IndexError) as e:
            raise KeyError(f'PairedCocoDataset: template {template!r} of modality '
                           f'{modality!r} uses the field {e}, which image entry '
                           f'{img_info.get("id")} of {self.ann_file} does not have (it '
                           f'has {sorted(img_info)})') from None
        return rel if osp.isabs(rel) else osp.join(self.data_root, rel)

    def _count(self, key: str, n: int = 1) -> None:
        self.notes[key] = self.notes.get(key, 0) + n

    # ------------------------------------------------------------------ loading
    def load_data_list(self) -> List[dict]:
        self.notes = {}
        self._check_classes()
        infos = super().load_data_list()
        if self.check_files:
            infos = [info for info in infos if self._paired(info)]
        if self.pairing is not None:
            infos = self._pair_by_footprint(infos)
        if self.notes:
            print_log(f'PairedCocoDataset ({self.ann_file}): ' + '; '.join(
                f'{v} {k}' for k, v in self.notes.items()), logger='current',
                level=30)
        return infos

    def _check_classes(self) -> None:
        """The classes read: the config's, which the file must have; without
        ``metainfo`` classes, the file's own (not mmdet's default, COCO's 80)."""
        if not osp.isfile(self.ann_file):
            return  # mmdet raises on a missing file
        # an empty, truncated or image-less file is named here, not deep in mmdet
        names = [c['name'] for c in
                 load_coco_annotation(self.ann_file).get('categories', [])]
        if not self._classes_given:
            self._metainfo['classes'] = tuple(names)
            return
        classes = self.metainfo['classes']
        missing = [c for c in classes if c not in names]
        if missing:
            raise ValueError(f'{self.ann_file} has no categories named {missing}; the '
                             f'config\'s metainfo classes are {list(classes)}, the '
                             f'file\'s categories are {names}')

    def parse_data_info(self, raw_data_info: dict) -> dict:
        info = super().parse_data_info(raw_data_info)
        img_info = raw_data_info['raw_img_info']
        w, h = img_info['width'], img_info['height']
        # count what mmdet's parse_data_info dropped, by its own rules
        for ann in raw_data_info['raw_ann_info']:
            if ann.get('ignore', False) or ann['category_id'] not in self.cat_ids:
                continue
            x, y, bw, bh = ann['bbox']
            if min(x + bw, w) - max(x, 0) <= 0 or min(y + bh, h) - max(y, 0) <= 0:
                self._count('box(es) entirely outside their image dropped')
            elif ann['area'] <= 0 or bw < 1 or bh < 1:
                self._count('box(es) under 1 px dropped')
        for inst in info['instances']:
            x1, y1, x2, y2 = inst['bbox']
            if x1 < 0 or y1 < 0 or x2 > w or y2 > h:
                self._count('box(es) crossing the image border'
                            + (' clipped to it' if self.clip_boxes else ''))
                if self.clip_boxes:
                    inst['bbox'] = [float(np.clip(x1, 0, w)), float(np.clip(y1, 0, h)),
                                    float(np.clip(x2, 0, w)), float(np.clip(y2, 0, h))]
        info['img_path'] = {m: self.modality_path(m, img_info) for m in self.modalities}
        info['ref_modality'] = self.ref_modality
        return info

    # ------------------------------------------------------------------ footprints
    def _scan_folder(self, modality: str, folder: str, id_fn) -> Dict[str, str]:
        """key -> file for the images under ``folder`` (sub-folders too; the key is
        the sub-folder and the id ``id_fn`` gives the file name)."""
        root = folder if osp.isabs(folder) else osp.join(self.data_root, folder)
        return scan_folder(root, id_fn, f'PairedCocoDataset: modality {modality!r}',
                           recursive=True, unique=False, missing=' (searched by footprint)',
                           key_fn=lambda sub, pid: osp.normpath(osp.join(sub, pid)))

    def _pair_by_footprint(self, infos: List[dict]) -> List[dict]:
        """Each entry's reference file with its partners (listed, or searched for),
        on the reference file's grid; unpaired entries raise or are counted."""
        ref = self.ref_modality
        modalities = tuple(self.modalities)
        samples = {ref: {str(i): info['img_path'][ref] for i, info in enumerate(infos)}}
        listed = {m: {str(i): info['img_path'][m] for i, info in enumerate(infos)}
                  for m in modalities if m != ref and m not in self.band_specs}
        dates = dict(self.date_patterns)
        for m, spec in self.band_specs.items():
            found, incomplete = spec.scan(
                lambda folder, id_fn, m=m: self._scan_folder(m, folder, id_fn),
                lambda f: f if osp.isabs(f) else osp.join(self.data_root, f),
                lambda fn: osp.splitext(fn)[0])
            count_incomplete(incomplete, m, self.on_unpaired, self.notes)
            samples[m] = found
            if m not in dates and spec.date_pattern() is not None:
                dates[m] = spec.date_pattern()
        pairs, unpaired = pair_by_footprint(self.pairing, modalities, samples, dates,
                                            listed=listed, extent='ref')
        by_path = {}
        for path, partner, reason in unpaired:
            by_path[path] = (partner, reason)
        kept = {key: (paths, extra) for key, paths, extra in pairs}
        out = []
        for i, info in enumerate(infos):
            if str(i) not in kept:
                first = first_file(info['img_path'][ref])
                partner, reason = by_path[first]
                if self.on_unpaired == 'error':
                    raise UnpairedSampleError(unpaired_message(
                        first, f'{ref}, image {info["img_id"]} of {self.ann_file}', partner,
                        f' by footprint: {reason}', noun='images'))
                self._count(f'image(s) without a {partner} footprint partner skipped')
                continue
            paths, extra = kept[str(i)]
            h, w = extra['geo_grid']['ref_shape']
            if (info['height'], info['width']) != (h, w):
                first = first_file(paths[ref])
                raise AnnotationFileError(
                    f'{self.ann_file}: image {info["img_id"]} is {info["width"]}x'
                    f'{info["height"]} (width x height) but its {ref} file {first} is '
                    f'{w}x{h} pixels; its boxes must be in that file\'s pixels: fix the '
                    f'entry\'s width and height (or the converter that wrote them)')
            info['img_path'] = paths
            info.update(extra)
            out.append(info)
        return out

    def _paired(self, info: dict) -> bool:
        paths = {m: ([p] if isinstance(p, str) else p) for m, p in
                 info['img_path'].items() if p is not None}  # None: searched later
        paths = {m: next((f for f in p if not osp.isfile(f)), p[0])
                 for m, p in paths.items()}  # a missing band file names itself
        have = [m for m, p in paths.items() if osp.isfile(p)]
        if len(have) == len(paths):
            return True
        lacking = [m for m in paths if m not in have]
        if not have:
            raise FileNotFoundError(
                f'PairedCocoDataset: image {info["img_id"]} of {self.ann_file} has no '
                f'file in any modality ({paths[lacking[0]]} does not exist); check '
                f'data_root and the modality templates {self.modalities}')
        if self.on_unpaired == 'error':
            raise UnpairedSampleError(unpaired_message(
                paths[have[0]], have[0], lacking[0], f': {paths[lacking[0]]} does not exist',
                noun='images'))
        self._count(f'image(s) without their {"/".join(lacking)} partner skipped')
        return False

    def filter_data(self) -> List[dict]:
        """mmdet's filter, plus: with ``filter_empty_gt``, an image whose every box was
        dropped (outside the image, under 1 px, or of a class not read) is left out
        too (mmdet's filter keeps it: it looks at the category index, not at the boxes
        kept)."""
        kept = super().filter_data()
        if self.test_mode or not (self.filter_cfg or {}).get('filter_empty_gt', False):
            return kept
        out = [info for info in kept if info['instances']]
        empty = len(self.data_list) - len(out)
        if empty:
            print_log(f'PairedCocoDataset ({self.ann_file}): {empty} image(s) without '
                      f'boxes (or below filter_cfg min_size) left out of training '
                      f'(filter_empty_gt)', logger='current', level=20)
        return out


def _raster_files(dataset: dict, template: str) -> bool:
    """Whether a folder template's files are (Geo)TIFF or .npy: the first image of
    its folder when the data is on this machine, else the template's extension."""
    folder = template[:template.rindex('{')]
    root = dataset.get('data_root', '') or ''
    found = first_image(folder if osp.isabs(folder) else osp.join(root, folder))
    return is_raster_file(found if found is not None else template)


def single_modality_dataset(dataset: dict, modality: str, where: str = 'dataset') -> None:
    """Make a ``PairedCocoDataset`` config read only ``modality`` (used by the student
    export): mmdet's own ``CocoDataset`` where the modality's template is a folder
    (``'infrared/{}'``) and every transform has an mmdet equivalent
    (:mod:`mmkd.datasets.host_pipeline`: not for band selection, nodata/NaN handling,
    GeoTIFF files), so the exported student tests with mmdet alone; else the paired
    dataset restricted to that modality, read by mmkd's loader as in distillation and
    packed as mmdet packs one image (the reason is logged).

    Paired by footprint, a student of the reference modality reads its files as they
    are (the sample's grid was the whole reference file); a student of another
    modality still needs the reference files, the boxes' frame and grid: the dataset
    keeps both modalities and the pairing, and the pipeline loads the student's."""
    templates = {m: _template(t) for m, t in dataset['modalities'].items()}
    if modality not in templates:
        raise KeyError(f'the student reads {modality!r}, which the PairedCocoDataset '
                       f'config does not list ({sorted(templates)})')
    template = templates[modality]
    pruned = prune_pipeline(dataset.get('pipeline', []), modality)
    ref = dataset.get('ref_modality') or next(iter(templates))
    if not by_name(dataset.get('pairing')) and modality != ref:
        dataset['modalities'] = {ref: templates[ref], modality: template}
        dataset['ref_modality'] = ref
        dataset['pipeline'] = pruned
        print_log(f'{where}: the exported {modality!r} student keeps PairedCocoDataset '
                  f'paired by footprint with the {ref!r} files, its boxes\' frame',
                  logger='current', level=30)
        return
    dataset.pop('pairing', None)
    dataset.pop('date_patterns', None)
    fields = template_fields(template) if isinstance(template, str) else None
    folder_only = fields in ([''], ['file_name']) and template.endswith(
        ('{}', '{file_name}'))
    host, why = None, None
    if folder_only:
        host, why = host_pipeline(pruned, modality, _raster_files(dataset, template))
    if host is not None:
        keep = {k: v for k, v in dataset.items()
                if k not in ('type', 'modalities', 'ref_modality', 'on_unpaired',
                             'clip_boxes', 'check_files', 'pipeline', 'data_prefix')}
        dataset.clear()
        dataset.update(type='CocoDataset',
                       data_prefix=dict(img=template[:template.rindex('{')]),
                       pipeline=host, **keep)
        return
    if why is not None:
        print_log(f"{where}: the exported student keeps PairedCocoDataset with mmkd's "
                  f'loader, so it reads what it was distilled on: {why}',
                  logger='current', level=30)
    dataset['modalities'] = {modality: template}
    dataset['ref_modality'] = modality
    dataset['pipeline'] = pruned
