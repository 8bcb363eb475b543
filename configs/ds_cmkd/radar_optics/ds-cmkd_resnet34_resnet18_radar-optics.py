# DS-CMKD on the radar / optics dataset: the optical ResNet-34 teaches the radar
# ResNet-18, L = CE + gamma * (SEM + DCM).
_base_ = ['../_base_/distill_resnet34_resnet18_radar-optics.py',
          '../_base_/schedules/sgd_100e_radar-optics.py',
          '../../_base_/kd_hooks.py']  # ExportStudent, TeacherHash, RNGState hooks
model = dict(losses=dict(sem={{_base_.sem}}, dcm={{_base_.dcm}}))
