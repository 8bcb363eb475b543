# The bundled *synthetic* SAR chips (mmkd/testing/synthetic_sar.py; made by
# `python tools/misc/make_synthetic_sar.py`, or by the demo). Grey 8-bit PNG, 10 classes,
# mmpretrain CustomDataset layout. Chips are 64 px and read at 32 px.
dataset_type = 'CustomDataset'
data_root = 'data/synthetic_sar'
chip_size = 32

data_preprocessor = dict(
    num_classes=10,
    mean=[96.0],
    std=[40.0],
    to_rgb=False,
)

train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='Resize', scale=(chip_size, chip_size)),
    # no flips: several classes are mirror images of each other (the layout of their
    # scatterers is chiral), so a flip would turn one class into another
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='Resize', scale=(chip_size, chip_size)),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='train',
                 with_label=True, pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='test',
                 with_label=True, pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
