"""One scheduler per database, on both engines: a second one is refused with a clear message; a stale SQLite
lock (old heartbeat, dead pid) is taken over; a live holder keeps its lock even with an old heartbeat."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import create_pg_database, drop_pg_database

from jobs.lock import LOCK, SchedulerLock, SchedulerLockHeld, current_holder
from registry.db import make_engine, upgrade


def test_second_scheduler_is_refused_until_the_first_releases(engine):
    first = SchedulerLock(engine, stale_after=60)
    first.acquire()
    try:
        second = SchedulerLock(engine, stale_after=60)
        with pytest.raises(SchedulerLockHeld, match="another scheduler is already running"):
            second.acquire()
        assert current_holder(engine).holder == first.holder
    finally:
        first.release()
    assert current_holder(engine) is None
    third = SchedulerLock(engine, stale_after=60)
    third.acquire()
    third.release()


def _plant_lock(engine, pid: int, heartbeat_age: timedelta, host: str | None = None) -> None:
    old = datetime.now(UTC) - heartbeat_age
    with engine.begin() as conn:
        conn.execute(sa.insert(LOCK).values(id=1, holder=f"{host or socket.gethostname()}|{pid}|dead", pid=pid,
                                            acquired_at=old, heartbeat_at=old))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_sqlite_lock_of_a_dead_process_is_taken_over(sqlite_engine):
    _plant_lock(sqlite_engine, _dead_pid(), timedelta(minutes=10))
    lock = SchedulerLock(sqlite_engine, stale_after=120)
    lock.acquire()
    try:
        assert current_holder(sqlite_engine).pid == os.getpid()
    finally:
        lock.release()


def test_recent_heartbeat_or_live_pid_keeps_the_lock(sqlite_engine):
    # Another host's holder with a recent heartbeat: its pid cannot be checked from here.
    _plant_lock(sqlite_engine, _dead_pid(), timedelta(seconds=5), host="other-host")
    with pytest.raises(SchedulerLockHeld, match="other-host"):
        SchedulerLock(sqlite_engine, stale_after=120).acquire()
    with sqlite_engine.begin() as conn:
        conn.execute(sa.delete(LOCK))
    _plant_lock(sqlite_engine, os.getppid(), timedelta(minutes=10))  # old heartbeat, but the process is alive
    with pytest.raises(SchedulerLockHeld):
        SchedulerLock(sqlite_engine, stale_after=120).acquire()


def test_restart_after_a_crash_waits_out_the_heartbeat_then_takes_over(sqlite_engine):
    _plant_lock(sqlite_engine, _dead_pid(), timedelta(seconds=0))  # crashed just now, on this host
    started = time.monotonic()
    lock = SchedulerLock(sqlite_engine, stale_after=1.5)
    lock.acquire()
    try:
        assert time.monotonic() - started >= 1.5
        assert current_holder(sqlite_engine).pid == os.getpid()
    finally:
        lock.release()


@pytest.fixture
def pg_url():
    url = create_pg_database()
    yield url
    drop_pg_database(url)


@pytest.mark.postgres
def test_postgres_advisory_lock_is_the_truth(pg_url):
    engine = make_engine(pg_url)
    upgrade(engine)
    # A row left by a crashed process is not a lock on PostgreSQL: the advisory lock died with it.
    _plant_lock(engine, os.getpid(), timedelta(seconds=1))
    lock = SchedulerLock(engine, stale_after=120)
    lock.acquire()
    try:
        # A second engine (another process's connection pool) cannot get the advisory lock.
        other = make_engine(pg_url)
        with pytest.raises(SchedulerLockHeld):
            SchedulerLock(other, stale_after=0.001).acquire()
        other.dispose()
    finally:
        lock.release()
    engine.dispose()


def test_heartbeat_refreshes_and_detects_takeover(sqlite_engine):
    lock = SchedulerLock(sqlite_engine, stale_after=120, heartbeat_every=3600)
    lock.acquire()
    try:
        before = current_holder(sqlite_engine).heartbeat_at
        assert lock.heartbeat() is True
        assert current_holder(sqlite_engine).heartbeat_at >= before
        with sqlite_engine.begin() as conn:
            conn.execute(sa.update(LOCK).values(holder="elsewhere|1|x"))
        assert lock.heartbeat() is False
    finally:
        lock.release()
