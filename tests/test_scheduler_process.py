"""The real `zjtx scheduler` process, started as a subprocess with a fast schedule from a tmp config."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from zjtx_command import ZJTX

from registry.db import make_engine, upgrade
from registry.identity import make_uscc
from registry.models import Enterprise, IngestionRun, JobRequest, JobRun, SchedulerLock

pytestmark = pytest.mark.slow


def write_config(tmp_path: Path, db_url: str, **scheduler: str | int) -> Path:
    cron = {"ingest_cron": "", "flags_cron": "", "snapshot_cron": "", "reminders_cron": "",
            "request_poll_seconds": 1, **scheduler}
    lines = [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in cron.items()]
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[database]\nurl = "{db_url}"\n[paths]\ninbox = "inbox"\narchive = "archive"\nquarantine = "quarantine"\n'
        'outbox = "outbox"\n[demo]\nfirms = 0\n[scheduler]\n' + "\n".join(lines) + "\n", encoding="utf-8")
    return cfg


def start_scheduler(cfg: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "ZJTX_CONFIG": str(cfg)}
    env.pop("ZJTX_DATABASE_URL", None)
    return subprocess.Popen([*ZJTX, "scheduler", *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def runs(engine, job: str | None = None) -> list:
    t = JobRun.__table__
    stmt = sa.select(t.c.job, t.c.status, t.c.error, t.c.scheduled_for).order_by(t.c.id)
    if job:
        stmt = stmt.where(t.c.job == job)
    with engine.connect() as conn:
        return conn.execute(stmt).all()


def lock_row(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(SchedulerLock.__table__)).first()


@pytest.fixture
def migrated(db_url) -> Iterator[tuple[str, sa.Engine]]:
    eng = make_engine(db_url)
    upgrade(eng)
    yield db_url, eng
    eng.dispose()


def stop(proc: subprocess.Popen) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err


def test_cron_jobs_run_and_are_recorded_and_a_second_scheduler_is_refused(tmp_path, migrated):
    url, engine = migrated
    cfg = write_config(tmp_path, url, snapshot_cron="*/1 * * * * *")  # every second (6-field form)
    proc = start_scheduler(cfg)
    try:
        wait_for(lambda: any(r.status == "success" for r in runs(engine, "snapshot")), what="a snapshot run")
        assert runs(engine, "snapshot")[0].scheduled_for is not None
        assert lock_row(engine).pid == proc.pid
        second = start_scheduler(cfg)
        _, err = second.communicate(timeout=30)
        assert second.returncode == 1
        assert "another scheduler is already running" in err and str(proc.pid) in err
        assert err.count("\n") <= 2  # one clear line, not a traceback
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert lock_row(engine) is None  # released on a clean stop


def test_run_now_request_is_picked_up(tmp_path, migrated):
    url, engine = migrated
    proc = start_scheduler(write_config(tmp_path, url))
    try:
        with engine.begin() as conn:
            rid = conn.execute(sa.insert(JobRequest.__table__).values(job="snapshot", requested_by="admin",
                                                                     requested_at=sa.func.now())
                               .returning(JobRequest.__table__.c.id)).scalar_one()

        def done():
            with engine.connect() as conn:
                row = conn.execute(sa.select(JobRequest.__table__).where(JobRequest.__table__.c.id == rid)).first()
            # picked up, and its run has finished (the run row exists from the job's start)
            return row.job_run_id and row.picked_at and all(r.status != "running" for r in runs(engine, "snapshot"))

        wait_for(done, what="the request to be run")
        assert [r.status for r in runs(engine, "snapshot")] == ["success"]
    finally:
        code, err = stop(proc)
    assert code == 0, err


def test_sigterm_lets_the_running_job_finish_then_exits(tmp_path):
    url = f"sqlite:///{tmp_path / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    n = 100_000  # seconds of loading: the signal comes in the middle of the run
    (tmp_path / "inbox").mkdir()
    enterprises_csv(tmp_path / "inbox" / "large.csv", n)
    proc = start_scheduler(write_config(tmp_path, url, ingest_cron="*/1 * * * * *"))
    try:
        wait_for(lambda: any(r.status == "running" for r in runs(engine, "ingest")), timeout=60,
                 what="the ingest run to start")
        signalled_at = datetime.now(UTC).replace(tzinfo=None)  # job_run times are naive UTC on SQLite
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    finally:
        code, err = stop(proc)
    assert code == 0, err
    t = JobRun.__table__
    with engine.connect() as conn:
        done = conn.execute(sa.select(t.c.status, t.c.finished_at, t.c.counts).where(t.c.job == "ingest")).all()
    # The run under way when the signal came finished after it, every row loaded: the process waited for it.
    assert {r.status for r in done} == {"success"}, done
    loaded = [r for r in done if r.counts.get("rows_loaded") == n]
    assert len(loaded) == 1 and loaded[0].finished_at.replace(tzinfo=None) > signalled_at
    assert count(engine, Enterprise.__table__) == n
    assert "stopping" in err
    assert lock_row(engine) is None
    engine.dispose()


def test_kill_9_leaves_a_stale_lock_that_the_next_scheduler_takes_over(tmp_path):
    url = f"sqlite:///{tmp_path / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    cfg = write_config(tmp_path, url)
    first = start_scheduler(cfg, "--lock-stale-seconds", "2")
    wait_for(lambda: lock_row(engine), what="the scheduler lock")
    first.kill()
    first.communicate()
    assert lock_row(engine).pid == first.pid  # left behind
    second = start_scheduler(cfg, "--lock-stale-seconds", "2")
    try:
        wait_for(lambda: lock_row(engine) and lock_row(engine).pid == second.pid, timeout=30,
                 what="the takeover")
    finally:
        code, err = stop(second)
    assert code == 0, err
    assert "took over a stale scheduler lock" in err
    engine.dispose()


def enterprises_csv(path: Path, n: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    rows = [f"{make_uscc(rng, '460100')},测试企业{i}有限公司,460105,C35,2010-01-01" for i in range(n)]
    path.write_text("uscc,name,region_code,industry_code,founded_on\n" + "\n".join(rows) + "\n", encoding="utf-8")
    old = time.time() - 60  # the inbox job leaves files younger than a few seconds (maybe still being copied)
    os.utime(path, (old, old))
    return path


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_files_dropped_into_the_inbox_are_loaded(tmp_path, migrated):
    url, engine = migrated
    cfg = write_config(tmp_path, url, ingest_cron="*/1 * * * * *")
    (tmp_path / "inbox").mkdir()
    proc = start_scheduler(cfg)
    try:
        enterprises_csv(tmp_path / "inbox" / "企业名录.csv", 25)
        wait_for(lambda: count(engine, Enterprise.__table__) == 25, what="the file to load")
        wait_for(lambda: not any((tmp_path / "inbox").iterdir()), what="the inbox to empty")
        # The run also computes the flags of the rows it loaded, so it ends a little after the inbox empties.
        wait_for(lambda: any(r.status == "success" for r in runs(engine, "ingest")), what="the ingest run to end")
        done = [r for r in runs(engine, "ingest") if r.status == "success"]
        assert done
    finally:
        code, err = stop(proc)
    assert code == 0, err
    with engine.connect() as conn:
        counts = [r.counts for r in conn.execute(sa.select(JobRun.__table__.c.counts)
                                                 .where(JobRun.__table__.c.job == "ingest"))]
    assert sum(c.get("rows_loaded", 0) for c in counts) == 25


def test_kill_9_during_a_large_file_loads_nothing_then_exactly_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    cfg = write_config(tmp_path, url, ingest_cron="*/1 * * * * *")
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    n = 200_000
    enterprises_csv(inbox / "large.csv", n)
    first = start_scheduler(cfg, "--lock-stale-seconds", "2")
    # The file is archived just before its load transaction starts.
    wait_for(lambda: archive.exists() and any(p.is_file() for p in archive.rglob("*")), timeout=60,
             what="the load to start")
    # Kill in the middle of that transaction: once it has spilled uncommitted pages into the WAL. (A fixed
    # half-second wait was too long on a quiet machine: the whole file had loaded.)
    wal = tmp_path / "zjtx.db-wal"
    before = wal.stat().st_size if wal.exists() else 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (wal.exists() and wal.stat().st_size > before + 2**20):
        time.sleep(0.01)
    first.kill()
    first.communicate()
    assert count(engine, Enterprise.__table__) == 0, "a killed load left rows behind"
    assert (inbox / "large.csv").exists()

    second = start_scheduler(cfg, "--lock-stale-seconds", "2")
    try:
        wait_for(lambda: not (inbox / "large.csv").exists(), timeout=90, what="the reload")
    finally:
        code, err = stop(second)
    assert code == 0, err
    assert count(engine, Enterprise.__table__) == n
    with engine.connect() as conn:
        loads = conn.execute(sa.select(IngestionRun.__table__.c.status)
                             .where(IngestionRun.__table__.c.status == "loaded")).all()
        killed_run = conn.execute(sa.select(JobRun.__table__.c.status, JobRun.__table__.c.error)
                                  .order_by(JobRun.__table__.c.id)).first()
    assert len(loads) == 1
    assert killed_run.status == "failed" and "interrupted" in killed_run.error
    engine.dispose()
