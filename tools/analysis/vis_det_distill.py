"""See what a detection distiller distils on one image: the PDF-Distil weights and the
DeFeat foreground mask of every FPN level, drawn over the image.

    python tools/analysis/vis_det_distill.py DISTILL_CONFIG CHECKPOINT IMAGE --out out.png
        [--teacher-image PATH] [--boxes x1,y1,x2,y2 ...] [--ann-file COCO.json]
        [--teacher-checkpoint PATH] [--cfg-options k=v ...]

DISTILL_CONFIG is a det_kd distillation config; CHECKPOINT its distillation checkpoint
(or an exported student; the teacher comes from the config's ``teacher.checkpoint`` or
``--teacher-checkpoint``). IMAGE is the student's image; where the teacher reads another
modality (cross-modal configs) give its image with ``--teacher-image``. The image goes
through the config's test pipeline and data preprocessor as in validation; teacher and
student then run once, the distiller's taps recording their classification outputs.

- **PDF-Distil weights** (one map per level, summing to one over the image): how much
  teacher and student class scores disagree at each location, from the config's
  ``PDFDistilLoss`` (its ``pdf_weights``; a default one when the config has none).
- **DeFeat foreground mask** per level: the cells covered by the ground-truth boxes
  assigned to that level, from the config's ``DeFeatLoss`` (its ``gt_masks``; a default
  one with the detector's strides otherwise). Boxes: ``--boxes`` (pixels of IMAGE as it
  is on disk), else the image's entry in ``--ann-file`` or in the config's test
  annotation file (matched by file name); none found: the mask is all background.

The figure has one row per level: the PDF weights and the DeFeat mask over the image
(as the network saw it, at its input size), the boxes drawn.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if osp.isdir(osp.join(REPO, 'mmkd')) and REPO not in sys.path:
    sys.path.insert(0, REPO)  # this checkout's mmkd, as tools/dist_train.sh does


def _type_name(t) -> str:
    return str(t.get('type', '')).split('.')[-1] if isinstance(t, dict) else ''


def find_boxes(image: str, ann_files: Sequence[str]) -> Optional[List[List[float]]]:
    """``[x1, y1, x2, y2]`` boxes of ``image`` in the first COCO file that lists it
    (matched by file name, then by base name)."""
    for ann_file in ann_files:
        if not ann_file or not osp.isfile(ann_file):
            continue
        with open(ann_file) as f:
            coco = json.load(f)
        norm = osp.normpath(image)
        match = [im for im in coco.get('images', [])
                 if norm.endswith(osp.normpath(im['file_name']))]
        if not match:
            base = osp.basename(image)
            match = [im for im in coco.get('images', [])
                     if osp.basename(im['file_name']) == base
                     or base.startswith(str(im.get('vedai_id', '\0')))]
        if match:
            img_id = match[0]['id']
            return [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                     a['bbox'][1] + a['bbox'][3]]
                    for a in coco.get('annotations', []) if a['image_id'] == img_id]
    return None


def _test_pipeline(cfg) -> list:
    for split in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        loader = cfg.get(split)
        if loader and loader.get('dataset') and loader.dataset.get('pipeline'):
            return [dict(t) for t in loader.dataset.pipeline]
    raise KeyError('the config has no dataset pipeline to prepare the image with')


def build_pipeline(cfg, paired: bool):
    """The test pipeline; for paired data, loading every modality given (with the
    training pipeline's per-modality colour types)."""
    from mmengine.dataset import Compose
    pipeline = _test_pipeline(cfg)
    # mmdet's test pipelines load the boxes after resizing, so that they stay in the
    # image's own frame for evaluation; here they must follow the image, as in training
    loads = [t for t in pipeline if _type_name(t) == 'LoadAnnotations']
    pipeline = [t for t in pipeline if _type_name(t) != 'LoadAnnotations']
    first = next((i for i, t in enumerate(pipeline)
                  if _type_name(t) in ('LoadImageFromFile', 'LoadMultiModalImages')), 0)
    pipeline[first + 1:first + 1] = loads
    if paired:
        train = cfg.train_dataloader.dataset.pipeline
        loader = next((dict(t) for t in train if _type_name(t) == 'LoadMultiModalImages'),
                      None)
        for i, t in enumerate(pipeline):
            if _type_name(t) == 'LoadMultiModalImages':
                pipeline[i] = dict(loader or t, modalities=None)
    return Compose(pipeline)


def prepare(cfg, model, image: str, teacher_image: Optional[str],
            boxes: List[List[float]]):
    """The image(s) through the test pipeline and the data preprocessor."""
    from mmengine.dataset import pseudo_collate
    teacher_mod = next(iter(model.teacher_cfgs.values())).get('input')
    student_mod = model.student_input
    paired = student_mod is not None
    results = dict(img_id=0, instances=[
        dict(bbox=[float(v) for v in b], bbox_label=0, ignore_flag=0) for b in boxes])
    if paired:
        paths = {student_mod: image}
        if teacher_mod is not None and teacher_mod != student_mod:
            if teacher_image is None:
                raise ValueError(f'the teacher reads the {teacher_mod!r} image and the '
                                 f'student the {student_mod!r} one: give the teacher\'s '
                                 f'with --teacher-image')
            paths[teacher_mod] = teacher_image
        results.update(img_path=paths, ref_modality=student_mod)
    else:
        results.update(img_path=image)
    data = build_pipeline(cfg, paired)(results)
    batch = model.data_preprocessor(pseudo_collate([data]), False)
    shown = data['inputs'][student_mod] if paired else data['inputs']
    return batch['inputs'], batch['data_samples'], shown.numpy()


def _loss_of(model, type_name: str):
    for name, loss in model.losses.items():
        if type(loss).__name__ == type_name:
            return name, loss
    return None, None


def _tap_on(model, path: str) -> str:
    for name, tap in model.recorder.taps.items():
        if f'{tap.model}.{tap.path}' == path and tap.index is None:
            return name
    taps = {n: f'{t.model}.{t.path}' for n, t in model.recorder.taps.items()}
    raise KeyError(f'the distiller has no tap on {path!r} (taps: {taps}); tap the '
                   f'classification convs of both heads')


def distilled_maps(model, inputs, samples) -> Dict[str, list]:
    """Run teacher and student once; return the PDF weights (``pdf``) and the DeFeat
    masks (``defeat``), one ``H_k x W_k`` array per level, and the levels' strides."""
    import torch

    from mmkd.models.losses import DeFeatLoss, PDFDistilLoss
    pdf_name, pdf = _loss_of(model, 'PDFDistilLoss')
    if pdf is not None:
        s_cls = model.loss_inputs[pdf_name]['student_cls']
        t_cls = model.loss_inputs[pdf_name]['teacher_cls']
    else:
        head = model.student.bbox_head
        pdf = PDFDistilLoss(num_anchors=head.num_base_priors)
        s_cls = _tap_on(model, 'student.bbox_head.retina_cls')
        t_cls = _tap_on(model, 'teacher.bbox_head.retina_cls')
    _, defeat = _loss_of(model, 'DeFeatLoss')
    strides = [s[0] if isinstance(s, (tuple, list)) else s
               for s in model.student.bbox_head.prior_generator.strides]
    if defeat is None:
        defeat = DeFeatLoss(strides=strides)
    with torch.no_grad(), model.recorder.recording():
        for name, teacher in model.teachers.items():
            teacher(model.route(inputs, model.teacher_cfgs[name].get('input'),
                                f'teacher {name!r}'), samples, mode='tensor')
        model.student(model.route(inputs, model.student_input, 'student'), samples,
                      mode='tensor')
        feats = model.recorder.features()
    s_levels, t_levels = feats[s_cls], feats[t_cls]
    weights = pdf.pdf_weights(s_levels, t_levels)
    sizes = [tuple(s.shape[-2:]) for s in s_levels]
    masks = defeat.gt_masks(samples, sizes)
    return dict(pdf=[w[0, 0].numpy() for w in weights],
                defeat=[m[0].numpy() for m in masks],
                strides=list(defeat.strides[:len(sizes)]))


def draw(path: str, image: np.ndarray, maps: Dict[str, list], boxes, title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.patches as patches
    import matplotlib.pyplot as plt
    img = image.transpose(1, 2, 0)
    if img.shape[2] == 3:
        img = img[..., ::-1]  # BGR (as read) -> RGB
    img = img.astype(np.float32)
    img = (img - img.min()) / max(float(img.max() - img.min()), 1e-6)
    h, w = img.shape[:2]
    n = len(maps['pdf'])
    fig, axes = plt.subplots(n, 2, figsize=(6.4, 3.0 * n), squeeze=False)
    for k in range(n):
        s = maps['strides'][k]
        panels = (('pdf', 'PDF-Distil weight', 'inferno'),
                  ('defeat', 'DeFeat foreground', 'Greens'))
        for j, (key, label, cmap) in enumerate(panels):
            ax = axes[k][j]
            m = maps[key][k]
            ax.imshow(img[..., 0] if img.shape[2] == 1 else img, cmap='gray',
                      extent=(0, w, h, 0))
            shown = ax.imshow(m, cmap=cmap, alpha=0.55, interpolation='nearest',
                              extent=(0, m.shape[1] * s, m.shape[0] * s, 0),
                              vmin=0, vmax=max(float(m.max()), 1e-12))
            for x1, y1, x2, y2 in boxes:
                ax.add_patch(patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                               edgecolor='cyan', linewidth=0.8))
            ax.set_xlim(0, w)
            ax.set_ylim(h, 0)
            ax.set_title(f'P{k + 3} (stride {s}): {label}', fontsize=8)
            ax.axis('off')
            if key == 'pdf':
                fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.02)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('image', help="the student's image")
    p.add_argument('--out', required=True, help='the PNG to write')
    p.add_argument('--teacher-image', help="the teacher's image (cross-modal configs)")
    p.add_argument('--boxes', nargs='*', metavar='x1,y1,x2,y2',
                   help='ground-truth boxes in pixels of IMAGE')
    p.add_argument('--ann-file', help='a COCO file listing IMAGE (default: the '
                   "config's test annotation file)")
    p.add_argument('--teacher-checkpoint', help="override the config's")
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE')
    return p.parse_args(argv)


def main(argv=None) -> dict:
    from mmengine.config import Config, DictAction
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    import mmkd  # noqa: F401
    from mmkd.registry import MODELS
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    opts = {}
    for item in args.cfg_options:
        k, v = item.split('=', 1)
        opts[k] = DictAction._parse_iterable(v)
    cfg.merge_from_dict(opts)
    if args.teacher_checkpoint:
        cfg.model.teacher.checkpoint = args.teacher_checkpoint
    if not str(cfg.model.get('type', '')).endswith('Distiller') or 'teacher' not in \
            cfg.model:
        raise SystemExit(f'{args.config} is not a distillation config with one teacher')
    init_default_scope(cfg.get('default_scope') or 'mmdet')
    from mmkd.apis import runner_model_cfg
    model = MODELS.build(runner_model_cfg(cfg))
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=False,
                    logger='current')
    model.eval()
    if args.boxes is not None:
        boxes = [[float(v) for v in b.split(',')] for b in args.boxes]
        if any(len(b) != 4 for b in boxes):
            raise SystemExit('--boxes takes x1,y1,x2,y2 per box')
    else:
        ann_files = [args.ann_file] if args.ann_file else [
            (cfg.get(k) or {}).get('ann_file') for k in ('test_evaluator',
                                                          'val_evaluator')]
        boxes = find_boxes(args.image, ann_files)
        if boxes is None:
            print(f'no boxes found for {args.image} (give --boxes or --ann-file): the '
                  f'DeFeat mask is all background')
            boxes = []
    inputs, samples, shown = prepare(cfg, model, args.image, args.teacher_image, boxes)
    maps = distilled_maps(model, inputs, samples)
    gt = samples[0].gt_instances.bboxes
    gt = getattr(gt, 'tensor', gt).tolist()  # boxes in the network input's frame
    draw(args.out, shown, maps, gt, f'{osp.basename(args.config)}\n{args.image}')
    print(f'wrote {args.out}')
    return dict(maps=maps, samples=samples, boxes=gt, out=args.out)


if __name__ == '__main__':
    main()
