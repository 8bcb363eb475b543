# DS-CMKD Table 6 ablation: the main-pair DS-CMKD run without SEM's off-diagonal term
# (channel decorrelation); every other term and setting unchanged.
_base_ = ['../ds-cmkd_resnet32x4_resnet8x4_cifar10-noisy.py']
model = dict(losses=dict(sem=dict(off_diagonal=False)))
