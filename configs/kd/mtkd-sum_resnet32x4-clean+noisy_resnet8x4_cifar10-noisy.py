# Two teachers, two modalities, one Hinton KD term per teacher: the averaged-targets
# config (mtkd-ensemble_resnet32x4-clean+noisy_*) with MultiTeacherKDLoss
# aggregation='sum' and weight 1 for each teacher, i.e. 0.1 CE + 0.9 KD(clean teacher)
# + 0.9 KD(noisy teacher): each term as the one-teacher configs weigh it.
_base_ = ['./mtkd-ensemble_resnet32x4-clean+noisy_resnet8x4_cifar10-noisy.py']

model = dict(losses=dict(mtkd=dict(aggregation='sum', weights=dict(clean=1.0, noisy=1.0))))
