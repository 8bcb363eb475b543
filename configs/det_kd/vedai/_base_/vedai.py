# VEDAI (Razakarivony & Jurie, JVCIR 2016): co-registered colour and infrared aerial
# images of vehicles, 10 official cross-validation folds. Convert it first (writes
# data/VEDAI/coco/vedai<res>_fold<NN>_{train,test}.json):
#     python tools/dataset_converters/vedai_to_coco.py data/VEDAI
# This file reads fold 1 (of 1..10) at 512 px (25 cm/px; 1024 px: 12.5 cm/px). Another
# fold or resolution is a set of --cfg-options that
# tools/dataset_converters/vedai_to_coco.py's fold_options() derives from the parsed
# config (every field below that names the fold or the resolution); the tools that run
# several folds apply it:
#     python tools/analysis/seed_fold_grid.py configs/det_kd/vedai/... --folds 1..10 \
#         --fold-rule vedai   (vedai:1024 for 1024 px; see configs/det_kd/README.md)
#     python tools/benchmarks/dense_evidence.py det-kd --full --dataset vedai25 ...
# (`--cfg-options fold=3` alone would NOT change the annotation files, which are derived
# from `fold` here, when the file is parsed.)
# Each fold trains on fold<NN>.txt and is validated and tested on fold<NN>test.txt, the
# official protocol.
fold = 1
resolution = 512
data_root = 'data/VEDAI/'
img_dir = f'Vehicules{resolution}/'
train_ann = f'coco/vedai{resolution}_fold{fold:02d}_train.json'
test_ann = f'coco/vedai{resolution}_fold{fold:02d}_test.json'
# the colour teacher of this fold, as the seeds x folds tool lays out its runs
colour_teacher = f'work_dirs/retinanet_r50-pafpn_vedai-co_teacher/seed0_fold{fold:02d}'
# mmkd.PairedCocoDataset templates of the two images of an entry
colour_template = img_dir + '{vedai_id}_co.png'
infrared_template = img_dir + '{vedai_id}_ir.png'
# the nine classes of the benchmark's experiments (motorcycle and bus, a few dozen
# objects, are left out: mmdet then ignores their boxes)
metainfo = dict(
    classes=('car', 'truck', 'pickup', 'tractor', 'camping car', 'boat', 'van', 'other',
             'plane'),
    palette=[(220, 20, 60), (0, 128, 255), (0, 200, 120), (255, 180, 0), (160, 32, 240),
             (0, 190, 255), (255, 105, 180), (128, 128, 128), (255, 255, 0)])
backend_args = None

# the colour images with mmdet's own dataset and transforms (file_name: <id>_co.png)
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(resolution, resolution), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(resolution, resolution), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='CocoDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file=train_ann,
        data_prefix=dict(img=img_dir),
        # images without boxes of these classes are left out of training
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CocoDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file=test_ann,
        data_prefix=dict(img=img_dir),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + test_ann,
    metric='bbox',
    format_only=False,
    backend_args=backend_args)
test_evaluator = val_evaluator
