# ALKD: adversarial distillation on the logits (a discriminator tells the teacher's
# logits from the student's; see mmkd.ALKDLoss for the papers and our defaults), plus
# CE 1.
_base_ = [
    '../_base_/distill_resnet32x4_resnet8x4.py',
    '../_base_/datasets/cifar10_clean-noisy.py',
    '../_base_/schedules/sgd_240e.py',
    '../../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(alkd=dict(type='mmkd.ALKDLoss', num_classes=10, hidden_channels=256,
                          loss_weight=1., disc_loss_weight=1.,
                          inputs=dict(student='s_logits', teacher='t_logits'))),
    data_preprocessor={{_base_.paired_preprocessor}})
