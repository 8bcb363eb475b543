"""mmkd's high-level entry points: what tools and hooks call on a whole config or run
(student export, config inspection and rewriting). Above ``mmkd.models`` and
``mmkd.datasets``; ``mmkd.utils`` imports neither."""
from .export import (
    export_checkpoint,
    is_distillation_config,
    member_names,
    runner_model_cfg,
    save_student,
    student_config,
)

__all__ = ['export_checkpoint', 'is_distillation_config', 'member_names',
           'runner_model_cfg', 'save_student', 'student_config']
