# DS-CMKD Table 6 ablation: the main-pair DS-CMKD run without SEM's on-diagonal term
# (channel-wise alignment with the teacher); every other term and setting unchanged.
_base_ = ['../ds-cmkd_resnet32x4_resnet8x4_cifar10-noisy.py']
model = dict(losses=dict(sem=dict(on_diagonal=False)))
