# CRD (Tian et al., arXiv:1910.10699), RepDistiller's --distill crd: NCE over memory banks
# of the pooled embeddings, feat_dim 128, 16384 negatives, tau 0.07, momentum 0.5,
# weight 0.8, CE 1. n_data is the training set's length (50000 for all of CIFAR-10;
# set it with max_per_class: 10 * max_per_class).
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(crd=dict(type='mmkd.CRDLoss', student_channels=256, teacher_channels=256,
                         n_data=50000, feat_dim=128, nce_k=16384, nce_t=0.07, nce_m=0.5,
                         loss_weight=0.8,
                         inputs=dict(student='s_pool', teacher='t_pool'))),
    data_preprocessor={{_base_.paired_preprocessor}})
