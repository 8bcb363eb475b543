# AT for the VGG13 -> VGG8 pair, as at_resnet32x4_resnet8x4_cifar10-noisy.py:
# feat[1:-1] (block1 ... block4), p = 2, beta 1000, CE 1.
_base_ = [
    '../_base_/distill_vgg13_vgg8.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(at=dict(type='mmkd.ATLoss', p=2, loss_weight=1000.,
                        inputs=dict(student=['s_feat1', 's_feat2', 's_feat3', 's_feat4'],
                                    teacher=['t_feat1', 't_feat2', 't_feat3', 't_feat4']))),
    data_preprocessor={{_base_.paired_preprocessor}})
