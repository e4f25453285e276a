"""`zjtx --help` and the other commands that touch no data start fast (issue #13): they must not load the
registry's heavy libraries. Guarded by what is imported, not by a clock, so a regression fails every time
(the measured times are in docs/benchmarks.md, "CLI start-up")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from registry.access import ROLE_LABELS, ROLES
from registry.ingest.headers import KINDS
from registry.schedule import JOBS

ROOT = Path(__file__).resolve().parents[1]

# Each costs from a tenth of a second to a second to import; none is needed to print help. (Not pydantic: typer
# itself loads it to convert a command's parameters.)
HEAVY = ("polars", "sqlalchemy", "sqlmodel", "streamlit", "argon2", "apscheduler", "xlsxwriter")

# `zjtx ARGS` through the console script's entry point (cli.main:main), then the names of the loaded modules.
PROBE = """
import json, sys
from cli.main import main
args, out = json.loads(sys.argv[1]), sys.argv[2]
sys.argv = ["zjtx", *args]
code = 0
try:
    main()
except SystemExit as stop:
    code = stop.code
with open(out, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def run_help(tmp_path: Path, *args: str) -> tuple[str, set[str]]:
    out = tmp_path / "modules.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    res = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args)), str(out)], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120)
    assert res.returncode == 0, res.stderr
    loaded = json.loads(out.read_text())
    assert loaded["code"] in (0, None), res.stderr
    return res.stdout, set(loaded["modules"])


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_help_lists_every_command_without_loading_the_registry(tmp_path):
    text, modules = run_help(tmp_path, "--help")
    assert heavy_in(modules) == []
    for command in ("init", "up", "serve", "ingest", "evaluate", "screen", "flags", "scheduler", "run-job", "impact",
                    "review-risk", "users", "policies"):
        assert f" {command} " in text, command


@pytest.mark.parametrize("args", [
    ("users", "add", "--help"), ("ingest", "--help"), ("run-job", "--help"), ("evaluate", "--help"),
    ("policies", "show", "--help"), ("review-risk", "--help"), ("impact", "--help"), ("up", "--help"),
])
def test_command_help_loads_no_heavy_library(tmp_path, args):
    _, modules = run_help(tmp_path, *args)
    assert heavy_in(modules) == []


def test_help_names_what_the_registry_accepts(tmp_path):
    # The names in these help texts come from light modules; they must still be the registry's own lists.
    roles, _ = run_help(tmp_path, "users", "add", "--help")
    for role in ROLES:
        assert f"{role} ({ROLE_LABELS[role][0]})" in " ".join(roles.split()), role
    kinds, _ = run_help(tmp_path, "ingest", "--help")
    flat = " ".join(kinds.replace("│", " ").split())
    assert f"File kind when the headers do not tell: {', '.join(KINDS)}, targets." in flat
    jobs, _ = run_help(tmp_path, "run-job", "--help")
    assert f"Job name: {', '.join(JOBS)}." in " ".join(jobs.replace("│", " ").split())
