#!/usr/bin/env bash
# The measured detection-KD grid on the synthetic benchmark, CPU-sized: the 9 cells
# (hard, hard+soft, hard+mse, hard+pdf, hard+defeat, soft, soft+mse, soft+pdf,
# soft+defeat) of configs/det_kd/, RetinaNet R50-PAFPN teacher -> R18-FPN student, each
# over the same seeds with tools/analysis/seed_fold_grid.py (per-cell median, min, max
# and a box plot), then one table of the cells' medians, plus the cost of a KD step
# against the student-only step for this pair.
#
#     bash tools/benchmarks/det_kd_grid.sh              # everything, resumable
#     STEP=time bash tools/benchmarks/det_kd_grid.sh    # only the step timing
#
# Schedule (CPU-sized; the configs' own is 24 epochs at 256 px):
#   data     the synthetic benchmark generated at SIZE=128 px (400 train / 100 val
#            scenes; objects scale with the scene), read at 128 px
#   teacher  R50-PAFPN, TEACHER_EPOCHS=24 epochs (1200 iterations of batch 8), seed 0,
#            trained once; every cell distils from it
#   students EPOCHS=12 epochs (600 iterations of batch 8), lr 0.01 with the steps at
#            epochs 8 and 11 (the 24-epoch schedule's 16/22 scaled), evaluated once at
#            the end (COCO bbox mAP on the 100 val scenes), SEEDS="0 1 2"
# Measured before choosing it (this machine, 2 shared cores under a load of 5-9, one
# thread, batch 8 at 128 px, kd_hard+pdf): KD step 1.84 s, student step 0.97 s, teacher
# forward 0.67 s; at 256 px (batch 4) 5.0 / 2.8 / 1.9 s. Estimated wall time with JOBS=2
# (two cells at a time, one thread each): ~40 min teacher + ~4.5 h for the 27 student
# runs. The script times the step again first and prints its own estimate.
#
# Environment: SEEDS, EPOCHS, TEACHER_EPOCHS, SIZE, NUM_TRAIN, NUM_VAL, JOBS, THREADS,
# CELLS (subset of the 9 names), CROSS_MODAL=1 (also the optical->infrared grid of
# configs/det_kd/cross_modal/), WORK (default work_dirs/det_kd_grid), PY, STEP=time
# (only the timing), BENCH_HARNESS=0 (skip tools/benchmarks/bench_distill.py).
# Re-running continues where it stopped: finished runs are skipped, interrupted ones
# resume from their last checkpoint (every 4 epochs).
set -euo pipefail
set -f  # no globbing: the cfg-options hold [..] and (..)
cd "$(dirname "$0")/../.."

PY=${PY:-.venv/bin/python}
SEEDS=${SEEDS:-"0 1 2"}
EPOCHS=${EPOCHS:-12}
TEACHER_EPOCHS=${TEACHER_EPOCHS:-24}
SIZE=${SIZE:-128}
NUM_TRAIN=${NUM_TRAIN:-400}
NUM_VAL=${NUM_VAL:-100}
JOBS=${JOBS:-2}
THREADS=${THREADS:-1}
CELLS=${CELLS:-"hard hard+soft hard+mse hard+pdf hard+defeat soft soft+mse soft+pdf soft+defeat"}
CROSS_MODAL=${CROSS_MODAL:-0}
WORK=${WORK:-work_dirs/det_kd_grid}
DATA=${DATA:-data/synthetic_det_${SIZE}}
STEP=${STEP:-all}
BENCH_HARNESS=${BENCH_HARNESS:-1}
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
mkdir -p "$WORK"

# ------------------------------------------------------------------ data
$PY tools/misc/make_synthetic_det.py --out "$DATA" --num-train "$NUM_TRAIN" \
    --num-val "$NUM_VAL" --size "$SIZE"

# the same options for every run: data, input size, schedule, no loader workers (the
# cores train), checkpoints every 4 epochs for resuming
common_opts() {  # $1: epochs; $2: index of the resize in the val pipeline
    local e=$1 m1=$(( $1 * 2 / 3 )) m2=$(( $1 * 11 / 12 ))
    local opts="train_cfg.max_epochs=$e train_cfg.val_interval=$e
        param_scheduler.1.end=$e param_scheduler.1.milestones=[$m1,$m2]
        default_hooks.checkpoint.interval=4
        val_evaluator.ann_file=$DATA/annotations/val.json
        test_evaluator.ann_file=$DATA/annotations/val.json"
    for split in train val test; do
        opts="$opts ${split}_dataloader.dataset.data_root=$DATA/
            ${split}_dataloader.num_workers=0 ${split}_dataloader.persistent_workers=False"
    done
    echo "$opts"
}
resize_opts() {  # plain mmdet pipelines: Resize is transform 2 (train), 1 (val/test)
    echo "train_dataloader.dataset.pipeline.2.scale=($SIZE,$SIZE)
          val_dataloader.dataset.pipeline.1.scale=($SIZE,$SIZE)
          test_dataloader.dataset.pipeline.1.scale=($SIZE,$SIZE)"
}
paired_resize_opts() {  # the cross-modal pipelines: PairedResize is transform 2
    echo "train_dataloader.dataset.pipeline.2.sizes=($SIZE,$SIZE)
          val_dataloader.dataset.pipeline.2.sizes=($SIZE,$SIZE)
          test_dataloader.dataset.pipeline.2.sizes=($SIZE,$SIZE)"
}
cell_config() {  # $1: cell, $2: "" or cross_modal
    if [[ $2 == cross_modal ]]; then
        [[ $1 == hard ]] && echo configs/det_kd/cross_modal/retinanet_r18-fpn_synthetic-det-infrared.py \
            || echo "configs/det_kd/cross_modal/kd_$1_r50-pafpn-optical_r18-fpn-infrared_synthetic-det.py"
    else
        [[ $1 == hard ]] && echo configs/det_kd/retinanet_r18-fpn_synthetic-det.py \
            || echo "configs/det_kd/kd_$1_r50-pafpn_r18-fpn_synthetic-det.py"
    fi
}
TEACHER_CKPT=$WORK/teacher/seed0

# ------------------------------------------------------------------ step timing
time_steps() {
    echo "== step timing: R50-PAFPN -> R18-FPN, batch 8 at $SIZE px, $THREADS thread(s)"
    $PY - "$DATA" "$SIZE" "$WORK/step_times.json" <<'EOF'
import json, statistics, sys, time
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
import mmkd  # noqa
from mmkd.models.distillers import build_model
from mmkd.registry import DATASETS, MODELS
data, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
init_default_scope('mmdet')
torch.manual_seed(0)
teacher, _, _ = build_model(Config.fromfile(
    'configs/det_kd/retinanet_r50-pafpn_synthetic-det_teacher.py').model, 'teacher')
torch.save({'state_dict': teacher.state_dict()}, '/tmp/det_kd_grid_teacher.pth')

def model_and_batch(path):
    cfg = Config.fromfile(path)
    ds = cfg.train_dataloader.dataset
    ds.data_root = data + '/'
    ds.pipeline[2]['scale'] = (size, size)
    ds.pipeline = [t for t in ds.pipeline if t['type'] != 'RandomFlip']
    dataset = DATASETS.build(ds)
    if cfg.model.get('teacher'):
        cfg.model.teacher.checkpoint = '/tmp/det_kd_grid_teacher.pth'
    model = MODELS.build(cfg.model)
    model.train()
    batch = model.data_preprocessor(pseudo_collate([dataset[i] for i in range(8)]), True)
    params = [p for p in model.parameters() if p.requires_grad]
    return model, batch, torch.optim.SGD(params, lr=1e-4, momentum=0.9)

def step_of(model, batch, opt):
    def step():
        losses = model.loss(batch['inputs'], batch['data_samples'])
        loss = sum(v if torch.is_tensor(v) else sum(v)
                   for k, v in losses.items() if 'loss' in k)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step

steps = {}
student, sbatch, sopt = model_and_batch('configs/det_kd/retinanet_r18-fpn_synthetic-det.py')
steps['student'] = step_of(student, sbatch, sopt)
for cell in ('soft', 'hard+pdf', 'hard+defeat'):
    kd, kbatch, kopt = model_and_batch(
        f'configs/det_kd/kd_{cell}_r50-pafpn_r18-fpn_synthetic-det.py')
    steps[f'kd {cell}'] = step_of(kd, kbatch, kopt)
    if cell == 'soft':
        t = kd.teachers['teacher']
        def teacher_forward(t=t, b=kbatch):
            with torch.no_grad():
                t(b['inputs'], b['data_samples'], mode='tensor')
        steps['teacher forward'] = teacher_forward
for f in steps.values():  # warm-up
    f()
times = {k: [] for k in steps}
for _ in range(5):  # interleaved rounds: load changes hit every kind alike
    for k, f in steps.items():
        t0 = time.perf_counter()
        f()
        times[k].append(time.perf_counter() - t0)
med = {k: statistics.median(v) for k, v in times.items()}
for k, v in med.items():
    print(f'  {k:16s} {v:6.2f} s/iter   x{v / med["student"]:.2f} of the student step')
json.dump(dict(size=size, batch=8, threads=torch.get_num_threads(), median_s=med,
               rounds=times), open(out, 'w'), indent=1)
EOF
    if [[ $BENCH_HARNESS == 1 && -f tools/benchmarks/bench_distill.py ]]; then
        echo "== tools/benchmarks/bench_distill.py --pair retinanet (its own settings)"
        $PY tools/benchmarks/bench_distill.py --pair retinanet --threads "$THREADS" \
            --repeats 10 --json "$WORK/bench_distill_retinanet.json" \
            || echo "   (bench_distill.py failed; the timing above stands)"
    fi
}

estimate() {
    $PY - "$WORK/step_times.json" "$EPOCHS" "$TEACHER_EPOCHS" "$NUM_TRAIN" "$JOBS" \
        "$(wc -w <<< "$SEEDS")" "$(wc -w <<< "$CELLS")" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))['median_s']
epochs, t_epochs, n, jobs, seeds, cells = map(int, sys.argv[2:])
iters = epochs * n // 8
kd = sum(v for k, v in t.items() if k.startswith('kd')) / 3  # the three cells timed
student = iters * t['student'] * seeds
distilled = iters * kd * seeds * (cells - 1)
# an R50-PAFPN training step: ~3 teacher forwards (forward + backward)
teacher = t_epochs * n // 8 * 3 * t['teacher forward']
print(f'== estimate: teacher ~{teacher / 60:.0f} min; students '
      f'~{(student + distilled) / 3600 / jobs:.1f} h with {jobs} job(s) '
      f'({iters} iterations per run, evaluation not included)')
EOF
}

# ------------------------------------------------------------------ the grid
run_grid() {  # $1: config, $2: work dir, $3...: extra cfg-options
    local config=$1 dir=$2
    shift 2
    if $PY tools/analysis/seed_fold_grid.py "$config" --seeds $SEEDS --work-dir "$dir" \
            --drop-checkpoints --cfg-options $(common_opts "$EPOCHS") "$@" \
            > "$dir.log" 2>&1; then
        echo "   $(basename "$dir"): $(grep '^| all' "$dir/results.md" || true)"
    else
        echo "   $(basename "$dir"): failed, see $dir.log"
        return 1
    fi
}

summary() {
    $PY - "$WORK" "$SEEDS" $1 <<'EOF'
import csv, os.path as osp, statistics, sys
work, seeds, variants = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
lines = ['| variant | cell | runs | median mAP | min | max |', '|---|---|---|---|---|---|']
for variant in variants:
    for cell in ('hard hard+soft hard+mse hard+pdf hard+defeat soft soft+mse soft+pdf '
                 'soft+defeat').split():
        path = osp.join(work, variant, cell, 'results.csv')
        if not osp.isfile(path):
            continue
        v = [float(r['coco/bbox_mAP']) for r in csv.DictReader(open(path))]
        lines.append(f'| {variant} | {cell} | {len(v)} | {statistics.median(v):.4f} | '
                     f'{min(v):.4f} | {max(v):.4f} |')
text = '\n'.join(lines) + '\n'
open(osp.join(work, 'summary.md'), 'w').write(text)
print(text)
EOF
}

if [[ $STEP == time || $STEP == all ]]; then
    time_steps
    estimate
fi
[[ $STEP == time ]] && exit 0

echo "== teacher: R50-PAFPN, $TEACHER_EPOCHS epochs, seed 0 -> $TEACHER_CKPT"
mkdir -p "$WORK/teacher"
$PY tools/analysis/seed_fold_grid.py configs/det_kd/retinanet_r50-pafpn_synthetic-det_teacher.py \
    --seeds 0 --work-dir "$WORK/teacher" \
    --cfg-options $(common_opts "$TEACHER_EPOCHS") $(resize_opts) > "$WORK/teacher.log" 2>&1
grep '^|' "$WORK/teacher/results.md" || true

variants=grid
[[ $CROSS_MODAL == 1 ]] && variants="grid cross_modal"
for variant in $variants; do
    mkdir -p "$WORK/$variant"
    echo "== $variant: cells [$CELLS], seeds [$SEEDS], $EPOCHS epochs, $JOBS at a time"
    running=0
    for cell in $CELLS; do
        kind=""; resize=$(resize_opts)
        if [[ $variant == cross_modal ]]; then
            kind=cross_modal
            [[ $cell != hard ]] && resize=$(paired_resize_opts)
        fi
        teacher_opt=""
        [[ $cell != hard ]] && teacher_opt="model.teacher.checkpoint=$TEACHER_CKPT"
        run_grid "$(cell_config "$cell" "$kind")" "$WORK/$variant/$cell" $resize $teacher_opt &
        running=$((running + 1))
        if (( running >= JOBS )); then wait -n || true; running=$((running - 1)); fi
    done
    wait || true
done
echo "== medians over seeds ($WORK/summary.md)"
summary "$variants"
