from .class_weights_hook import ClassWeightsHook, class_weights
from .export_student_hook import ExportStudentHook
from .rng_state_hook import RNGStateHook
from .role_swap_hook import RoleSwapHook
from .teacher_hash_hook import TeacherHashHook

__all__ = ['ClassWeightsHook', 'ExportStudentHook', 'RNGStateHook', 'RoleSwapHook',
           'TeacherHashHook', 'class_weights']
