"""The jobs the scheduler runs, by name, and when (cron). Each takes (engine, settings) and returns counts for job_run.

Domain, not process: the scheduler process (jobs/), the CLI and the operations page all read this catalogue.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from registry.errors import UserError
from registry.label_codes import FIXED

if TYPE_CHECKING:  # importing the catalogue stays light: `zjtx --help` names the jobs (cli/main.py)
    from apscheduler.triggers.cron import CronTrigger
    from sqlalchemy import Engine

    from registry.settings import Settings

log = logging.getLogger("zjtx.scheduler.jobs")

JobFunction = Callable[["Engine", "Settings"], dict[str, Any]]


def today_in(settings: Settings) -> date:
    """"Today" where the officials are (Asia/Shanghai by default), not where the server clock is."""
    return datetime.now(ZoneInfo(settings.scheduler.timezone)).date()


def ingest_job(engine: Engine, settings: Settings) -> dict[str, Any]:
    from registry.ingest import ingest_inbox

    counts = _summarise_ingest(ingest_inbox(engine, settings))
    if counts["rows_loaded"]:
        # New rows can open or close flags: the review queue must not wait for the next 06:30 run. Computed
        # within this run (the job runner lives above the domain: jobs.runs.refresh_flags records its own runs).
        counts["flags"] = flags_job(engine, settings)
    return counts


def _summarise_ingest(results: list[Any]) -> dict[str, Any]:
    """Counts for job_run: files per status, rows loaded and rejected (FileResult objects of registry.ingest),
    and `warnings`: one line per file rejected whole or with a warning. A rejected file does not fail the job
    (it is in the quarantine with its reason); the warnings say which files need a look."""
    counts: dict[str, Any] = {"files": len(results), "rows_loaded": 0, "rows_rejected": 0}
    warnings: list[str] = []
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
        counts["rows_loaded"] += result.rows_loaded
        counts["rows_rejected"] += result.rows_rejected
        name = result.path.name if result.path is not None else result.file
        if result.status == "rejected":
            warnings.append(f"{name}: {result.file_reason}")
        warnings += [f"{name}: {w}" for w in result.warnings]
    if warnings:
        counts["warnings"] = warnings
        log.warning("ingest: %d warning(s): %s", len(warnings), " | ".join(warnings))
    return counts


def flags_job(engine: Engine, settings: Settings) -> dict[str, Any]:
    from registry.finished import store_finished_results
    from registry.flag_store import store_flags
    from registry.policy_changes import record_policy_changes

    # Policy files changed since the last run are audited before the flags they drive are recomputed.
    changed = record_policy_changes(engine)
    as_of = today_in(settings)
    counts = {**store_flags(engine, as_of, settings), "policy_files_changed": len(changed)}
    # After the flags (the results do not depend on them; registry.queries.evaluated_data_version keys them).
    counts["finished"] = store_finished_results(engine, as_of, settings.monitoring.review_risk_months)
    return counts


def snapshot_job(engine: Engine, settings: Settings) -> dict[str, Any]:
    from registry.snapshot import take_snapshot

    return take_snapshot(engine, today_in(settings), settings)


def reminders_job(engine: Engine, settings: Settings) -> dict[str, Any]:
    from registry.reminders import write_reminders

    return write_reminders(engine, settings, today_in(settings))


def briefing_job(engine: Engine, settings: Settings) -> dict[str, Any]:
    from registry.briefing import write_briefings

    return write_briefings(engine, settings, today_in(settings))


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: JobFunction
    cron_setting: str  # attribute of settings.scheduler holding the cron expression

    @property
    def label_zh(self) -> str:
        return FIXED["job"][self.name][0]  # the label catalogue (registry/label_codes.py)


JOBS: dict[str, JobSpec] = {spec.name: spec for spec in (
    JobSpec("ingest", ingest_job, "ingest_cron"),
    JobSpec("flags", flags_job, "flags_cron"),
    JobSpec("snapshot", snapshot_job, "snapshot_cron"),
    JobSpec("reminders", reminders_job, "reminders_cron"),
    JobSpec("briefing", briefing_job, "briefing_cron"),
)}


def get_job(name: str) -> JobSpec:
    try:
        return JOBS[name]
    except KeyError:
        raise UserError(f"未知任务 unknown job {name!r}; jobs: {', '.join(JOBS)}") from None


_CRON_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_cron(expr: str, timezone: str, setting: str = "cron") -> CronTrigger:
    """Standard 5-field crontab (minute hour day month day-of-week), or 6 fields with seconds first.

    Day-of-week numbers follow crontab (0 and 7 = Sunday), not APScheduler 3's own numbering (0 = Monday):
    they are translated to names so `0 8 * * 1` means Monday 08:00 as every crontab user expects.
    """
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) not in (5, 6):
        raise UserError(f"scheduler.{setting} = {expr!r}: 需要 5 个字段 expected 5 cron fields "
                        "(minute hour day month day-of-week), or 6 with seconds first")
    second = fields[0] if len(fields) == 6 else "0"
    minute, hour, day, month, dow = fields[-5:]
    dow = re.sub(r"\b[0-7]\b", lambda m: _CRON_DOW_NAMES[int(m.group())], dow) if "/" not in dow else dow
    try:
        return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=dow,
                           timezone=timezone)
    except ValueError as exc:
        raise UserError(f"scheduler.{setting} = {expr!r}: 无效的 cron 表达式 invalid cron expression: {exc}") from exc
