# The runtime of the EO / SAR classification distillation configs (cmkd/,
# foundation_teacher/): mmpretrain's default runtime, the shipped hooks (kd_hooks.py:
# ExportStudent, TeacherHash, RNGState), the last checkpoint of every 5th epoch kept, a
# log line every 50 iterations.
_base_ = ['mmpretrain::_base_/default_runtime.py', './kd_hooks.py']
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=1), logger=dict(interval=50))
