# Two teachers with CA-MKD's per-sample confidence weights (Zhang et al., ICASSP 2022):
# the averaged-targets config (mtkd-ensemble_resnet34+vgg8_*) with MultiTeacherKDLoss
# aggregation='confidence': on each chip the teacher whose cross-entropy with the label
# is lower weighs more (the batch means are logged as mtkd.weight_resnet34 /
# mtkd.weight_vgg8). The loss divides by the number of teachers K, as the authors' code
# does; loss_weight 1.8 = 0.9 x K gives 0.9 x (a convex combination of the two teachers'
# KD terms), the KD strength of the other rows of the table (the authors' own setting is
# CE 1, KD 1, as configs/cmkd/mtkd-camkd_*). T 4, 0.1 CE.
_base_ = ['./mtkd-ensemble_resnet34+vgg8_resnet18-w32_synthetic-sar-10shot.py']

model = dict(losses=dict(mtkd=dict(aggregation='confidence', loss_weight=1.8)))
