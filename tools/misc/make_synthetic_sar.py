"""Write the bundled *synthetic* SAR chips (not real radar data) that the demo and the
``configs/kd/*synthetic-sar*`` configs read.

    python tools/misc/make_synthetic_sar.py [--root data/synthetic_sar]
        [--train-per-class 100] [--test-per-class 200] [--size 64] [--seed 0]

The layout is mmpretrain's ``CustomDataset`` one (``<root>/{train,test}/<class>/<n>.png``);
a folder already complete with the same counts is left as it is.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmkd.testing import make_synthetic_sar  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--root', default='data/synthetic_sar')
    p.add_argument('--train-per-class', type=int, default=100)
    p.add_argument('--test-per-class', type=int, default=200)
    p.add_argument('--size', type=int, default=64, help='chip side (px) as written')
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args(argv)
    root = make_synthetic_sar(a.root, a.train_per_class, a.test_per_class, a.size, a.seed)
    print(f'synthetic SAR chips in {root}: {a.train_per_class} training and '
          f'{a.test_per_class} test chips per class, 10 classes')


if __name__ == '__main__':
    main()
