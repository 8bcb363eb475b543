# CIFAR-10 as two modalities of one image: `clean` (what the teacher reads) and `noisy`,
# the same image after salt-and-pepper noise (mmkd.SaltPepperNoise: a fraction `snr` of
# the pixels kept, the others set to 0 or 255, all channels of a pixel together), what
# the student reads. The noise follows the geometric augmentation, so the two stay
# pixel-aligned; it is redrawn every epoch for training and fixed per sample
# (deterministic=True) for testing.
# Layout: data/cifar10/{train,test}/<class>/*.jpg (cifar10-jpg.tar.gz).
# Another noise level:  --cfg-options train_dataloader.dataset.pipeline.2.snr=0.5 \
#   val_dataloader.dataset.pipeline.1.snr=0.5 test_dataloader.dataset.pipeline.1.snr=0.5
data_root = 'data/cifar10'
num_classes = 10
snr = 0.1  # the paper: SNR 0.1 on CIFAR-10/100, STL-10 and Tiny-ImageNet (Sec. 6.1)
train_per_class = None  # None: all 5000 per class; a number gives a balanced subset
test_per_class = None

train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(clean='color')),
    # RepDistiller's CIFAR augmentation, on the clean image before the noise
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
# One normalisation for both modalities, as a single torchvision Normalize after the
# noise would apply (CIFAR-10 statistics of these JPEGs, RGB, 0..255).
_norm = dict(type='mmpretrain.ClsDataPreprocessor', num_classes=num_classes,
             mean=[125.8, 123.5, 115.0], std=[62.4, 61.9, 66.8], to_rgb=True)
paired_preprocessor = dict(
    type='mmkd.MultiModalDataPreprocessor',
    preprocessors=dict(clean=_norm, noisy=_norm),
    num_classes=num_classes)

train_dataloader = dict(
    batch_size=64, num_workers=4, persistent_workers=True,
    dataset=dict(type='mmkd.PairedClsDataset', modalities=('clean', ), data_root=data_root,
                 folders=dict(clean='train'), class_subfolders=True,
                 max_per_class=train_per_class, pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=128, num_workers=4, persistent_workers=True,
    dataset=dict(type='mmkd.PairedClsDataset', modalities=('clean', ), data_root=data_root,
                 folders=dict(clean='test'), class_subfolders=True,
                 max_per_class=test_per_class, pipeline=test_pipeline, test_mode=True),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
