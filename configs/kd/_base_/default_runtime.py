# The runtime of the SAR-chip configs: mmpretrain's default runtime, the last checkpoint
# of every 5th epoch kept, a log line every 20 iterations.
_base_ = ['mmpretrain::_base_/default_runtime.py']
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=1), logger=dict(interval=20))
