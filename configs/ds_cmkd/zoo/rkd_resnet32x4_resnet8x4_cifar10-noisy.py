# RKD (Park et al., arXiv:1904.05068), RepDistiller's --distill rkd: distance (25) and
# angle (50) relations of the pooled embeddings, beta 1, CE 1.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(rkd=dict(type='mmkd.RKDLoss', distance_weight=25., angle_weight=50.,
                         loss_weight=1.,
                         inputs=dict(student='s_pool', teacher='t_pool'))),
    data_preprocessor={{_base_.paired_preprocessor}})
