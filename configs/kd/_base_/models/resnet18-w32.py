# Student network of the SAR-chip KD configs: mmpretrain's ResNet-18 at half width (base
# 32 channels, ~2.8M params vs the ResNet-34 teacher's 21M), from scratch, one input
# band, 10 classes (both chip sets, MSTAR-10 and the synthetic one, have 10).
_base_ = ['mmpretrain::_base_/models/resnet18.py']
model = dict(
    backbone=dict(in_channels=1, stem_channels=32, base_channels=32),
    head=dict(num_classes=10, in_channels=256, topk=(1, )))
