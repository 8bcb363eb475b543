# DS-CMKD Table 7, "KD + Ours": KD (0.1 CE + 0.9 KD, T = 4) with DS-CMKD's SEM and DCM
# added, each term at its own weight: L = [its CE] + [its loss] + gamma * (SEM + DCM).
_base_ = ['../kd_resnet32x4_resnet8x4_cifar10-noisy.py']
model = dict(losses=dict(sem={{_base_.sem}}, dcm={{_base_.dcm}}))
