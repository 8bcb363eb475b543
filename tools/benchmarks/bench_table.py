"""Markdown tables from the JSON files of ``tools/benchmarks/bench_distill.py``.

    python tools/benchmarks/bench_table.py work_dirs/bench/*.json

Prints the three tables of ``docs/benchmarks.md`` (step times and ratios, peak memory,
loader throughput), one row per JSON file, in the order given, plus the command that
produced each row. Kinds a run did not measure print as a dash.
"""
import argparse
import json

MIB = 2**20


def fmt(v, spec):
    return '–' if v is None else format(v, spec)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('json', nargs='+')
    args = p.parse_args()
    runs = [json.load(open(path)) for path in args.json]

    def label(r):
        opts = [o for o, on in (('bf16 teacher', r.get('teacher_amp') == 'bf16'),
                                ('fp16 teacher', r.get('teacher_amp') == 'fp16'),
                                ('channels-last', r.get('channels_last'))) if on]
        return r['pair'] + (f' ({", ".join(opts)})' if opts else '') + \
            f', batch {r["batch_size"]}'

    print('| pair | student ms | teacher ms | KD ms | KD / student | r* | overhead '
          '| KD cached / student | MMRazor / student |')
    print('|---|---|---|---|---|---|---|---|---|')
    for r in runs:
        med, rat = r['seconds']['median'], r['ratios']
        ms = {k: med.get(k) and med[k] * 1e3 for k in ('student', 'teacher', 'kd')}
        over = rat.get('overhead_over_floor')
        print(f'| {label(r)} | {fmt(ms["student"], ".0f")} | {fmt(ms["teacher"], ".0f")} '
              f'| {fmt(ms["kd"], ".0f")} | {fmt(rat.get("kd_over_student"), ".3f")} '
              f'| {fmt(rat.get("floor_r_star"), ".3f")} '
              f'| {fmt(over and over * 100, "+.1f")} % '
              f'| {fmt(rat.get("kd_cached_over_student"), ".3f")} '
              f'| {fmt(rat.get("razor_over_student"), ".3f")} |')
    mem_runs = [r for r in runs if r.get('memory')]
    if mem_runs:
        print('\n| pair | peak student MiB | teacher weights MiB | peak KD MiB '
              '| KD / (student + teacher) | peak KD cached MiB | peak MMRazor MiB |')
        print('|---|---|---|---|---|---|---|')
        for r in mem_runs:
            m = {k: v['peak_bytes'] / MIB for k, v in r['memory'].items()}
            print(f'| {label(r)} | {fmt(m.get("student"), ".0f")} '
                  f'| {r["teacher_weight_bytes"] / MIB:.0f} | {fmt(m.get("kd"), ".0f")} '
                  f'| {fmt(r["memory_ratio"].get("kd_over_student_plus_teacher"), ".3f")} '
                  f'| {fmt(m.get("kd_cached"), ".0f")} | {fmt(m.get("razor"), ".0f")} |')
    load_runs = [r for r in runs if r.get('loader')]
    if load_runs:
        print('\n| pair | loader img/s (workers) | KD step img/s | loader / KD |')
        print('|---|---|---|---|')
        for r in load_runs:
            ld = r['loader']
            print(f'| {label(r)} | {ld["images_per_s"]:.0f} ({ld["num_workers"]}) '
                  f'| {ld["kd_step_images_per_s"]:.1f} | {ld["loader_over_kd_step"]:.1f}x |')
    var_runs = [r for r in runs if r['ratios'].get('teacher_variant_over_fp32')]
    if var_runs:
        print('\n| pair | teacher fp32 ms | bf16 autocast | channels-last | both |')
        print('|---|---|---|---|---|')
        for r in var_runs:
            v = r['ratios']['teacher_variant_over_fp32']
            t = r['seconds']['median']['teacher'] * 1e3
            cells = ' | '.join(f'{v[k] * t:.0f} ms (x{v[k]:.2f})' for k in (
                'teacher[bf16]', 'teacher[cl]', 'teacher[bf16+cl]'))
            print(f'| {label(r)} | {t:.0f} | {cells} |')
    print('\nCommands:\n')
    for r in runs:
        print(f'- `python {r["command"]}`')


if __name__ == '__main__':
    main()
