# Few-label student baseline (the demo's default): the half-width ResNet-18 of
# resnet18-w32_synthetic-sar_baseline.py trained on 10 labelled chips per class (100 in
# all, a seeded draw: mmkd.ClassSubsetDataset), from scratch, no teacher. The teacher
# (resnet34_synthetic-sar_teacher.py) is trained on every training chip: what it knows
# beyond 10 labels a class is what distillation can pass on.
_base_ = ['./resnet18-w32_synthetic-sar_baseline.py']

labels_per_class = 10
subset_seed = 0  # the draw; the demo sets it to its --seed
epochs = 60  # 100 chips: 4 iterations an epoch, 240 in all

train_dataloader = dict(dataset=dict(
    _delete_=True, type='mmkd.ClassSubsetDataset', per_class=labels_per_class,
    seed=subset_seed, dataset={{_base_.train_dataloader.dataset}}))
param_scheduler = dict(T_max=epochs)
train_cfg = dict(max_epochs=epochs, val_interval=epochs)
default_hooks = dict(checkpoint=dict(interval=epochs), logger=dict(interval=4))
