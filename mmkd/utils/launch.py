"""Distributed training on machines without CUDA.

mmengine 0.10.7's ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` and its
default DDP wrapper passes ``device_ids=[LOCAL_RANK]``; both fail on a CPU-only machine.
When there is no GPU, the train/test tools start the process group on the gloo backend
themselves (the runner then skips ``init_dist``) and wrap the model in DDP without
device ids, which is how DDP runs on CPU modules.
"""
import torch
import torch.distributed as dist
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log


def setup_cpu_distributed(cfg: Config) -> None:
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', ConfigDict())
    dist_cfg = env_cfg.setdefault('dist_cfg', ConfigDict())
    if dist_cfg.get('backend', 'nccl') != 'gloo':
        print_log(f"no CUDA device: using the gloo backend instead of "
                  f"{dist_cfg.get('backend', 'nccl')!r}", logger='current')
    dist_cfg['backend'] = 'gloo'
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')  # env:// from torchrun
    wrapper = dict(cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False)))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
