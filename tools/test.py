"""Evaluate a checkpoint: a distillation checkpoint or an exported student.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]

CONFIG may be the distillation config or the exported ``student_config.py``; CHECKPOINT
may be a distillation checkpoint (``student.*`` weights, connectors are ignored) or an
exported ``student.pth``. Either way only the student is built and evaluated: the
teacher's checkpoint and the teacher's modality are not needed.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

import mmkd  # noqa: F401
from mmkd.apis.export import is_distillation_config, student_config
from mmkd.datasets.coco_annotations import explain_coco_errors
from mmkd.models.distillers.model_config import load_weights_strict
from mmkd.utils.launch import setup_cpu_distributed
from mmkd.utils.mmdet_kd import is_mmdet_kd_config


def parse_args():
    parser = argparse.ArgumentParser(description='Test a (distilled) model (mmkd)')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save logs and metrics')
    parser.add_argument('--out', help='dump the predictions to this pickle file')
    parser.add_argument('--member', help='MutualDistiller configs: the model to test '
                        '(default: its eval_model)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value pairs (xxx=yyy format)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument('--gpus', type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if is_distillation_config(cfg):
        member = args.member
        if member is None and cfg.model.type.endswith('MutualDistiller'):
            member = cfg.model.get('eval_model') or list(cfg.model.models)[-1]
        cfg = student_config(cfg, member=member)
        prefix = f'members.{member}.' if member else 'student.'
    elif is_mmdet_kd_config(cfg):  # mmdet's KD detector (LD): its student, no teacher
        cfg = student_config(cfg)
        prefix = 'student.'
    else:
        prefix = 'student.'
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = None  # loaded below, from either kind of checkpoint
    cfg.resume = False
    if args.out:
        cfg.test_evaluator = list(cfg.test_evaluator) if isinstance(
            cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=args.out))
    setup_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    load_weights_strict(model, args.checkpoint, 'the student', prefix)
    with explain_coco_errors(cfg):  # an empty or image-less COCO file, named
        metrics = runner.test()
    return metrics


if __name__ == '__main__':
    main()
