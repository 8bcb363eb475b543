from .checkpoint import register_trusted_local_loader
from .compat import check_dependencies
from .export import (
    export_checkpoint,
    is_distillation_config,
    runner_model_cfg,
    save_student,
    student_config,
)

__all__ = ['register_trusted_local_loader', 'check_dependencies', 'export_checkpoint',
           'is_distillation_config', 'runner_model_cfg', 'save_student', 'student_config']
