#!/usr/bin/env bash
# What the CLIP path needs (training/clip_head.py and tests/clip): open_clip_torch, whose
# torchvision has no build for .venv's CPU torch 2.13, so it lives in its own environment,
# .venv-clip, with PyPI's torch 2.15 + torchvision 0.29 (CUDA builds; they run on the CPU).
# About 2.6 GB to download. The runtime never needs any of it.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
pip_quiet() { "$@" 2>&1 | grep -v "^WARNING: Location" || true; }

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
if [ ! -x .venv-clip/bin/python ]; then
  say "creating .venv-clip with $python"
  "$python" -m venv .venv-clip
fi
say "installing open_clip, torch 2.15 and EmoSync into .venv-clip (about 2.6 GB)"
pip_quiet .venv-clip/bin/python -m pip install -q "torch==2.15.0" "torchvision==0.29.2" \
  "open_clip_torch==3.3.0" "onnx==1.17.0" onnxruntime tokenizers pillow pytest
pip_quiet .venv-clip/bin/python -m pip install -q -e .
.venv-clip/bin/python -c "import open_clip, emosync.cli.main; print('open_clip', open_clip.__version__)"
