# DKD (Zhao et al., CVPR 2022, arXiv:2203.08679) as mdistiller runs it for ResNet32x4 ->
# ResNet8x4 (engine/cfg.py, configs/cifar100/dkd/res32x4_res8x4.yaml): TCKD weight
# alpha 1, NCKD weight beta 8, T 4, CE 1, and the DKD term warmed up linearly over the
# first 20 epochs (mdistiller's min(epoch / 20, 1), epochs from 1, is the schedule's
# min((epoch + 1) / 20, 1), epochs from 0). The labels come from the batch.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(dkd=dict(type='mmkd.DKDLoss', alpha=1.0, beta=8.0, temperature=4.0,
                         inputs=dict(student='s_logits', teacher='t_logits'),
                         schedule=dict(warmup=20, by_epoch=True))),
    data_preprocessor={{_base_.paired_preprocessor}})
