#!/usr/bin/env bash
# The whole test suite: lint, then pytest (real pocketsphinx, real ONNX Runtime, real validator).
set -uo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "test: run 'bash scripts/setup.sh' first" >&2; exit 1; }
.venv/bin/ruff check . || exit 1
.venv/bin/python -m pytest "$@"
status=$?
# pytest exits 5 when it collected nothing: that is a failure of the suite, not a pass.
[ $status -eq 5 ] && echo "test: no tests were collected" >&2
exit $status
