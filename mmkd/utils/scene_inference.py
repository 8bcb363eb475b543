"""Whole-scene inference for exported students: georeferenced in, georeferenced out.

- :func:`segment_scene`: mmseg's own sliding-window inference
  (``test_cfg=dict(mode='slide', crop_size=..., stride=...)``, its
  ``EncoderDecoder.slide_inference``) over a scene read in blocks, written as a
  one-band ``uint8`` GeoTIFF of class ids with the input's CRS, transform and size,
  and ``nodata`` where the input has none.
- :func:`detect_scene`: sliced detection with mmdet 3's own pieces: the scene cut into
  overlapping tiles, mmdet's detector on each (``init_detector`` and the model's
  ``test_step``), boxes moved to scene pixels and merged across tiles with mmcv's
  class-aware ``batched_nms``; written as a COCO-style JSON in scene pixels and,
  optionally, GeoJSON polygons in longitude/latitude (EPSG:4326, RFC 7946).

Both read the scene through the model config's own test pipeline, so the student sees
what it saw in evaluation: an mmkd pipeline (``mmkd.LoadMultiModalImages``, SAR
scaling ...) reads each block as a rasterio window of the scene; a host pipeline's
``LoadImageFromFile`` is replaced by the same windowed read (3 bands turned to BGR for
``color_type='color'``, as OpenCV reads them). Label loaders (``LoadSegMask``,
``LoadAnnotations``) are left out: a scene has no labels.

Why not sahi for detection: in this stack ``pip`` resolves sahi to 0.12.x with numpy 2
and opencv-python 5 (mmcv 2.1 / mmdet 3.3 need numpy < 2); held to numpy < 2 it is 0.11.36,
whose mmdet 3 wrapper needs a ``LoadImageFromFile`` + ``Resize`` test pipeline (an mmkd
pipeline is refused) and reads the scene with PIL as one 8-bit RGB image in memory
(float32 SAR, band files, nodata and the georeference are lost). The slicing itself is a
few lines around mmdet's detector and mmcv's NMS.
"""
import copy
import json
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from mmkd.registry import type_name as _type_name

Paths = Union[str, Sequence[str]]
LABEL_LOADERS = ('LoadSegMask', 'LoadAnnotations', 'LoadDepthAnnotation')
HOST_LOADERS = ('LoadImageFromFile', 'LoadImageFromNDArray')


class SceneInferenceError(ValueError):
    """The scene, the config or the options cannot be used for scene inference."""


def window_starts(length: int, size: int, step: int) -> List[int]:
    """Offsets of windows of ``size`` every ``step`` along an axis of ``length``, the
    last flush with the end; one window at 0 when ``length <= size``."""
    if length <= size:
        return [0]
    starts = list(range(0, length - size + 1, step))
    if starts[-1] + size < length:
        starts.append(length - size)
    return starts


class Scene:
    """The georeference of a scene (one GeoTIFF, or band files on one grid)."""

    def __init__(self, paths: Paths, modality: str = 'scene'):
        from mmkd.datasets.georef import GeoreferenceError, read_footprint
        self.paths = [paths] if isinstance(paths, str) else list(paths)
        if not self.paths:
            raise SceneInferenceError('no scene file given')
        for p in self.paths:
            if not osp.isfile(p):
                raise SceneInferenceError(f'scene file {p!r} does not exist')
        try:
            fp = read_footprint(modality, 'scene', self.paths if len(self.paths) > 1
                                else self.paths[0])
        except GeoreferenceError as e:
            msg = str(e).split('; pairing by footprint needs')[0]
            raise SceneInferenceError(
                f'{msg}; scene inference reads georeferenced scenes (a CRS and a '
                f'geotransform) and writes its output on the same grid') from None
        self.crs, self.transform = fp.crs, fp.transform
        self.height, self.width = fp.shape
        self.bounds = fp.bounds

    @property
    def path(self) -> str:
        return self.paths[0]

    def window_grid(self, row: int, col: int, h: int, w: int, modality: str) -> dict:
        """The sample grid (``geo_grid``) of a window of the scene's own pixels: the
        mmkd loaders read it as a plain rasterio window."""
        t = self.transform
        left, top = t.c + col * t.a, t.f + row * t.e
        right, bottom = left + w * t.a, top + h * t.e
        return dict(crs=self.crs.to_wkt(), bounds=(left, bottom, right, top),
                    shapes={modality: (h, w)}, resampling={modality: 'bilinear'},
                    ref=modality, ref_window=(row, col, h, w),
                    ref_shape=(self.height, self.width))


class ScenePipeline:
    """A model config's test pipeline turned into a reader of scene windows.

    Args:
        cfg: The (exported) model config.
        modality (str, optional): For an mmkd pipeline, the modality the model reads
            (default: the one its ``LoadMultiModalImages`` or ``SelectModality`` names).
    """

    def __init__(self, cfg, modality: Optional[str] = None):
        from mmcv.transforms import Compose  # noqa: F401  (registers the host ones)
        from mmengine.registry import TRANSFORMS
        pipeline = self._pipeline_cfg(cfg)
        loaders = [i for i, t in enumerate(pipeline)
                   if _type_name(t) in ('LoadMultiModalImages', ) + HOST_LOADERS]
        if not loaders:
            raise SceneInferenceError(
                f'the test pipeline has no image loader (mmkd.LoadMultiModalImages or '
                f'LoadImageFromFile) to replace with a scene reader: '
                f'{[_type_name(t) for t in pipeline]}')
        i = loaders[0]
        loader = dict(pipeline[i])
        self.host = _type_name(loader) in HOST_LOADERS
        if self.host:
            self.color_type = loader.get('color_type', 'color')
            self.to_float32 = loader.get('to_float32', False)
            self.modality = modality or 'img'
            self.loader = None
        else:
            named = loader.get('modalities') or [
                t['modality'] for t in pipeline if _type_name(t) == 'SelectModality']
            self.modality = modality or (named[0] if named else None)
            if self.modality is None:
                raise SceneInferenceError('the test pipeline does not say which modality '
                                          'the model reads: pass modality=')
            loader['modalities'] = [self.modality]
            self.loader = TRANSFORMS.build(loader)
        rest = [t for t in pipeline[i + 1:] if _type_name(t) not in LABEL_LOADERS]
        self.transforms = [TRANSFORMS.build(copy.deepcopy(t)) for t in rest]

    @staticmethod
    def _pipeline_cfg(cfg) -> list:
        loader = cfg.get('test_dataloader') or {}
        pipeline = (loader.get('dataset') or {}).get('pipeline') or cfg.get('test_pipeline')
        if not pipeline:
            raise SceneInferenceError('the config has no test_dataloader.dataset.pipeline '
                                      'nor test_pipeline to read the scene with')
        return [dict(t) for t in pipeline]

    def __call__(self, scene: Scene, row: int, col: int, h: int, w: int):
        """``(packed sample, H x W nodata mask)`` of the window ``(row, col, h, w)``."""
        if self.host:
            from mmkd.datasets.transforms.loading import read_raster
            g = scene.window_grid(row, col, h, w, 'img')
            img, nodata, _ = read_raster(
                scene.paths if len(scene.paths) > 1 else scene.path, 'unchanged',
                dict(crs=g['crs'], bounds=g['bounds'], shape=(h, w)))
            flags = np.zeros((h, w), bool) if nodata is None else nodata
            if img.dtype.kind == 'f':
                flags = flags | ~np.isfinite(img).all(axis=2)
            if self.color_type == 'color' and img.shape[2] == 3:
                img = np.ascontiguousarray(img[..., ::-1])  # RGB file -> BGR, as cv2
            elif self.color_type == 'grayscale' and img.shape[2] > 1:
                img = img.mean(axis=2, keepdims=True).astype(img.dtype)
            if self.to_float32:
                img = img.astype(np.float32)
            results = dict(img=img, img_path=scene.path, img_shape=img.shape[:2],
                           ori_shape=img.shape[:2], sample_idx=0, img_id=0)
        else:
            paths = scene.paths if len(scene.paths) > 1 else scene.path
            results = dict(img_path={self.modality: paths}, sample_idx=0,
                           ref_modality=self.modality,
                           geo_grid=scene.window_grid(row, col, h, w, self.modality))
            results = self.loader(results)
            if results is None:
                raise SceneInferenceError(
                    f'{scene.path}: the loader dropped the window ({row}, {col}, {h}, '
                    f"{w}) (nodata='skip' or on_nonfinite='skip' in the test pipeline); "
                    f"use 'fill' or 'mask' for scene inference")
            flags = results['nodata_masks'][self.modality]
        # a pipeline without a resize: the model's outputs need no rescaling
        results.setdefault('scale_factor', (1., 1.))
        for t in self.transforms:
            results = t(results)
            if results is None:
                raise SceneInferenceError(f'{scene.path}: {type(t).__name__} dropped the '
                                          f'window ({row}, {col}, {h}, {w})')
        inputs = results['inputs']
        if isinstance(inputs, dict):  # a paired packer: the model reads one modality
            inputs = inputs[self.modality]
        return dict(inputs=[inputs], data_samples=[results['data_samples']]), flags


def _load_model(api: str, config, checkpoint: str, device: str, test_cfg=None):
    """The host library's own model loader (mmseg ``init_model`` or mmdet
    ``init_detector``), with ``test_cfg`` merged into the model's."""
    from mmengine.config import Config

    import mmkd  # noqa: F401  (registers the mmkd types an exported config may name)
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    if str(cfg.model.get('type', '')).split('.')[-1] in ('Distiller', 'MutualDistiller'):
        raise SceneInferenceError(
            'the config is a distillation config: export the student first '
            '(tools/misc/export_student.py CONFIG CHECKPOINT) and pass its '
            'student_config.py and student.pth')
    if test_cfg is not None:
        cfg.model.test_cfg = dict(cfg.model.get('test_cfg') or {}, **test_cfg)
    if not osp.isfile(checkpoint):
        raise SceneInferenceError(f'checkpoint {checkpoint!r} does not exist')
    if api == 'seg':
        from mmseg.apis import init_model
        model = init_model(cfg, checkpoint, device=device)
    else:
        from mmdet.apis import init_detector
        # palette='random': no visualisation here, so the test dataset need not be
        # built for its palette
        model = init_detector(cfg, checkpoint, palette='random', device=device)
    model.eval()
    return model, cfg


def _blocks(length: int, block: int, margin: int, min_size: int):
    """``(core start, core end, read start, read end)`` along one axis: cores tile
    ``[0, length)``; each read adds ``margin`` of context each side and is at least
    ``min_size`` long where the scene allows."""
    out = []
    for s in range(0, length, block):
        e = min(s + block, length)
        rs, re = max(0, s - margin), min(length, e + margin)
        if re - rs < min_size:
            re = min(length, rs + min_size)
            rs = max(0, re - min_size)
        out.append((s, e, rs, re))
    return out


def segment_scene(config, checkpoint: str, scene: Paths, out: str,
                  crop_size: Union[int, Tuple[int, int]] = 512,
                  stride: Optional[Union[int, Tuple[int, int]]] = None,
                  block_size: int = 2048, device: str = 'cpu', nodata: int = 255,
                  modality: Optional[str] = None) -> str:
    """Segment a whole georeferenced scene with mmseg's sliding-window inference and
    write the class ids as a GeoTIFF on the scene's grid.

    Args:
        config: The exported student config (path or Config).
        checkpoint (str): Its checkpoint.
        scene (str | list): The scene file, or its band files (in the order the model
            was trained with).
        out (str): The output GeoTIFF: one ``uint8`` band of class ids, the scene's
            CRS, transform and size, ``nodata`` where the scene has no data.
        crop_size (int | tuple): mmseg's slide ``crop_size`` (the training window).
        stride (int | tuple, optional): mmseg's slide ``stride``. Defaults to half the
            crop.
        block_size (int): The scene is read and predicted in blocks of this many
            pixels a side (plus one crop of context around each), so memory stays
            bounded on large scenes; a scene within one block is one slide inference.
        device (str): ``'cpu'``, ``'cuda:0'`` ...
        nodata (int): Output value where the input has no data. Defaults to 255.
        modality (str, optional): The modality an mmkd test pipeline reads.

    Returns:
        str: ``out``.
    """
    import rasterio
    import torch
    ch, cw = (crop_size, crop_size) if np.isscalar(crop_size) else tuple(crop_size)
    if stride is None:
        stride = (max(1, ch // 2), max(1, cw // 2))
    sh, sw = (stride, stride) if np.isscalar(stride) else tuple(stride)
    if min(ch, cw, sh, sw) < 1 or sh > ch or sw > cw:
        raise SceneInferenceError(f'crop_size {(ch, cw)} and stride {(sh, sw)} must be '
                                  f'positive with stride <= crop_size')
    if block_size < max(ch, cw):
        raise SceneInferenceError(f'block_size {block_size} is smaller than the crop '
                                  f'{(ch, cw)}')
    if not 0 <= int(nodata) <= 255:
        raise SceneInferenceError(f'nodata must be a uint8 value, got {nodata}')
    model, cfg = _load_model('seg', config, checkpoint, device,
                             dict(mode='slide', crop_size=(ch, cw), stride=(sh, sw)))
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    num = int(getattr(getattr(model, 'decode_head', None), 'num_classes', 0) or 0)
    if num > 255 or (num == 255 and nodata == 254):
        raise SceneInferenceError(f'{num} classes do not fit a uint8 GeoTIFF beside '
                                  f'nodata={nodata}')
    if 0 < num and nodata < num:
        raise SceneInferenceError(f'nodata={nodata} is a class id of this {num}-class '
                                  f'model; pick a value >= {num}')
    reader = ScenePipeline(cfg, modality)
    src = Scene(scene, reader.modality)
    H, W = src.height, src.width
    profile = dict(driver='GTiff', height=H, width=W, count=1, dtype='uint8',
                   crs=src.crs, transform=src.transform, nodata=int(nodata),
                   compress='deflate')
    if H >= 256 and W >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    margin = max(ch, cw)
    rows = _blocks(H, block_size, margin, ch)
    cols = _blocks(W, block_size, margin, cw)
    from rasterio.windows import Window
    with rasterio.open(out, 'w', **profile) as dst:
        if classes:
            dst.update_tags(classes=json.dumps(list(classes)))
        dst.update_tags(mmkd_tool='scene_seg_inference', slide_crop=f'{ch}x{cw}',
                        slide_stride=f'{sh}x{sw}')
        for r0, r1, rr0, rr1 in rows:
            for c0, c1, rc0, rc1 in cols:
                data, flags = reader(src, rr0, rc0, rr1 - rr0, rc1 - rc0)
                with torch.no_grad():
                    pred = model.test_step(data)[0].pred_sem_seg.data[0]
                pred = pred.cpu().numpy().astype(np.uint8)
                if pred.shape != flags.shape:
                    raise SceneInferenceError(
                        f'the prediction of block ({rr0}, {rc0}) is {pred.shape}, its '
                        f'input {flags.shape}: the test pipeline changes the image '
                        f'size in a way the model does not undo')
                pred[flags] = nodata
                core = pred[r0 - rr0:r1 - rr0, c0 - rc0:c1 - rc0]
                dst.write(core[None], window=Window(c0, r0, c1 - c0, r1 - r0))
    return out


def detect_scene(config, checkpoint: str, scene: Paths, out: str, tile: int = 512,
                 overlap: int = 128, score_thr: float = 0.3, iou_thr: float = 0.5,
                 geojson: Optional[str] = None, device: str = 'cpu',
                 modality: Optional[str] = None) -> dict:
    """Detect objects over a whole georeferenced scene, tile by tile, and merge.

    The scene is cut into ``tile`` x ``tile`` windows overlapping by ``overlap`` pixels
    (the last ones flush with the edges); each goes through the config's test
    pipeline and the detector; boxes above ``score_thr`` are moved to scene pixels and
    merged across tiles with class-aware NMS at ``iou_thr`` (mmcv ``batched_nms``).
    Make ``overlap`` at least the largest object's size, so every object is whole in
    one tile, and ``tile`` the size the detector was trained on.

    Args:
        config: The exported detector config (path or Config).
        checkpoint (str): Its checkpoint.
        scene (str | list): The scene file, or its band files.
        out (str): COCO-style JSON: ``images`` (the scene), ``categories`` (ids 1..),
            ``annotations`` with ``bbox`` ``[x, y, w, h]`` in scene pixels and
            ``score``; ``info`` holds the scene's CRS and transform.
        tile (int): Tile size in pixels.
        overlap (int): Overlap between neighbouring tiles in pixels.
        score_thr (float): Detections below it are dropped before merging.
        iou_thr (float): NMS IoU threshold across tiles.
        geojson (str, optional): Also write the boxes as GeoJSON polygons in
            EPSG:4326.
        device (str): ``'cpu'``, ``'cuda:0'`` ...
        modality (str, optional): The modality an mmkd test pipeline reads.

    Returns:
        dict: The COCO-style content written to ``out``.
    """
    import torch
    if tile < 1 or not 0 <= overlap < tile:
        raise SceneInferenceError(f'tile must be >= 1 and 0 <= overlap < tile, got '
                                  f'tile={tile}, overlap={overlap}')
    model, cfg = _load_model('det', config, checkpoint, device)
    reader = ScenePipeline(cfg, modality)
    src = Scene(scene, reader.modality)
    H, W = src.height, src.width
    tiles = []
    step = tile - overlap
    for row in window_starts(H, tile, step):
        for col in window_starts(W, tile, step):
            h, w = min(tile, H - row), min(tile, W - col)
            data, _ = reader(src, row, col, h, w)
            with torch.no_grad():
                inst = model.test_step(data)[0].pred_instances
            keep = inst.scores >= score_thr
            tiles.append((row, col, inst.bboxes[keep], inst.scores[keep],
                          inst.labels[keep]))
    boxes, scores, labels = merge_tile_detections(tiles, (H, W), iou_thr)
    classes = list((getattr(model, 'dataset_meta', None) or {}).get('classes') or [])
    n_cls = max(len(classes), int(labels.max()) + 1 if len(labels) else 0)
    names = classes + [f'class_{i}' for i in range(len(classes), n_cls)]
    t = src.transform
    result = dict(
        info=dict(description='mmkd sliced detection (tools/misc/scene_det_inference.py)',
                  scene=src.paths, crs=src.crs.to_wkt(),
                  transform=[t.a, t.b, t.c, t.d, t.e, t.f], tile=tile, overlap=overlap,
                  score_thr=score_thr, iou_thr=iou_thr),
        images=[dict(id=1, file_name=osp.basename(src.path), width=W, height=H)],
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(names)],
        annotations=[])
    for i, (b, s, lab) in enumerate(zip(boxes.tolist(), scores.tolist(), labels.tolist())):
        x1, y1, x2, y2 = b
        result['annotations'].append(dict(
            id=i + 1, image_id=1, category_id=int(lab) + 1, bbox=[x1, y1, x2 - x1, y2 - y1],
            area=(x2 - x1) * (y2 - y1), score=float(s), iscrowd=0))
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(result, f)
    if geojson:
        write_geojson(result, src, geojson)
    return result


def merge_tile_detections(tiles, scene_shape: Tuple[int, int], iou_thr: float = 0.5):
    """Detections of overlapping tiles as one set in scene pixels.

    Args:
        tiles: ``(row, col, boxes, scores, labels)`` per tile: the tile's offset in the
            scene and its detections (x1, y1, x2, y2 in tile pixels).
        scene_shape: ``(height, width)``: boxes are clipped to the scene.
        iou_thr (float): Class-aware NMS IoU threshold across tiles (mmcv
            ``batched_nms``): the same object seen by two tiles is kept once, with its
            best score.

    Returns:
        ``(boxes, scores, labels)`` tensors, by decreasing score.
    """
    import torch
    from mmcv.ops import batched_nms
    H, W = scene_shape
    boxes, scores, labels = [], [], []
    for row, col, b, s, lab in tiles:
        b = torch.as_tensor(b).detach().cpu().float().reshape(-1, 4).clone()
        b[:, [0, 2]] = (b[:, [0, 2]] + col).clamp(0, W)
        b[:, [1, 3]] = (b[:, [1, 3]] + row).clamp(0, H)
        boxes.append(b)
        scores.append(torch.as_tensor(s).detach().cpu().float().reshape(-1))
        labels.append(torch.as_tensor(lab).detach().cpu().long().reshape(-1))
    if not boxes:
        return torch.zeros((0, 4)), torch.zeros(0), torch.zeros(0, dtype=torch.long)
    boxes, scores, labels = torch.cat(boxes), torch.cat(scores), torch.cat(labels)
    if len(boxes) == 0:
        return boxes, scores, labels
    _, keep = batched_nms(boxes, scores, labels,
                          dict(type='nms', iou_threshold=float(iou_thr)))
    return boxes[keep], scores[keep], labels[keep]


def write_geojson(result: dict, scene: Scene, path: str) -> str:
    """The boxes of a :func:`detect_scene` result as GeoJSON polygons (the box's
    corners through the scene's transform, in longitude/latitude, EPSG:4326)."""
    from rasterio.warp import transform as warp
    t = scene.transform
    names = {c['id']: c['name'] for c in result['categories']}
    features = []
    for a in result['annotations']:
        x, y, w, h = a['bbox']
        cols, rows = [x, x + w, x + w, x, x], [y, y, y + h, y + h, y]
        xs = [t.c + c * t.a + r * t.b for c, r in zip(cols, rows)]
        ys = [t.f + c * t.d + r * t.e for c, r in zip(cols, rows)]
        lon, lat = warp(scene.crs, 'EPSG:4326', xs, ys)
        features.append(dict(
            type='Feature',
            geometry=dict(type='Polygon', coordinates=[[[float(u), float(v)]
                                                        for u, v in zip(lon, lat)]]),
            properties=dict(id=a['id'], score=a['score'], category_id=a['category_id'],
                            category=names.get(a['category_id']), bbox_px=a['bbox'])))
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(dict(type='FeatureCollection', features=features), f)
    return path
