# Table 2 grid, "mixup" with CMKD-s (the EO teacher of resnet34_cifar10-eo_supervised.py).
_base_ = ['./simsar_mixup.py', '../_base_/methods/cmkd-s.py']
model = dict(teacher=dict(model={{_base_.eo_model}}, input='eo',
                          checkpoint='work_dirs/resnet34_cifar10-eo_supervised'),
             **_base_.pop('method'))
custom_hooks = [dict(type='mmkd.ClassWeightsHook', formula='inverse')] + _base_.custom_hooks
