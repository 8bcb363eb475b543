# VID (Ahn et al., arXiv:1904.05835), RepDistiller's --distill vid: Gaussian likelihood
# of feat[1:-1] of the teacher given the student's (trained regressors and variances),
# beta 1, CE 1.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(vid=dict(type='mmkd.VIDLoss', student_channels=(64, 128, 256),
                         teacher_channels=(64, 128, 256), loss_weight=1.,
                         inputs=dict(student=['s_feat1', 's_feat2', 's_feat3'],
                                     teacher=['t_feat1', 't_feat2', 't_feat3']))),
    data_preprocessor={{_base_.paired_preprocessor}})
