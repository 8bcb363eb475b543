# CRD for the VGG13 -> VGG8 pair, as crd_resnet32x4_resnet8x4_cifar10-noisy.py: pooled
# 512-d embeddings, weight 0.8, CE 1; n_data = the training set's length.
_base_ = [
    '../_base_/distill_vgg13_vgg8.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(crd=dict(type='mmkd.CRDLoss', student_channels=512, teacher_channels=512,
                         n_data=50000, feat_dim=128, nce_k=16384, nce_t=0.07, nce_m=0.5,
                         loss_weight=0.8,
                         inputs=dict(student='s_pool', teacher='t_pool'))),
    data_preprocessor={{_base_.paired_preprocessor}})
