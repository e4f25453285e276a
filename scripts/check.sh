#!/usr/bin/env bash
# 静态检查：代码风格（ruff）、导入方向（import-linter，契约见 pyproject.toml）、类型（mypy）。
# Static checks, run before the tests: style (ruff), the direction of imports (import-linter, contracts in
# pyproject.toml; docs/architecture.md explains the layers) and types (mypy, strict on the modules listed clean).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
# The checkout's own packages, whatever the virtual environment was installed from.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
echo "ruff check" && "$BIN/ruff" check .
echo "lint-imports" && "$BIN/lint-imports" --no-cache
echo "mypy" && "$BIN/mypy"
