from mmkd.utils.compat import host_installed
from .class_subset import ClassSubsetDataset
from .coco_annotations import AnnotationFileError
from .paired_base import UnpairedSampleError
from .paired_scene_dataset import PairedSceneWindowDataset
from .paired_seg_dataset import PairedSegDataset
from .teacher_cache_dataset import TeacherCacheDataset, TeacherCacheError
from .transforms import *  # noqa: F401,F403

__all__ = ['AnnotationFileError', 'ClassSubsetDataset', 'UnpairedSampleError']
__all__ += ['PairedSegDataset', 'PairedSceneWindowDataset']
__all__ += ['TeacherCacheDataset', 'TeacherCacheError']

if host_installed('mmpretrain'):
    from .paired_cls_dataset import PairedClsDataset  # noqa: F401
    __all__ += ['PairedClsDataset']
if host_installed('mmdet'):
    from .paired_coco_dataset import PairedCocoDataset  # noqa: F401
    __all__ += ['PairedCocoDataset']
