#!/usr/bin/env bash
# 安装并启动整个系统（调度进程 + 看板，SQLite，空库时载入示例数据）。
# Install and start the whole system (scheduler + dashboard on SQLite; demo data when the database is empty).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# Exactly the versions of the lock file (README: "Dependencies"), then this checkout itself without resolving again.
.venv/bin/python -m pip install --quiet -r requirements.lock
.venv/bin/python -m pip install --quiet --no-deps -e .
exec .venv/bin/zjtx up "$@"
