"""Packing a paired sample: ``inputs`` is a dict ``modality -> CxHxW tensor``; one data
sample of the host library carries the labels in the reference modality's frame."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmkd.registry import TRANSFORMS
from .host_mapping import host_packer

DEFAULT_META = ('sample_idx', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                'flip', 'flip_direction', 'crop_box', 'rotate_angle', 'ref_modality')


def _to_tensor(img: np.ndarray) -> torch.Tensor:
    if img.ndim == 2:
        img = img[..., None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackMultiModalInputs(BaseTransform):
    """Pack images per modality and the labels into the host library's data sample.

    Args:
        task (str): ``'cls'`` (mmpretrain ``DataSample`` with ``gt_label``), ``'seg'``
            (mmseg ``SegDataSample`` with ``gt_sem_seg``) or ``'det'`` (mmdet
            ``DetDataSample`` with ``gt_instances``: ``bboxes``, ``labels``).
        meta_keys (Sequence[str]): Keys copied into the sample's metainfo when present.
            ``img_shape`` and ``ori_shape`` are those of the reference modality (the
            labels' frame); all modalities' shapes are kept in ``img_shapes``.
    """

    # how it maps to the host pipeline (:mod:`mmkd.datasets.transforms.host_mapping`)
    @staticmethod
    def for_modality(cfg: dict, modality: str) -> list:
        return host_packer(cfg, modality)

    def __init__(self, task: str = 'cls', meta_keys: Sequence[str] = DEFAULT_META):
        if task not in ('cls', 'seg', 'det'):
            raise ValueError(f"task must be 'cls', 'seg' or 'det', got {task!r}")
        self.task = task
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        from .paired_geometric import ref_modality
        ref = ref_modality(results)
        inputs = {m: _to_tensor(img) for m, img in results['img'].items()}
        meta = {}
        for k in self.meta_keys:
            if k not in results:
                continue
            v = results[k]
            if k in ('img_shape', 'ori_shape') and isinstance(v, dict):
                meta[k + 's'] = dict(v)
                v = v[ref]
            meta[k] = v
        if self.task == 'cls':
            from mmpretrain.structures import DataSample
            sample = DataSample()
            if 'gt_label' in results:
                sample.set_gt_label(results['gt_label'])
            if 'gt_score' in results:
                sample.set_gt_score(results['gt_score'])
        elif self.task == 'seg':
            from mmengine.structures import PixelData
            from mmseg.structures import SegDataSample
            sample = SegDataSample()
            if results.get('gt_seg_map') is not None:
                seg = results['gt_seg_map']
                sample.gt_sem_seg = PixelData(data=torch.from_numpy(
                    np.ascontiguousarray(seg[None].astype(np.int64))))
        else:
            from mmdet.structures import DetDataSample
            from mmengine.structures import InstanceData
            sample = DetDataSample()
            inst = InstanceData()
            boxes = np.asarray(results.get('gt_bboxes', np.zeros((0, 4))), np.float32)
            inst.bboxes = torch.from_numpy(boxes.reshape(-1, 4))
            inst.labels = torch.as_tensor(
                np.asarray(results.get('gt_bboxes_labels', []), np.int64))
            sample.gt_instances = inst
            sample.ignored_instances = InstanceData(
                bboxes=torch.zeros((0, 4)), labels=torch.zeros((0, ), dtype=torch.long))
        sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=sample)
