# The hooks every shipped distillation config runs (and the plain teacher / baseline
# configs of the grids, so that their runs resume as exactly), listed once: a config
# lists this file among its bases instead of writing them out.
#   ExportStudentHook   at the end of training, writes the student alone (a plain
#                       mmpretrain / mmdet / mmseg checkpoint and config) next to the run
#   TeacherHashHook     fingerprints the frozen teacher's weights at the start and checks
#                       them at every checkpoint and at the end (TeacherChangedError)
#   RNGStateHook        saves the Python / NumPy / torch random states in checkpoints and
#                       restores them on resume, so a resumed run continues as the
#                       uninterrupted one would
# The hooks do nothing where there is nothing to do (no teacher to hash, no student to
# export from a plain model). A config that needs one more hook puts it first:
#     custom_hooks = [dict(type='mmkd.ClassWeightsHook', formula='inverse')] + \
#         _base_.custom_hooks
custom_hooks = [dict(type='mmkd.ExportStudentHook'),
                dict(type='mmkd.TeacherHashHook'), dict(type='mmkd.RNGStateHook')]
