# Table 2 grid, row "baseline": ResNet-34 on simulated SAR, no MixUp, no AutoAugment.
_base_ = ['../resnet34_cifar10-simsar_supervised.py']
