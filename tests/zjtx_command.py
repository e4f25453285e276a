"""The `zjtx` command as the tests run it in a subprocess: `python -m cli.main` under the test's interpreter.

Same entry point as the installed console script (pyproject: zjtx = "cli.main:main"), but resolved through the
import path, so the code under test is the checkout's (PYTHONPATH) rather than whatever `pip install -e` last pointed at.
"""

from __future__ import annotations

import sys

ZJTX: list[str] = [sys.executable, "-m", "cli.main"]
