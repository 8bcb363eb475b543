# GFL (Li et al., NeurIPS 2020) for the synthetic detection benchmark: the model of mmdet's
# gfl/gfl_r50_fpn_1x_coco.py (and of the student in ld/ld_r18-gflv1-r101_fpn_1x_coco.py),
# written out here because mmdet has no GFL model base: its GFL and LD configs carry the
# COCO data, schedule and runtime too, and mmengine refuses the keys that they and
# det_kd/_base_/synthetic_det.py would both set ("Duplicate key is not allowed among
# bases"). Changes from mmdet's model, the same as the RetinaNet pair's
# (det_kd/retinanet_*_synthetic-det*.py):
#   - 4 classes, 2 conv blocks per head subnet (mmdet: 4);
#   - trained from scratch: no pretrained backbone, BN trained (frozen_stages=-1,
#     norm_eval=False, init_cfg=None);
#   - anchors for the benchmark's 10-28 px objects (below).
# The teacher (../gfl_r50-pafpn_synthetic-det_teacher.py) swaps the neck for PAFPN, the
# student (../gfl_r18-fpn_synthetic-det.py) the backbone for ResNet-18.
#
# Anchors. GFL's head is anchor-free in its box coding (distances from the anchor centre
# in stride units, 0..reg_max) and takes exactly one anchor per location (GFLHead asserts
# it), so det_kd/_base_/synthetic_det.py's 9-anchor generator does not fit. The anchor
# size only enters ATSS's assignment (IoU with the ground truth). mmdet's
# octave_base_scale=8 (P3 anchors 64 px) puts every box of the benchmark on P3;
# octave_base_scale=2 (P3 16 px, the median box's sqrt(area) at 128 px) spreads the
# larger boxes to P4 as RetinaNet's small-object anchors do. ATSS gives nearly every box
# a positive either way (100 scenes generated at 128 px, 347 boxes: 97.4 % with 8,
# 97.7 % with 2, 3.5-4 positives per box; the others are smaller than the stride-8 grid,
# no anchor centre falls inside them).
model = dict(
    type='GFL',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    neck=dict(
        type='FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        start_level=1,
        add_extra_convs='on_output',
        num_outs=5),
    bbox_head=dict(
        type='GFLHead',
        num_classes=4,
        in_channels=256,
        stacked_convs=2,
        feat_channels=256,
        anchor_generator=dict(
            type='AnchorGenerator',
            ratios=[1.0],
            octave_base_scale=2,
            scales_per_octave=1,
            strides=[8, 16, 32, 64, 128]),
        loss_cls=dict(
            type='QualityFocalLoss',
            use_sigmoid=True,
            beta=2.0,
            loss_weight=1.0),
        loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25),
        reg_max=16,
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0)),
    # training and testing settings (mmdet's)
    train_cfg=dict(
        assigner=dict(type='ATSSAssigner', topk=9),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.6),
        max_per_img=100))
