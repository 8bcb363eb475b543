"""Generate the synthetic paired detection benchmark (optical + infrared renderings).

    python tools/misc/make_synthetic_det.py [--out data/synthetic_det] [--num-train 400]
        [--num-val 100] [--size 256] [--seed 0]

Writes ``<out>/{optical,infrared}/{train,val}/*.png`` and
``<out>/annotations/{train,val}.json`` (COCO format, boxes shared by both renderings).
Generated scenes, not real imagery; see ``mmkd/testing/synthetic_det.py``.
"""
import argparse

from mmkd.testing import make_synthetic_det


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/synthetic_det', help='output folder')
    parser.add_argument('--num-train', type=int, default=400, help='training scenes')
    parser.add_argument('--num-val', type=int, default=100, help='validation scenes')
    parser.add_argument('--size', type=int, default=256, help='scene side in pixels')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--max-objects', type=int, default=6,
                        help='at most this many objects per scene')
    args = parser.parse_args()
    root = make_synthetic_det(args.out, args.num_train, args.num_val, args.size,
                              args.seed, args.max_objects)
    print(f'synthetic detection benchmark in {root}')


if __name__ == '__main__':
    main()
