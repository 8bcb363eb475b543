# CIFAR-100, clean / salt-and-pepper noisy, as cifar10_clean-noisy.py.
# Layout (bring your own, ImageFolder style, any image format PairedClsDataset reads):
#   data/cifar100/train/<class>/*.png   (500 per class)
#   data/cifar100/test/<class>/*.png    (100 per class)
data_root = 'data/cifar100'
num_classes = 100
snr = 0.1  # the paper: SNR 0.1 on CIFAR-10/100, STL-10 and Tiny-ImageNet (Sec. 6.1)
train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(clean='color')),
    dict(type='mmkd.PerModality', modality='clean', transforms=[
        dict(type='RandomCrop', crop_size=32, padding=4),
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
# RepDistiller's CIFAR-100 statistics (RGB, x255)
_norm = dict(type='mmpretrain.ClsDataPreprocessor', num_classes=num_classes,
             mean=[129.3, 124.1, 112.4], std=[68.2, 65.4, 70.4], to_rgb=True)
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
                 folders=dict(clean='test'), class_subfolders=True,
                 pipeline=test_pipeline, test_mode=True),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
