# MSTAR public release, 10-class SOC split (17 deg train / 15 deg test): real X-band SAR
# magnitude chips, grey JPEG of 128 to 193 px with the target at the centre. Extract
# mstar10.tar.gz into data/ (`python tools/demo.py --data mstar` does it).
# Chips are centre-cropped to 128 px (a common scale) and read at 64 px.
dataset_type = 'CustomDataset'
data_root = 'data/mstar10'

data_preprocessor = dict(
    num_classes=10,
    mean=[24.2],  # measured on the training chips after the resize
    std=[18.4],
    to_rgb=False,
)

train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='CenterCrop', crop_size=128),
    dict(type='Resize', scale=(64, 64)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='CenterCrop', crop_size=128),
    dict(type='Resize', scale=(64, 64)),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='train',
                 with_label=True, pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='test',
                 with_label=True, pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
