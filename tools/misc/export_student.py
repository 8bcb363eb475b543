"""Export the student of a distillation checkpoint as a plain host-library model.

    python tools/misc/export_student.py CONFIG CHECKPOINT [--out-dir DIR]

Writes DIR/student.pth and DIR/student_config.py (default DIR: next to CHECKPOINT, in
``student/``). Load them with mmpretrain/mmseg/mmdet alone.
"""
import argparse
import os.path as osp

from mmengine.config import Config

import mmkd  # noqa: F401
from mmkd.utils.export import export_checkpoint


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('config', help='the distillation config')
    parser.add_argument('checkpoint', help='a distillation (or student) checkpoint')
    parser.add_argument('--out-dir', help='output folder')
    parser.add_argument('--scope', help='host library scope (inferred by default)')
    args = parser.parse_args()
    out_dir = args.out_dir or osp.join(osp.dirname(osp.abspath(args.checkpoint)), 'student')
    ckpt, cfg = export_checkpoint(Config.fromfile(args.config), args.checkpoint, out_dir,
                                  args.scope)
    print(f'student checkpoint: {ckpt}\nstudent config:     {cfg}')


if __name__ == '__main__':
    main()
