from .class_weights_hook import ClassWeightsHook, class_weights
from .export_student_hook import ExportStudentHook
from .role_swap_hook import RoleSwapHook

__all__ = ['ClassWeightsHook', 'ExportStudentHook', 'RoleSwapHook', 'class_weights']
