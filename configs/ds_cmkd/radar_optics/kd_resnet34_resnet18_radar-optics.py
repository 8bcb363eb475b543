# KD on the radar / optics dataset: the optical ResNet-34 teaches the radar ResNet-18,
# 0.1 CE + 0.9 KD, T = 4.
_base_ = ['../_base_/distill_resnet34_resnet18_radar-optics.py',
          '../_base_/schedules/sgd_100e_radar-optics.py',
          '../../_base_/kd_hooks.py']  # ExportStudent, TeacherHash, RNGState hooks
model = dict(losses=dict(kd={{_base_.kd}}), student_loss_weight=0.1)
