# Tiny-ImageNet (200 classes, 64x64), clean / salt-and-pepper noisy, as
# cifar10_clean-noisy.py.
# Layout (bring your own, ImageFolder style; the official val/ is flat with
# val_annotations.txt: move each image into val/<wnid>/ first):
#   data/tiny-imagenet/train/<wnid>/*.JPEG   (500 per class; the official
#                                             train/<wnid>/images/ works too)
#   data/tiny-imagenet/val/<wnid>/*.JPEG     (50 per class)
data_root = 'data/tiny-imagenet'
num_classes = 200
snr = 0.1  # the paper: SNR 0.1 on CIFAR-10/100, STL-10 and Tiny-ImageNet (Sec. 6.1)
img_size = 64
train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(clean='color')),
    dict(type='mmkd.PerModality', modality='clean', transforms=[
        dict(type='RandomCrop', crop_size=img_size, padding=8),
        dict(type='RandomFlip', prob=0.5, direction='horizontal')]),
    dict(type='mmkd.SaltPepperNoise', snr=snr, source='clean', target='noisy'),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
test_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(clean='color')),
    dict(type='mmkd.SaltPepperNoise', snr=snr, source='clean', target='noisy',
         deterministic=True),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
_norm = dict(type='mmpretrain.ClsDataPreprocessor', num_classes=num_classes,
             mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
paired_preprocessor = dict(type='mmkd.MultiModalDataPreprocessor',
                           preprocessors=dict(clean=_norm, noisy=_norm),
                           num_classes=num_classes)
train_dataloader = dict(
    batch_size=64, num_workers=4, persistent_workers=True,
    dataset=dict(type='mmkd.PairedClsDataset', modalities=('clean', ), data_root=data_root,
                 folders=dict(clean='train'), class_subfolders=True,
                 pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=128, num_workers=4, persistent_workers=True,
    dataset=dict(type='mmkd.PairedClsDataset', modalities=('clean', ), data_root=data_root,
                 folders=dict(clean='val'), class_subfolders=True,
                 pipeline=test_pipeline, test_mode=True),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
