# ImageNet-100 (a 100-class subset of ImageNet-1k, e.g. CMC's list), clean /
# salt-and-pepper noisy, as cifar10_clean-noisy.py, at 64x64 input.
# Why 64 px: the CIFAR networks of the main pair have no stride-2 stem, so at 224 px a
# ResNet32x4 costs ~49x its 32-px FLOPs (~53 GFLOPs per image); the paper's resolution
# could not be checked. For 224 px set img_size = 224 and test_resize = 256 here.
# Layout (bring your own, ImageFolder style):
#   data/imagenet100/train/<wnid>/*.JPEG
#   data/imagenet100/val/<wnid>/*.JPEG
_base_ = ['./clean-noisy_imagefolder.py']
data_root = 'data/imagenet100'
num_classes = 100
snr = 0.5  # the paper: SNR 0.5 on ImageNet-100 and ImageNet (Sec. 6.1)
img_size = 64
test_resize = 73  # 64 / 0.875, ImageNet's resize-then-centre-crop ratio
train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(clean='color')),
    dict(type='mmkd.PerModality', modality='clean', transforms=[
        dict(type='RandomResizedCrop', scale=img_size),
        dict(type='RandomFlip', prob=0.5, direction='horizontal')]),
    dict(type='mmkd.SaltPepperNoise', snr=snr, source='clean', target='noisy'),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
test_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(clean='color')),
    dict(type='mmkd.PerModality', modality='clean', transforms=[
        dict(type='ResizeEdge', scale=test_resize, edge='short'),
        dict(type='CenterCrop', crop_size=img_size)]),
    dict(type='mmkd.SaltPepperNoise', snr=snr, source='clean', target='noisy',
         deterministic=True),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
_norm = dict(type='mmpretrain.ClsDataPreprocessor', num_classes=num_classes,
             mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
paired_preprocessor = dict(preprocessors=dict(clean=_norm, noisy=_norm),
                           num_classes=num_classes)
train_dataloader = dict(num_workers=8,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=8,
                      dataset=dict(data_root=data_root, folders=dict(clean='val'),
                                   pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(topk=(1, 5))
test_evaluator = val_evaluator
