"""The jobs the scheduler runs, by name. Each takes (engine, settings) and returns counts for job_run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from registry.errors import UserError
from registry.settings import Settings

log = logging.getLogger("zjtx.scheduler.jobs")

JobFunction = Callable[[Engine, Settings], dict[str, Any]]


def today_in(settings: Settings) -> date:
    """"Today" where the officials are (Asia/Shanghai by default), not where the server clock is."""
    return datetime.now(ZoneInfo(settings.scheduler.timezone)).date()


def ingest_job(engine: Engine, settings: Settings) -> dict[str, Any]:
    from registry.ingest import ingest_inbox

    counts = _summarise_ingest(ingest_inbox(engine, settings))
    if counts["rows_loaded"]:
        # New rows can open or close flags: the review queue must not wait for the next 06:30 run.
        counts["flags_run"] = refresh_flags(engine, settings).run_id
    return counts


def refresh_flags(engine: Engine, settings: Settings):
    """Compute and store the flags now, recorded in job_run like a scheduled run (its failure is recorded and
    returned, not raised). Used wherever a registry comes into being or changes: `zjtx init --demo`, `zjtx up`
    loading the demo, an ingest that loaded rows — so that the review queue is never empty on first start."""
    from jobs.runs import run_recorded

    return run_recorded(engine, "flags", lambda: flags_job(engine, settings))


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
    from jobs.flag_store import store_flags
    from registry.policy_changes import record_policy_changes

    # Policy files changed since the last run are audited before the flags they drive are recomputed.
    changed = record_policy_changes(engine)
    return {**store_flags(engine, today_in(settings), settings), "policy_files_changed": len(changed)}


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
    label_zh: str


JOBS: dict[str, JobSpec] = {spec.name: spec for spec in (
    JobSpec("ingest", ingest_job, "ingest_cron", "收件箱导入"),
    JobSpec("flags", flags_job, "flags_cron", "生命周期提示"),
    JobSpec("snapshot", snapshot_job, "snapshot_cron", "每日快照"),
    JobSpec("reminders", reminders_job, "reminders_cron", "催报清单"),
    JobSpec("briefing", briefing_job, "briefing_cron", "月度简报"),
)}


def get_job(name: str) -> JobSpec:
    try:
        return JOBS[name]
    except KeyError:
        raise UserError(f"未知任务 unknown job {name!r}; jobs: {', '.join(JOBS)}") from None
