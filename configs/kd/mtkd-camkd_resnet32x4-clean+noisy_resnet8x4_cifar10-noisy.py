# Two teachers, two modalities, CA-MKD's per-sample confidence weights (Zhang et al.,
# ICASSP 2022): the averaged-targets config (mtkd-ensemble_resnet32x4-clean+noisy_*)
# with aggregation='confidence': on each image the teacher whose cross-entropy with the
# label is lower (usually the one reading the clean image) weighs more; the batch means
# are logged as mtkd.weight_clean / mtkd.weight_noisy. The loss divides by the number
# of teachers K as the authors' code does; loss_weight 1.8 = 0.9 x K gives 0.9 x (a
# convex combination of the two KD terms), the KD strength of the other rows.
_base_ = ['./mtkd-ensemble_resnet32x4-clean+noisy_resnet8x4_cifar10-noisy.py']

model = dict(losses=dict(mtkd=dict(aggregation='confidence', loss_weight=1.8)))
