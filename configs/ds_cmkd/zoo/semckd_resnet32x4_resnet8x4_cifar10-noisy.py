# SemCKD (Chen et al., arXiv:2012.03236), the authors' run_cifar_distill.sh (--distill
# semckd -r 1 -a 1 -b 400): every student stage of feat[1:-1] imitates every teacher
# stage under a learned attention, weight 400, plus KD (T = 4) 1.0 and CE 1.0. The
# attention's width is the batch size (64): drop the last, smaller batch.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(
        semckd=dict(type='mmkd.SemCKDLoss', student_channels=[64, 128, 256],
                    teacher_channels=[64, 128, 256], batch_size=64, loss_weight=400.,
                    inputs=dict(student=['s_feat1', 's_feat2', 's_feat3'],
                                teacher=['t_feat1', 't_feat2', 't_feat3'])),
        kd=dict(type='mmkd.KDLoss', temperature=4.0, loss_weight=1.0,
                inputs=dict(student='s_logits', teacher='t_logits'))),
    data_preprocessor={{_base_.paired_preprocessor}})
train_dataloader = dict(drop_last=True)
