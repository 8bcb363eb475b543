# Infrared student, and the cross-modal grid's "hard" baseline (ground truth only, no
# teacher): the grid's RetinaNet R18-FPN (../retinanet_r18-fpn_synthetic-det.py) on the
# single-band infrared rendering of the synthetic benchmark, with mmdet's own dataset
# and transforms (./_base_/infrared_data.py: one band in, in_channels=1, the infrared
# statistics of the generated training split).
_base_ = ['../retinanet_r18-fpn_synthetic-det.py', './_base_/infrared_data.py']
_ir = _base_.pop('infrared_data')

model = dict(backbone=dict(in_channels=1), data_preprocessor=_ir.preprocessor)

train_pipeline = _ir.train_pipeline
test_pipeline = _ir.test_pipeline
train_dataloader = dict(
    dataset=dict(data_prefix=dict(img='infrared/'), pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_prefix=dict(img='infrared/'), pipeline=test_pipeline))
test_dataloader = val_dataloader
del _ir
