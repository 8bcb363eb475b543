# CIFAR-10 as the optical (EO) modality with a simulated SAR partner (mmkd.SimulateSAR:
# grey intensity, 2x resolution loss, 1-look Gamma speckle), so a *labelled* paired
# benchmark exists. EO is read at 32 px, SAR at 48 px (SAR chips are larger, as in the
# challenge). Layout: data/cifar10/{train,test}/<class>/*.jpg (cifar10-jpg.tar.gz).
data_root = 'data/cifar10'
train_per_class = None  # None: all 5000 per class; set for a balanced subset
test_per_class = None

train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(eo='color')),
    dict(type='mmkd.PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmkd.SimulateSAR', source='eo', target='sar', looks=1, downsample=2),
    dict(type='mmkd.PairedResize', sizes=dict(eo=32, sar=48)),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
test_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(eo='color')),
    dict(type='mmkd.SimulateSAR', source='eo', target='sar', looks=1, downsample=2,
         deterministic=True),
    dict(type='mmkd.PairedResize', sizes=dict(eo=32, sar=48)),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
paired_preprocessor = dict(
    type='mmkd.MultiModalDataPreprocessor',
    preprocessors=dict(
        eo=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=10,
                mean=[125.8, 123.5, 115.0], std=[62.4, 61.9, 66.8], to_rgb=True),
        sar=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=10, mean=[92.0],
                 std=[58.0], to_rgb=False)),
    num_classes=10)

train_dataloader = dict(
    batch_size=64, num_workers=2, persistent_workers=True,
    dataset=dict(type='mmkd.PairedClsDataset', modalities=('eo', ), data_root=data_root,
                 folders=dict(eo='train'), class_subfolders=True,
                 max_per_class=train_per_class, pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=128, num_workers=2, persistent_workers=True,
    dataset=dict(type='mmkd.PairedClsDataset', modalities=('eo', ), data_root=data_root,
                 folders=dict(eo='test'), class_subfolders=True,
                 max_per_class=test_per_class, pipeline=test_pipeline, test_mode=True),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
