"""Every job run recorded in `job_run`: job, scheduled time, start, end, status, counts, error.

The row is written in its own short transaction before the job starts (so a run that never finishes — kill -9,
power loss — is still visible, and is marked `failed` when the next scheduler starts), and updated in another
after it ends. The job's own work happens in the job's own transaction(s), never in the recording one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from jobs.lock import pid_alive
from registry.models import JobRequest, JobRun, table_of
from registry.settings import Settings

log = logging.getLogger("zjtx.scheduler.runs")

RUN = table_of(JobRun)
REQUEST = table_of(JobRequest)

# Serialises runs of the same job inside one process (a "run now" request and the cron run must not overlap).
_job_locks: dict[str, threading.Lock] = {}
_job_locks_guard = threading.Lock()


class JobRecordingError(Exception):
    """The run could not even be recorded (typically: the database is unreachable)."""


@dataclass
class RunOutcome:
    job: str
    run_id: int | None
    status: str  # success | failed
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:2000]


def _job_lock(job: str) -> threading.Lock:
    with _job_locks_guard:
        return _job_locks.setdefault(job, threading.Lock())


def start_run(engine: Engine, job: str, scheduled_for: datetime | None = None) -> int:
    # The owner (host, pid) lets the next scheduler tell an interrupted run from one still going.
    owner = {"_host": socket.gethostname(), "_pid": os.getpid()}
    with engine.begin() as conn:
        run_id: int = conn.execute(sa.insert(RUN).values(
            job=job, scheduled_for=scheduled_for, started_at=_now(), status="running", counts=owner,
        ).returning(RUN.c.id)).scalar_one()
        return run_id


def finish_run(engine: Engine, run_id: int, status: str, counts: dict[str, Any], error: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(RUN).where(RUN.c.id == run_id).values(
            finished_at=_now(), status=status, counts=counts, error=error))


def run_recorded(engine: Engine, job: str, fn: Callable[[], dict[str, Any] | None],
                 scheduled_for: datetime | None = None, request_id: int | None = None) -> RunOutcome:
    """Run `fn` once, recorded. Job errors are recorded (status failed) and returned, not raised.

    Raises JobRecordingError when even the start of the run cannot be written; the job is then not run, so
    nothing (e.g. an inbox file) is consumed while the database is away. KeyboardInterrupt / SystemExit (a
    signal in `zjtx run-job`) are recorded as failed and re-raised after the job's transaction rolled back.
    """
    with _job_lock(job):
        try:
            run_id = start_run(engine, job, scheduled_for)
            if request_id is not None:
                with engine.begin() as conn:
                    conn.execute(sa.update(REQUEST).where(REQUEST.c.id == request_id).values(job_run_id=run_id))
        except Exception as exc:
            log.error("job %s: cannot record the run, job not started: %s", job, one_line(exc))
            raise JobRecordingError(f"job {job}: cannot record the run: {one_line(exc)}") from exc
        log.info("job %s: run %s started", job, run_id)
        try:
            counts = fn() or {}
        except (KeyboardInterrupt, SystemExit) as exc:
            _finish_quietly(engine, run_id, "failed", {}, f"interrupted 中断: {type(exc).__name__}")
            raise
        except Exception as exc:  # noqa: BLE001 - any job error is recorded, the scheduler goes on
            log.exception("job %s: run %s failed", job, run_id)
            error = one_line(exc)
            _finish_quietly(engine, run_id, "failed", {}, error)
            return RunOutcome(job, run_id, "failed", {}, error)
        _finish_quietly(engine, run_id, "success", counts, None)
        log.info("job %s: run %s succeeded %s", job, run_id, counts)
        return RunOutcome(job, run_id, "success", counts, None)


def _finish_quietly(engine: Engine, run_id: int, status: str, counts: dict[str, Any], error: str | None) -> None:
    try:
        finish_run(engine, run_id, status, counts, error)
    except Exception as exc:  # noqa: BLE001 - the job's outcome stands; the row stays "running" until cleanup
        log.error("run %s: cannot record its end (%s): %s", run_id, status, one_line(exc))


def record_failure(engine: Engine, job: str, error: str, scheduled_for: datetime | None = None,
                   status: str = "failed") -> int | None:
    """A run that failed or was missed outside `run_recorded` (APScheduler listener). None if unrecordable."""
    try:
        with engine.begin() as conn:
            now = _now()
            run_id: int = conn.execute(sa.insert(RUN).values(
                job=job, scheduled_for=scheduled_for, started_at=now, finished_at=now, status=status,
                counts={}, error=error[:2000]).returning(RUN.c.id)).scalar_one()
            return run_id
    except Exception as exc:  # noqa: BLE001
        log.error("job %s: %s (and it cannot be recorded: %s)", job, error, one_line(exc))
        return None


def mark_interrupted_runs(engine: Engine) -> int:
    """Runs left `running` by a process that no longer exists become `failed` (interrupted)."""
    host = socket.gethostname()
    with engine.begin() as conn:
        rows = conn.execute(sa.select(RUN.c.id, RUN.c.counts).where(RUN.c.status == "running")).all()
        dead = [r.id for r in rows
                if (r.counts or {}).get("_host") == host and not pid_alive(int((r.counts or {}).get("_pid", 0)))]
        if dead:
            conn.execute(sa.update(RUN).where(RUN.c.id.in_(dead)).values(
                status="failed", finished_at=_now(), error="interrupted 中断: the process ended during the run"))
    return len(dead)


def pending_requests(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [(r.id, r.job) for r in conn.execute(
            sa.select(REQUEST.c.id, REQUEST.c.job).where(REQUEST.c.picked_at.is_(None)).order_by(REQUEST.c.id))]


def claim_request(engine: Engine, request_id: int) -> bool:
    """Mark a request picked; False if another reader picked it first."""
    with engine.begin() as conn:
        n = conn.execute(sa.update(REQUEST).where(REQUEST.c.id == request_id, REQUEST.c.picked_at.is_(None))
                         .values(picked_at=_now())).rowcount
    return n == 1


def request_run(engine: Engine, job: str, requested_by: str) -> int:
    """What the dashboard calls to ask the scheduler to run a job now (UserError for an unknown job)."""
    from registry.schedule import get_job

    get_job(job)
    with engine.begin() as conn:
        request_id: int = conn.execute(sa.insert(REQUEST).values(job=job, requested_by=requested_by,
                                                                 requested_at=_now())
                                       .returning(REQUEST.c.id)).scalar_one()
        return request_id


def refresh_flags(engine: Engine, settings: Settings) -> RunOutcome:
    """Compute and store the flags now, recorded in job_run like a scheduled run (its failure is recorded and
    returned, not raised). Used wherever a registry comes into being: `zjtx init --demo`, `zjtx up` loading the
    demo — so that the review queue is never empty on first start. (An ingest that loads rows computes them
    within its own run: registry.schedule.ingest_job.)"""
    from registry.schedule import flags_job

    return run_recorded(engine, "flags", lambda: flags_job(engine, settings))
