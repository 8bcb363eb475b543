"""Run a list of user faults and print the message each one gets.

    python tools/misc/fault_list.py [--markdown] [--only NAME ...]

Each fault is set up in a temporary folder (tiny models, a few generated images) and
triggered through the public entry points (datasets with their pipelines, the
Distiller, a Runner), the way a user's config would hit it. Printed per fault: the
exception type and its message, or what happened when nothing was raised. With
``--markdown`` the output is a table for the README's troubleshooting section.
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import traceback

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

FAULTS = []


def fault(cause):
    def register(fn):
        FAULTS.append((fn.__name__, cause, fn))
        return fn
    return register


# ----------------------------------------------------------------------------- helpers
def classifier(width=8, depth=18, in_channels=1, num_classes=4):
    return dict(
        type='mmpretrain.ImageClassifier',
        backbone=dict(type='ResNet', depth=depth, in_channels=in_channels,
                      stem_channels=width, base_channels=width),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=width * 8,
                  loss=dict(type='CrossEntropyLoss'), topk=(1, )),
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor',
                               num_classes=num_classes, mean=[0.] * in_channels,
                               std=[255.] * in_channels, to_rgb=False))


def save_weights(model_cfg, path, seed=0):
    from mmkd.models.distillers import build_model
    torch.manual_seed(seed)
    m, _, _ = build_model(model_cfg, 'teacher')
    torch.save({'state_dict': m.state_dict()}, path)
    return path


KD = dict(kd=dict(type='mmkd.KDLoss', inputs=dict(student='s_logits', teacher='t_logits')))
TAPS = dict(s_logits='student.head.fc', t_logits='teacher.head.fc')


def distiller(tmp, **kw):
    from mmkd.models.distillers import Distiller
    teacher = classifier(width=16)
    kw.setdefault('taps', TAPS)
    kw.setdefault('losses', KD)
    kw.setdefault('teacher', dict(model=teacher, checkpoint=save_weights(
        teacher, osp.join(tmp, 'teacher.pth'))))
    return Distiller(student=classifier(), **kw)


def cls_batch(n=2, size=32, channels=1):
    from mmpretrain.structures import DataSample
    return dict(inputs=[torch.randint(0, 255, (channels, size, size), dtype=torch.uint8)
                        for _ in range(n)],
                data_samples=[DataSample().set_gt_label(i % 4) for i in range(n)])


def write_pairs(root, n=4, drop_sar=(), sar_bands=1, corrupt=None):
    rng = np.random.default_rng(0)
    for i in range(n):
        for mod, size in (('EO', 30), ('SAR', 48)):
            if mod == 'SAR' and i in drop_sar:
                continue
            folder = osp.join(root, mod, 'abc'[i % 2])
            os.makedirs(folder, exist_ok=True)
            bands = sar_bands if mod == 'SAR' else 3
            img = rng.integers(0, 255, (size, size, bands) if bands > 1 else (size, size),
                               dtype=np.uint8)
            path = osp.join(folder, f'{mod}_{100 + i}.png')
            cv2.imwrite(path, img)
            if corrupt == (mod, i):
                with open(path, 'r+b') as f:
                    f.truncate(40)
    return root


PATTERNS = dict(eo=r'EO_(\d+)\.png', sar=r'SAR_(\d+)\.png')


def paired_dataset(root, **kw):
    from mmkd.datasets import PairedClsDataset
    kw.setdefault('pipeline', [dict(type='mmkd.LoadMultiModalImages',
                                    channels=dict(sar=1, eo=3)),
                               dict(type='mmkd.PackMultiModalInputs', task='cls')])
    return PairedClsDataset(modalities=('eo', 'sar'), data_root=root,
                            folders=dict(eo='EO', sar='SAR'), id_patterns=PATTERNS,
                            class_subfolders=True, **kw)


# ----------------------------------------------------------------------------- faults
@fault('data root that does not exist')
def bad_data_root(tmp):
    paired_dataset(osp.join(tmp, 'no_such_folder'))


@fault('a SAR file without its optical partner')
def unpaired_files(tmp):
    paired_dataset(write_pairs(osp.join(tmp, 'd'), drop_sar=(2, )))


@fault('corrupt (truncated) image')
def corrupt_image(tmp):
    ds = paired_dataset(write_pairs(osp.join(tmp, 'd'), corrupt=('SAR', 1)))
    for i in range(len(ds)):
        ds[i]


@fault('wrong band count (3-band SAR where 1 band is expected)')
def wrong_bands(tmp):
    ds = paired_dataset(write_pairs(osp.join(tmp, 'd'), sar_bands=3))
    ds[0]


@fault('teacher checkpoint missing')
def missing_checkpoint(tmp):
    distiller(tmp, teacher=dict(model=classifier(width=16),
                                checkpoint=osp.join(tmp, 'nope.pth')))


@fault('teacher work dir with no checkpoint yet')
def empty_work_dir(tmp):
    distiller(tmp, teacher=dict(model=classifier(width=16), checkpoint=tmp))


@fault('teacher checkpoint of another architecture')
def mismatched_checkpoint(tmp):
    wrong = save_weights(classifier(width=16, depth=34), osp.join(tmp, 'r34.pth'))
    distiller(tmp, teacher=dict(model=classifier(width=16), checkpoint=wrong))


@fault('tap on a module that does not exist')
def unknown_tap(tmp):
    distiller(tmp, taps=dict(TAPS, t_feat='teacher.backbone.layer9'))


@fault('loss reading a name that is neither tap nor connector')
def unknown_feature(tmp):
    distiller(tmp, losses=dict(kd=dict(type='mmkd.KDLoss', inputs=dict(
        student='s_logits', teacher='t_logit'))))


@fault('feature shapes differ, no connector')
def shape_mismatch(tmp):
    d = distiller(tmp, taps=dict(s='student.backbone.layer3', t='teacher.backbone.layer3'),
                  losses=dict(hint=dict(type='mmkd.FeatureMSELoss',
                                        inputs=dict(student='s', teacher='t'))))
    d(**d.data_preprocessor(cls_batch(), True), mode='loss')


@fault('teacher reads a modality the batch lacks')
def missing_modality(tmp):
    d = distiller(tmp, student_input='sar')
    d.teacher_cfgs['teacher']['input'] = 'optical'
    d(dict(sar=torch.randn(2, 1, 32, 32)), cls_batch()['data_samples'], mode='loss')


@fault('unknown loss type')
def unknown_loss(tmp):
    distiller(tmp, losses=dict(x=dict(type='mmkd.NoSuchLoss', inputs={})))


@fault('detection boxes outside the image (COCO annotation)')
def out_of_range_boxes(tmp):
    from mmdet.datasets import CocoDataset
    os.makedirs(osp.join(tmp, 'img'))
    cv2.imwrite(osp.join(tmp, 'img', 'a.png'), np.zeros((64, 64, 3), np.uint8))
    ann = dict(images=[dict(id=1, file_name='a.png', width=64, height=64)],
               categories=[dict(id=1, name='car')],
               annotations=[dict(id=1, image_id=1, category_id=1, area=400, iscrowd=0,
                                 bbox=[50, 50, 40, 40]),      # half outside
                            dict(id=2, image_id=1, category_id=1, area=400, iscrowd=0,
                                 bbox=[100, 100, 20, 20])]),  # entirely outside
    with open(osp.join(tmp, 'ann.json'), 'w') as f:
        json.dump(ann[0], f)
    ds = CocoDataset(data_root=tmp, ann_file='ann.json', data_prefix=dict(img='img/'),
                     metainfo=dict(classes=('car', )), pipeline=[
                         dict(type='mmdet.LoadImageFromFile'),
                         dict(type='mmdet.LoadAnnotations', with_bbox=True),
                         dict(type='mmdet.PackDetInputs')])
    boxes = ds[0]['data_samples'].gt_instances.bboxes.tensor.tolist()
    return (f'no error: mmdet drops the box entirely outside and keeps the partly '
            f'outside one unclipped: {boxes} on a 64x64 image')


def coco_config(tmp, coco):
    """A config whose mmdet CocoDataset reads ``coco`` (a dict, or bytes as written)."""
    from mmengine.config import Config
    path = osp.join(tmp, 'annotations', 'train.json')
    os.makedirs(osp.dirname(path))
    with open(path, 'wb') as f:
        f.write(coco if isinstance(coco, bytes) else json.dumps(coco).encode())
    return Config(dict(train_dataloader=dict(dataset=dict(
        type='mmdet.CocoDataset', data_root=tmp, ann_file='annotations/train.json',
        data_prefix=dict(img='images/'), metainfo=dict(classes=('ship', )),
        pipeline=[]))))


def build_train_dataset(cfg):
    """What tools/train.py does with the config's training set."""
    from mmkd.datasets.coco_annotations import explain_coco_errors
    from mmkd.registry import DATASETS
    with explain_coco_errors(cfg):
        DATASETS.build(cfg.train_dataloader.dataset)


@fault('empty (0-byte) COCO annotation file')
def empty_coco_file(tmp):
    build_train_dataset(coco_config(tmp, b''))


@fault('COCO annotation file with no images')
def coco_without_images(tmp):
    build_train_dataset(coco_config(tmp, dict(
        images=[], annotations=[], categories=[dict(id=1, name='ship')])))


@fault('a run resumed with no seed set (tools/train.py --resume)')
def unseeded_resume(tmp):
    import importlib.util

    from mmengine.config import Config
    spec = importlib.util.spec_from_file_location('mmkd_train_tool',
                                                  osp.join(REPO, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    ckpt = osp.join(tmp, 'epoch_3.pth')
    torch.save({'meta': {}}, ckpt)
    with open(osp.join(tmp, 'last_checkpoint'), 'w') as f:
        f.write(ckpt)
    msg = train.check_resume_seed(Config(dict(work_dir=tmp, resume=True)))
    return f'a warning, and training goes on: {msg}'


@fault('NaN in a loss during training')
def nan_loss(tmp):
    from mmkd.models.distillers.integrity import check_finite_losses
    check_finite_losses({'loss_kd': torch.tensor(float('nan')),
                         'student.loss': torch.tensor(2.3)}, 1234)


@fault('a frozen teacher changed during training')
def teacher_changed(tmp):
    d = distiller(tmp)
    with torch.no_grad():
        d.teachers['teacher'].head.fc.bias.add_(1)
    d.verify_teachers('during training')


@fault('teacher cache missing or incomplete')
def cache_missing(tmp):
    teacher = classifier(width=16)
    distiller(tmp, teacher=dict(model=teacher, checkpoint=save_weights(
        teacher, osp.join(tmp, 't.pth')), cache=dict(dir=osp.join(tmp, 'no_cache'))))


def small_cache(tmp, flip_prob=0.5):
    """A 2-view teacher cache of 4 paired samples (SAR read by both models)."""
    from mmkd.models.distillers.teacher_cache import write_teacher_cache
    root = write_pairs(osp.join(tmp, 'd'))
    d = distiller(tmp, student_input='sar', data_preprocessor=dict(
        type='mmkd.MultiModalDataPreprocessor', preprocessors=dict(
            sar=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=4))))
    d.teacher_cfgs['teacher']['input'] = 'sar'
    write_teacher_cache(d, cache_dataset(root), osp.join(tmp, 'cache'), views=2,
                        log=lambda m: None)
    return root


def cache_dataset(root, flip_prob=0.5):
    return dict(type='mmkd.PairedClsDataset', modalities=('eo', 'sar'), data_root=root,
                folders=dict(eo='EO', sar='SAR'), id_patterns=PATTERNS,
                class_subfolders=True, pipeline=[
                    dict(type='mmkd.LoadMultiModalImages', modalities=['sar']),
                    dict(type='mmkd.PairedRandomFlip', prob=flip_prob),
                    dict(type='mmkd.PairedResize', sizes=32),
                    dict(type='mmkd.PackMultiModalInputs', task='cls')])


@fault('training pipeline changed since the teacher cache was made')
def cache_pipeline_changed(tmp):
    from mmkd.models.distillers.teacher_cache import TeacherCacheDataset
    root = small_cache(tmp)
    ds = TeacherCacheDataset(cache_dataset(root, flip_prob=0.9), osp.join(tmp, 'cache'))
    for i in range(len(ds)):
        for v in range(2):
            ds.get_view(i, v)


@fault('teacher cache made with other teacher weights')
def cache_other_teacher(tmp):
    small_cache(tmp)
    other = save_weights(classifier(width=16), osp.join(tmp, 'other.pth'), seed=1)
    distiller(tmp, teacher=dict(model=classifier(width=16), checkpoint=other,
                                cache=dict(dir=osp.join(tmp, 'cache'))))


def run(name, fn):
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    with tempfile.TemporaryDirectory() as tmp:
        try:
            result = fn(tmp)
        except Exception as e:  # what the user sees
            where = traceback.extract_tb(e.__traceback__)[-1]
            return (f'{type(e).__name__}: {e}',
                    f'{osp.relpath(where.filename, REPO)}:{where.lineno}')
        return (result or 'no error raised', '')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--markdown', action='store_true')
    p.add_argument('--only', nargs='*')
    args = p.parse_args()
    import contextlib
    import io
    import logging

    from mmengine.logging import MMLogger

    import mmkd  # noqa: F401
    import mmkd.models  # noqa: F401
    MMLogger.get_current_instance().setLevel(logging.ERROR)
    rows = []
    for name, cause, fn in FAULTS:
        if args.only and name not in args.only:
            continue
        if args.markdown:  # libraries' progress prints must not end up in the table
            with contextlib.redirect_stdout(io.StringIO()):
                msg, where = run(name, fn)
        else:
            msg, where = run(name, fn)
        rows.append((name, cause, msg, where))
        if not args.markdown:
            print(f'== {cause}  [{name}]\n{msg}\n   raised at {where or "-"}\n',
                  flush=True)
    if args.markdown:
        print('| cause | message |\n|---|---|')
        for _, cause, msg, _ in rows:
            one = ' '.join(msg.split()).replace('|', '\\|').replace('`', "'")
            print(f'| {cause} | `{one[:400]}{" ..." if len(one) > 400 else ""}` |')


if __name__ == '__main__':
    main()
