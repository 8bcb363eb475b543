# Table 2 grid, "+AutoAugment": mmpretrain's ImageNet AutoAugment policy on the optical
# image before the SAR partner is rendered from it, so both views share the operations.
_base_ = ['./simsar_baseline.py']
train_pipeline = [
    dict(type='mmkd.LoadMultiModalImages', color_type=dict(eo='color')),
    dict(type='mmkd.PairedApply', transforms=[dict(type='AutoAugment', policies='imagenet')]),
    dict(type='mmkd.PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmkd.SimulateSAR', source='eo', target='sar', looks=1, downsample=2),
    dict(type='mmkd.PairedResize', sizes=dict(eo=32, sar=48)),
    dict(type='mmkd.PackMultiModalInputs', task='cls'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
