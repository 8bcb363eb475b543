# The paired optical / radar marine-target dataset of DS-CMKD (Si et al.,
# arXiv:2306.15977; a later version of the paper calls it IIS-ISCAS): 8 classes,
# 224 x 224 image pairs, one optical and one radar image of the same target.
# Layout (mmkd.PairedClsDataset layout (c), class sub-folders per modality; a pair is two
# files with the same stem in the same class folder, any extension it reads):
#   data/radar_optics/train/optical/<class>/<id>.png
#   data/radar_optics/train/radar/<class>/<id>.png
#   data/radar_optics/test/optical/<class>/<id>.png
#   data/radar_optics/test/radar/<class>/<id>.png
# <class> is one of `classes` below (or its index 0-7). A file without its partner
# raises, naming it (on_unpaired='skip' drops such files and logs how many).
# A synthetic miniature in this layout: mmkd.testing.radar_optics_miniature.
data_root = 'data/radar_optics'
classes = ('cargo', 'fishing_vessel', 'sailing_vessel', 'pleasure_vessel', 'hsc',
           'law_vessel', 'ocean_buoy', 'helicopter')
num_classes = 8
img_size = 224
modalities = ('optical', 'radar')

train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type='color'),  # radar as 3 channels
    dict(type='mmkd.PairedRandomResizedCrop', sizes=img_size, scale=(0.5, 1.0)),
    dict(type='mmkd.PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
test_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type='color'),
    dict(type='mmkd.PairedResize', sizes=img_size),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
# ImageNet statistics as a starting point: measure your data's per modality.
paired_preprocessor = dict(
    type='mmkd.MultiModalDataPreprocessor',
    preprocessors=dict(
        optical=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=num_classes,
                     mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                     to_rgb=True),
        radar=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=num_classes,
                   mean=[127.5, 127.5, 127.5], std=[64., 64., 64.], to_rgb=True)),
    num_classes=num_classes)

train_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True,
    dataset=dict(type='mmkd.PairedClsDataset', modalities=modalities, data_root=data_root,
                 folders=dict(optical='train/optical', radar='train/radar'),
                 class_subfolders=True, classes=classes, pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=64, num_workers=4, persistent_workers=True,
    dataset=dict(type='mmkd.PairedClsDataset', modalities=modalities, data_root=data_root,
                 folders=dict(optical='test/optical', radar='test/radar'),
                 class_subfolders=True, classes=classes, pipeline=test_pipeline,
                 test_mode=True),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
