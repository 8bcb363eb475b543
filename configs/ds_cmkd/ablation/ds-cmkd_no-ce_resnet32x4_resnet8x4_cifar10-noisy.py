# DS-CMKD Table 6 ablation: the main-pair DS-CMKD run without the cross-entropy on the
# labels (student_loss_weight=0): SEM + DCM alone; every other term and setting
# unchanged.
_base_ = ['../ds-cmkd_resnet32x4_resnet8x4_cifar10-noisy.py']
model = dict(student_loss_weight=0.)
