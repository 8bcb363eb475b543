# The baseline: ResNet-34 on simulated SAR alone (what CMKD must beat).
_base_ = ['./resnet34_cifar10-eo_supervised.py']
model = dict(student={{_base_.sar_model}}, student_input='sar')
