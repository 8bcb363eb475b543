"""One modality's pipeline out of a paired one, and its host-library equivalent.

The student export (:func:`mmkd.utils.export.student_config`) gives the exported
student a dataset that reads only its own modality. Two steps, shared by the
classification, segmentation and detection datasets:

1. :func:`prune_pipeline`: the paired pipeline restricted to that modality, still with
   mmkd's loader and ``Paired*`` transforms, packed as the host library packs one image
   (``mmkd.SelectModality`` + ``PackInputs`` / ``PackSegInputs`` / ``PackDetInputs``).
   It reads exactly what the distillation run read.
2. :func:`host_pipeline`: the same with the host library's own transforms
   (``LoadImageFromFile``, ``Resize``, ``RandomFlip``), so the exported config needs no
   mmkd, or the reason why there is no such equivalent.

mmkd's loader does things ``LoadImageFromFile`` cannot, and an exported student given
the host loader would silently see other pixels than it was trained on. The host
pipeline is refused (and the mmkd one kept) when the loader

- keeps some bands (``bands=``): the host loader reads every band;
- handles nodata or NaN pixels (``nodata=``, ``nodata_value=``, ``on_nonfinite=``
  other than the defaults);
- reads (Geo)TIFF or ``.npy`` files (``raster_files``): mmkd reads them with rasterio
  in the band order stored, with the file's nodata; mmcv's loader decodes TIFFs with
  OpenCV (three or four bands come back as BGR(A), other band counts and float
  rasters differently) and cannot read ``.npy``;
- is fed band files (a list of files per modality) or a footprint grid: the caller
  knows and does not ask.

Any other mmkd transform (SAR scaling, simulated SAR, crops) has no host equivalent
either.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

# what the detection packer keeps for mmdet's evaluation and box rescaling
DET_META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                 'flip_direction', 'ref_modality')
HOST_PACKERS = {'cls': 'PackInputs', 'seg': 'PackSegInputs', 'det': 'PackDetInputs'}
# files mmcv's LoadImageFromFile reads differently from mmkd's loader, or not at all
RASTER_EXTENSIONS = ('.tif', '.tiff', '.npy')
IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.npy')


def type_name(t) -> str:
    """A transform config's type without its scope (``'mmkd.PairedResize'`` ->
    ``'PairedResize'``)."""
    return str(t.get('type', '')).split('.')[-1] if isinstance(t, dict) else ''


def _per_modality(value, modality, default=None):
    if isinstance(value, dict):
        return value.get(modality, default)
    return default if value is None else value


def prune_pipeline(pipeline: Sequence[dict], modality: str) -> List[dict]:
    """A paired pipeline restricted to ``modality``: the loader reads it alone,
    ``PerModality`` / ``SARIntensityScale`` steps of other modalities are dropped, and
    ``PackMultiModalInputs`` becomes ``mmkd.SelectModality`` + the host packer (its
    ``meta_keys`` kept for detection, where mmdet's evaluation needs them)."""
    out = []
    for t in pipeline:
        t, name = dict(t), type_name(t)
        if name == 'LoadMultiModalImages':
            t['modalities'] = [modality]
        elif name == 'PerModality':
            mods = t['modality'] if isinstance(t['modality'], (list, tuple)) else [
                t['modality']]
            if modality not in mods:
                continue
            t['modality'] = modality
        elif name == 'SARIntensityScale' and t.get('modality', 'sar') != modality:
            continue
        elif name == 'PackMultiModalInputs':
            task = t.get('task', 'cls')
            if task not in HOST_PACKERS:
                raise ValueError(f'PackMultiModalInputs task {task!r}: no host packer '
                                 f'(one of {sorted(HOST_PACKERS)})')
            packer = dict(type=HOST_PACKERS[task])
            if task == 'det':
                packer['meta_keys'] = tuple(k for k in t.get('meta_keys', DET_META_KEYS)
                                            if k != 'ref_modality')
            out += [dict(type='mmkd.SelectModality', modality=modality), packer]
            continue
        out.append(t)
    return out


def loader_needs_mmkd(load: dict, modality: str,
                      raster_files: bool = False) -> Optional[str]:
    """Why ``LoadImageFromFile`` cannot stand in for this ``LoadMultiModalImages``
    config reading ``modality`` (see the module docstring), or None."""
    bands = _per_modality(load.get('bands'), modality)
    if bands is not None:
        return (f'LoadMultiModalImages(bands=...) keeps bands {list(bands)} of '
                f'{modality!r}; LoadImageFromFile would read every band')
    for key, default in (('nodata', 'keep'), ('on_nonfinite', 'raise')):
        value = _per_modality(load.get(key, default), modality, default)
        if value != default:
            return (f'LoadMultiModalImages({key}={value!r}) for {modality!r}: '
                    f'LoadImageFromFile has no nodata/NaN handling')
    value = _per_modality(load.get('nodata_value'), modality)
    if value is not None:
        return (f'LoadMultiModalImages(nodata_value={value!r}) for {modality!r}: '
                f'LoadImageFromFile has no nodata handling')
    if raster_files:
        return (f'the {modality!r} files are (Geo)TIFF or .npy, which mmkd reads with '
                f'rasterio (bands in stored order, the file\'s nodata) and '
                f'LoadImageFromFile decodes otherwise (OpenCV: BGR band order) or not '
                f'at all')
    return None


def host_pipeline(pruned: Sequence[dict], modality: str,
                  raster_files: bool = False) -> Tuple[Optional[List[dict]],
                                                       Optional[str]]:
    """The host library's equivalent of a pruned pipeline (:func:`prune_pipeline`):
    ``(pipeline, None)``, or ``(None, reason)`` when a step has none.

    Args:
        pruned: The pipeline restricted to ``modality``.
        modality: The modality read.
        raster_files: The modality's files are (Geo)TIFF or ``.npy`` (see
            :func:`first_image` to find out); the host loader reads them otherwise.
    """
    out = []
    for t in pruned:
        t, name = dict(t), type_name(t)
        if name == 'LoadMultiModalImages':
            why = loader_needs_mmkd(t, modality, raster_files)
            if why is not None:
                return None, why
            load = dict(type='LoadImageFromFile',
                        color_type=_per_modality(t.get('color_type', 'unchanged'),
                                                 modality, 'unchanged'))
            if t.get('to_float32'):
                load['to_float32'] = True
            out.append(load)
        elif name == 'PairedResize':
            size = _per_modality(t['sizes'], modality)
            if size is not None:
                h, w = (size, size) if isinstance(size, int) else size
                out.append(dict(type='Resize', scale=(w, h), keep_ratio=False,
                                interpolation=t.get('interpolation', 'bilinear')))
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
            return None, f'{t["type"]} has no host-library equivalent'
        else:
            out.append(t)
    return out, None


def first_image(folder: str) -> Optional[str]:
    """The first image file under ``folder`` (sub-folders too, in sorted order), or
    None when there is none or the folder does not exist (data not on this
    machine)."""
    if not osp.isdir(folder):
        return None
    for dirpath, dirs, files in os.walk(folder):
        dirs.sort()
        for f in sorted(files):
            if f.lower().endswith(IMG_EXTENSIONS) and not f.endswith('.aux.xml'):
                return osp.join(dirpath, f)
    return None


def is_raster_file(path: Optional[str]) -> bool:
    """Whether ``path`` names a (Geo)TIFF or ``.npy`` file (False for None)."""
    return bool(path) and osp.splitext(path)[1].lower() in RASTER_EXTENSIONS
