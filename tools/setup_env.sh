#!/usr/bin/env bash
# Creates (or refreshes) the virtual environment mmkd runs in, from nothing but the package
# registry: a torch/torchvision pair, mmcv 2.1.0 compiled from source once and cached by
# torch version, the OpenMMLab packages, the test and documentation tools and mmkd
# itself (non-editable, so `mim train mmkd` finds its configs). Safe to re-run: it only
# does what is missing.
# Each stage prints what it does and how long it took; the end lists what is cached where.
#
#   MMKD_VENV   where the environment lives      (default: <repo>/.venv)
#   MMKD_CACHE  where built wheels are kept      (default: ~/.cache/mmkd)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMKD_VENV:-$ROOT/.venv}"
CACHE="${MMKD_CACHE:-$HOME/.cache/mmkd}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
log() { printf '[setup_env] %s\n' "$*" >&2; }

# Elapsed time, in bash alone: EPOCHREALTIME (bash 5) in ms, else whole seconds from date.
now_ms() {
  local t="${EPOCHREALTIME:-}"
  if [ -n "$t" ]; then t="${t/[.,]/}"; echo $((10#$t / 1000)); else echo $(($(date +%s) * 1000)); fi
}
fmt_ms() {
  local ms=$1
  if [ "$ms" -lt 60000 ]; then printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100))
  else printf '%d min %02d s' $((ms / 60000)) $((ms % 60000 / 1000)); fi
}
T_ALL=$(now_ms)
STAGE="" T_STAGE=0
begin() { STAGE="$1"; shift; T_STAGE=$(now_ms); log "$STAGE: ${*:-...}"; }
end() { log "$STAGE: ${1:-done} in $(fmt_ms $(($(now_ms) - T_STAGE)))"; }

if [ ! -x "$VENV/bin/python" ]; then
  begin "virtual environment" "creating $VENV (with $PY)"
  "$PY" -m venv "$VENV"
  end "created"
else
  log "virtual environment: reusing $VENV"
fi
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check)
# pip warns once per package about index folders this machine's pip.conf names but that
# do not exist; keep the log readable by dropping just those lines.
pip_q() { "${PIP[@]}" "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2); }

# A stamp of everything the environment is built from: when none of it changed, the
# heavy part is skipped and only mmkd itself is reinstalled.
stamp_src=$(cat "$ROOT"/requirements/*.txt "$ROOT/tools/setup_env.sh" | sha256sum | cut -c1-16)
stamp="$VENV/.mmkd-env-$stamp_src"
wheel_note=""

if [ ! -f "$stamp" ]; then
  pins=$(grep -E '^torch' "$ROOT/requirements/torch.txt" | tr '\n' ' ')
  begin "torch and build tools" "installing ${pins}(pip, setuptools, wheel, numpy<2 too)"
  pip_q install -q --upgrade "pip<25" "setuptools<70" wheel
  pip_q install -q -r "$ROOT/requirements/torch.txt" "numpy<2"

  torch_ver=$("$VPY" -c 'import torch; print(torch.__version__)')
  py_tag=$("$VPY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  end "torch $torch_ver installed"
  # pip's own wheel cache would reuse an mmcv built against another torch: keep ours
  # in a folder named after the torch it was built with.
  wheel_dir="$CACHE/wheels/torch-${torch_ver}-${py_tag}"
  if ! ls "$wheel_dir"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
    begin "mmcv" "compiling mmcv 2.1.0 against torch $torch_ver (about 7 minutes on 2" \
      "cores; once), into $wheel_dir"
    mkdir -p "$wheel_dir"
    tmp=$(mktemp -d)
    MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      pip_q wheel -q --no-build-isolation --no-deps --no-cache-dir \
      -w "$tmp" "mmcv==2.1.0"
    mv "$tmp"/mmcv-2.1.0-*.whl "$wheel_dir"/
    rmdir "$tmp" 2>/dev/null || true
    wheel_note="compiled now"
  else
    begin "mmcv" "reusing cached mmcv wheel from $wheel_dir"
    wheel_note="reused"
  fi
  pip_q install -q --no-deps "$wheel_dir"/mmcv-2.1.0-*.whl
  if [ "$wheel_note" = reused ]; then end "installed from the cached wheel"
  else end "compiled, cached and installed"; fi
  begin "OpenMMLab packages, test and doc tools" \
    "installing mmcv's runtime needs, requirements/runtime.txt, tests.txt and docs.txt"
  # mmcv's own runtime needs (it was installed without them above).
  pip_q install -q addict packaging Pillow pyyaml yapf "opencv-python>=3" "numpy<2"
  # docs.txt too: tests/test_project/test_docs.py builds the documentation site as part of
  # `make test`.
  pip_q install -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt" \
    -r "$ROOT/requirements/docs.txt" -c "$ROOT/requirements/torch.txt" "numpy<2"
  rm -f "$VENV"/.mmkd-env-*
  touch "$stamp"
  end
else
  log "environment up to date ($VENV): requirements/*.txt and this script are unchanged" \
      "since the last full run (stamp $(basename "$stamp")), so torch, mmcv and the" \
      "requirements are not reinstalled"
fi

# mmkd itself, non-editable: `mim train mmkd` cannot see a PEP 660 editable install.
begin "mmkd" "installing from $ROOT (non-editable)"
pip_q install -q --no-deps --no-build-isolation --force-reinstall "$ROOT"
end "installed"
"$VPY" -c 'import mmkd, mmcv, mmengine; print(f"mmkd {mmkd.__version__} | mmcv {mmcv.__version__} | mmengine {mmengine.__version__}")'

# What is kept between runs, and where (delete one to rebuild what it holds).
log "cached:"
log "  virtual environment: $VENV (delete it to start over)"
wheels=$(ls -1 "$CACHE"/wheels/*/mmcv-2.1.0-*.whl 2>/dev/null || true)
if [ -n "$wheels" ]; then
  while IFS= read -r whl; do
    note=""
    [ -n "$wheel_note" ] && [ "$(dirname "$whl")" = "$wheel_dir" ] && note=" ($wheel_note)"
    log "  mmcv wheel, keyed by torch version: $whl$note"
  done <<< "$wheels"
else
  log "  mmcv wheel, keyed by torch version: none under $CACHE/wheels"
fi
pip_cache=$("${PIP[@]}" cache dir 2>/dev/null || echo "disabled (PIP_NO_CACHE_DIR or pip.conf)")
log "  pip cache: $pip_cache (downloaded wheels, e.g. torch)"
log "total $(fmt_ms $(($(now_ms) - T_ALL)))"
