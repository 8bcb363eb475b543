# PKT (Passalis & Tefas, arXiv:1803.10837), RepDistiller's --distill pkt: cosine-
# similarity distributions of the pooled embeddings, beta 30000, CE 1.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(pkt=dict(type='mmkd.PKTLoss', loss_weight=30000.,
                         inputs=dict(student='s_pool', teacher='t_pool'))),
    data_preprocessor={{_base_.paired_preprocessor}})
