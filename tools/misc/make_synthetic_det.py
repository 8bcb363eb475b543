"""Generate the synthetic paired detection benchmark (optical + infrared renderings).

    python tools/misc/make_synthetic_det.py [--out data/synthetic_det] [--num-train 400]
        [--num-val 100] [--size 256] [--seed 0] [--max-objects N] [--style aerial]

``--style generic`` draws few large objects per scene (1-3, each 25-70 % of the side:
the VOC-like counterpart of the default aerial vehicles; e.g. ``--out
data/synthetic_det_generic --style generic``).

Writes ``<out>/{optical,infrared}/{train,val}/*.png`` and
``<out>/annotations/{train,val}.json`` (COCO format, boxes shared by both renderings).
Generated scenes, not real imagery; see ``mmkd/testing/synthetic_det.py``.
"""
import argparse

from mmkd.testing import make_synthetic_det
from mmkd.testing.synthetic_det import DEFAULT_STYLE, STYLES


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/synthetic_det', help='output folder')
    parser.add_argument('--num-train', type=int, default=400, help='training scenes')
    parser.add_argument('--num-val', type=int, default=100, help='validation scenes')
    parser.add_argument('--size', type=int, default=256, help='scene side in pixels')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--max-objects', type=int, default=None,
                        help="at most this many objects per scene (default: the style's, "
                        '6 aerial, 3 generic)')
    parser.add_argument('--style', default=DEFAULT_STYLE, choices=sorted(STYLES),
                        help='aerial: small vehicles, 1-6 per scene; generic: 1-3 large '
                        'objects, 25-70 %% of the side')
    args = parser.parse_args()
    root = make_synthetic_det(args.out, args.num_train, args.num_val, args.size,
                              args.seed, args.max_objects, style=args.style)
    print(f'synthetic detection benchmark in {root}')


if __name__ == '__main__':
    main()
