# Teacher on VEDAI's colour images: the grid's RetinaNet R50-PAFPN (2 conv blocks per
# head subnet, Balanced L1 boxes), from scratch, on one fold (fold 1; the others: see
# _base_/vedai.py). A fold's students read the teacher of the same fold, so train one
# per fold, e.g. with the seeds x folds tool (its run dirs are seed<S>_fold<NN>):
#     python tools/analysis/seed_fold_grid.py \
#         configs/det_kd/vedai/retinanet_r50-pafpn_vedai-co_teacher.py --seeds 0 \
#         --folds 1..10 --fold-rule vedai \
#         --work-dir work_dirs/retinanet_r50-pafpn_vedai-co_teacher
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    './_base_/vedai.py',
    '../_base_/schedule_synthetic_det.py',  # 24 epochs, SGD 0.01, from scratch
    'mmdet::_base_/default_runtime.py',
    '../_base_/randomness.py',  # seed 0: exact resumption
]
model = dict(
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(type='PAFPN'),
    bbox_head=dict(
        num_classes=9,
        stacked_convs=2,
        loss_bbox=dict(_delete_=True, type='BalancedL1Loss', alpha=0.5, gamma=1.5,
                       beta=0.11, loss_weight=1.0)))
default_hooks = dict(checkpoint=dict(interval=4, max_keep_ckpts=1),
                     logger=dict(interval=20))
