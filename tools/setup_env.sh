#!/usr/bin/env bash
# Creates (or refreshes) the virtual environment mmkd runs in, from nothing but the package
# registry: a torch/torchvision pair, mmcv 2.1.0 compiled from source once and cached by
# torch version, the OpenMMLab packages, the test tools and mmkd itself (non-editable, so
# `mim train mmkd` finds its configs). Safe to re-run: it only does what is missing.
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

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment at $VENV"
  "$PY" -m venv "$VENV"
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

if [ ! -f "$stamp" ]; then
  log "installing build tools and torch ($(grep -E '^torch' "$ROOT/requirements/torch.txt" | tr '\n' ' '))"
  pip_q install -q --upgrade "pip<25" "setuptools<70" wheel
  pip_q install -q -r "$ROOT/requirements/torch.txt" "numpy<2"

  torch_ver=$("$VPY" -c 'import torch; print(torch.__version__)')
  py_tag=$("$VPY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  # pip's own wheel cache would reuse an mmcv built against another torch: keep ours
  # in a folder named after the torch it was built with.
  wheel_dir="$CACHE/wheels/torch-${torch_ver}-${py_tag}"
  if ! ls "$wheel_dir"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
    log "compiling mmcv 2.1.0 against torch $torch_ver (about 7 minutes on 2 cores; once)"
    mkdir -p "$wheel_dir"
    tmp=$(mktemp -d)
    MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      pip_q wheel -q --no-build-isolation --no-deps --no-cache-dir \
      -w "$tmp" "mmcv==2.1.0"
    mv "$tmp"/mmcv-2.1.0-*.whl "$wheel_dir"/
    rmdir "$tmp" 2>/dev/null || true
  else
    log "reusing cached mmcv wheel from $wheel_dir"
  fi
  pip_q install -q --no-deps "$wheel_dir"/mmcv-2.1.0-*.whl
  # mmcv's own runtime needs (it was installed without them above).
  pip_q install -q addict packaging Pillow pyyaml yapf "opencv-python>=3" "numpy<2"
  pip_q install -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt" \
    -c "$ROOT/requirements/torch.txt" "numpy<2"
  rm -f "$VENV"/.mmkd-env-*
  touch "$stamp"
else
  log "environment up to date ($VENV)"
fi

# mmkd itself, non-editable: `mim train mmkd` cannot see a PEP 660 editable install.
log "installing mmkd from $ROOT"
pip_q install -q --no-deps --no-build-isolation --force-reinstall "$ROOT"
"$VPY" -c 'import mmkd, mmcv, mmengine; print(f"mmkd {mmkd.__version__} | mmcv {mmcv.__version__} | mmengine {mmengine.__version__}")'
