"""What each run reads: the train and test dataset overrides of a table (CIFAR folders,
MSTAR-10 per-seed draws, the demo's synthetic chips) and the sizes of its splits."""
import os
import os.path as osp
import sys


def synthetic_generate(args, scale):
    """Write the demo's synthetic chips (reused when already complete)."""
    from mmkd.testing import make_synthetic_sar
    make_synthetic_sar(args.data_root, scale['train_per_class'], scale['test_per_class'])


def synthetic_data(args, scale, role, seed):
    """The teacher reads every training chip; each student seed its own draw of
    ``per_class`` labelled chips per class (``mmkd.ClassSubsetDataset``, seeded with
    the run's seed); every run is tested on the whole test split."""
    if role == 'teacher':
        train = dict(data_root=args.data_root)
    else:
        train = dict(per_class=scale['per_class'], seed=seed,
                     dataset=dict(data_root=args.data_root))
    return train, dict(data_root=args.data_root)


def synthetic_sizes(args, scale):
    return 10 * scale['per_class'], 10 * scale['test_per_class']


def cifar_data(args, scale, role, seed):
    """Train and test dataset overrides: a balanced subset of the CIFAR folders."""
    return (dict(data_root=args.data_root, max_per_class=scale['per_class']),
            dict(data_root=args.data_root, max_per_class=scale['test_per_class']))


def cifar_sizes(args, scale):
    return 10 * (scale['per_class'] or 5000), 10 * (scale['test_per_class'] or 1000)


def class_files(root, split):
    """``{class: [relative paths]}`` of an ImageNet-style ``root/split/<class>/`` tree."""
    base = osp.join(root, split)
    return {c: sorted(osp.join(c, f) for f in os.listdir(osp.join(base, c)))
            for c in sorted(os.listdir(base)) if osp.isdir(osp.join(base, c))}


def write_subset(root, split, per_class, seed, path):
    """An mmpretrain ``CustomDataset`` annotation file (``<class>/<file> <label>`` per
    line) with ``per_class`` files per class drawn with ``seed``; labels index the sorted
    class folders, as mmpretrain's folder scan does."""
    import random
    rng = random.Random(seed)
    files = class_files(root, split)
    lines = []
    for label, (cls, paths) in enumerate(files.items()):
        if len(paths) < per_class:
            sys.exit(f'{root}/{split}/{cls} has {len(paths)} images, fewer than '
                     f'--per-class {per_class}')
        lines += [f'{p} {label}' for p in sorted(rng.sample(paths, per_class))]
    if not osp.isfile(path):
        with open(path, 'w') as fh:
            fh.write('\n'.join(lines) + '\n')
    return path, list(files)


def mstar_data(args, scale, role, seed):
    """The teacher reads every training chip; each student seed reads its own draw of
    ``per_class`` labelled chips per class; every run is tested on the whole test split."""
    train = dict(data_root=args.data_root)
    if role != 'teacher' and scale['per_class']:
        path, classes = write_subset(
            args.data_root, 'train', scale['per_class'], seed,
            osp.join(args.work_dir, f'train_{scale["per_class"]}-per-class_seed{seed}.txt'))
        train.update(ann_file=path, metainfo=dict(classes=classes))
    return train, dict(data_root=args.data_root)


def mstar_sizes(args, scale):
    n_test = sum(len(v) for v in class_files(args.data_root, 'test').values())
    n_all = sum(len(v) for v in class_files(args.data_root, 'train').values())
    return (10 * scale['per_class'] if scale['per_class'] else n_all), n_test
