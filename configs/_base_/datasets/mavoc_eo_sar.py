# The multi-modal aerial view object classification challenge (NTIRE 2021 / PBVS 2022):
# co-registered EO (~32 px) and SAR (~56-59 px) grey chips of the same vehicle, 10 very
# unbalanced classes. Read at EO 30 px and SAR 48 px, as in the CMKD paper.
# Training layout (as distributed): <data_root>/train/{EO,SAR}/<class id>/{EO,SAR}_<id>.png
# Test layout: <data_root>/test/{EO,SAR}/{EO,SAR}_<id>.png (unlabelled).
data_root = 'data/mavoc'
id_patterns = dict(eo=r'EO_(\d+)\.png', sar=r'SAR_(\d+)\.png')
classes = ('sedan', 'suv', 'pickup_truck', 'van', 'box_truck', 'motorcycle',
           'flatbed_truck', 'bus', 'pickup_truck_w_trailer', 'flatbed_truck_w_trailer')

train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type='grayscale', channels=1),
    dict(type='mmkd.PairedRandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='mmkd.PairedRandomRotate', angles=[0, 90, 180, 270]),
    dict(type='mmkd.PairedResize', sizes=dict(eo=30, sar=48)),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
test_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type='grayscale', channels=1),
    dict(type='mmkd.PairedResize', sizes=dict(eo=30, sar=48)),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
paired_preprocessor = dict(
    type='mmkd.MultiModalDataPreprocessor',
    preprocessors=dict(
        eo=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=10, mean=[74.2],
                std=[41.4], to_rgb=False),
        sar=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=10, mean=[100.8],
                 std=[33.4], to_rgb=False)),
    num_classes=10)

train_dataloader = dict(
    batch_size=64, num_workers=2, persistent_workers=True,
    dataset=dict(type='mmkd.PairedClsDataset', modalities=('eo', 'sar'),
                 data_root=data_root + '/train', folders=dict(eo='EO', sar='SAR'),
                 id_patterns=id_patterns, class_subfolders=True, classes=classes,
                 on_unpaired='skip', pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
test_dataloader = dict(
    batch_size=128, num_workers=2,
    dataset=dict(type='mmkd.PairedClsDataset', modalities=('eo', 'sar'),
                 data_root=data_root + '/test', folders=dict(eo='EO', sar='SAR'),
                 id_patterns=id_patterns, classes=classes, pipeline=test_pipeline,
                 test_mode=True),
    sampler=dict(type='DefaultSampler', shuffle=False))
test_evaluator = dict(type='mmkd.BalancedPostProcessMetric', k=4)
