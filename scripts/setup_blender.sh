#!/usr/bin/env bash
# What the Blender tests need: the bpy 4.5 LTS module in .venv (Python 3.11, numpy < 2) and a
# second environment, .venv-blender5, with bpy 5.1 on Python 3.13 (numpy 2). Without a Python
# 3.13 (pyenv's, or PYTHON313=...) the 5.x environment is skipped and so are its tests.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
pip_quiet() { "$@" 2>&1 | grep -v "^WARNING: Location" || true; }

[ -x .venv/bin/python ] || { echo "setup_blender: run scripts/setup.sh first" >&2; exit 1; }
say "installing bpy 4.5 LTS into .venv (keeping numpy < 2)"
pip_quiet .venv/bin/python -m pip install -q "bpy==4.5.*" "numpy<2"
.venv/bin/python -c "import bpy; print('bpy', bpy.app.version_string)"

python313=${PYTHON313:-}
if [ -z "$python313" ]; then
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3.13 python3.13; do
    if command -v "$candidate" >/dev/null 2>&1; then python313=$candidate; break; fi
  done
fi
if [ -z "$python313" ]; then
  echo "setup_blender: no Python 3.13 found (pyenv's or PYTHON313=...);" \
    "the Blender 5.1 environment is not made and its tests will be skipped" >&2
  exit 0
fi
if [ ! -x .venv-blender5/bin/python ]; then
  say "creating .venv-blender5 with $python313"
  "$python313" -m venv .venv-blender5
fi
say "installing bpy 5.1, numpy 2, EmoSync and pytest into .venv-blender5"
pip_quiet .venv-blender5/bin/python -m pip install -q "bpy==5.1.*" "numpy>=2" pytest
pip_quiet .venv-blender5/bin/python -m pip install -q -e .
.venv-blender5/bin/python -c "import bpy, numpy; print('bpy', bpy.app.version_string, 'numpy', numpy.__version__)"
