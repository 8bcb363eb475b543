# Teacher: RetinaNet, ResNet-50 + PAFPN, mmdet's own modules only. From the detection-KD
# study: 2 conv blocks per head subnet (mmdet: 4) and Balanced L1 box regression
# (_base_/models/retinanet_r50-pafpn.py). Trained from scratch (no pretrained weights are
# downloaded; init_cfg=None, BN trained).
# The study's other modifications (no stem max-pool, context-enhancement neck, QFL with
# IoU targets) are in study/retinanet_r50-pafpn-study_synthetic-det_teacher.py.
_base_ = [
    './_base_/models/retinanet_r50-pafpn.py',
    './_base_/synthetic_det.py',
    './_base_/schedule_synthetic_det.py',
    './_base_/default_runtime.py',  # seed 0 (exact resumption), checkpoints, logging
]
# the benchmark's 4 classes and small-object anchors (_base_/synthetic_det.py), same for
# the teacher and the student
model = dict(bbox_head=dict(num_classes=4,
                            anchor_generator={{_base_.synthetic_det_anchor_generator}}))
