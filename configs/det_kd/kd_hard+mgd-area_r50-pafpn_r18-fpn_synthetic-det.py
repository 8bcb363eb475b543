# hard+mgd-area: hard + MGD with alpha scaled to the 128 px input's area (1.3e-3 instead
# of the authors' 2e-5 at 1333x800; see _base_/methods/hard+mgd-area.py).
_base_ = ['./_base_/kd_r50-pafpn_r18-fpn_synthetic-det.py',
          './_base_/methods/hard+mgd-area.py']
model = _base_.pop('method')  # the cell's losses, into the distiller
