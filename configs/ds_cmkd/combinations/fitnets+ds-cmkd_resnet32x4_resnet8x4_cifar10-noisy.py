# DS-CMKD Table 7, "FitNets + Ours": FitNets (hint on feat[2], weight 100) with
# DS-CMKD's SEM and DCM added, each term at its own weight: L = [its CE] + [its loss] +
# gamma * (SEM + DCM).
_base_ = ['../zoo/fitnets_resnet32x4_resnet8x4_cifar10-noisy.py']
model = dict(losses=dict(sem={{_base_.sem}}, dcm={{_base_.dcm}}))
