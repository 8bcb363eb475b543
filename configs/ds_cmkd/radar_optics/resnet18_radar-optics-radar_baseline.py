# Baseline: ResNet-18 supervised on the radar images alone.
_base_ = ['../_base_/distill_resnet34_resnet18_radar-optics.py',
          '../_base_/schedules/sgd_100e_radar-optics.py',
          '../../_base_/kd_hooks.py']  # ExportStudent, TeacherHash, RNGState hooks
model = dict(_delete_=True, type='mmkd.Distiller', student={{_base_.resnet18}},
             student_input='radar', data_preprocessor={{_base_.paired_preprocessor}})
