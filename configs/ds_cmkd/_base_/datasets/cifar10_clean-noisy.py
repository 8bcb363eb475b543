# CIFAR-10 as two modalities of one image, `clean` and salt-and-pepper `noisy` (see
# clean-noisy_imagefolder.py), with RepDistiller's CIFAR augmentation.
# Layout: data/cifar10/{train,test}/<class>/*.jpg (cifar10-jpg.tar.gz).
# Another noise level:  --cfg-options train_dataloader.dataset.pipeline.2.snr=0.5 \
#   val_dataloader.dataset.pipeline.1.snr=0.5 test_dataloader.dataset.pipeline.1.snr=0.5
_base_ = ['./clean-noisy_imagefolder.py']
data_root = 'data/cifar10'
num_classes = 10
train_per_class = None  # None: all 5000 per class; a number gives a balanced subset
test_per_class = None

# CIFAR-10 statistics of these JPEGs, RGB, 0..255
_norm = dict(type='mmpretrain.ClsDataPreprocessor', num_classes=num_classes,
             mean=[125.8, 123.5, 115.0], std=[62.4, 61.9, 66.8], to_rgb=True)
paired_preprocessor = dict(preprocessors=dict(clean=_norm, noisy=_norm),
                           num_classes=num_classes)

train_dataloader = dict(dataset=dict(data_root=data_root, max_per_class=train_per_class,
                                     pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, max_per_class=test_per_class,
                                   pipeline=_base_.test_pipeline, test_mode=True))
test_dataloader = val_dataloader
