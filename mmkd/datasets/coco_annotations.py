"""COCO annotation files checked where they enter, so a bad file is named.

mmdet's ``CocoDataset`` (and its ``CocoMetric``) read an annotation file with
pycocotools and mmengine, which report a file that was not written completely or holds
no image by what failed deep inside them, not by the file:

- an empty (0-byte) file: ``json.decoder.JSONDecodeError: Expecting value: line 1
  column 1 (char 0)`` from pycocotools' ``COCO()``;
- a file with ``"images": []``: ``ValueError: need at least one array to concatenate``
  from mmengine's ``BaseDataset._serialize_data`` (the data list is empty).

:func:`load_coco_annotation` reads a file and raises :class:`AnnotationFileError` naming
it and saying what to do (``PairedCocoDataset`` reads its file with it), and
:func:`explain_coco_errors` turns those two errors, raised while a config's datasets or
evaluators are built by mmdet itself, into the same message for the file at fault
(``tools/train.py`` and ``tools/test.py`` run under it). It costs nothing when the
files are fine: they are only inspected after one of those errors.
"""
import json
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, List, Tuple


class AnnotationFileError(ValueError):
    """An annotation file is unusable: empty, not JSON, not COCO, holds no image (COCO
    files), or a footprint CSV / orientation / split file that the paired segmentation
    dataset cannot read. One class for every annotation file mmkd reads."""


def load_coco_annotation(path: str) -> dict:
    """The parsed COCO file ``path``; :class:`AnnotationFileError` if it is empty, not
    JSON, not a COCO detection file or has no image."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'COCO annotation file {path} does not exist; check '
                                f'data_root and ann_file')
    if os.path.getsize(path) == 0:
        raise AnnotationFileError(
            f'COCO annotation file {path} is empty (0 bytes): it was not written '
            f'completely (an interrupted converter, copy or download?). Write it again '
            f'(re-run the converter that made it, e.g. '
            f'tools/dataset_converters/instance_masks_to_coco.py) or point ann_file at '
            f'the complete file.')
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AnnotationFileError(
            f'COCO annotation file {path} is not valid JSON ({e}): it is truncated or '
            f'not an annotation file. Write it again or point ann_file at the right '
            f'file.') from None
    check_coco_annotation(data, path)
    return data


def check_coco_annotation(data, path: str) -> None:
    """Raise :class:`AnnotationFileError` if ``data`` (a parsed file) is not a COCO
    detection file with at least one image."""
    if not isinstance(data, dict) or not isinstance(data.get('images'), list):
        got = sorted(data)[:8] if isinstance(data, dict) else type(data).__name__
        raise AnnotationFileError(
            f'{path} is not a COCO detection file: it has no "images" list (it has '
            f'{got}). mmdet\'s CocoDataset reads COCO files with "images", '
            f'"annotations" and "categories".')
    if not data['images']:
        raise AnnotationFileError(
            f'COCO annotation file {path} has no images ("images" is empty; '
            f'{len(data.get("annotations") or [])} annotation(s), '
            f'{len(data.get("categories") or [])} categories): there is nothing to '
            f'train or test on. Check that the converter found your images (its summary '
            f'says what it left out) and wrote this split, or point ann_file at a split '
            f'that has images.')


def _datasets(cfg, where: str) -> Iterator[Tuple[str, dict]]:
    """Dataset configs inside a dataset config (wrappers' ``dataset``/``datasets``)."""
    if not isinstance(cfg, dict):
        return
    yield where, cfg
    inner = cfg.get('dataset')
    if isinstance(inner, dict):
        yield from _datasets(inner, where + '.dataset')
    for i, d in enumerate(cfg.get('datasets') or []):
        yield from _datasets(d, f'{where}.datasets[{i}]')


def coco_annotation_files(cfg) -> List[Tuple[str, str]]:
    """``[(config key, path)]`` of the JSON annotation files a config's dataloaders and
    evaluators read (``data_root`` joined as mmengine joins it)."""
    found = []
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if isinstance(loader, dict):
            for where, ds in _datasets(loader.get('dataset'),
                                       f'{split}_dataloader.dataset'):
                ann = ds.get('ann_file')
                if isinstance(ann, str) and ann.endswith('.json'):
                    root = ds.get('data_root') or ''
                    path = ann if osp.isabs(ann) or not root else osp.join(root, ann)
                    found.append((where + '.ann_file', path))
        evaluator = cfg.get(f'{split}_evaluator')
        metrics = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
        for i, m in enumerate(metrics):
            ann = m.get('ann_file') if isinstance(m, dict) else None
            if isinstance(ann, str) and ann.endswith('.json'):
                key = f'{split}_evaluator' + (f'[{i}]' if len(metrics) > 1 else '')
                found.append((key + '.ann_file', ann))
    return found


@contextmanager
def explain_coco_errors(cfg):
    """Run a block that builds ``cfg``'s datasets or evaluators (``runner.train()``);
    if it fails with the error an empty or image-less COCO file causes, raise
    :class:`AnnotationFileError` for the first such file of ``cfg`` instead (the
    original error is kept as its ``original`` attribute). Other errors pass
    unchanged."""
    try:
        yield
    except (json.JSONDecodeError, ValueError) as error:
        if isinstance(error, AnnotationFileError):
            raise
        for key, path in coco_annotation_files(cfg):
            if not osp.isfile(path):
                continue
            try:
                load_coco_annotation(path)
            except AnnotationFileError as bad:
                clear = AnnotationFileError(f'{key}: {bad}')
                clear.original = error  # what mmdet / mmengine raised
                raise clear from None
        raise
