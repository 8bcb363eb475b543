# DS-CMKD (Si et al., arXiv:2306.15977): ResNet32x4 on clean CIFAR-10 teaches ResNet8x4
# on the same images with salt-and-pepper noise. L = CE + gamma * (SEM + DCM): SEM
# decorrelates the channels of the student's pooled embedding and aligns each with the
# teacher's; DCM spreads the student's stage-2 features uniformly while keeping them
# near the teacher's (see _base_/distill_resnet32x4_resnet8x4.py).
_base_ = [
    './_base_/distill_resnet32x4_resnet8x4.py',
    './_base_/datasets/cifar10_clean-noisy.py',
    './_base_/schedules/sgd_240e.py',
    '../_base_/kd_hooks.py',  # ExportStudent, TeacherHash, RNGState hooks
]
model = dict(
    losses=dict(sem={{_base_.sem}}, dcm={{_base_.dcm}}),
    data_preprocessor={{_base_.paired_preprocessor}})
