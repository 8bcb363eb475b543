# SYNTHETIC paired SAR/optical building benchmark (generated, not real imagery):
#     python tools/misc/make_synthetic_buildings.py --out data/synthetic_buildings
# 128 px scenes; SAR: 4-band float32 linear intensity (HH, HV, VH, VV) seen from the
# west at 35 degrees incidence (layover, shadow, double bounce, speckle); optical: RGB
# PNG; masks: building = 1. Layout: PairedSegDataset 'folders' (see
# mmkd/testing/synthetic_buildings.py).
_base_ = ['./sar_optical_seg_pipelines.py']
data_root = 'data/synthetic_buildings'
folders = dict(sar='sar', optical='optical')

# SAR intensity -> dB, clipped to [-25, 5] dB and mapped to 0..255 (configurable).
sar_scale = dict(type='mmkd.SARIntensityScale', modality='sar', mode='db', clip=(-25., 5.))
# Flipping along azimuth (rows, the radar looks along x) keeps layover and shadows on
# the physical side; a flip along range would move them to the sensor's opposite side.
paired_flip = dict(type='mmkd.PairedRandomFlip', prob=0.5, direction='vertical')

# the six pipelines (sar_optical_seg_pipelines.py: paired for distillation, labels in the
# SAR frame, evaluation on SAR only; single-modality for the baselines and the optical
# teacher) with this scaling and flip
(paired_train_pipeline, paired_test_pipeline, sar_train_pipeline, sar_test_pipeline,
 optical_train_pipeline, optical_test_pipeline) = \
    _base_.pop('sar_optical_seg_pipelines').build(sar_scale, paired_flip)

# per-modality normalisation (statistics of the generated training split)
sar_preprocessor = dict(
    type='mmseg.SegDataPreProcessor', mean=[94.5, 48.2, 48.2, 94.0],
    std=[51.4, 40.0, 40.0, 50.2], pad_val=0, seg_pad_val=255,
    size_divisor=32)
optical_preprocessor = dict(   # PNGs are read as BGR; normalised in RGB order
    type='mmseg.SegDataPreProcessor', mean=[108.6, 115.8, 73.0], std=[29.4, 22.2, 25.3],
    bgr_to_rgb=True, pad_val=0, seg_pad_val=255,
    size_divisor=32)
paired_preprocessor = dict(
    type='mmkd.MultiModalDataPreprocessor',
    preprocessors=dict(optical=optical_preprocessor, sar=sar_preprocessor),
    ref_modality='sar')


def _dataset(split, modalities, pipeline, test_mode=False):
    return dict(type='mmkd.PairedSegDataset', modalities=modalities, data_root=data_root,
                folders=folders, mask_folder='masks', split_file=f'splits/{split}.txt',
                pipeline=pipeline, test_mode=test_mode)


train_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=_dataset('train', ('sar', 'optical'), paired_train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_dataset('val', ('sar', ), paired_test_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_dataset('test', ('sar', ), paired_test_pipeline, test_mode=True))
del _dataset

# Dice, IoU, precision and recall of the building class as top-level metrics
val_evaluator = dict(type='mmkd.ClassIoUMetric', classes=('building', ),
                     iou_metrics=['mIoU', 'mDice', 'mFscore'])
test_evaluator = val_evaluator
