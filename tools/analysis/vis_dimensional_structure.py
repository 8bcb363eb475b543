"""Draw the dimensional structure of a model pair, as Fig. 2 of DS-CMKD shows it.

    python tools/analysis/vis_dimensional_structure.py CONFIG CHECKPOINT
        [--second-config CONFIG2 --second-checkpoint CHECKPOINT2]
        [--layer PATH [PATH]] [--output-layer PATH] [--split test] [--num-samples 500]
        [--embed pca|tsne] [--out-dir DIR] [--cfg-options k=v ...]

The pair is either the teacher and the student of one distillation config (CHECKPOINT
is the distillation checkpoint; the teacher's weights come from the config's
``teacher.checkpoint``, or ``--teacher-checkpoint``), or the models of two configs
with their checkpoints (e.g. the clean teacher run and the noisy baseline run: any
mmkd Distiller config, each model reading its ``student_input`` modality). The images
come from CONFIG's ``<split>_dataloader``, so both models see the two modalities of the
same samples.

Per model (one row of the figure):

- the channel-wise self-similarity of its output features (the pooled embedding, the
  output of ``--output-layer``, default ``neck``): the Pearson correlation matrix
  :math:`C_{ij}` of channels i, j over the samples; channels that never vary (dead
  ReLUs) are left out and counted;
- a 2-D embedding of its intermediate features (``--layer``; default: the layers DCM
  reads in a DS-CMKD config) coloured by class: PCA (numpy SVD), or t-SNE when
  scikit-learn is installed and ``--embed tsne``.

Printed summary, per model:

- ``mean|C_offdiag|``: the mean of :math:`|C_{ij}|` over the ordered pairs
  :math:`i \\ne j` of live channels (0: channel-wise independent, 1: redundant);
- ``uniformity``: Wang & Isola's uniformity of the L2-normalised, flattened
  intermediate features, :math:`\\log \\frac{1}{n(n-1)} \\sum_{i \\ne j}
  e^{-t \\lVert \\hat x_i - \\hat x_j \\rVert^2}` with :math:`t = 2` (DCM's
  :math:`1/\\sigma^2`): between -4 and 0, lower is more uniform on the sphere (0: all
  samples at one point).

The figure is ``<out-dir>/dimensional_structure.png``; the numbers are also written to
``<out-dir>/dimensional_structure.json``.
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope
from mmengine.runner import Runner, load_checkpoint

UNIFORMITY_T = 2.0


# ---------------------------------------------------------------------- statistics
def channel_correlation(features: np.ndarray, eps: float = 1e-12):
    """``(C, dead)``: the Pearson correlation matrix of the live channels of ``(N, d)``
    features, and the number of channels left out because they do not vary."""
    x = features.reshape(len(features), -1).astype(np.float64)
    x = x - x.mean(0)
    std = np.sqrt((x**2).mean(0))
    live = std > eps
    z = x[:, live] / std[live]
    return z.T @ z / len(z), int((~live).sum())


def mean_offdiag_abs(c: np.ndarray) -> float:
    d = c.shape[0]
    if d < 2:
        return float('nan')
    return float((np.abs(c).sum() - np.abs(np.diag(c)).sum()) / (d * (d - 1)))


def uniformity(features: np.ndarray, t: float = UNIFORMITY_T) -> float:
    """Wang & Isola's uniformity of L2-normalised flattened features (pairs i != j)."""
    x = features.reshape(len(features), -1).astype(np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    sq = np.maximum(2 - 2 * x @ x.T, 0)  # |a - b|^2 of unit vectors
    n = len(x)
    off = ~np.eye(n, dtype=bool)
    logits = -t * sq[off]
    m = logits.max()
    return float(m + np.log(np.exp(logits - m).mean()))


def embed_2d(features: np.ndarray, method: str = 'pca', seed: int = 0):
    """``(N, 2)`` embedding and the method actually used."""
    x = features.reshape(len(features), -1).astype(np.float64)
    if method == 'tsne':
        try:
            from sklearn.manifold import TSNE
        except ImportError:
            print('scikit-learn is not installed: using PCA instead of t-SNE')
        else:
            perplexity = min(30.0, max(2.0, (len(x) - 1) / 3))
            return TSNE(2, perplexity=perplexity, init='pca',
                        random_state=seed).fit_transform(x), 'tsne'
    x = x - x.mean(0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    out = u[:, :2] * s[:2]
    if out.shape[1] < 2:
        out = np.pad(out, ((0, 0), (0, 2 - out.shape[1])))
    return out, 'pca'


# ---------------------------------------------------------------------- models
class Member:
    """One model of the pair: the network, the modality it reads, the preprocessor
    that turns a raw batch into its input, and the module paths it is read at."""

    def __init__(self, name, model, modality, preprocessor, layer, output_layer):
        self.name, self.model, self.modality = name, model, modality
        self.preprocessor, self.layer, self.output_layer = preprocessor, layer, output_layer
        modules = dict(model.named_modules())
        for path in (layer, output_layer):
            if path not in modules:
                raise KeyError(f'{name}: no module {path!r}; modules include '
                               f'{[k for k in modules if k.count(".") < 2][:20]}')
        self.modules = modules


def _load_cfg(path: str, options: Optional[dict] = None) -> Config:
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    return cfg


def _dcm_paths(cfg: Config):
    """``(student path, teacher path)`` of the features a DCM loss reads, if any."""
    losses = cfg.model.get('losses') or {}
    taps = cfg.model.get('taps') or {}
    connectors = cfg.model.get('connectors') or {}
    for loss in losses.values():
        if str(loss.get('type', '')).endswith('DCMLoss'):
            names = dict(loss.get('inputs', {}))
            out = []
            for role in ('student', 'teacher'):
                name = names.get(role)
                if name in connectors:  # read the student's own layer, not the adapter
                    name = connectors[name].get('source')
                tap = taps.get(name)
                if isinstance(tap, dict):
                    tap = tap.get('path')
                else:
                    tap = str(tap).split('.', 1)[1] if tap else None
                out.append(tap.split('[')[0] if tap else None)
            return tuple(out)
    return None, None


def build_members(args) -> tuple:
    """``(members, config of CONFIG)``."""
    from mmkd.apis import runner_model_cfg
    from mmkd.registry import MODELS
    cfg = _load_cfg(args.config, args.cfg_options)
    scope = cfg.get('default_scope', 'mmpretrain')
    layers = list(args.layer or [])
    with DefaultScope.overwrite_default_scope(scope):
        if cfg.model.get('teacher') is not None and args.second_config is None:
            if args.teacher_checkpoint:
                cfg.model.teacher.checkpoint = args.teacher_checkpoint
            distiller = MODELS.build(runner_model_cfg(cfg))
            load_checkpoint(distiller, args.checkpoint, map_location='cpu', strict=False)
            s_path, t_path = _dcm_paths(cfg)
            t_layer = layers[-1] if layers else t_path
            s_layer = layers[0] if layers else s_path
            if s_layer is None or t_layer is None:
                raise ValueError('give --layer (a module path such as backbone.layer2; '
                                 'two for teacher and student): the config has no DCM '
                                 'loss to take it from')
            pre = distiller.data_preprocessor
            members = [
                Member('teacher', distiller.teachers['teacher'],
                       cfg.model.teacher.get('input'), pre, t_layer, args.output_layer),
                Member('student', distiller.student, cfg.model.get('student_input'), pre,
                       s_layer, args.output_layer)]
        else:
            if args.second_config is None or args.second_checkpoint is None:
                raise ValueError(f'{args.config} has no teacher: give --second-config '
                                 f'and --second-checkpoint for the other model')
            if not layers:
                raise ValueError('give --layer (one module path for both, or one each)')
            members = []
            specs = [(args.config, args.checkpoint), (args.second_config,
                                                       args.second_checkpoint)]
            for i, (path, ckpt) in enumerate(specs):
                c = cfg if i == 0 else _load_cfg(path, args.cfg_options)
                model_cfg = runner_model_cfg(c)
                if str(model_cfg.get('type', '')).endswith('Distiller'):
                    model_cfg = dict(model_cfg, teacher=None, teachers=None, taps=None,
                                     connectors=None, losses=None)
                model = MODELS.build(model_cfg)
                load_checkpoint(model, ckpt, map_location='cpu', strict=False)
                net = getattr(model, 'student', model)
                modality = (args.modalities[i] if args.modalities else
                            c.model.get('student_input'))
                name = osp.splitext(osp.basename(path))[0]
                members.append(Member(name, net, modality, model.data_preprocessor,
                                      layers[min(i, len(layers) - 1)], args.output_layer))
    for m in members:
        m.model.eval()
    return members, cfg


# ---------------------------------------------------------------------- features
def collect(members: Sequence[Member], loader, num_samples: int) -> Dict[str, dict]:
    """Output and intermediate features of each member, and the labels."""
    out = {m.name: dict(output=[], inter=[]) for m in members}
    labels, seen = [], 0
    for batch in loader:
        for m in members:
            data = m.preprocessor(dict(inputs=batch['inputs'],
                                       data_samples=batch['data_samples']), False)
            x = data['inputs']
            if isinstance(x, dict):
                if m.modality not in x:
                    raise KeyError(f'{m.name} reads modality {m.modality!r}; the batch '
                                   f'has {sorted(x)} (pass --modalities)')
                x = x[m.modality]
            rec = {}

            def hook(key):
                def fn(module, args, output):
                    rec[key] = output[-1] if isinstance(output, (list, tuple)) else output
                return fn

            handles = [m.modules[m.output_layer].register_forward_hook(hook('output')),
                       m.modules[m.layer].register_forward_hook(hook('inter'))]
            try:
                with torch.no_grad():
                    m.model(x, mode='tensor')
            finally:
                for h in handles:
                    h.remove()
            out[m.name]['output'].append(rec['output'].flatten(1).float().cpu().numpy())
            out[m.name]['inter'].append(rec['inter'].flatten(1).float().cpu().numpy())
        labels += [int(s.gt_label.reshape(-1)[0]) for s in batch['data_samples']]
        seen += len(batch['data_samples'])
        if seen >= num_samples:
            break
    n = min(seen, num_samples)
    result = {k: {f: np.concatenate(v[f])[:n] for f in v} for k, v in out.items()}
    for v in result.values():
        v['labels'] = np.asarray(labels[:n])
    return result


def summarise(feats: dict) -> dict:
    c, dead = channel_correlation(feats['output'])
    return dict(channels=int(feats['output'].shape[1]), dead_channels=dead,
                mean_abs_offdiag_corr=mean_offdiag_abs(c),
                uniformity=uniformity(feats['inter']), corr=c)


def draw(members, feats, stats, path, method, classes=None):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(members), 2, figsize=(10, 4.6 * len(members)),
                             squeeze=False)
    used = method
    for row, m in zip(axes, members):
        s = stats[m.name]
        im = row[0].imshow(s['corr'], cmap='RdBu_r', vmin=-1, vmax=1)
        row[0].set_title(f'{m.name} ({m.modality}): channel correlation of '
                         f'{m.output_layer}\nmean |C_ij| (i != j) = '
                         f'{s["mean_abs_offdiag_corr"]:.3f}', fontsize=9)
        fig.colorbar(im, ax=row[0], fraction=0.046)
        xy, used = embed_2d(feats[m.name]['inter'], method)
        labels = feats[m.name]['labels']
        present = sorted(set(labels.tolist()))
        cmap = plt.get_cmap('tab10' if len(present) <= 10 else 'tab20' if
                            len(present) <= 20 else 'gist_ncar')
        for k, cls in enumerate(present):
            sel = labels == cls
            name = classes[cls] if classes is not None and cls < len(classes) else cls
            row[1].scatter(xy[sel, 0], xy[sel, 1], s=8, label=str(name),
                           color=cmap(k % cmap.N if cmap.N < 256 else k / len(present)))
        row[1].set_title(f'{m.name}: {used.upper()} of {m.layer}\nuniformity (t=2) = '
                         f'{s["uniformity"]:.3f}', fontsize=9)
        if len(present) <= 20:
            row[1].legend(fontsize=6, loc='best', markerscale=1.5)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return used


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Dimensional structure of a model pair '
                                '(DS-CMKD Fig. 2)')
    p.add_argument('config', help='a distillation config (teacher + student), or the '
                   "first model's config with --second-config")
    p.add_argument('checkpoint', help='its checkpoint')
    p.add_argument('--second-config', help='the other model\'s config')
    p.add_argument('--second-checkpoint', help='the other model\'s checkpoint')
    p.add_argument('--teacher-checkpoint', help='override the config\'s teacher '
                   'checkpoint')
    p.add_argument('--modalities', nargs=2, help='modality each model reads (default: '
                   'their configs\' student_input)')
    p.add_argument('--layer', nargs='+', help='intermediate module path, one for both '
                   'or student/first then teacher/second (default: what DCM reads)')
    p.add_argument('--output-layer', default='neck',
                   help='module whose output is the output feature (default: neck)')
    p.add_argument('--split', default='test', choices=['train', 'val', 'test'])
    p.add_argument('--num-samples', type=int, default=500)
    p.add_argument('--batch-size', type=int, default=None)
    p.add_argument('--embed', default='pca', choices=['pca', 'tsne'])
    p.add_argument('--out-dir', default='work_dirs/vis_dimensional_structure')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    import mmkd  # noqa: F401  (registries)
    args = parse_args(argv)
    if args.layer and len(args.layer) > 2:
        raise ValueError('--layer takes one or two module paths')
    members, cfg = build_members(args)
    loader_cfg = cfg.get(f'{args.split}_dataloader')
    if not loader_cfg:
        raise KeyError(f'{args.config} has no {args.split}_dataloader')
    loader_cfg = dict(loader_cfg, num_workers=0, persistent_workers=False)
    if args.batch_size:
        loader_cfg['batch_size'] = args.batch_size
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        loader = Runner.build_dataloader(loader_cfg)
    feats = collect(members, loader, args.num_samples)
    stats = {m.name: summarise(feats[m.name]) for m in members}
    os.makedirs(args.out_dir, exist_ok=True)
    png = osp.join(args.out_dir, 'dimensional_structure.png')
    classes = getattr(loader.dataset, 'metainfo', {}).get('classes')
    used = draw(members, feats, stats, png, args.embed, classes)

    n = len(next(iter(feats.values()))['labels'])
    print(f'{n} samples from the {args.split} split; uniformity: log mean exp(-2 |x_i - '
          f'x_j|^2) of L2-normalised intermediate features, lower = more uniform')
    print(f'{"model":<40} {"modality":<10} {"channels":>8} {"dead":>5} '
          f'{"mean|C_offdiag|":>16} {"uniformity":>11}')
    summary = {}
    for m in members:
        s = stats[m.name]
        print(f'{m.name:<40} {str(m.modality):<10} {s["channels"]:>8} '
              f'{s["dead_channels"]:>5} {s["mean_abs_offdiag_corr"]:>16.6f} '
              f'{s["uniformity"]:>11.6f}')
        summary[m.name] = dict(modality=m.modality, output_layer=m.output_layer,
                               layer=m.layer, channels=s['channels'],
                               dead_channels=s['dead_channels'],
                               mean_abs_offdiag_corr=s['mean_abs_offdiag_corr'],
                               uniformity=s['uniformity'])
    summary = dict(models=summary, num_samples=n, embedding=used, figure=png)
    with open(osp.join(args.out_dir, 'dimensional_structure.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print(f'figure: {png}')
    return summary


if __name__ == '__main__':
    main()
