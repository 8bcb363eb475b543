# SpaceNet 6 / MSAW (Rotterdam): quad-pol SAR (SAR-Intensity: HH, HV, VH, VV, float32)
# with co-registered optical tiles (PS-RGB, uint8) and building footprints. Users bring
# the data (https://spacenet.ai/sn6-challenge/) and convert it once:
#   python tools/dataset_converters/spacenet6.py \
#       data/spacenet6/train/AOI_11_Rotterdam data/spacenet6_512 --tile-size 512 --stride 388
# which aligns PS-RGB to the SAR grid, rasterises the footprints, rotates south-looking
# strips by 180 degrees (SAR_orientations.txt) and writes 512 px crops (4 per 900 px
# tile) with an easting-based train/val split. The public test split has SAR only and
# no labels (convert it with --no-labels); we validate and test on `val`.
# To read the raw download without converting, use PairedSegDataset(layout='spacenet6')
# with mmkd.LoadSegMask (rasterises on the fly) and mmkd.AlignSAROrientation.
_base_ = ['./sar_optical_seg_pipelines.py']
data_root = 'data/spacenet6_512'
folders = dict(sar='sar', optical='optical')

# SN6's SAR-Intensity values are already on a log (dB-like) scale: map each tile's 1st-
# 99th percentiles to 0..255. For linear-intensity data use mode='db' with clip=(lo, hi).
sar_scale = dict(type='mmkd.SARIntensityScale', modality='sar', mode='linear',
                 percentiles=(1, 99))
paired_flip = dict(type='mmkd.PairedRandomFlip', prob=0.5, direction='horizontal')
# the six pipelines (sar_optical_seg_pipelines.py) with this scaling and flip
(paired_train_pipeline, paired_test_pipeline, sar_train_pipeline, sar_test_pipeline,
 optical_train_pipeline, optical_test_pipeline) = \
    _base_.pop('sar_optical_seg_pipelines').build(sar_scale, paired_flip)
# the authors normalise both to mean 0.5, std 0.125 of the 0..255 range
sar_preprocessor = dict(type='mmseg.SegDataPreProcessor', mean=[127.5] * 4,
                        std=[31.875] * 4, pad_val=0, seg_pad_val=255, size_divisor=32)
optical_preprocessor = dict(   # GeoTIFFs are read in band order (RGB)
    type='mmseg.SegDataPreProcessor', mean=[127.5] * 3, std=[31.875] * 3,
    pad_val=0, seg_pad_val=255, size_divisor=32)
paired_preprocessor = dict(
    type='mmkd.MultiModalDataPreprocessor',
    preprocessors=dict(optical=optical_preprocessor, sar=sar_preprocessor),
    ref_modality='sar')

train_dataloader = dict(
    batch_size=8, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='mmkd.PairedSegDataset', modalities=('sar', 'optical'),
                 data_root=data_root, folders=folders, mask_folder='masks',
                 split_file='splits/train.txt', pipeline=paired_train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='mmkd.PairedSegDataset', modalities=('sar', ), data_root=data_root,
                 folders=folders, mask_folder='masks', split_file='splits/val.txt',
                 pipeline=paired_test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmkd.ClassIoUMetric', classes=('building', ),
                     iou_metrics=['mIoU', 'mDice', 'mFscore'])
test_evaluator = val_evaluator
