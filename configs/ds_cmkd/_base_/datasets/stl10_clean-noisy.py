# STL-10 (labelled part, 96x96), clean / salt-and-pepper noisy, as cifar10_clean-noisy.py.
# Layout (bring your own, ImageFolder style):
#   data/stl10/train/<class>/*.png   (500 per class)
#   data/stl10/test/<class>/*.png    (800 per class)
_base_ = ['./clean-noisy_imagefolder.py']
data_root = 'data/stl10'
num_classes = 10
img_size = 96
train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(clean='color')),
    dict(type='mmkd.PerModality', modality='clean', transforms=[
        dict(type='RandomCrop', crop_size=img_size, padding=12),
        dict(type='RandomFlip', prob=0.5, direction='horizontal')]),
    dict(type='mmkd.SaltPepperNoise', snr=_base_.snr, source='clean', target='noisy'),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
# STL-10 statistics (RGB, x255)
_norm = dict(type='mmpretrain.ClsDataPreprocessor', num_classes=num_classes,
             mean=[113.9, 112.2, 103.7], std=[66.4, 65.4, 69.2], to_rgb=True)
paired_preprocessor = dict(preprocessors=dict(clean=_norm, noisy=_norm),
                           num_classes=num_classes)
train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=_base_.test_pipeline,
                                   test_mode=True))
test_dataloader = val_dataloader
