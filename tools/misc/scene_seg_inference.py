"""Segment a whole georeferenced scene with an exported student (mmseg slide inference).

    python tools/misc/scene_seg_inference.py STUDENT_CONFIG STUDENT_CKPT SCENE [BAND ...] \
        --out pred.tif [--crop-size 512] [--stride 256] [--block-size 2048] [--device cpu]

SCENE is one GeoTIFF, or the band files of one scene in the model's band order (e.g.
VV.tif VH.tif). The scene is read through the config's test pipeline in blocks and
predicted with mmseg's ``test_cfg=dict(mode='slide', crop_size, stride)``; the output
is a one-band uint8 GeoTIFF of class ids on the scene's grid (its CRS, transform and
size), ``--nodata`` (255) where the scene has no data. See docs/scenes.md.
"""
import argparse

from mmkd.utils.scene_inference import segment_scene


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the exported student config (student_config.py)')
    parser.add_argument('checkpoint', help='the exported student checkpoint')
    parser.add_argument('scene', nargs='+', help='the scene GeoTIFF, or its band files')
    parser.add_argument('--out', required=True, help='the prediction GeoTIFF to write')
    parser.add_argument('--crop-size', type=int, nargs='+', default=[512],
                        help='slide window (the training window): S or H W')
    parser.add_argument('--stride', type=int, nargs='+',
                        help='slide stride: S or H W (default: half the crop)')
    parser.add_argument('--block-size', type=int, default=2048,
                        help='read and predict the scene in blocks of this size')
    parser.add_argument('--nodata', type=int, default=255)
    parser.add_argument('--modality', help='the modality an mmkd test pipeline reads')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)

    def size(v):
        return None if v is None else (v[0], v[0]) if len(v) == 1 else tuple(v[:2])

    out = segment_scene(args.config, args.checkpoint, args.scene, args.out,
                        crop_size=size(args.crop_size), stride=size(args.stride),
                        block_size=args.block_size, device=args.device,
                        nodata=args.nodata, modality=args.modality)
    print(f'prediction: {out}')


if __name__ == '__main__':
    main()
