# STL-10 (labelled part, 96x96), clean / salt-and-pepper noisy, as cifar10_clean-noisy.py.
# Layout (bring your own, ImageFolder style):
#   data/stl10/train/<class>/*.png   (500 per class)
#   data/stl10/test/<class>/*.png    (800 per class)
data_root = 'data/stl10'
num_classes = 10
snr = 0.1  # the paper: SNR 0.1 on CIFAR-10/100, STL-10 and Tiny-ImageNet (Sec. 6.1)
img_size = 96
train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(clean='color')),
    dict(type='mmkd.PerModality', modality='clean', transforms=[
        dict(type='RandomCrop', crop_size=img_size, padding=12),
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
# STL-10 statistics (RGB, x255)
_norm = dict(type='mmpretrain.ClsDataPreprocessor', num_classes=num_classes,
             mean=[113.9, 112.2, 103.7], std=[66.4, 65.4, 69.2], to_rgb=True)
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
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
