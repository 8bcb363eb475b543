# MSTAR public release, 10-class SOC split (17 deg train / 15 deg test): real X-band SAR
# magnitude chips, grey JPEG of 128 to 193 px with the target at the centre. Extract
# mstar10.tar.gz into data/ (`python tools/demo.py --data mstar` does it).
# Chips are centre-cropped to 128 px (a common scale) and read at 64 px.
# Layout, loaders and metric: sar_chips_bs32.py.
_base_ = ['./sar_chips_bs32.py']
data_root = 'data/mstar10'

data_preprocessor = dict(
    mean=[24.2],  # measured on the training chips after the resize
    std=[18.4],
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

train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
