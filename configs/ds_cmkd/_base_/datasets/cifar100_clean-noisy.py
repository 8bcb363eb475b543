# CIFAR-100, clean / salt-and-pepper noisy, as cifar10_clean-noisy.py.
# Layout (bring your own, ImageFolder style, any image format PairedClsDataset reads):
#   data/cifar100/train/<class>/*.png   (500 per class)
#   data/cifar100/test/<class>/*.png    (100 per class)
_base_ = ['./clean-noisy_imagefolder.py']
data_root = 'data/cifar100'
num_classes = 100
# RepDistiller's CIFAR-100 statistics (RGB, x255)
_norm = dict(type='mmpretrain.ClsDataPreprocessor', num_classes=num_classes,
             mean=[129.3, 124.1, 112.4], std=[68.2, 65.4, 70.4], to_rgb=True)
paired_preprocessor = dict(preprocessors=dict(clean=_norm, noisy=_norm),
                           num_classes=num_classes)
train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=_base_.test_pipeline,
                                   test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(topk=(1, 5))
test_evaluator = val_evaluator
