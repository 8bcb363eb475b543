# hard+pkd: the ground-truth losses plus PKD (1 - Pearson correlation of the FPN
# features) on P3..P6.
# Not measured on the benchmark yet (README, "Other feature losses").
_base_ = ['./_base_/kd_r50-pafpn_r18-fpn_synthetic-det.py',
          './_base_/methods/hard+pkd.py']
model = _base_.pop('method')  # the cell's losses, into the distiller
