"""Every command says in one line that the database cannot be used — which database (never its password) and why —
and exits 1: PostgreSQL not listening, a SQLite path that cannot be opened or whose folder cannot be created
(issue 16: `zjtx flags` / `zjtx evaluate` printed a driver traceback). The installed `zjtx` runs as a subprocess,
so the one place that does it (cli/main.py) is what is tested."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from serving import free_port

ZJTX = str(Path(sys.executable).with_name("zjtx"))
PASSWORD = "s3cret-pw"
POLICY = "cn/little-giant/2026"  # in force today: the date check passes, the database is what fails
PREFIX = "zjtx: error: 数据库不可用 / database unavailable: "
# The configuration's own database is never reached (ZJTX_DATABASE_URL overrides it): one engine is enough.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _run(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ZJTX_DATABASE_URL": url}
    return subprocess.run([ZJTX, *args], capture_output=True, text=True, env=env, timeout=300)


def _assert_one_line(done: subprocess.CompletedProcess, shown_url: str, reason: str) -> None:
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{PREFIX}{shown_url}: "), lines[0]
    assert reason in lines[0]
    assert PASSWORD not in done.stderr and PASSWORD not in done.stdout
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.fixture
def data_file(tmp_path) -> Path:
    path = tmp_path / "firms.csv"
    path.write_text("统一社会信用代码,企业名称,所在地区\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("args", [["flags"], ["evaluate", "--policy", POLICY], ["ingest", "FILE"], ["users", "list"],
                                  ["run-job", "flags"], ["init"]])
def test_postgresql_that_nothing_listens_on(config_env, data_file, args):
    port = free_port()
    url = f"postgresql+psycopg://zjtx:{PASSWORD}@127.0.0.1:{port}/zjtx"
    done = _run(url, *[str(data_file) if a == "FILE" else a for a in args])
    _assert_one_line(done, f"postgresql+psycopg://zjtx:***@127.0.0.1:{port}/zjtx", "Connection refused")


@pytest.mark.parametrize("args", [["flags"], ["evaluate", "--policy", POLICY], ["ingest", "FILE"], ["users", "list"]])
def test_sqlite_path_that_cannot_be_opened(config_env, data_file, tmp_path, args):
    folder = tmp_path / "a-folder.db"  # a folder where the database file should be
    folder.mkdir()
    done = _run(f"sqlite:///{folder}", *[str(data_file) if a == "FILE" else a for a in args])
    _assert_one_line(done, f"sqlite:///{folder}", "unable to open database file")


@pytest.mark.parametrize("args", [["flags"], ["users", "list"]])
def test_sqlite_path_whose_folder_cannot_be_created(config_env, tmp_path, args):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    path = blocker / "data" / "zjtx.db"
    done = _run(f"sqlite:///{path}", *args)
    _assert_one_line(done, f"sqlite:///{path}", "cannot create its folder")
