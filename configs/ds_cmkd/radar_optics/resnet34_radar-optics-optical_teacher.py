# The optical teacher of the radar / optics dataset: ResNet-34 supervised on the optical
# images (a Distiller without a teacher, reading one modality of the pairs).
_base_ = ['../_base_/distill_resnet34_resnet18_radar-optics.py',
          '../_base_/schedules/sgd_100e_radar-optics.py',
          '../../_base_/kd_hooks.py']  # ExportStudent, TeacherHash, RNGState hooks
model = dict(_delete_=True, type='mmkd.Distiller', student={{_base_.resnet34}},
             student_input='optical', data_preprocessor={{_base_.paired_preprocessor}})
