# Two teachers, one Hinton KD term per teacher: the averaged-targets config
# (mtkd-ensemble_resnet34+vgg8_*) with MultiTeacherKDLoss aggregation='sum' and weight 1
# for each teacher, i.e. 0.1 CE + 0.9 KD(ResNet-34) + 0.9 KD(VGG-8): each teacher's
# term as the one-teacher config weighs it. (Weights summing to 1, e.g. 0.5 / 0.5, would
# give exactly the gradient of the averaged-targets run; see the loss's docstring.) The
# weights are logged as mtkd.weight_resnet34 / mtkd.weight_vgg8.
_base_ = ['./mtkd-ensemble_resnet34+vgg8_resnet18-w32_synthetic-sar-10shot.py']

model = dict(losses=dict(mtkd=dict(aggregation='sum',
                                   weights=dict(resnet34=1.0, vgg8=1.0))))
