# Table 2 grid, "+MixUp +AutoAugment".
_base_ = ['./simsar_autoaug.py']
# MixUp alpha 0.4: the paper's ablation (Sec. 4.4) and the authors' code (alpha_ = 0.4)
model = dict(data_preprocessor=dict(batch_augments=[dict(type='mmkd.PairedMixup',
                                                         alpha=0.4)]))
