#!/usr/bin/env bash
# edgepool on one NVIDIA GPU, from a bare x86-64 machine that reaches only the package registries:
# installs what is missing (Node 24, python3-torch/onnx, CUDA 12 + cuDNN 9 user-space libraries
# from PyPI, ONNX Runtime's CUDA provider for onnxruntime-node), builds a BERT-base-shaped model,
# then prints the raw CUDA session throughput, edgepool's HTTP throughput at concurrency 64 and
# their ratio. Budget: about 8 minutes.
#
#   bench/gpu.sh                 # on the GPU machine
#   bench/gpu.sh --dry-run       # anywhere: prints the install steps, runs --device auto (CPU
#                                # fallback without a GPU) on a MiniLM-L6-shaped model for 5 s
set -euo pipefail
cd "$(dirname "$0")/.."

DRY_RUN=0
DEVICE=cuda
SHAPE=bert-base
SECONDS_RAW=30
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1; DEVICE=auto; SHAPE=minilm-l6; SECONDS_RAW=5 ;;
    --device=*) DEVICE="${arg#--device=}" ;;
    --seconds=*) SECONDS_RAW="${arg#--seconds=}" ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

step() { printf '\n== %s\n' "$*" >&2; }
# In a dry run, install commands are printed, not run.
run_install() {
  if [ "$DRY_RUN" = 1 ]; then printf '[dry-run] %s\n' "$*" >&2; else "$@"; fi
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

step "GPU"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
elif [ "$DEVICE" = cuda ]; then
  echo "nvidia-smi not found: no NVIDIA driver on this machine (use --device=auto or --dry-run)" >&2
  exit 1
else
  echo "no NVIDIA GPU visible: --device $DEVICE will run on the CPU" >&2
fi

step "Node 24"
node_ok() { node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)' 2>/dev/null; }
if ! node_ok; then
  NODE24="${HOME:-/tmp}/.cache/edgepool-node24"
  if ! command -v npm >/dev/null; then
    run_install as_root apt-get update
    run_install as_root apt-get install -y --no-install-recommends nodejs npm
  fi
  run_install npm install --prefix "$NODE24" --no-save --no-audit --no-fund node@24
  export PATH="$NODE24/node_modules/.bin:$PATH"
fi
node --version

step "python3-torch and python3-onnx (to build the model)"
# Debian's python3 (apt's packages live there), even when another python3 comes first on PATH.
EDGEPOOL_PYTHON=/usr/bin/python3
[ -x "$EDGEPOOL_PYTHON" ] || EDGEPOOL_PYTHON=python3
if ! "$EDGEPOOL_PYTHON" -c 'import torch, onnx' 2>/dev/null; then
  run_install as_root apt-get update
  run_install as_root apt-get install -y --no-install-recommends python3-torch python3-onnx python3-venv
fi
export EDGEPOOL_PYTHON

step "npm dependencies and build"
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ "$DRY_RUN" = 0 ]; then run_install npm ci --no-audit --no-fund; fi
npm run build >/dev/null

if [ "$DEVICE" != cpu ]; then
  step "CUDA 12 + cuDNN 9 user-space libraries and ONNX Runtime's CUDA provider"
  ORT_DIR=node_modules/onnxruntime-node
  if ! ldconfig -p 2>/dev/null | grep -q 'libcudnn.so.9'; then
    VENV="${HOME:-/tmp}/.cache/edgepool-cuda"
    run_install "$EDGEPOOL_PYTHON" -m venv "$VENV"
    run_install "$VENV/bin/pip" install --quiet nvidia-cuda-runtime-cu12 nvidia-cublas-cu12 \
      'nvidia-cudnn-cu12==9.*' nvidia-cufft-cu12 nvidia-curand-cu12 nvidia-cuda-nvrtc-cu12
    if [ -d "$VENV" ]; then
      LD_LIBRARY_PATH="$(find "$VENV" -path '*/nvidia/*/lib' -type d | paste -sd:):${LD_LIBRARY_PATH:-}"
      export LD_LIBRARY_PATH
    fi
  fi
  if [ ! -f "$ORT_DIR/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so" ]; then
    # onnxruntime-node's own installer, same version, from NuGet (a package registry).
    run_install env -C "$ORT_DIR" ONNXRUNTIME_NODE_INSTALL=cuda12 node ./script/install
  fi
fi

step "benchmark (--device $DEVICE, $SHAPE, ${SECONDS_RAW}s raw, then HTTP at concurrency 64)"
exec timeout 480 node --import tsx bench/gpu.ts --device "$DEVICE" --shape "$SHAPE" --seconds "$SECONDS_RAW" --concurrency 64
