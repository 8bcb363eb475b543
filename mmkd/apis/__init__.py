"""mmkd's public functions that drive a built distiller (as ``mmdet.apis`` drives a
detector): writing a teacher cache."""
from .teacher_cache import check_cacheable, fp16_error, write_teacher_cache

__all__ = ['check_cacheable', 'fp16_error', 'write_teacher_cache']
