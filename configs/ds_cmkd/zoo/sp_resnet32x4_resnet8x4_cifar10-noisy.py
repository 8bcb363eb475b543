# SP (Tung & Mori, arXiv:1907.09682), RepDistiller's --distill similarity: batch
# similarity matrices of feat[-2] (the last stage), beta 3000, CE 1.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(sp=dict(type='mmkd.SPLoss', loss_weight=3000.,
                        inputs=dict(student='s_feat3', teacher='t_feat3'))),
    data_preprocessor={{_base_.paired_preprocessor}})
