# ImageNet-1k, clean / salt-and-pepper noisy, as imagenet100_clean-noisy.py (64x64 input;
# see there why, and how to use 224).
# Layout (bring your own, ImageFolder style; mmpretrain's meta/*.txt lists are not used):
#   data/imagenet/train/<wnid>/*.JPEG
#   data/imagenet/val/<wnid>/*.JPEG
_base_ = ['./imagenet100_clean-noisy.py']
data_root = 'data/imagenet'
num_classes = 1000
_norm = dict(type='mmpretrain.ClsDataPreprocessor', num_classes=num_classes,
             mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
paired_preprocessor = dict(preprocessors=dict(clean=_norm, noisy=_norm),
                           num_classes=num_classes)
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
