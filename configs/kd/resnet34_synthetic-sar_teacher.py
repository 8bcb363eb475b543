# Teacher: mmpretrain's ResNet-34 from scratch on the synthetic SAR chips (1 band).
_base_ = [
    './_base_/models/resnet34.py',
    '../_base_/datasets/synthetic_sar_bs32.py',
    '../_base_/schedules/sgd_cosine_15e.py',
    './_base_/default_runtime.py',
]
