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
import string
from typing import Dict, List, Optional

import numpy as np
from mmdet.datasets import CocoDataset
from mmengine.logging import print_log

from mmkd.registry import DATASETS
from .coco_annotations import load_coco_annotation
from .paired_cls_dataset import UnpairedSampleError

# what the packers keep for mmdet's evaluation and box rescaling
DET_META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                 'flip_direction', 'ref_modality')


def _template(value):
    """A modality's template; a plain folder becomes ``<folder>/{}``; a list (band
    files) is a list of templates."""
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
            ``dict(optical='optical/{}', infrared='infrared/{}')``. Give only the
            modalities to read (``dict(infrared=...)`` at test time).
        ref_modality (str, optional): The modality whose pixel frame the boxes are in;
            default: the first of ``modalities``.
        on_unpaired (str): ``'error'`` (default) or ``'skip'``.
        clip_boxes (bool): Clip boxes that cross the image border to it. Defaults to
            True.
        check_files (bool): Check at build time that every modality's file exists.
            Defaults to True.

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
                 **kwargs):
        if not modalities or not isinstance(modalities, dict):
            raise ValueError('PairedCocoDataset needs modalities as a dict modality -> '
                             "file template, e.g. dict(optical='optical/{}', "
                             "infrared='infrared/{}')")
        if on_unpaired not in ('error', 'skip'):
            raise ValueError(f"on_unpaired must be 'error' or 'skip', got "
                             f'{on_unpaired!r}')
        self.modalities = {m: _template(t) for m, t in modalities.items()}
        self.ref_modality = ref_modality or next(iter(self.modalities))
        if self.ref_modality not in self.modalities:
            raise KeyError(f'ref_modality {self.ref_modality!r} is not among the '
                           f'modalities read ({list(self.modalities)})')
        self.on_unpaired = on_unpaired
        self.clip_boxes = clip_boxes
        self.check_files = check_files
        self.notes: Dict[str, int] = {}
        self._classes_given = bool((kwargs.get('metainfo') or {}).get('classes'))
        kwargs.setdefault('data_prefix', dict(img=''))
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ paths
    def modality_path(self, modality: str, img_info: dict) -> str:
        """The file of ``modality`` for one COCO image entry."""
        file_name = img_info['file_name']
        stem, ext = osp.splitext(file_name)
        fields = dict(img_info, file_name=file_name, stem=stem, ext=ext)
        template = self.modalities[modality]
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

    def _paired(self, info: dict) -> bool:
        paths = {m: ([p] if isinstance(p, str) else p) for m, p in
                 info['img_path'].items()}
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
            raise UnpairedSampleError(
                f'{paths[have[0]]} ({have[0]}) has no {lacking[0]} partner: '
                f'{paths[lacking[0]]} does not exist; fix the data or set '
                f"on_unpaired='skip' to drop such images (they are counted and logged)")
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


def _type_name(t) -> str:
    return str(t.get('type', '')).split('.')[-1] if isinstance(t, dict) else ''


def _prune_det_pipeline(pipeline, modality: str) -> list:
    """A paired detection pipeline restricted to ``modality``, packed as mmdet packs a
    single image (still mmkd loaders and paired transforms)."""
    out = []
    for t in pipeline:
        t, name = dict(t), _type_name(t)
        if name == 'LoadMultiModalImages':
            t['modalities'] = [modality]
        elif name == 'PerModality':
            mods = t['modality'] if isinstance(t['modality'], (list, tuple)) else [
                t['modality']]
            if modality not in mods:
                continue
            t['modality'] = modality
        elif name == 'PackMultiModalInputs':
            meta = [k for k in t.get('meta_keys', DET_META_KEYS) if k != 'ref_modality']
            out += [dict(type='mmkd.SelectModality', modality=modality),
                    dict(type='PackDetInputs', meta_keys=tuple(meta))]
            continue
        out.append(t)
    return out


def _pixel_options(load: dict) -> bool:
    """The loader handles nodata/NaN pixels in a way mmdet's loader does not."""
    return (load.get('nodata', 'keep') != 'keep' or load.get('nodata_value') is not None
            or load.get('on_nonfinite', 'raise') != 'raise')


def _host_det_pipeline(pruned, modality: str) -> Optional[list]:
    """mmdet's equivalent of a pruned pipeline, or None when a transform has none."""
    out = []
    for t in pruned:
        t, name = dict(t), _type_name(t)
        if name == 'LoadMultiModalImages':
            if t.get('bands') is not None or _pixel_options(t):
                return None
            color = t.get('color_type', 'unchanged')
            color = color.get(modality, 'unchanged') if isinstance(color, dict) else color
            out.append(dict(type='LoadImageFromFile', color_type=color,
                            to_float32=t.get('to_float32', False)))
        elif name == 'PairedResize':
            size = t['sizes'].get(modality) if isinstance(t['sizes'], dict) else \
                t['sizes']
            if size is not None:
                h, w = (size, size) if isinstance(size, int) else size
                out.append(dict(type='Resize', scale=(w, h), keep_ratio=False))
        elif name == 'PairedRandomFlip':
            out.append(dict(type='RandomFlip', prob=t.get('prob', 0.5),
                            direction=t.get('direction', 'horizontal')))
        elif name == 'PerModality':
            out.extend(t['transforms'])
        elif name == 'SelectModality':
            continue
        elif name == 'LoadAnnotations':
            t.pop('box_type', None)  # mmdet's own transforms want its box type
            out.append(t)
        elif str(t.get('type', '')).startswith('mmkd.'):
            return None
        else:
            out.append(t)
    return out


def single_modality_dataset(dataset: dict, modality: str) -> None:
    """Make a ``PairedCocoDataset`` config read only ``modality`` (used by the student
    export): mmdet's own ``CocoDataset`` where the modality's template is a folder
    (``'infrared/{}'``) and every transform has an mmdet equivalent, so the exported
    student tests with mmdet alone; else the paired dataset restricted to that
    modality, packed as mmdet packs one image."""
    templates = {m: _template(t) for m, t in dataset['modalities'].items()}
    if modality not in templates:
        raise KeyError(f'the student reads {modality!r}, which the PairedCocoDataset '
                       f'config does not list ({sorted(templates)})')
    template = templates[modality]
    pruned = _prune_det_pipeline(dataset.get('pipeline', []), modality)
    host = _host_det_pipeline(pruned, modality)
    fields = template_fields(template) if isinstance(template, str) else None
    folder_only = fields in ([''], ['file_name']) and template.endswith(
        ('{}', '{file_name}'))
    if folder_only and host is not None:
        keep = {k: v for k, v in dataset.items()
                if k not in ('type', 'modalities', 'ref_modality', 'on_unpaired',
                             'clip_boxes', 'check_files', 'pipeline', 'data_prefix')}
        dataset.clear()
        dataset.update(type='CocoDataset',
                       data_prefix=dict(img=template[:template.rindex('{')]),
                       pipeline=host, **keep)
    else:
        dataset['modalities'] = {modality: template}
        dataset['ref_modality'] = modality
        dataset['pipeline'] = pruned
