# NST (Huang & Wang, arXiv:1707.01219), RepDistiller's --distill nst: polynomial-kernel
# MMD of the channel maps of feat[1:-1], beta 50, CE 1.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(nst=dict(type='mmkd.NSTLoss', loss_weight=50.,
                         inputs=dict(student=['s_feat1', 's_feat2', 's_feat3'],
                                     teacher=['t_feat1', 't_feat2', 't_feat3']))),
    data_preprocessor={{_base_.paired_preprocessor}})
