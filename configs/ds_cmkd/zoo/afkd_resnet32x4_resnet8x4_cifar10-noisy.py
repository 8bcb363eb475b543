# AFKD: adversarial distillation on the features of the last stage, feat[-2] (same
# shape for this pair; see mmkd.AFKDLoss for the papers and our defaults), plus CE 1.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(afkd=dict(type='mmkd.AFKDLoss', in_channels=256, hidden_channels=256,
                          num_downsample=1, loss_weight=1., disc_loss_weight=1.,
                          inputs=dict(student='s_feat3', teacher='t_feat3'))),
    data_preprocessor={{_base_.paired_preprocessor}})
