#!/usr/bin/env bash
# Cached vs online teacher on MSTAR-10 (real SAR): does training from a teacher cache
# (tools/misc/cache_teacher.py, K stored augmented views per chip) reach the accuracy of
# online KD? Same schedule as the online rows of configs/kd/README.md (32 px, 10 epochs,
# the seed-0 ResNet-34 teacher shared), seeds 0 1 2; prints one table.
#
#     bash tools/benchmarks/cached_kd_mstar.sh      # resumable: finished runs are reused
#
# Needs: data/mstar10 (tools/demo.py --data mstar extracts it), the teacher checkpoint
# TEACHER (default work_dirs/mstar32_s0/teacher/epoch_10.pth, written by the online
# commands in configs/kd/README.md) and, for the online column, ONLINE=work_dirs/mstar32_s
# (its seed folders hold the online KD runs). Environment: SEEDS, VIEWS (4), EPOCHS (10),
# WORK (work_dirs/cached_kd_mstar), THREADS (1), PY.
set -euo pipefail
set -f
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
SEEDS=${SEEDS:-"0 1 2"}
VIEWS=${VIEWS:-4}
EPOCHS=${EPOCHS:-10}
THREADS=${THREADS:-1}
WORK=${WORK:-work_dirs/cached_kd_mstar}
TEACHER=${TEACHER:-work_dirs/mstar32_s0/teacher/epoch_${EPOCHS}.pth}
ONLINE=${ONLINE:-work_dirs/mstar32_s}
CFG=configs/kd/kd_resnet34_resnet18-w32_mstar10.py
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
[[ -d data/mstar10/train ]] || { echo "data/mstar10 missing: python tools/demo.py --data mstar extracts it"; exit 1; }
[[ -f $TEACHER ]] || { echo "teacher checkpoint $TEACHER missing (see configs/kd/README.md)"; exit 1; }
mkdir -p "$WORK"
SCALE="train_dataloader.dataset.pipeline.2.scale=(32,32) val_dataloader.dataset.pipeline.2.scale=(32,32) test_dataloader.dataset.pipeline.2.scale=(32,32)"
ROOTS="train_dataloader.dataset.data_root=data/mstar10 val_dataloader.dataset.data_root=data/mstar10 test_dataloader.dataset.data_root=data/mstar10"
if [[ ! -f $WORK/cache/train_config.py ]]; then
    /usr/bin/time -f "cache: %e s wall" $PY tools/misc/cache_teacher.py $CFG --out "$WORK/cache" \
        --views "$VIEWS" --num-workers 0 \
        --cfg-options $SCALE $ROOTS model.teacher.checkpoint=$TEACHER 2>&1 | tee "$WORK/cache.log" | grep -v Warning
fi
for s in $SEEDS; do
    d=$WORK/seed$s
    if [[ -f $d/last_checkpoint ]]; then echo "reuse $d"; continue; fi
    /usr/bin/time -f "seed $s: %e s wall" $PY tools/train.py "$WORK/cache/train_config.py" --work-dir "$d" \
        --cfg-options randomness.seed=$s train_cfg.max_epochs=$EPOCHS train_cfg.val_interval=$EPOCHS \
        param_scheduler.T_max=$EPOCHS > "$d.log" 2>&1  # data options: baked into the cache's config
    tail -1 "$d.log"
done
$PY - "$WORK" "$ONLINE" $SEEDS <<'PYEOF'
import glob, json, os.path as osp, statistics, sys
work, online, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
def acc(d):
    logs = sorted(glob.glob(osp.join(d, '*', 'vis_data', 'scalars.json')), key=osp.getmtime)
    val = None
    for p in logs:
        for line in open(p):
            r = json.loads(line)
            val = r.get('accuracy/top1', val)
    return val
rows = {'online KD (teacher every step)': [acc(f'{online}{s}/student_kd') for s in seeds],
        'cached KD (teacher cache)': [acc(f'{work}/seed{s}') for s in seeds]}
print('| run | ' + ' | '.join(f'seed {s}' for s in seeds) + ' | median |')
print('|---|' + '---|' * (len(seeds) + 1))
for k, v in rows.items():
    ok = [x for x in v if x is not None]
    print(f'| {k} | ' + ' | '.join('n/a' if x is None else f'{x:.2f}' for x in v)
          + f" | {statistics.median(ok):.2f} |" if ok else ' | n/a |')
PYEOF
