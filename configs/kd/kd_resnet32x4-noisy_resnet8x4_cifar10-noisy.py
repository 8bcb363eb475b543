# KD (Hinton et al., arXiv:1503.02531) within one modality: the ResNet32x4 trained on the
# noisy images (resnet32x4_cifar10-noisy_teacher.py) teaches ResNet8x4 on the same noisy
# images. configs/ds_cmkd/kd_resnet32x4_resnet8x4_cifar10-noisy.py with the other
# teacher, so the two runs differ by what the teacher reads alone. RepDistiller's
# 0.1 CE + 0.9 KD, T = 4.
_base_ = ['../ds_cmkd/kd_resnet32x4_resnet8x4_cifar10-noisy.py']

model = dict(teacher=dict(input='noisy',
                          checkpoint='work_dirs/resnet32x4_cifar10-noisy_teacher'))
