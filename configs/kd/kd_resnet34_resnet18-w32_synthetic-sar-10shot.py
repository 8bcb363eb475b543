# Hinton KD for the few-label student (the demo's default): the full-label KD config
# (teacher on every chip, T 4, 0.9 KD + 0.1 CE) with the student's training set cut to
# the 10-chips-per-class draw of resnet18-w32_synthetic-sar-10shot_baseline.py (same
# labels_per_class, seed and epochs), so baseline and KD of one seed read the same chips.
_base_ = ['./kd_resnet34_resnet18-w32_synthetic-sar.py']

labels_per_class = 10
subset_seed = 0  # the draw; the demo sets it to its --seed
epochs = 60  # 100 chips: 4 iterations an epoch, 240 in all

train_dataloader = dict(dataset=dict(
    _delete_=True, type='mmkd.ClassSubsetDataset', per_class=labels_per_class,
    seed=subset_seed, dataset={{_base_.train_dataloader.dataset}}))
param_scheduler = dict(T_max=epochs)
train_cfg = dict(max_epochs=epochs, val_interval=epochs)
default_hooks = dict(checkpoint=dict(interval=epochs), logger=dict(interval=4))
