"""mmkd's high-level entry points, as ``mmdet.apis`` drives a detector: what tools and
hooks call on a whole config, run or built distiller (student export, config inspection
and rewriting, writing a teacher cache). Above ``mmkd.models`` and ``mmkd.datasets``;
``mmkd.utils`` imports neither."""
from .export import (
    export_checkpoint,
    is_distillation_config,
    member_names,
    runner_model_cfg,
    save_student,
    student_config,
)
from .teacher_cache import check_cacheable, fp16_error, write_teacher_cache

__all__ = ['check_cacheable', 'export_checkpoint', 'fp16_error', 'is_distillation_config',
           'member_names', 'runner_model_cfg', 'save_student', 'student_config',
           'write_teacher_cache']
