# Distillation on *unlabelled* pairs (e.g. the PBVS 2022 test pairs, EO/EO_<id>.png and
# SAR/SAR_<id>.png): the student learns from the teacher's soft labels alone (the
# weighted CE term is 0 without labels; the KL term is weighted by the teacher's
# predicted class). The student runs without its own (label-reading) task loss
# (student_losses='none': a 'tensor' forward; the parent's student_loss_weight=0. agrees).
_base_ = ['./cmkd-s_resnet34_mavoc.py']
model = dict(student_losses='none')
data_root = 'data/mavoc_pbvs2022_test'
train_dataloader = dict(
    dataset=dict(_delete_=True, type='mmkd.PairedClsDataset', modalities=('eo', 'sar'),
                 data_root=data_root, folders=dict(eo='EO', sar='SAR'),
                 id_patterns={{_base_.id_patterns}}, classes={{_base_.classes}},
                 pipeline={{_base_.train_pipeline}}))
# no labels to count classes from: the parent's hooks without its ClassWeightsHook
custom_hooks = [h for h in _base_.custom_hooks if h['type'] != 'mmkd.ClassWeightsHook']
