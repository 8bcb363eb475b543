from .class_subset import ClassSubsetDataset
from .coco_annotations import AnnotationFileError
from .paired_base import UnpairedSampleError
from .paired_cls_dataset import PairedClsDataset
from .paired_coco_dataset import PairedCocoDataset
from .paired_scene_dataset import PairedSceneWindowDataset
from .paired_seg_dataset import PairedSegDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['AnnotationFileError', 'ClassSubsetDataset', 'PairedClsDataset',
           'UnpairedSampleError']
__all__ += ['PairedSegDataset', 'PairedSceneWindowDataset']
__all__ += ['PairedCocoDataset']
