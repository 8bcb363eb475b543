# Teacher: mmpretrain's ResNet-34 from scratch on the MSTAR-10 SAR chips (1 band).
_base_ = [
    'mmpretrain::_base_/models/resnet34.py',
    '../_base_/datasets/mstar10_bs32.py',
    '../_base_/schedules/sgd_cosine_15e.py',
    'mmpretrain::_base_/default_runtime.py',
]
model = dict(
    backbone=dict(in_channels=1),
    head=dict(num_classes=10, topk=(1, )))
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=1), logger=dict(interval=20))
