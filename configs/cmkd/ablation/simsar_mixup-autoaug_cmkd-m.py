# CMKD-m with the augmentation of the CMKD-s grid's last column (MixUp 0.4 +
# AutoAugment, the paper's Sec. 4.4), so CMKD-m and the supervised / CMKD-s models of
# `simsar_mixup-autoaug*.py` are trained alike. Roles, alphas (0.2 EO student, 0.8 SAR
# student) and rounds as in ../cmkd-m_resnet34_cifar10.py.
_base_ = ['../cmkd-m_resnet34_cifar10.py']
train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(eo='color')),
    dict(type='mmkd.PairedApply', transforms=[dict(type='AutoAugment', policies='imagenet')]),
    dict(type='mmkd.PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmkd.SimulateSAR', source='eo', target='sar', looks=1, downsample=2),
    dict(type='mmkd.PairedResize', sizes=dict(eo=32, sar=48)),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(data_preprocessor=dict(batch_augments=[dict(type='mmkd.PairedMixup',
                                                         alpha=0.4)]))
