# Teacher: mmpretrain's ResNet-34 from scratch on the MSTAR-10 SAR chips (1 band).
_base_ = [
    './_base_/models/resnet34.py',
    '../_base_/datasets/mstar10_bs32.py',
    '../_base_/schedules/sgd_cosine_15e.py',
    './_base_/default_runtime.py',
]
