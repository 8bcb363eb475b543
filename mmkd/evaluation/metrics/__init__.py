from mmkd.utils.compat import host_installed
from .balanced_postprocess import BalancedPostProcessMetric, balanced_assignment

__all__ = ['BalancedPostProcessMetric', 'balanced_assignment']

if host_installed('mmseg'):
    from .class_iou_metric import ClassIoUMetric  # noqa: F401
    __all__ += ['ClassIoUMetric']
