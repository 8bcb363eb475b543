# The runtime of the det_kd detector configs trained with schedule_synthetic_det.py:
# mmdet's default runtime, seeded (randomness.py: exact resumption), the last checkpoint
# of every 4th epoch kept, a log line every 10 iterations (the synthetic benchmark's
# epochs are short; the real-data configs log every 20).
_base_ = ['mmdet::_base_/default_runtime.py', './randomness.py']
default_hooks = dict(checkpoint=dict(interval=4, max_keep_ckpts=1),
                     logger=dict(interval=10))
