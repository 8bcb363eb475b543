# CMKD-s: a frozen EO teacher (trained by resnet34_cifar10-eo_supervised.py) teaches a
# simulated-SAR student with class-weighted KL + CE (alpha * wKL + (1 - alpha) * wCE).
_base_ = ['./resnet34_cifar10-simsar_supervised.py', './_base_/methods/cmkd-s.py']
model = dict(teacher=dict(model={{_base_.eo_model}}, input='eo',
                          checkpoint='work_dirs/resnet34_cifar10-eo_supervised'),
             **_base_.pop('method'))
custom_hooks = [dict(type='mmkd.ClassWeightsHook', formula='inverse')] + _base_.custom_hooks
