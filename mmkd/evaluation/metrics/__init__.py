from .balanced_postprocess import BalancedPostProcessMetric, balanced_assignment

__all__ = ['BalancedPostProcessMetric', 'balanced_assignment']
