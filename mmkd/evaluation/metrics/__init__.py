from .balanced_postprocess import BalancedPostProcessMetric, balanced_assignment
from .class_iou_metric import ClassIoUMetric

__all__ = ['BalancedPostProcessMetric', 'balanced_assignment']
__all__ += ['ClassIoUMetric']
