"""One modality's pipeline out of a paired one, and its host-library equivalent.

The student export (:func:`mmkd.apis.export.student_config`) gives the exported
student a dataset that reads only its own modality. Two steps, shared by the
classification, segmentation and detection datasets, each asking every step's transform
class how it maps (``for_modality``, ``to_host``, ``renders_modality``: the protocol of
:mod:`mmkd.datasets.transforms.host_mapping`), so no type name is switched on here:

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

from .paired_base import IMG_EXTENSIONS, is_image_file  # noqa: F401  (re-exported)
from .transforms.host_mapping import (  # noqa: F401  (re-exported)
    DET_META_KEYS,
    HOST_PACKERS,
    NoHostEquivalent,
    transform_class,
    type_name,
)

# files mmcv's LoadImageFromFile reads differently from mmkd's loader, or not at all
RASTER_EXTENSIONS = ('.tif', '.tiff', '.npy')


def _host_load_annotations(t: dict) -> List[dict]:
    t.pop('box_type', None)  # mmdet's own transforms want its box type
    return [t]


# host-library transforms of paired pipelines that change on the way to the host one
HOST_STEPS = {'LoadAnnotations': _host_load_annotations}


def prune_pipeline(pipeline: Sequence[dict], modality: str) -> List[dict]:
    """A paired pipeline restricted to ``modality``: each step as its transform's
    ``for_modality`` has it (the loader reads ``modality`` alone, ``PerModality`` /
    ``SARIntensityScale`` steps of other modalities are dropped,
    ``PackMultiModalInputs`` becomes ``mmkd.SelectModality`` + the host packer, its
    ``meta_keys`` kept for detection, where mmdet's evaluation needs them)."""
    out = []
    for t in pipeline:
        for_modality = getattr(transform_class(t), 'for_modality', None)
        out += for_modality(dict(t), modality) if for_modality else [dict(t)]
    return out


def repack_one_modality(pipeline: Sequence[dict], modality: str) -> List[dict]:
    """The pipeline as it is, but packed as the host library packs ``modality`` alone
    (``mmkd.SelectModality`` + its packer): for students whose input a step renders
    from another modality (:func:`renders_modality`)."""
    from .transforms import PackMultiModalInputs
    out = []
    for t in pipeline:
        out += (PackMultiModalInputs.for_modality(dict(t), modality)
                if transform_class(t) is PackMultiModalInputs else [dict(t)])
    return out


def renders_modality(pipeline: Sequence[dict]) -> bool:
    """Whether a step renders a modality from another (``SimulateSAR``,
    ``SaltPepperNoise``): a student of it still needs the source data."""
    return any(getattr(transform_class(t), 'renders_modality', False) for t in pipeline)


def loader_needs_mmkd(load: dict, modality: str,
                      raster_files: bool = False) -> Optional[str]:
    """Why ``LoadImageFromFile`` cannot stand in for this ``LoadMultiModalImages``
    config reading ``modality`` (see the module docstring), or None."""
    from .transforms import LoadMultiModalImages
    return LoadMultiModalImages.host_refusal(load, modality, raster_files)


def host_pipeline(pruned: Sequence[dict], modality: str,
                  raster_files: bool = False) -> Tuple[Optional[List[dict]],
                                                       Optional[str]]:
    """The host library's equivalent of a pruned pipeline (:func:`prune_pipeline`):
    ``(pipeline, None)``, or ``(None, reason)`` when a step has none. Each mmkd step
    maps as its transform's ``to_host`` says
    (:mod:`mmkd.datasets.transforms.host_mapping`); the host libraries' own steps are
    kept (``HOST_STEPS`` adjusts some).

    Args:
        pruned: The pipeline restricted to ``modality``.
        modality: The modality read.
        raster_files: The modality's files are (Geo)TIFF or ``.npy`` (see
            :func:`first_image` to find out); the host loader reads them otherwise.
    """
    out = []
    for t in pruned:
        t = dict(t)
        to_host = getattr(transform_class(t), 'to_host', None)
        if to_host is not None:
            try:
                out += to_host(t, modality, raster_files)
            except NoHostEquivalent as e:
                return None, str(e)
        elif str(t.get('type', '')).startswith('mmkd.'):
            return None, f'{t["type"]} has no host-library equivalent'
        else:
            out += HOST_STEPS.get(type_name(t), lambda step: [step])(t)
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
            if is_image_file(f):
                return osp.join(dirpath, f)
    return None


def is_raster_file(path: Optional[str]) -> bool:
    """Whether ``path`` names a (Geo)TIFF or ``.npy`` file (False for None)."""
    return bool(path) and osp.splitext(path)[1].lower() in RASTER_EXTENSIONS
