# CC (Peng et al., arXiv:1904.01802), RepDistiller's --distill correlation: correlation
# congruence of linearly embedded (128-d) pooled features, beta 0.02, CE 1.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(cc=dict(type='mmkd.CCLoss', student_channels=256, teacher_channels=256,
                        embed_channels=128, loss_weight=0.02,
                        inputs=dict(student='s_pool', teacher='t_pool'))),
    data_preprocessor={{_base_.paired_preprocessor}})
