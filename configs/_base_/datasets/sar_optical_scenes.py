# Paired SAR / optical SCENES, as downloaded (GeoTIFFs of any size, each modality in its
# own CRS and pixel size), cut into aligned windows while training: no pre-tiling.
# mmkd.PairedSceneWindowDataset pairs the scenes by footprint, reads each window of the
# SAR scene (the labels' frame) as it is stored and reprojects the optical scene onto it.
#     data/scenes/S1/vv/<scene>.tif  data/scenes/S1/vh/<scene>.tif   linear sigma0, float32
#     data/scenes/S2/<any name>.tif     3 bands (R, G, B), any CRS; the overlapping one pairs
#     data/scenes/labels/<scene>.tif    uint8 class ids on the S1 scene's grid
#     data/scenes/splits/train.txt, val.txt   scene ids (the S1 file names' stems)
# Training draws `num_windows` random windows per scene each epoch; evaluation covers
# every scene with a grid of windows (the last ones flush with the edges). Full-scene
# inference of the exported student: tools/misc/scene_seg_inference.py (docs/scenes.md).
data_root = 'data/scenes'
folders = dict(sar=['S1/vv', 'S1/vh'], optical='S2')
classes = ('background', 'building')
metainfo = dict(classes=classes)
window = 256

# nodata and NaN (scene borders, swaths): filled with 0 and left out of the loss (255)
load_paired = dict(type='mmkd.LoadMultiModalImages', channels=dict(sar=2, optical=3),
                   nodata='mask', on_nonfinite='mask')
load_sar = dict(type='mmkd.LoadMultiModalImages', modalities=['sar'], channels=dict(sar=2),
                nodata='mask', on_nonfinite='mask')
# linear intensity -> dB, clipped to [-25, 5] dB, mapped to 0..255 (dB input: mode='linear')
sar_scale = dict(type='mmkd.SARIntensityScale', modality='sar', mode='db', clip=(-25., 5.))
paired_flip = dict(type='mmkd.PairedRandomFlip', prob=0.5, direction='vertical')

paired_train_pipeline = [load_paired, dict(type='mmkd.LoadSegMask'), sar_scale, paired_flip,
                         dict(type='mmkd.PackMultiModalInputs', task='seg')]
paired_test_pipeline = [load_sar, dict(type='mmkd.LoadSegMask'), sar_scale,
                        dict(type='mmkd.PackMultiModalInputs', task='seg')]
# the optical teacher: windows on the SAR grid (where the labels are), optical kept
optical_train_pipeline = [load_paired, dict(type='mmkd.LoadSegMask'), paired_flip,
                          dict(type='mmkd.SelectModality', modality='optical'),
                          dict(type='PackSegInputs')]
optical_test_pipeline = [load_paired, dict(type='mmkd.LoadSegMask'),
                         dict(type='mmkd.SelectModality', modality='optical'),
                         dict(type='PackSegInputs')]

# per-modality normalisation: replace with your scenes' statistics (optical: the file's
# units, e.g. Sentinel-2 L2A reflectance x 10000, in band order R, G, B)
sar_preprocessor = dict(type='mmseg.SegDataPreProcessor', mean=[110.0, 70.0],
                        std=[45.0, 40.0], pad_val=0, seg_pad_val=255, size_divisor=32)
optical_preprocessor = dict(type='mmseg.SegDataPreProcessor', mean=[800.0, 750.0, 600.0],
                            std=[500.0, 450.0, 450.0], pad_val=0, seg_pad_val=255,
                            size_divisor=32)
paired_preprocessor = dict(
    type='mmkd.MultiModalDataPreprocessor',
    preprocessors=dict(optical=optical_preprocessor, sar=sar_preprocessor),
    ref_modality='sar')


def _scenes(split, modalities, pipeline, **kw):
    return dict(type='mmkd.PairedSceneWindowDataset', modalities=modalities,
                ref_modality='sar', data_root=data_root, folders=folders,
                mask_folder='labels', split_file=f'splits/{split}.txt',
                metainfo=metainfo, window=window, max_nodata=0.5, pipeline=pipeline, **kw)


train_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=_scenes('train', ('sar', 'optical'), paired_train_pipeline, mode='random',
                    num_windows=64, seed=0))
val_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_scenes('val', ('sar', ), paired_test_pipeline, mode='grid', stride=window,
                    test_mode=True))
test_dataloader = val_dataloader
del _scenes

val_evaluator = dict(type='mmkd.ClassIoUMetric', classes=classes[1:],
                     iou_metrics=['mIoU', 'mDice', 'mFscore'])
test_evaluator = val_evaluator
