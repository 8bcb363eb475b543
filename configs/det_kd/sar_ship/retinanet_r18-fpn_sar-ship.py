# Student for SAR ship detection alone, the baseline (ground truth only, no teacher): the
# student of kd_hard+pdf_r50-pafpn_r18-fpn_sar-ship.py (the teacher's detector with
# ResNet-18 + FPN), on the same data with the same schedule.
_base_ = ['./kd_hard+pdf_r50-pafpn_r18-fpn_sar-ship.py']
model = dict(_base_.model.student, _delete_=True)
custom_hooks = [dict(type='mmkd.RNGStateHook')]  # no teacher to hash, nothing to export
