# DS-CMKD Table 6 ablation: the main-pair DS-CMKD run without DCM's cross term -L_DM(t1,
# t2) (closeness to the teacher's features); every other term and setting unchanged.
_base_ = ['../ds-cmkd_resnet32x4_resnet8x4_cifar10-noisy.py']
model = dict(losses=dict(dcm=dict(cross_term=False)))
