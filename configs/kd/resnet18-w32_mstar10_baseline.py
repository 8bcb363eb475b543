# Student baseline: mmpretrain's ResNet-18 at half width (base 32 channels, ~2.8M params
# vs the teacher's 21M), from scratch, no teacher.
_base_ = [
    './_base_/models/resnet18-w32.py',
    '../_base_/datasets/mstar10_bs32.py',
    '../_base_/schedules/sgd_cosine_15e.py',
    './_base_/default_runtime.py',
]
