"""Train a model (a distiller or any plain OpenMMLab model) with an mmengine Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                          [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner, find_latest_checkpoint

import mmkd  # noqa: F401  (registries, version checks, checkpoint loading)
from mmkd.datasets.coco_annotations import explain_coco_errors
from mmkd.engine.hooks.rng_state_hook import warn_unseeded_resume
from mmkd.utils.launch import setup_cpu_distributed
from mmkd.utils.mmdet_kd import check_teacher_ckpt


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model (mmkd)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest one in the work '
        'dir when no path is given')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--no-validate', action='store_true',
                        help='skip validation during training')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value pairs (xxx=yyy format)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    # `mim train` passes --gpus; accepted for compatibility, the launcher decides.
    parser.add_argument('--gpus', type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def check_resume_seed(cfg):
    """Warn when ``cfg`` resumes a checkpoint with no seed set (configs with
    ``mmkd.RNGStateHook`` are warned by the hook); the warning, or None."""
    if not cfg.get('resume') or any(
            str(h.get('type', '')).endswith('RNGStateHook')
            for h in cfg.get('custom_hooks') or [] if isinstance(h, dict)):
        return None
    # the checkpoint mmengine's Runner.load_or_resume will resume
    ckpt = cfg.get('load_from') or find_latest_checkpoint(cfg.work_dir)
    if not ckpt:
        return None  # nothing to resume: mmengine starts from the beginning
    return warn_unseeded_resume((cfg.get('randomness') or {}).get('seed'), ckpt)


def main():
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    check_teacher_ckpt(cfg, args.config)  # mmdet's KD detector (LD): name the key
    setup_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    check_resume_seed(cfg)
    with explain_coco_errors(cfg):  # an empty or image-less COCO file, named
        runner.train()


if __name__ == '__main__':
    main()
