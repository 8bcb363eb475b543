"""Detect objects over a whole georeferenced scene with an exported detector, tile by
tile (sliced inference with mmdet's detector and mmcv's NMS).

    python tools/misc/scene_det_inference.py STUDENT_CONFIG STUDENT_CKPT SCENE [BAND ...] \
        --out dets.json [--geojson dets.geojson] [--tile 512] [--overlap 128] \
        [--score-thr 0.3] [--iou-thr 0.5] [--device cpu]

Writes a COCO-style JSON of the merged detections in scene pixels (bbox [x, y, w, h],
score) and, with --geojson, the boxes as polygons in longitude/latitude. See
docs/scenes.md (and mmkd.utils.scene_inference for why not sahi).
"""
import argparse

from mmkd.utils.scene_inference import detect_scene


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the exported detector config (student_config.py)')
    parser.add_argument('checkpoint', help='the exported detector checkpoint')
    parser.add_argument('scene', nargs='+', help='the scene GeoTIFF, or its band files')
    parser.add_argument('--out', required=True, help='the COCO-style JSON to write')
    parser.add_argument('--geojson', help='also write GeoJSON polygons (EPSG:4326)')
    parser.add_argument('--tile', type=int, default=512, help='tile size in pixels')
    parser.add_argument('--overlap', type=int, default=128,
                        help='overlap of neighbouring tiles (>= the largest object)')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--iou-thr', type=float, default=0.5,
                        help='NMS IoU threshold when merging tiles')
    parser.add_argument('--modality', help='the modality an mmkd test pipeline reads')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    result = detect_scene(args.config, args.checkpoint, args.scene, args.out,
                          tile=args.tile, overlap=args.overlap, score_thr=args.score_thr,
                          iou_thr=args.iou_thr, geojson=args.geojson, device=args.device,
                          modality=args.modality)
    print(f"{len(result['annotations'])} detections: {args.out}"
          + (f' and {args.geojson}' if args.geojson else ''))


if __name__ == '__main__':
    main()
