# Student baseline: mmpretrain's ResNet-18 at half width (base 32 channels, ~2.8M params
# vs the teacher's 21M), from scratch, no teacher.
_base_ = [
    'mmpretrain::_base_/models/resnet18.py',
    '../_base_/datasets/synthetic_sar_bs32.py',
    '../_base_/schedules/sgd_cosine_15e.py',
    'mmpretrain::_base_/default_runtime.py',
]
model = dict(
    backbone=dict(in_channels=1, stem_channels=32, base_channels=32),
    head=dict(num_classes=10, in_channels=256, topk=(1, )))
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=1), logger=dict(interval=20))
