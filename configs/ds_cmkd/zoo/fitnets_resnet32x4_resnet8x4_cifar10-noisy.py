# FitNets (Romero et al., arXiv:1412.6550) as RepDistiller runs it (--distill hint): the
# student's feat[2] through a regressor (ConvReg: conv3x3-BN-ReLU) imitates the
# teacher's feat[2] by MSE, weight 100, CE 1, in one stage (RepDistiller has no hint
# initialisation stage for FitNets; its init stage is for AB, FT and FSP).
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    connectors=dict(s_feat2_adapted=dict(
        type='mmkd.ConvConnector', source='s_feat2', like='t_feat2', in_channels=128,
        out_channels=128, kernel_size=3, norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU'))),
    losses=dict(hint=dict(type='mmkd.FeatureMSELoss', loss_weight=100.,
                          inputs=dict(student='s_feat2_adapted', teacher='t_feat2'))),
    data_preprocessor={{_base_.paired_preprocessor}})
