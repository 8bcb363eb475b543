# FitNets for the VGG13 -> VGG8 pair, as fitnets_resnet32x4_resnet8x4_cifar10-noisy.py:
# feat[2] (block2, (N, 256, 8, 8) in both) through ConvReg, MSE weight 100, CE 1.
_base_ = [
    '../_base_/distill_vgg13_vgg8.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    connectors=dict(s_feat2_adapted=dict(
        type='mmkd.ConvConnector', source='s_feat2', like='t_feat2', in_channels=256,
        out_channels=256, kernel_size=3, norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU'))),
    losses=dict(hint=dict(type='mmkd.FeatureMSELoss', loss_weight=100.,
                          inputs=dict(student='s_feat2_adapted', teacher='t_feat2'))),
    data_preprocessor={{_base_.paired_preprocessor}})
