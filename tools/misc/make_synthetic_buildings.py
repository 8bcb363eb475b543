"""Generate the SYNTHETIC paired SAR/optical building benchmark, or a SYNTHETIC
miniature of the SpaceNet 6 layout.

    python tools/misc/make_synthetic_buildings.py [--out data/synthetic_buildings]
        [--num-train 160] [--num-val 40] [--num-test 40] [--size 128] [--seed 0]
        [--looks 2] [--sar-cell 1] [--num-labelled N]
    python tools/misc/make_synthetic_buildings.py --spacenet6-layout --out data/sn6_mini
        [--num-tiles 4] [--size 64]

The benchmark is written in ``PairedSegDataset``'s folders layout
(``sar/*.tif`` 4-band float32, ``optical/*.png``, ``masks/*.png``, ``splits/*.txt``);
the miniature as SpaceNet 6 is distributed (GeoTIFFs, footprint CSV, orientation file),
to try ``tools/dataset_converters/spacenet6.py`` and the ``spacenet6`` layout without
the real data. Generated scenes, not real imagery
(``mmkd/testing/synthetic_buildings.py``).
"""
import argparse

from mmkd.testing import make_spacenet6_miniature, make_synthetic_buildings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/synthetic_buildings', help='output folder')
    parser.add_argument('--num-train', type=int, default=160)
    parser.add_argument('--num-val', type=int, default=40)
    parser.add_argument('--num-test', type=int, default=40)
    parser.add_argument('--size', type=int, default=128, help='scene side in pixels')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--looks', type=float, default=2.0,
                        help='SAR speckle looks (1 = strongest speckle)')
    parser.add_argument('--sar-cell', type=int, default=1,
                        help='SAR resolution cell in optical pixels (> 1: a coarser SAR '
                        'image than the optical one)')
    parser.add_argument('--num-labelled', type=int,
                        help='only the first N training scenes keep their masks (the '
                        'others: 255, ignored; splits/train_labelled.txt lists the N)')
    parser.add_argument('--overwrite', action='store_true')
    parser.add_argument('--spacenet6-layout', action='store_true',
                        help='write a SpaceNet 6 layout miniature instead')
    parser.add_argument('--num-tiles', type=int, default=4,
                        help='--spacenet6-layout: tiles to write')
    args = parser.parse_args()
    if args.spacenet6_layout:
        root = make_spacenet6_miniature(args.out, args.num_tiles, args.size, args.seed)
        print(f'SYNTHETIC SpaceNet 6 layout miniature in {root}')
        return
    root = make_synthetic_buildings(args.out, args.num_train, args.num_val, args.num_test,
                                    args.size, args.seed, looks=args.looks,
                                    overwrite=args.overwrite, sar_cell=args.sar_cell,
                                    num_labelled=args.num_labelled)
    print(f'SYNTHETIC building benchmark in {root}')


if __name__ == '__main__':
    main()
