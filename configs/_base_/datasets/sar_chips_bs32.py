# What the 10-class grey SAR chip sets share (mstar10_bs32.py, synthetic_sar_bs32.py):
# mmpretrain's CustomDataset layout (<data_root>/train/<class>/*, test/<class>/*),
# batches of 32 for training and 64 for testing, top-1 accuracy. A dataset file sets
# data_root, the chips' statistics (mean, std) and pipelines, and points the loaders at
# its data_root and pipelines (the None fields below).
dataset_type = 'CustomDataset'

data_preprocessor = dict(num_classes=10, mean=None, std=None, to_rgb=False)

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=None, data_prefix='train',
                 with_label=True, pipeline=None),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=None, data_prefix='test',
                 with_label=True, pipeline=None),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
