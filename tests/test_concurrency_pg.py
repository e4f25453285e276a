"""The deployment shape under load (issue 8): two dashboard processes and the scheduler against one PostgreSQL
while the scheduler ingests a large file from the inbox.

- every page run of two signed-in users (one per dashboard process, through the real websocket protocol:
  tests/dashboard_ws.py) keeps answering, without exceptions or error boxes, before, during and after the load;
- readers see either none of the file or all of it, never part of it: a reader polls the rows of the file's
  periods during the load, through both read paths (registry.fastread, one snapshot; and plain SQLAlchemy);
- the load itself succeeds (job run `success`, ingestion run `loaded`, every row in the database).
The file has 200,000 rows here so that the test stays around a minute or two; benchmarks/bench_load.py measures
pages under 20 users on 1,000,000 firms.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from conftest import create_pg_database, drop_pg_database
from dashboard_ws import DashboardSession
from serving import free_port, wait_until_healthy
from sqlmodel import Session
from zjtx_command import ZJTX

from jobs.runs import request_run
from registry import auth, fastread
from registry.db import make_engine, upgrade
from registry.demo import build_demo

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
FIRMS = 5_000
MONTHS = [f"{y}-{m:02d}" for y in range(2010, 2014) for m in range(1, 13)][:40]  # 5,000 × 40 = 200,000 rows
ROWS = FIRMS * len(MONTHS)
USER, PASSWORD = "loadtest", "concurrency-test-password-1"
PAGES = ["", "registry", "pipeline", "review", "intake"]
FILE_PERIODS = sa.text("SELECT count(*) AS n FROM report WHERE year BETWEEN 2010 AND 2013")


def _reports_file(engine: sa.Engine, path: Path) -> None:
    """Monthly reports of every firm for 40 months of 2010–2013 (periods the demo registry does not have)."""
    usccs = fastread.read_frame(engine, "SELECT uscc FROM enterprise ORDER BY id", {"uscc": pl.String})["uscc"]
    rng = random.Random(8)
    frame = pl.DataFrame({"uscc": usccs}).join(pl.DataFrame({"period": MONTHS}), how="cross").with_columns(
        revenue=pl.Series([round(rng.uniform(100, 5000), 1) for _ in range(ROWS)]),
        employees=pl.Series([rng.randint(10, 900) for _ in range(ROWS)]),
    )
    frame.write_csv(path)


@pytest.fixture
def deployment(tmp_path) -> Iterator[dict]:
    url = create_pg_database()
    engine = make_engine(url)
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        upgrade(engine)
        build_demo(engine, firms=FIRMS, seed=11)
        with Session(engine) as session:
            auth.create_user(auth.cli_principal(), session, USER, PASSWORD, "admin", "cn", reason="concurrency test")
            session.commit()
        config = tmp_path / "config.toml"
        # Every cron job off: the test asks the scheduler to run the ingest job now, as the dashboard does.
        config.write_text(
            f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n'
            '[paths]\ninbox = "inbox"\narchive = "archive"\nquarantine = "quarantine"\noutbox = "outbox"\n'
            '[scheduler]\ningest_cron = ""\nflags_cron = ""\nsnapshot_cron = ""\nreminders_cron = ""\n'
            'briefing_cron = ""\nrequest_poll_seconds = 1\n', encoding="utf-8")
        env = {**os.environ, "ZJTX_CONFIG": str(config)}
        env.pop("ZJTX_DATABASE_URL", None)
        ports = [free_port(), free_port()]
        commands = [[*ZJTX, "serve", "--port", str(p), "--address", "127.0.0.1"] for p in ports]
        commands.append([*ZJTX, "scheduler"])
        for i, command in enumerate(commands):
            logs.append((tmp_path / f"process-{i}.log").open("w"))
            procs.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=logs[-1], stderr=subprocess.STDOUT))
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for base, proc in zip(bases, procs, strict=False):
            wait_until_healthy(base, proc, seconds=120)
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        yield {"engine": engine, "bases": bases, "procs": procs, "inbox": inbox, "tmp": tmp_path}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()
        engine.dispose()
        drop_pg_database(url)


def _job_state(engine: sa.Engine, request_id: int) -> tuple[str | None, float | None, float | None]:
    """(status, started, finished) of the job run that served the request, as epoch seconds."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT r.status, extract(epoch FROM r.started_at), extract(epoch FROM r.finished_at) "
            "FROM job_request q JOIN job_run r ON r.id = q.job_run_id WHERE q.id = :id"), {"id": request_id}).first()
    return (None, None, None) if row is None else (row[0], row[1] and float(row[1]), row[2] and float(row[2]))


def test_pages_answer_and_readers_see_all_or_nothing_while_a_large_file_loads(deployment):
    engine = deployment["engine"]
    staged = deployment["tmp"] / "reports-2010-2013.csv"
    _reports_file(engine, staged)
    # Into the inbox in one rename, old enough for the inbox job (it skips files still being copied).
    os.utime(staged, (time.time() - 60, time.time() - 60))
    staged.rename(deployment["inbox"] / staged.name)

    seen: list[tuple[float, str, int]] = []  # (time, read path, rows of the file's periods)
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            fast = fastread.read_frame(engine, FILE_PERIODS.text, {"n": pl.Int64})["n"].item()
            seen.append((time.time(), "fastread", fast))
            with engine.connect() as conn:
                seen.append((time.time(), "sqlalchemy", conn.execute(FILE_PERIODS).scalar_one()))
            time.sleep(0.05)

    async def user(base: str, runs: list, until: asyncio.Event) -> None:
        async with DashboardSession(base, timeout=180) as session:
            first = await session.sign_in(USER, PASSWORD)
            runs.append((time.time(), first))
            while not until.is_set():
                for page in PAGES:
                    runs.append((time.time(), await session.visit(page)))

    async def scenario() -> tuple[list, int]:
        runs: list = []
        until = asyncio.Event()
        users = [asyncio.create_task(user(b, runs, until)) for b in deployment["bases"]]
        await asyncio.sleep(3)  # both users signed in and browsing before the load starts
        request_id = request_run(engine, "ingest", USER)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            status, _, _ = _job_state(engine, request_id)
            if status in ("success", "failed"):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # a few page runs after the load, on the new data
        until.set()
        await asyncio.gather(*users)
        return runs, request_id

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        runs, request_id = asyncio.run(scenario())
    finally:
        stop.set()
        thread.join()

    status, started, finished = _job_state(engine, request_id)
    assert status == "success", f"ingest job: {status}"
    with engine.connect() as conn:
        run = conn.execute(sa.text("SELECT status, rows_loaded FROM ingestion_run ORDER BY id DESC LIMIT 1")).one()
        assert tuple(run) == ("loaded", ROWS)
        assert conn.execute(FILE_PERIODS).scalar_one() == ROWS

    # All or nothing, by both read paths, and the reader really ran while the file was loading.
    assert {n for _, _, n in seen} <= {0, ROWS}, sorted({n for _, _, n in seen})
    assert any(started <= t <= finished for t, _, _ in seen)
    assert any(n == ROWS for _, _, n in seen)

    # Every page run answered cleanly, on both processes, and some ran while the file was loading.
    problems = [(r.page, r.exceptions, r.errors) for _, r in runs if r.exceptions or r.errors]
    assert problems == []
    during = [r for t, r in runs if started <= t <= finished]
    assert during, "no page ran while the file was loading"
    assert len(runs) >= 2 * len(PAGES)
    assert all(p.poll() is None for p in deployment["procs"]), "a process died"
