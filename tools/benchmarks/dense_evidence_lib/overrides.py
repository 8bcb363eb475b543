"""The written overrides of a run's config: the scale's EfficientNet encoder, the teacher
trained here and the row's loss settings (``model_overrides``); the data, loaders and
schedule of a segmentation run (CPU scale; SpaceNet 6 with ``--full``) and of a detection
run (synthetic, xView; VEDAI's folds); the ``vedai/`` config of a ``--full`` row."""
import copy
import importlib.util
import math
import os.path as osp

import _evidence_common as common
from _evidence_common import REPO

from .tables import K

# mmdet's KD detector (LD) and mmkd's paired variant, as the configs name them
MMDET_KD = ('KnowledgeDistillationSingleStageDetector', 'mmkd.PairedKDSingleStageDetector')
# EfficientNet stages 1..5 (strides 2..32): the U-Net decoder's in_channels
STAGES = dict(b0=[16, 24, 40, 112, 320], b3=[24, 32, 48, 136, 384],
              b4=[24, 32, 56, 160, 448])


def _effnet_arch(model, arch):
    """Overrides giving an EfficientNet U-Net (or DisOptNet) encoder ``arch``, and its
    decoders the matching stage widths."""
    out = {}
    if (model.get('backbone') or {}).get('type') == 'mmkd.EfficientNetEncoder':
        out['backbone'] = dict(arch=arch)
        out['decode_head'] = dict(in_channels=STAGES[arch])
    if model.get('pseudo_optical_backbone'):
        out['pseudo_optical_backbone'] = dict(arch=arch)
        out['pseudo_optical_head'] = dict(in_channels=STAGES[arch])
    return out


def _plain(x):
    return x.to_dict() if hasattr(x, 'to_dict') else copy.deepcopy(x)


def model_overrides(ctx, entry, fold):
    """What every row's model needs from the benchmark: the scale's encoder, the
    teacher trained here (its written config and checkpoint), the row's loss settings."""
    scale = ctx['scale']
    arch = scale.get('arch')
    cfg = common.load_config(entry['config'])
    model = cfg.model
    teacher_dir = ctx['teacher_dir'](fold)
    over = {}
    if entry.get('network_from'):  # another row's network, trained as a plain model
        net = _plain(common.load_config(entry['network_from']).model.student)
        net['pseudo_optical_init'] = None  # no teacher weights either
        if arch:
            net = common.merge(net, _effnet_arch(net, arch))
        return dict(model=dict(_delete_=True, **net))
    if model.get('type') == 'mmkd.Distiller':
        m = {}
        if arch:
            m['student'] = _effnet_arch(model.student, arch)
        if model.student.get('pseudo_optical_init'):
            m.setdefault('student', {})['pseudo_optical_init'] = dict(
                checkpoint=teacher_dir)
        # the teacher as trained here: its own written config (same encoder) and weights;
        # DML's trainable optical peer is that network too, from scratch
        t = dict(model=osp.join(teacher_dir, 'run_config.py'))
        if not model.teacher.get('trainable'):
            t['checkpoint'] = teacher_dir
        m['teacher'] = t
        if 'soft' in (model.get('losses') or {}):
            m['losses'] = dict(soft=soft_overrides(model, entry))
        over['model'] = m
    elif model.get('type') in MMDET_KD:
        # mmdet's KD detector (LD; mmkd's paired variant for the cross-modal table): the
        # teacher as trained here, its written config and its last checkpoint *file*
        # (mmdet loads it while the model is built)
        over['model'] = dict(teacher_config=osp.join(teacher_dir, 'run_config.py'),
                             teacher_ckpt=ctx['teacher_file'](fold))
    elif arch:
        over['model'] = _effnet_arch(model, arch)
    if entry.get('init_from_teacher'):
        # the shipped config's load_from is dropped by tools/train.py --resume: start
        # from the teacher's weights through init_cfg instead (non-strict: the stem
        # convolution has 4 SAR bands, not 3)
        over['load_from'] = None
        over.setdefault('model', {})['init_cfg'] = dict(
            type='Pretrained', checkpoint=ctx['teacher_file'](fold))
    return over


def soft_overrides(model, entry):
    """The soft-target loss's normalisation, written out (``'hard_pos'`` with the
    student head's own anchors, assigner and border)."""
    soft = dict(normalize=entry.get('normalize', 'teacher_pos'))
    if soft['normalize'] == 'hard_pos':
        head = model.student.bbox_head
        train_cfg = model.student.get('train_cfg') or {}
        soft['anchor_generator'] = _plain(head.anchor_generator)
        if train_cfg.get('assigner'):
            soft['assigner'] = _plain(train_cfg['assigner'])
        soft['allowed_border'] = train_cfg.get('allowed_border', -1)
    return soft


def seg_overrides(ctx, entry, role, fold):
    """Data, loaders and schedule of a segmentation run at the CPU scale."""
    scale, root = ctx['scale'], ctx['data_root']
    over = {}
    for split in ('train', 'val', 'test'):
        ds = dict(data_root=root)
        if split != 'train':  # measured on the test scenes (val: the same ones)
            ds['split_file'] = 'splits/test.txt'
        over[f'{split}_dataloader'] = dict(num_workers=0, persistent_workers=False,
                                           dataset=ds)
    over['train_dataloader']['batch_size'] = scale['batch']
    if scale.get('num_labelled') and labelled_only(entry, role):
        over['train_dataloader']['dataset']['split_file'] = 'splits/train_labelled.txt'
    iters = scale['teacher_iters' if role == 'teacher' else 'iters']
    over['train_cfg'] = dict(max_iters=iters, val_interval=iters)
    over['param_scheduler'] = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0,
                                    end=iters, by_epoch=False)]
    over['default_hooks'] = dict(
        checkpoint=dict(interval=max(1, iters // 4), max_keep_ckpts=1, by_epoch=False),
        logger=dict(interval=25))
    return over


def labelled_only(entry, role):
    """With ``--num-labelled``: whether a run trains on the labelled scenes only. The
    teacher and every network trained without a teacher (the baseline, fine-tuning,
    ``k3_sar-only``) train on what is labelled, as a user without the optical pairs
    would; the distillation rows on every pair (the teacher's terms need no label, the
    task losses ignore the unlabelled scenes' 255 masks); ``sar_all-scenes`` is the
    baseline's network on every scene (their sampling, no teacher)."""
    if role == 'teacher':
        return True
    if entry.get('all_scenes'):
        return False
    return common.load_config(entry['config']).model.get('type') != 'mmkd.Distiller'


SN6_NAMES = ('paired_train_pipeline', 'paired_test_pipeline', 'sar_train_pipeline',
             'sar_test_pipeline', 'optical_train_pipeline', 'optical_test_pipeline',
             'sar_preprocessor', 'optical_preprocessor', 'paired_preprocessor')


def spacenet6_overrides(ctx, entry, role, over, fold):
    """``--full`` segmentation: the row's synthetic config (with ``over`` merged) moved
    onto SpaceNet 6: each pipeline and preprocessor replaced by its SpaceNet 6
    namesake (``_base_/datasets/spacenet6_sar_optical.py``), the loaders by SpaceNet
    6's, the authors' schedule (``disoptnet/_base_/schedule_spacenet6.py``)."""
    syn = common.load_config('_base_/datasets/synthetic_buildings_sar_optical.py')
    sn6 = common.load_config('_base_/datasets/spacenet6_sar_optical.py')
    sched = common.load_config('disoptnet/_base_/schedule_spacenet6.py')
    pairs = [(_plain(syn[n]), _plain(sn6[n])) for n in SN6_NAMES]

    def swap(x):
        x = _plain(x)
        for a, b in pairs:
            if x == a:
                return copy.deepcopy(b)
        if isinstance(x, dict):
            return {k: swap(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(swap(v) for v in x)
        return x

    cfg = common.load_config(entry['config'])
    cfg.merge_from_dict(copy.deepcopy(over), allow_list_keys=True)
    root = ctx['data_root']
    out = {k: v for k, v in over.items() if k not in ('model', ) and
           not k.endswith('_dataloader')}
    out['model'] = dict(_delete_=True, **swap(cfg.model))
    for split, template in (('train', sn6.train_dataloader), ('val', sn6.val_dataloader),
                            ('test', sn6.val_dataloader)):
        loader = _plain(template)
        ds = cfg[f'{split}_dataloader'].dataset
        loader['dataset'].update(modalities=_plain(ds.modalities), data_root=root,
                                 pipeline=swap(ds.pipeline))
        out[f'{split}_dataloader'] = dict(_delete_=True, **loader)
    epochs = ctx['scale']['teacher_epochs' if role == 'teacher' else 'epochs']
    out['optim_wrapper'] = dict(_delete_=True, **_plain(sched.optim_wrapper))
    out['param_scheduler'] = [dict(_plain(sched.param_scheduler[0]), end=epochs)]
    out['train_cfg'] = dict(_delete_=True, **dict(_plain(sched.train_cfg),
                                                  max_epochs=epochs))
    out['default_hooks'] = dict(_delete_=True, **_plain(sched.default_hooks))
    return out


def det_data_overrides(ctx, entry, fold):
    """Data and loaders of a detection run: the generated synthetic benchmark at the
    CPU scale, the xView chips with ``--full --dataset xview`` (VEDAI: the configs')."""
    scale, root = ctx['scale'], ctx['data_root']
    cfg = common.load_config(entry['config'])
    dataset = ctx['dataset']
    if dataset == 'vedai':
        return {}
    over = {}
    size = scale['size']
    if dataset == 'xview':
        train_ann, test_ann = ((f'xview_fold{fold:02d}_train.json',
                                f'xview_fold{fold:02d}_val.json') if fold else
                               ('xview_train.json', 'xview_val.json'))
        classes = xview_classes()
    else:
        train_ann, test_ann = 'annotations/train.json', 'annotations/val.json'
    for split in ('train', 'val', 'test'):
        pipe = cfg[f'{split}_dataloader'].dataset.pipeline
        # mmdet's Resize (scale, w x h), or mmkd's PairedResize of a paired dataset
        # (sizes: every modality to the one size)
        i, resize = next((i, dict(scale=(size, size)) if t['type'] == 'Resize' else
                          dict(sizes=(size, size))) for i, t in enumerate(pipe)
                         if t['type'] in ('Resize', 'mmkd.PairedResize'))
        ds = dict(data_root=root + '/', pipeline={str(i): resize},
                  ann_file=train_ann if split == 'train' else test_ann)
        if dataset == 'xview':
            ds.update(data_prefix=dict(img='images/'), metainfo=dict(classes=classes))
        over[f'{split}_dataloader'] = dict(dataset=ds)
        if dataset == 'synthetic':
            over[f'{split}_dataloader'].update(num_workers=0, persistent_workers=False)
    over['train_dataloader']['batch_size'] = scale['batch']
    over['val_evaluator'] = dict(ann_file=osp.join(root, test_ann))
    over['test_evaluator'] = dict(ann_file=osp.join(root, test_ann))
    if dataset == 'xview':
        n = len(classes)
        if cfg.model.get('type') == 'mmkd.Distiller':
            over['model'] = dict(student=dict(bbox_head=dict(num_classes=n)))
        else:
            over['model'] = dict(bbox_head=dict(num_classes=n))
    return over


def det_schedule_overrides(ctx, role):
    """Epochs, warm-up (a fifth of the run, at most the configs' 200 iterations) and
    the steps at 2/3 and 11/12 of the run (the configs' 16 and 22 of 24 epochs)."""
    scale = ctx['scale']
    epochs = scale['teacher_epochs' if role == 'teacher' else 'epochs']
    per_epoch = math.ceil(ctx['n_train'] / scale['batch']) if ctx['n_train'] else 200
    warmup = max(1, min(200, epochs * per_epoch // 5))
    return dict(
        train_cfg=dict(max_epochs=epochs, val_interval=epochs),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=warmup),
            dict(type='MultiStepLR', begin=0, end=epochs, by_epoch=True, gamma=0.1,
                 milestones=[max(1, round(epochs * 2 / 3)),
                             max(1, round(epochs * 11 / 12))])],
        default_hooks=dict(checkpoint=dict(interval=max(1, epochs // 4), max_keep_ckpts=1),
                           logger=dict(interval=10)))


def vedai_fold_options(cfg, fold, resolution):
    """The options that move a ``vedai/`` config to ``fold`` at ``resolution``
    (``tools/dataset_converters/vedai_to_coco.py`` ``fold_options``)."""
    if fold is None:
        return {}
    path = osp.join(REPO, 'tools', 'dataset_converters', 'vedai_to_coco.py')
    spec = importlib.util.spec_from_file_location('_vedai_to_coco', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.fold_options(cfg, fold, resolution)


def xview_classes():
    """The 60 xView class names in the converter's category order (ids 1..60)."""
    path = osp.join(REPO, 'tools', 'dataset_converters', 'xview_to_coco.py')
    spec = importlib.util.spec_from_file_location('_xview_to_coco', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return tuple(mod.XVIEW_CLASSES[t] for t in sorted(mod.XVIEW_CLASSES))


def full_config(table, entry):
    """The config a row runs with ``--full --dataset vedai*``: the ``vedai/`` one."""
    cell = entry.get('cell')
    if entry['key'] == 'teacher':
        return K + 'vedai/retinanet_r50-pafpn_vedai-co_teacher.py'
    if cell == 'hard':
        return K + 'vedai/retinanet_r18-fpn_vedai-co.py'
    return K + f'vedai/kd_{cell}_r50-pafpn_r18-fpn_vedai.py'
