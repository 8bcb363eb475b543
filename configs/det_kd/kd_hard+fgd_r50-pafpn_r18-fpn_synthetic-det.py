# hard+fgd: the ground-truth losses plus focal and global distillation (FGD) on every FPN level.
# Not measured on the benchmark yet (README, "Other feature losses").
_base_ = ['./_base_/kd_r50-pafpn_r18-fpn_synthetic-det.py',
          './_base_/methods/hard+fgd.py']
model = _base_.pop('method')  # the cell's losses, into the distiller
