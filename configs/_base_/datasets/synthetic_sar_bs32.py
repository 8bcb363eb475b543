# The bundled *synthetic* SAR chips (mmkd/testing/synthetic_sar.py; made by
# `python tools/misc/make_synthetic_sar.py`, or by the demo). Grey 8-bit PNG, 10 classes,
# mmpretrain CustomDataset layout. Chips are 64 px and read at 32 px.
# Layout, loaders and metric: sar_chips_bs32.py.
_base_ = ['./sar_chips_bs32.py']
data_root = 'data/synthetic_sar'
chip_size = 32

data_preprocessor = dict(mean=[96.0], std=[40.0])

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

# one loader worker each (MSTAR: 2)
train_dataloader = dict(num_workers=1,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=1,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
