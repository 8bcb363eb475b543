"""Each loss term's magnitude and gradient norm on the student, at the start of training.

    python tools/analysis/loss_terms.py CONFIG [--batches 4] [--checkpoint CKPT]
        [--cfg-options k=v ...] [--out terms.json]

Builds the model and the training dataloader exactly as ``tools/train.py`` would (an
mmengine ``Runner`` from the config, weights initialised as the runner does, the frozen
teacher loaded from its checkpoint), then, for ``--batches`` training batches, runs the
distiller's ``loss()`` and for every logged term (``student.loss``, ``loss_kd``,
``loss_sem.on_diag``, ...) records its value and the L2 norm of its gradient with respect
to the student's parameters alone (``torch.autograd.grad``, one term at a time, no
optimiser step). The means over the batches are printed as a table and written as JSON.

What counts as a term is what mmengine's ``parse_losses`` sums: every logged key with
``loss`` in its name, a per-level list (mmdet's ``loss_cls`` / ``loss_bbox``, one tensor
per pyramid level) summed into one term; logged extras (mmseg's ``acc_seg``, accuracies)
are left out. A model without a ``.student`` (a segmentor or detector trained alone, the
baseline of a distillation table) is its own student. The config's ``load_from`` is
applied after the initialisation, as the runner does (a fine-tuned baseline starts from
those weights), unless ``--checkpoint`` names other weights.

This is the diagnostic the evidence benchmarks log beside each result: a term whose
gradient norm is orders of magnitude above the task loss's swamps it; one orders below
does nothing. ``--checkpoint`` evaluates a trained run instead of the initial weights.
"""
import argparse
import json
import math
import os.path as osp
import sys

import torch


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--batches', type=int, default=4, help='training batches to average')
    p.add_argument('--checkpoint', help='a trained checkpoint instead of the initial weights')
    p.add_argument('--work-dir', help='where the runner may write (default: a temp dir)')
    p.add_argument('--out', help='write the means as JSON here')
    from mmengine.config import DictAction
    p.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                   help='override settings in the config, as tools/train.py')
    return p.parse_args(argv)


def _student_params(model):
    """The trainable parameters of the distiller's student, or of a model trained
    alone (no ``.student``: it is the student)."""
    student = getattr(model, 'student', None)
    if student is None:
        student = model
    return [p for p in student.parameters() if p.requires_grad]


def loss_terms(losses):
    """``{name: scalar tensor}`` of what the optimiser sums, as mmengine's
    ``parse_losses``: keys with ``loss`` in the name, a tensor by its mean, a per-level
    list by the sum of its tensors' means."""
    terms = {}
    for name, value in losses.items():
        if 'loss' not in name:
            continue  # logged extras (acc_seg, accuracies, weights), not losses
        if isinstance(value, (list, tuple)):
            parts = [v for v in value if torch.is_tensor(v)]
            if parts:
                terms[name] = sum(v.mean() for v in parts)
        elif torch.is_tensor(value):
            terms[name] = value.mean()
    return terms


def measure(model, batches, params):
    """Means of each term's value and student-gradient norm over ``batches``."""
    sums, counts = {}, {}
    for data in batches:
        data = model.data_preprocessor(data, True)
        losses = loss_terms(model(**data, mode='loss'))
        for name, value in losses.items():
            grad_norm = 0.
            if value.requires_grad:
                grads = torch.autograd.grad(value, params, retain_graph=True,
                                            allow_unused=True)
                grad_norm = math.sqrt(sum(float(g.pow(2).sum()) for g in grads
                                          if g is not None))
            s = sums.setdefault(name, [0., 0.])
            s[0] += float(value.detach())
            s[1] += grad_norm
            counts[name] = counts.get(name, 0) + 1
        model.zero_grad(set_to_none=True)
    return {name: dict(value=s[0] / counts[name], grad_norm=s[1] / counts[name])
            for name, s in sums.items()}


def main(argv=None):
    args = parse_args(argv)
    import tempfile

    from mmengine.config import Config
    from mmengine.runner import Runner, load_checkpoint

    import mmkd  # noqa: F401  (registries, version checks, checkpoint loading)

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or tempfile.mkdtemp(prefix='mmkd_loss_terms_')
    cfg.pop('custom_hooks', None)  # export/hash hooks act on train(), not needed here
    runner = Runner.from_cfg(cfg)
    model = runner.model
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    else:
        model.init_weights()  # what runner.train() does before the first step
        if cfg.get('load_from'):  # then the runner loads these (non-strict)
            load_checkpoint(model, cfg.load_from, map_location='cpu', strict=False)
    model.train()
    loader = runner.build_dataloader(cfg.train_dataloader)
    batches = []
    for data in loader:
        batches.append(data)
        if len(batches) >= args.batches:
            break
    terms = measure(model, batches, _student_params(model))
    width = max(len(k) for k in terms)
    print(f'{"term":<{width}}  {"value":>12}  {"grad norm (student)":>20}')
    for name, t in terms.items():
        print(f'{name:<{width}}  {t["value"]:>12.4g}  {t["grad_norm"]:>20.4g}')
    if args.out:
        with open(args.out, 'w') as fh:
            json.dump(dict(config=osp.abspath(args.config), batches=len(batches),
                           checkpoint=args.checkpoint, terms=terms), fh, indent=1)
    return terms


if __name__ == '__main__':
    sys.exit(0 if main() is not None else 1)
