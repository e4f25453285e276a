#!/usr/bin/env bash
# 安装并运行静态检查与全部测试。Install what the tests need, run the static checks, then the whole test suite.
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth) — the tests fail, not skip, without it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
# Browser tests drive Debian's Chromium; CJK fonts make Chinese pages render (and screenshots legible).
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# Exactly the versions of the lock file (README: "Dependencies"), then this checkout itself without resolving again.
.venv/bin/python -m pip install --quiet -r requirements-test.lock
.venv/bin/python -m pip install --quiet --no-deps -e ".[test]"
# Static checks first (ruff, import contracts, types): a broken layer fails fast, before the long test run.
./scripts/check.sh
exec .venv/bin/python -m pytest "$@"
