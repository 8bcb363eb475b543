"""Backbones OpenMMLab lacks: the CIFAR networks of RepDistiller, the standard students
and teachers of the distillation literature (see ``cifar_base.py``)."""
from .cifar_mobilenet_v2 import CifarMobileNetV2
from .cifar_resnet import CifarResNet
from .cifar_shufflenet_v1 import CifarShuffleNetV1
from .cifar_shufflenet_v2 import CifarShuffleNetV2
from .cifar_vgg import CifarVGG
from .cifar_wrn import CifarWRN

__all__ = ['CifarResNet', 'CifarVGG', 'CifarShuffleNetV1', 'CifarShuffleNetV2',
           'CifarMobileNetV2', 'CifarWRN']
