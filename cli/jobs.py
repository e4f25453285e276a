"""`zjtx scheduler` (the scheduled-jobs process) and `zjtx run-job NAME` (run one job now)."""

from __future__ import annotations

import json
import logging
import signal
import sys
from types import FrameType

import typer
from rich.console import Console

from registry.errors import UserError
from registry.schedule import JOBS  # the job catalogue loads its jobs' modules only when one runs

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("scheduler")(scheduler)
    app.command("run-job")(run_job)


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def scheduler(
    lock_stale_seconds: float = typer.Option(
        120.0, "--lock-stale-seconds", min=1,
        help="SQLite: take over a lock whose heartbeat is older than this and whose process is gone."),
) -> None:
    """Run the scheduled-jobs process (ingest, flags, snapshot, reminders) until SIGTERM / Ctrl-C.
    运行定时任务进程（导入、生命周期标记、快照、催报），每个数据库只允许一个。"""
    import sqlalchemy as sa

    from jobs.lock import SchedulerLockHeld
    from jobs.scheduler import SchedulerProcess
    from registry.db import DatabaseError, check_connection, get_engine
    from registry.settings import get_settings

    _configure_logging()
    settings = get_settings()
    engine = get_engine()
    check_connection(engine)
    try:
        SchedulerProcess(engine, settings, lock_stale_seconds=lock_stale_seconds).run()
    except SchedulerLockHeld as exc:
        raise UserError(str(exc)) from exc
    except sa.exc.OperationalError as exc:
        raise DatabaseError(f"数据库不可用 database unavailable: {str(exc).splitlines()[0]}") from exc


def run_job(
    name: str = typer.Argument(..., help=f"Job name: {', '.join(JOBS)}."),
    output_format: str = typer.Option("text", "--format", help="text | json"),
) -> None:
    """Run one job now (recorded in job_run like a scheduled run). 立即运行一个任务。"""
    from jobs.runs import JobRecordingError, run_recorded
    from registry.db import DatabaseError, check_connection, get_engine
    from registry.schedule import get_job
    from registry.settings import get_settings

    if output_format not in ("text", "json"):
        raise UserError(f"--format {output_format!r}: 只支持 expected text | json")
    spec = get_job(name)
    settings = get_settings()
    engine = get_engine()
    check_connection(engine)  # one line, before the job's logging would add its own
    _configure_logging()

    def _interrupt(signum: int, _frame: FrameType | None) -> None:
        # Raised inside the job: its transaction rolls back and the run is recorded as interrupted.
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        outcome = run_recorded(engine, name, lambda: spec.function(engine, settings))
    except JobRecordingError as exc:
        raise DatabaseError(str(exc)) from exc
    if output_format == "json":
        typer.echo(json.dumps({"job": outcome.job, "run_id": outcome.run_id, "status": outcome.status,
                               "counts": outcome.counts, "error": outcome.error}, ensure_ascii=False, default=str))
    else:
        counts = ", ".join(f"{k}={v}" for k, v in outcome.counts.items()) or "-"
        console.print(f"任务 job {name}: run {outcome.run_id} {outcome.status} ({counts})")
    if outcome.status != "success":
        raise UserError(f"任务失败 job {name} failed (run {outcome.run_id}): {outcome.error}")
