"""Two processes ingesting the same file at the same moment record it loaded once (issue 16), on both engines.

Both `zjtx ingest` processes are held at the database's write lock while the test holds it (SQLite: BEGIN IMMEDIATE;
PostgreSQL: an EXCLUSIVE lock on ingestion_run), so that both have read and checked the file before either can
record anything — the race, every time. The test waits until both processes are blocked (PostgreSQL: two backends
waiting on a lock; SQLite: both main threads asleep in SQLite's busy handler), then lets them go. Before the fix
both recorded a `loaded` run on SQLite: the 'loaded before?' check and the run's record were not one atomic step.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from fixtures.ingest_data import FIRMS, enterprises_file

ZJTX = str(Path(sys.executable).with_name("zjtx"))
# Linux system calls a thread sleeps in while SQLite's busy handler waits for a lock (usleep).
_SLEEP_SYSCALLS = {"35", "230"}  # nanosleep, clock_nanosleep (x86-64)


def _until(condition: Callable[[], bool], what: str, timeout: float = 300.0) -> None:
    """Poll a condition (not a fixed sleep): the processes start in one to a few seconds depending on the machine."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _asleep_in_busy_handler(proc: subprocess.Popen) -> bool:
    try:
        return Path(f"/proc/{proc.pid}/syscall").read_text().split()[0] in _SLEEP_SYSCALLS
    except (OSError, IndexError):
        return False


@contextmanager
def _write_lock_held(engine: sa.Engine) -> Iterator[Callable[[list[subprocess.Popen]], None]]:
    """Hold the write lock; yield a function that returns once every given process waits for it."""
    if engine.dialect.name == "sqlite":
        holder = sqlite3.connect(engine.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")

        def all_waiting(procs: list[subprocess.Popen]) -> bool:
            # Asleep at two looks a moment apart: the busy handler's naps, not a passing sleep elsewhere.
            if not all(_asleep_in_busy_handler(p) for p in procs):
                return False
            time.sleep(0.05)
            return all(_asleep_in_busy_handler(p) for p in procs)

        def wait_for(procs: list[subprocess.Popen]) -> None:
            _until(lambda: all_waiting(procs), "both ingest processes to wait for the lock")
        try:
            yield wait_for
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("LOCK TABLE ingestion_run IN EXCLUSIVE MODE")

            def wait_for(procs: list[subprocess.Popen]) -> None:
                waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND wait_event_type = 'Lock'")
                # Autocommit: pg_stat_activity is read once per transaction.
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as probe:
                    _until(lambda: probe.execute(waiting).scalar_one() == len(procs),
                           "both ingest processes to wait for the lock")
            try:
                yield wait_for
            finally:
                conn.rollback()


@pytest.fixture
def env(engine, config_env):
    return engine


def test_two_processes_ingesting_one_file_at_once_record_it_loaded_once(env, tmp_path):
    firms = enterprises_file(tmp_path / "firms.csv")
    with _write_lock_held(env) as wait_for:
        procs = [subprocess.Popen([ZJTX, "ingest", str(firms), "--format", "json"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        try:
            wait_for(procs)
        except BaseException:
            for p in procs:
                p.kill()
            raise
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    results = [json.loads(out)[0] for out, _ in outputs]
    assert sorted(r["status"] for r in results) == ["loaded", "unchanged"]
    loaded = next(r for r in results if r["status"] == "loaded")
    assert loaded["rows_loaded"] == len(FIRMS)
    with env.connect() as conn:
        runs = dict(conn.execute(sa.text("SELECT status, count(*) FROM ingestion_run GROUP BY status")).all())
        firms_in_db = conn.execute(sa.text("SELECT count(*) FROM enterprise")).scalar_one()
        audited = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = 'ingest.run'")).scalar_one()
    assert runs == {"loaded": 1, "unchanged": 1}
    assert firms_in_db == len(FIRMS)
    assert audited == 2
