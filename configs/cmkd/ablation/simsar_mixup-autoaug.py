# Table 2 grid, "+MixUp +AutoAugment".
_base_ = ['./simsar_autoaug.py']
model = dict(data_preprocessor=dict(batch_augments=[dict(type='mmkd.PairedMixup',
                                                         alpha=1.0)]))
