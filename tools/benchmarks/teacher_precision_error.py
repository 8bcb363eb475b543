"""How much a reduced-precision teacher moves the distillation losses.

    python tools/benchmarks/teacher_precision_error.py CONFIG --checkpoint TEACHER.pth
        [--batches 4] [--batch-size 32] [--cfg-options k=v ...]

Builds the distiller of CONFIG three times (teacher in float32; under bf16 autocast;
bf16 and channels-last), evaluates every distillation loss on the same ``--batches``
training batches (the config's own pipeline, samples 0.. in order, student weights
seeded alike, eval mode, no update) and prints each loss per batch, its largest
relative difference to the float32 teacher, and the batch-to-batch spread of the
float32 values for scale. Companion of ``bench_distill.py --teacher-variants``, which
measures the speed side; ``docs/benchmarks.md`` says how the two decide the defaults.
"""
import argparse
import statistics

from mmengine.config import Config, DictAction

VARIANTS = (('fp32', None, False), ('bf16', 'bf16', False), ('bf16+cl', 'bf16', True))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--checkpoint', required=True, help='the teacher checkpoint')
    p.add_argument('--batches', type=int, default=4)
    p.add_argument('--batch-size', type=int, default=None)
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args()

    import torch
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope

    import mmkd  # noqa: F401
    from mmkd.apis import runner_model_cfg
    from mmkd.registry import DATASETS, MODELS
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    bs = args.batch_size or cfg.train_dataloader.batch_size
    if len(dataset) < args.batches * bs:
        raise SystemExit(f'{len(dataset)} samples: fewer than {args.batches} x {bs}')
    batches = [pseudo_collate([dataset[i] for i in range(b * bs, (b + 1) * bs)])
               for b in range(args.batches)]
    values = {}
    for name, amp, channels_last in VARIANTS:
        mcfg = runner_model_cfg(cfg)
        teachers = mcfg.get('teachers') or {'teacher': mcfg.teacher}
        for t in teachers.values():
            t['checkpoint'] = args.checkpoint
            t['amp'], t['channels_last'] = amp, channels_last
        torch.manual_seed(0)
        model = MODELS.build(mcfg).eval()
        for batch in batches:
            data = model.data_preprocessor(batch, True)
            with torch.no_grad():
                losses = model(**data, mode='loss')
            for k, v in losses.items():
                if 'loss' in k and not k.startswith('student.'):
                    values.setdefault(k, {}).setdefault(name, []).append(float(v))
    for k, per in values.items():
        base = per['fp32']
        spread = statistics.pstdev(base) / abs(statistics.mean(base))
        print(f'{k}: fp32 batch-to-batch spread {spread:.2e} (relative std)')
        for name, vals in per.items():
            diff = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(vals, base))
            print(f'  {name:8s} ' + ' '.join(f'{v:.6g}' for v in vals)
                  + f'   max relative difference to fp32 {diff:.2e}')


if __name__ == '__main__':
    main()
