#!/usr/bin/env bash
# The whole test suite: lint, then pytest (real pocketsphinx, real ONNX Runtime, real validator).
set -uo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "test: run 'bash scripts/setup.sh' first" >&2; exit 1; }
.venv/bin/ruff check . || exit 1
# The type checker sees the runtime as the installed package does: emosync.<layer>.
typecheck_root=$(mktemp -d)
trap 'rm -rf "$typecheck_root"' EXIT
ln -s "$PWD" "$typecheck_root/emosync"
(cd "$typecheck_root" && MYPYPATH="$typecheck_root" "$OLDPWD/.venv/bin/python" -m mypy \
  --ignore-missing-imports --follow-imports=silent --no-error-summary \
  --cache-dir "$OLDPWD/.mypy_cache" -p emosync.rigs -p emosync.inference -p emosync.exporters -p emosync.render -p emosync.cli) || exit 1
.venv/bin/python -m pytest "$@"
status=$?
# pytest exits 5 when it collected nothing: that is a failure of the suite, not a pass.
[ $status -eq 5 ] && echo "test: no tests were collected" >&2
exit $status
