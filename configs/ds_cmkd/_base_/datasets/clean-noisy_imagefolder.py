# What the clean / salt-and-pepper noisy classification sets share (the dataset files
# of this folder list it as their base): an image folder read as two modalities of one
# image, `clean` (what the teacher reads) and `noisy`, the same image after
# mmkd.SaltPepperNoise (a fraction `snr` of the pixels kept, the others set to 0 or 255,
# all channels of a pixel together), what the student reads. The noise follows the
# geometric augmentation, so the two stay pixel-aligned; it is redrawn every epoch for
# training and fixed per sample (deterministic=True) for testing.
# A dataset file sets data_root, num_classes, the normalisation (`_norm`, used for both
# modalities, as a single torchvision Normalize after the noise would apply) and the
# datasets' data_root and pipelines, and overrides what else differs (the augmentation,
# the evaluation folder, top-5).
snr = 0.1  # the paper: SNR 0.1 on CIFAR-10/100, STL-10 and Tiny-ImageNet (Sec. 6.1)

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
paired_preprocessor = dict(type='mmkd.MultiModalDataPreprocessor', preprocessors=dict(),
                           num_classes=None)  # both set by the dataset file

# data_root (None here) and the pipeline (after any option of the dataset, such as
# CIFAR-10's max_per_class) are set by the dataset file
train_dataloader = dict(
    batch_size=64, num_workers=4, persistent_workers=True,
    dataset=dict(type='mmkd.PairedClsDataset', modalities=('clean', ), data_root=None,
                 folders=dict(clean='train'), class_subfolders=True),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=128, num_workers=4, persistent_workers=True,
    dataset=dict(type='mmkd.PairedClsDataset', modalities=('clean', ), data_root=None,
                 folders=dict(clean='test'), class_subfolders=True),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
