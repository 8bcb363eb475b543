# Teacher on VEDAI's colour images: the grid's RetinaNet R50-PAFPN (2 conv blocks per
# head subnet, Balanced L1 boxes), from scratch, on one fold (fold 1; the others: see
# _base_/vedai.py). A fold's students read the teacher of the same fold, so train one
# per fold, e.g. with the seeds x folds tool (its run dirs are seed<S>_fold<NN>):
#     python tools/analysis/seed_fold_grid.py \
#         configs/det_kd/vedai/retinanet_r50-pafpn_vedai-co_teacher.py --seeds 0 \
#         --folds 1..10 --fold-rule vedai \
#         --work-dir work_dirs/retinanet_r50-pafpn_vedai-co_teacher
_base_ = [
    '../_base_/models/retinanet_r50-pafpn.py',
    './_base_/vedai.py',
    '../_base_/schedule_synthetic_det.py',  # 24 epochs, SGD 0.01, from scratch
    '../_base_/default_runtime.py',  # seed 0 (exact resumption), checkpoints
]
model = dict(bbox_head=dict(num_classes=9))  # VEDAI's nine classes (_base_/vedai.py)
default_hooks = dict(logger=dict(interval=20))  # epochs longer than the synthetic set's
