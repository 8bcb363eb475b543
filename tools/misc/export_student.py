"""Export the student of a distillation checkpoint as a plain host-library model.

    python tools/misc/export_student.py CONFIG CHECKPOINT [--out-dir DIR]

Writes DIR/student.pth and DIR/student_config.py (default DIR: next to CHECKPOINT, in
``student/``). Load them with mmpretrain/mmseg/mmdet alone.
"""
import argparse
import os.path as osp

from mmengine.config import Config

import mmkd  # noqa: F401
from mmkd.apis.export import export_checkpoint, member_names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('config', help='the distillation config')
    parser.add_argument('checkpoint', help='a distillation (or student) checkpoint')
    parser.add_argument('--out-dir', help='output folder')
    parser.add_argument('--scope', help='host library scope (inferred by default)')
    parser.add_argument('--member', nargs='*',
                        help='MutualDistiller: the models to export (default: all)')
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    out_dir = args.out_dir or osp.join(osp.dirname(osp.abspath(args.checkpoint)), 'student')
    members = args.member or member_names(cfg)
    for m in members:
        ckpt, cfg_path = export_checkpoint(cfg, args.checkpoint,
                                           osp.join(out_dir, m) if m else out_dir,
                                           args.scope, m)
        print(f'{"model " + m if m else "student"} checkpoint: {ckpt}\n'
              f'{"model " + m if m else "student"} config:     {cfg_path}')


if __name__ == '__main__':
    main()
