# ReviewKD (Chen et al., CVPR 2021, arXiv:2104.09044) as mdistiller runs it for
# ResNet32x4 -> ResNet8x4 (mdistiller/distillers/ReviewKD.py, engine/cfg.py,
# configs/cifar100/reviewkd.yaml): ABF fuses the student's feat[1:] (after ReLU, as
# STU_PREACT = False) and pooled vector from the deepest up; HCL compares them with the
# teacher's pre-activation stages preact_feats[1:] and pooled vector. Channels
# [64, 128, 256, 256] for both, ABF width 256, ReviewKD weight 5 warmed up linearly over
# 20 epochs, CE 1. ResNet32x4 has 5 blocks per stage: its pre-activations are the
# `preact` of block 4.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    taps=dict(t_preact1='teacher.backbone.layer1.4.preact',
              t_preact2='teacher.backbone.layer2.4.preact',
              t_preact3='teacher.backbone.layer3.4.preact'),
    losses=dict(reviewkd=dict(
        type='mmkd.ReviewKDLoss', student_channels=[64, 128, 256, 256],
        teacher_channels=[64, 128, 256, 256], loss_weight=5.0,
        inputs=dict(student=['s_feat1', 's_feat2', 's_feat3', 's_pool'],
                    teacher=['t_preact1', 't_preact2', 't_preact3', 't_pool']),
        schedule=dict(warmup=20, by_epoch=True))),
    data_preprocessor={{_base_.paired_preprocessor}})
