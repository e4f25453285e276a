"""`zjtx scheduler`: the scheduled-jobs process (APScheduler 3.x BlockingScheduler, never inside Streamlit).

- Jobs and cron schedules come from config.toml (`[scheduler]`, time zone Asia/Shanghai by default); each job has
  an explicit id, replace_existing, coalesce (a backlog of missed runs runs once), max_instances=1 and a generous
  misfire grace.
- One scheduler per database (jobs.lock). A second one exits with a clear message.
- Every run is recorded in job_run (jobs.runs); listeners record errors that escape a run and missed runs.
- "Run now" requests written by the dashboard into job_request are polled every request_poll_seconds.
- SIGTERM / Ctrl-C: no new runs start; the running job finishes its transaction (or it rolls back), then exit.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime
from functools import partial
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine

from jobs.lock import SchedulerLock
from jobs.runs import (
    JobRecordingError,
    RunOutcome,
    claim_request,
    mark_interrupted_runs,
    one_line,
    pending_requests,
    record_failure,
    run_recorded,
)
from registry.schedule import JOBS, get_job, parse_cron
from registry.settings import Settings

log = logging.getLogger("zjtx.scheduler")

REQUESTS_JOB_ID = "job_requests"
# APScheduler 3 ships no type information: its classes are Any to mypy.
class _ScheduledTimeExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """Remembers each job's scheduled fire time before handing it to a thread, for job_run.scheduled_for.

    Safe without more locking because max_instances=1: a job id has at most one run in flight.
    """

    def __init__(self, max_workers: int, scheduled: dict[str, datetime]) -> None:
        super().__init__(max_workers)
        self._scheduled = scheduled

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        self._scheduled[job.id] = run_times[-1]
        super()._do_submit_job(job, run_times)


class SchedulerProcess:
    def __init__(self, engine: Engine, settings: Settings, lock_stale_seconds: float = 120.0) -> None:
        self.engine = engine
        self.settings = settings
        self.lock = SchedulerLock(engine, stale_after=lock_stale_seconds, on_lost=self.request_stop)
        self._scheduled: dict[str, datetime] = {}
        sched = settings.scheduler
        self.scheduler = BlockingScheduler(
            timezone=sched.timezone,
            executors={"default": _ScheduledTimeExecutor(4, self._scheduled)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": sched.misfire_grace_seconds},
        )
        self._stopper: threading.Thread | None = None
        self._stop_lock = threading.Lock()

    def configure(self) -> list[str]:
        """Add the cron jobs from config and the request poller; returns the names of scheduled jobs."""
        sched = self.settings.scheduler
        scheduled = []
        for spec in JOBS.values():
            cron = getattr(sched, spec.cron_setting).strip()
            if not cron:  # an empty schedule disables the job (it can still be run on request)
                continue
            trigger = parse_cron(cron, sched.timezone, spec.cron_setting)
            self.scheduler.add_job(self._run_scheduled, trigger=trigger, args=[spec.name], id=spec.name,
                                   name=f"{spec.name} {spec.label_zh}", replace_existing=True)
            scheduled.append(spec.name)
        self.scheduler.add_job(self.poll_requests, "interval", seconds=sched.request_poll_seconds,
                               id=REQUESTS_JOB_ID, name="job requests 手动运行请求", replace_existing=True,
                               next_run_time=datetime.now(self.scheduler.timezone))
        self.scheduler.add_listener(self._on_error, EVENT_JOB_ERROR)
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        return scheduled

    def _run_scheduled(self, name: str) -> RunOutcome:
        spec = get_job(name)
        return run_recorded(self.engine, name, lambda: spec.function(self.engine, self.settings),
                            scheduled_for=self._scheduled.get(name))

    def poll_requests(self) -> int:
        """Run every pending "run now" request (oldest first). Returns how many were run."""
        ran = 0
        for request_id, name in pending_requests(self.engine):
            if self.stopping:
                break
            if not claim_request(self.engine, request_id):
                continue
            if name not in JOBS:
                record_failure(self.engine, name[:40], f"未知任务 unknown job {name!r} (request {request_id})")
                continue
            spec = JOBS[name]
            run_recorded(self.engine, name, partial(spec.function, self.engine, self.settings),
                         request_id=request_id)
            ran += 1
        return ran

    def _on_error(self, event: JobExecutionEvent) -> None:
        # run_recorded records job errors itself; what arrives here escaped it (e.g. the database is down).
        job = event.job_id
        if isinstance(event.exception, JobRecordingError):
            return  # already logged; recording it again would fail the same way
        record_failure(self.engine, job, one_line(event.exception), scheduled_for=event.scheduled_run_time)

    def _on_missed(self, event: Any) -> None:
        log.warning("job %s missed its run at %s (beyond the misfire grace)", event.job_id, event.scheduled_run_time)
        if event.job_id in JOBS:
            record_failure(self.engine, event.job_id, "missed 错过: beyond misfire_grace_seconds",
                           scheduled_for=event.scheduled_run_time, status="missed")

    @property
    def stopping(self) -> bool:
        return self._stopper is not None

    def request_stop(self, *_: Any) -> None:
        """Stop from a signal handler or another thread: no new runs; running ones finish, then exit."""
        with self._stop_lock:
            if self._stopper is not None:
                return
            log.info("stopping: waiting for running jobs to finish 正在停止，等待运行中的任务结束")
            # shutdown(wait=True) blocks until running jobs end, so it must not run inside the signal handler.
            self._stopper = threading.Thread(target=self._shutdown, name="scheduler-stop")
            self._stopper.start()

    def _shutdown(self) -> None:
        try:
            self.scheduler.shutdown(wait=True)
        except Exception as exc:  # noqa: BLE001 - already stopped
            log.debug("shutdown: %s", exc)

    def run(self) -> None:
        """Acquire the lock, then block running jobs until stopped. Raises SchedulerLockHeld."""
        self.lock.acquire()
        try:
            interrupted = mark_interrupted_runs(self.engine)
            if interrupted:
                log.warning("%d run(s) of a previous scheduler were interrupted; marked failed", interrupted)
            scheduled = self.configure()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self.request_stop)
            log.info("scheduler started 调度进程已启动: jobs %s (tz %s), requests every %ss",
                     ", ".join(f"{n} [{getattr(self.settings.scheduler, JOBS[n].cron_setting)}]" for n in scheduled)
                     or "none", self.settings.scheduler.timezone, self.settings.scheduler.request_poll_seconds)
            self.scheduler.start()
            if self._stopper is not None:
                self._stopper.join()
        finally:
            self.lock.release()
            log.info("scheduler stopped 调度进程已停止")
