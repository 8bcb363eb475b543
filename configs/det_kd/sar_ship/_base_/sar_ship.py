# SAR ship chips (HRSID / SSDD / ISSID style), one class, in COCO format. Convert the
# instance-mask PNGs first, one file per split (see docs/your_own_data.md):
#     python tools/dataset_converters/instance_masks_to_coco.py data/sar_ship/images \
#         data/sar_ship/masks --ids data/sar_ship/train.txt \
#         --out data/sar_ship/annotations/train.json
#     (the same with test.txt -> annotations/test.json)
# Then point `data_root` at the folder. This is the only file that names the data and
# the classes: the teacher and the student read `num_classes` from here.
# The loader settings, the evaluator and the small-object anchors are the synthetic
# benchmark's (../../_base_/synthetic_det.py); what differs is set below.
_base_ = ['../../_base_/synthetic_det.py']

data_root = 'data/sar_ship/'
img_dir = 'images/'                  # file_name in the COCO files is relative to it
train_ann = 'annotations/train.json'
test_ann = 'annotations/test.json'
classes = ('ship', )
num_classes = len(classes)
metainfo = dict(classes=classes, palette=[(0, 200, 255)])
# HRSID chips are 800 x 800 px; SSDD's are about 500 x 350 (use (512, 512) there)
img_scale = (800, 800)

# The chips as 3-band 8-bit images (HRSID and SSDD ship grey JPEGs; mmdet reads them as
# 3 equal bands). For one band, see ../cross_modal/retinanet_r18-fpn_synthetic-det-
# infrared.py: color_type='grayscale', backbone in_channels=1 and one mean/std.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, metainfo=metainfo, ann_file=train_ann,
                 data_prefix=dict(img=img_dir), pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, metainfo=metainfo, ann_file=test_ann,
                 data_prefix=dict(img=img_dir), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + test_ann)
test_evaluator = val_evaluator
