# Tiny-ImageNet (200 classes, 64x64), clean / salt-and-pepper noisy, as
# cifar10_clean-noisy.py.
# Layout (bring your own, ImageFolder style; the official val/ is flat with
# val_annotations.txt: move each image into val/<wnid>/ first):
#   data/tiny-imagenet/train/<wnid>/*.JPEG   (500 per class; the official
#                                             train/<wnid>/images/ works too)
#   data/tiny-imagenet/val/<wnid>/*.JPEG     (50 per class)
_base_ = ['./clean-noisy_imagefolder.py']
data_root = 'data/tiny-imagenet'
num_classes = 200
img_size = 64
train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(clean='color')),
    dict(type='mmkd.PerModality', modality='clean', transforms=[
        dict(type='RandomCrop', crop_size=img_size, padding=8),
        dict(type='RandomFlip', prob=0.5, direction='horizontal')]),
    dict(type='mmkd.SaltPepperNoise', snr=_base_.snr, source='clean', target='noisy'),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
_norm = dict(type='mmpretrain.ClsDataPreprocessor', num_classes=num_classes,
             mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
paired_preprocessor = dict(preprocessors=dict(clean=_norm, noisy=_norm),
                           num_classes=num_classes)
train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, folders=dict(clean='val'),
                                   pipeline=_base_.test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(topk=(1, 5))
test_evaluator = val_evaluator
