# Table 2 grid, "+MixUp": both modalities mixed with the same partner and lambda.
_base_ = ['./simsar_baseline.py']
model = dict(data_preprocessor=dict(batch_augments=[dict(type='mmkd.PairedMixup',
                                                         alpha=1.0)]))
