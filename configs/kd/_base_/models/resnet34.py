# Teacher network of the SAR-chip KD configs: mmpretrain's ResNet-34, from scratch, one
# input band, 10 classes (both chip sets, MSTAR-10 and the synthetic one, have 10).
_base_ = ['mmpretrain::_base_/models/resnet34.py']
model = dict(
    backbone=dict(in_channels=1),
    head=dict(num_classes=10, topk=(1, )))
