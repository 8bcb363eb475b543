from .paired_cls_dataset import PairedClsDataset, UnpairedSampleError
from .transforms import *  # noqa: F401,F403

__all__ = ['PairedClsDataset', 'UnpairedSampleError']
