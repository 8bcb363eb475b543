#!/usr/bin/env bash
# The classification track on one CUDA GPU, end to end, in a few minutes:
#
#   bash tools/benchmarks/gpu_check.sh [OUT_DIR] [--no-table]   (default work_dirs/gpu_check)
#
# 1. the demo (tools/demo.py: teacher, student baseline, distilled student, the exported
#    student tested by a plain mmpretrain runner); mmengine's runners put every model
#    on the GPU when one is visible, so this is the CPU demo unchanged;
# 2. the KD step against its floor r* = 1 + sum t(teacher) / t(student) on the GPU
#    (bench_distill.py --device cuda): one teacher (kd_resnet34_*) and two teachers with
#    CA-MKD weights (mtkd-camkd_resnet34+vgg8_*), the cached-teacher step, CUDA peak
#    memory;
# 3. the one-teacher-against-two table (cls_evidence.py mtkd-synthetic, the CPU scale:
#    same data, epochs, seeds and gate) trained on the GPU, written to OUT_DIR/mtkd
#    (the shipped configs/kd/evidence-mtkd is the 2-core CPU measurement; GPU kernels
#    are not bit-identical to the CPU's, so the two are compared as intervals);
#    --no-table skips it.
#
# Needs the OpenMMLab stack of requirements/runtime.txt with a CUDA torch (mmcv-lite is
# enough for classification: mmdet and mmseg are not imported when absent).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT_DIR=${1:-work_dirs/gpu_check}
TABLE=1
[ "${2:-}" = "--no-table" ] && TABLE=0
mkdir -p "$OUT_DIR"
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
# the tools import mmkd from this checkout when it is not pip-installed
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
step() { echo; echo "== [gpu_check $(date +%T)] $*"; }
status=0

step "stack"
$PY - <<'EOF' || exit 1
import cv2, mmcv, mmengine, mmpretrain, numpy, torch
import mmkd, mmkd.models  # noqa: F401
assert torch.cuda.is_available(), 'no CUDA device visible to torch'
print(f'torch {torch.__version__} | numpy {numpy.__version__} | cv2 {cv2.__version__} | '
      f'mmcv {mmcv.__version__} | mmengine {mmengine.__version__} | mmpretrain '
      f'{mmpretrain.__version__} | mmkd {mmkd.__version__} | '
      f'{torch.cuda.get_device_name(0)}')
EOF

step "1. the demo on the GPU"
$PY tools/demo.py --work-dir work_dirs/gpu_check_demo || status=1
cp work_dirs/gpu_check_demo/demo_results.json "$OUT_DIR/" 2>/dev/null

step "2. the KD step on the GPU: one teacher, then two"
$PY tools/misc/make_synthetic_sar.py --root data/synthetic_sar || status=1  # the demo's
for cfg in configs/kd/kd_resnet34_resnet18-w32_synthetic-sar-10shot.py \
           configs/kd/mtkd-camkd_resnet34+vgg8_resnet18-w32_synthetic-sar-10shot.py; do
  name=$(basename "$cfg" .py | cut -d_ -f1)
  $PY tools/benchmarks/bench_distill.py --config "$cfg" --device cuda --repeats 30 \
    --warmup 5 --batch-size 64 --json "$OUT_DIR/bench_${name}.json" || status=1
done

if [ $TABLE = 1 ]; then
  step "3. one teacher against two (mtkd-synthetic, CPU scale) trained on the GPU"
  $PY tools/benchmarks/cls_evidence.py mtkd-synthetic --jobs 6 --threads 2 \
    --work-dir work_dirs/gpu_check_mtkd --results-dir "$OUT_DIR/mtkd" --no-readme \
    || status=1
fi

step "done (status $status): $OUT_DIR"
ls -la "$OUT_DIR" "$OUT_DIR/mtkd" 2>/dev/null
exit $status
