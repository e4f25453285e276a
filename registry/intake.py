"""数据接入 Data intake, the operations view of incoming data: which reports arrived (on time, late) and which are
missing against each jurisdiction's reporting duties, by period × region; recent ingestion runs and their rejected
rows; files uploaded from the dashboard; the scheduler's jobs.

Reporting duties are the recognising jurisdiction's (policy lifecycle `reporting` rules, picked by
`registry.policy.lifecycle_for`), over the same periods and recognitions as the `missing_report` flags and the 催报
lists (registry.lifecycle): recognitions in force on the as-of date, periods from 1 January of last year whose due
date has passed, and only periods while the recognition held. A firm owing the same report under two recognitions
is counted once for it (the earlier due date applies).

When a report arrived is the finish time of the ingestion run that first brought it (an earlier run kept in
report_revision counts: a correction sent after the due date does not make a report that came on time late).
A report loaded without a run (demo data, direct inserts) has no known arrival and counts as reported.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from registry import run_scope
from registry.access import Principal, scope_clause
from registry.db import engine_or_default as _engine
from registry.fastread import read_frame
from registry.ingest import FileResult, Rejection, ingest_each
from registry.ingest.archive import safe_name
from registry.ingest.guard import UnsafeFile, check_upload
from registry.ingest.service import ProgressCallback
from registry.lifecycle import (
    LifecycleResolver,
    _obligation_calendar,  # the reporting calendar the flags and 催报 lists use; one definition of "owed"
    current_recognitions,
    with_rules,
)
from registry.models import (
    Enterprise,
    IngestionRun,
    JobRequest,
    JobRun,
    Recognition,
    Report,
    ReportRevision,
    table_of,
)
from registry.policy import lifecycle_for
from registry.reference import regions
from registry.schedule import JOBS, parse_cron
from registry.settings import Settings, get_settings

E, R, P = table_of(Enterprise), table_of(Recognition), table_of(Report)
RV, IR = table_of(ReportRevision), table_of(IngestionRun)
JR, JQ = table_of(JobRun), table_of(JobRequest)

STATUSES = ("reported", "late", "missing")
FREQUENCIES = ("monthly", "quarterly", "half_yearly", "annual")
LEVELS = ("province", "prefecture")

EXPECTED_SCHEMA = pl.Schema({
    "uscc": pl.String, "name": pl.String, "region_code": pl.String, "tiers": pl.String, "frequency": pl.String,
    "period": pl.String, "period_end": pl.Date, "report_due_on": pl.Date, "status": pl.String,
    "received_on": pl.Date, "days_late": pl.Int64, "what": pl.String, "obligation_source": pl.String,
})
COMPLETENESS_SCHEMA = pl.Schema({
    "region_code": pl.String, "region_name": pl.String, "frequency": pl.String, "period": pl.String,
    "report_due_on": pl.Date, "owed": pl.Int64, "reported": pl.Int64, "late": pl.Int64, "missing": pl.Int64,
    "reported_pct": pl.Float64,
})


def _read(engine: Engine, stmt: sa.Select[Any], schema: dict[str, Any]) -> pl.DataFrame:
    """The statement's rows as a frame of `schema` (its columns by position), read column-wise: the national
    scope reads millions of recognitions and report keys, which cost seconds per million as Python rows."""
    labelled = stmt.with_only_columns(*(column.label(name) for column, name in zip(
        stmt.selected_columns, schema, strict=True)), maintain_column_froms=True)
    return read_frame(engine, labelled, schema)


def _local_date(moment: pl.Expr, timezone: str) -> pl.Expr:
    """A stored UTC timestamp (naive on SQLite, aware on PostgreSQL) as the officials' calendar day."""
    return moment.dt.replace_time_zone("UTC", non_existent="null").dt.convert_time_zone(timezone).dt.date()


# ---------------------------------------------------------------- what is owed, and what arrived


def _recognitions(engine: Engine, principal: Principal, as_of: date) -> pl.DataFrame:
    stmt = (
        sa.select(E.c.uscc, E.c.name, E.c.region_code, R.c.id, R.c.tier, R.c.jurisdiction, R.c.batch,
                  R.c.recognized_on, R.c.valid_until, R.c.status, R.c.ended_on)
        .select_from(R.join(E, E.c.id == R.c.enterprise_id))
        .where(R.c.recognized_on <= as_of, R.c.status != "withdrawn")
    )
    clause = scope_clause(principal, E.c.region_code)
    if clause is not None:
        stmt = stmt.where(clause)
    return _read(engine, stmt, {
        "uscc": pl.String, "name": pl.String, "region_code": pl.String, "id": pl.Int64, "tier": pl.String,
        "jurisdiction": pl.String, "batch": pl.String, "recognized_on": pl.Date, "valid_until": pl.Date,
        "status": pl.String, "ended_on": pl.Date,
    })


def _arrivals(engine: Engine, principal: Principal, first_year: int, timezone: str) -> pl.DataFrame:
    """uscc, period, received_on (null when no run recorded it), one row per report period present."""
    stmt = (
        sa.select(E.c.uscc, P.c.id, P.c.period, P.c.ingestion_run_id)
        .select_from(P.join(E, E.c.id == P.c.enterprise_id))
        .where(P.c.year >= first_year)
    )
    clause = scope_clause(principal, E.c.region_code)
    if clause is not None:
        stmt = stmt.where(clause)
    reports = _read(engine, stmt, {"uscc": pl.String, "report_id": pl.Int64, "period": pl.String,
                                   "run_id": pl.Int64})
    # Earlier versions of a corrected report keep the run that brought them in their values (JSON).
    with engine.connect() as conn:
        revisions = conn.execute(
            sa.select(RV.c.report_id, RV.c["values"]).select_from(RV.join(P, P.c.id == RV.c.report_id))
            .where(P.c.year >= first_year)).all()
    revised = pl.DataFrame({
        "report_id": pl.Series([r[0] for r in revisions], dtype=pl.Int64),
        "run_id": pl.Series([(r[1] or {}).get("ingestion_run_id") for r in revisions], dtype=pl.Int64),
    })
    runs = _read(engine, sa.select(IR.c.id, IR.c.finished_at),
                 {"run_id": pl.Int64, "finished_at": pl.Datetime("us")})
    arrived = (
        pl.concat([reports.select("report_id", "run_id"), revised])
        .join(runs, on="run_id", how="left")
        .group_by("report_id").agg(pl.col("finished_at").min())
    )
    return (
        reports.select("uscc", "report_id", "period").join(arrived, on="report_id", how="left")
        .with_columns(received_on=_local_date(pl.col("finished_at"), timezone))
        .group_by("uscc", "period").agg(pl.col("received_on").min())
    )


def expected_reports(principal: Principal, as_of: date, *, engine: Engine | None = None,
                     resolver: LifecycleResolver = lifecycle_for, timezone: str | None = None) -> pl.DataFrame:
    """Every report owed and due before `as_of` by the firms in scope, with its status.

    One row per firm × frequency × period: uscc, name, region_code, tiers (the tiers that owe it, "," joined),
    frequency, period, period_end, report_due_on, status (reported | late | missing), received_on, days_late,
    what, obligation_source.
    """
    eng = _engine(engine)
    timezone = timezone or get_settings().scheduler.timezone
    recognitions = _recognitions(eng, principal, as_of)
    if recognitions.is_empty():
        return pl.DataFrame(schema=EXPECTED_SCHEMA)
    live, lifecycles = with_rules(current_recognitions(recognitions, as_of), resolver)
    in_force = live.filter(pl.col("valid_until") >= as_of)
    owed = (
        in_force.join(_obligation_calendar(lifecycles, as_of), on="lc", how="inner")
        .filter(pl.col("period_end") >= pl.col("recognized_on"), pl.col("period_start") <= pl.col("valid_until"))
        .group_by("uscc", "frequency", "period")
        .agg(pl.col("name", "region_code", "period_end", "accepted").first(),
             pl.col("tier").unique().sort().str.join(",").alias("tiers"),
             pl.col("report_due_on").min(),
             pl.col("what").sort_by("report_due_on").first(),
             pl.col("obligation_source").sort_by("report_due_on").first())
    )
    if owed.is_empty():
        return pl.DataFrame(schema=EXPECTED_SCHEMA)
    arrivals = _arrivals(eng, principal, as_of.year - 1, timezone).with_columns(present=pl.lit(True))
    matched = (
        owed.with_row_index("_row").explode("accepted")
        .join(arrivals, left_on=["uscc", "accepted"], right_on=["uscc", "period"], how="left")
        .group_by("_row")
        .agg(pl.all().exclude("accepted", "present", "received_on").first(),
             present=pl.col("present").any(), received_on=pl.col("received_on").min())
    )
    late = pl.col("received_on") > pl.col("report_due_on")
    return (
        matched.with_columns(
            status=pl.when(~pl.col("present").fill_null(False)).then(pl.lit("missing"))
            .when(late.fill_null(False)).then(pl.lit("late")).otherwise(pl.lit("reported")),
            days_late=pl.when(late).then((pl.col("received_on") - pl.col("report_due_on")).dt.total_days()),
        )
        .select(list(EXPECTED_SCHEMA)).cast(EXPECTED_SCHEMA)
        .sort("region_code", "uscc", "frequency", "period_end")
    )


# ---------------------------------------------------------------- period × region


def region_of(region_code: pl.Expr, level: str) -> pl.Expr:
    """The unit a report is chased by: the province, or the prefecture-level unit (a county directly under its
    province, such as Hainan's 省直辖县, stands for itself)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    province = region_code.str.slice(0, 2) + "0000"
    if level == "province":
        return province
    codes = regions()["code"].implode()
    prefecture = region_code.str.slice(0, 4) + "00"
    return (pl.when(region_code.is_in(codes) & ~region_code.str.ends_with("00")).then(region_code)
            .when(prefecture.is_in(codes)).then(prefecture).otherwise(province))


def completeness(expected: pl.DataFrame, level: str = "province") -> pl.DataFrame:
    """Counts per region × frequency × period of an `expected_reports` frame: owed, reported (on time),
    late, missing, and reported_pct = (reported + late) / owed in percent."""
    names = regions().select(region_code="code", region_name="name")
    counts = (
        expected.with_columns(region_code=region_of(pl.col("region_code"), level))
        .group_by("region_code", "frequency", "period")
        .agg(report_due_on=pl.col("report_due_on").min(), owed=pl.len(),
             **{s: (pl.col("status") == s).sum() for s in STATUSES})
    )
    return (
        counts.join(names, on="region_code", how="left")
        .with_columns(region_name=pl.col("region_name").fill_null(pl.col("region_code")),
                      reported_pct=((pl.col("reported") + pl.col("late")) / pl.col("owed") * 100).round(1))
        .select(list(COMPLETENESS_SCHEMA)).cast(COMPLETENESS_SCHEMA)
        .sort("frequency", "region_code", "report_due_on")
    )


def firms_in_cell(expected: pl.DataFrame, level: str, region_code: str | None = None, period: str | None = None,
                  frequency: str | None = None, status: str | None = None) -> pl.DataFrame:
    """The firms behind one heatmap cell (any argument left None does not filter)."""
    out = expected
    if region_code:
        out = out.filter(region_of(pl.col("region_code"), level) == region_code)
    if period:
        out = out.filter(pl.col("period") == period)
    if frequency:
        out = out.filter(pl.col("frequency") == frequency)
    if status:
        out = out.filter(pl.col("status") == status)
    return out


# ---------------------------------------------------------------- ingestion runs and rejected rows

RUN_SCHEMA = run_scope.RUN_SCHEMA


def recent_runs(principal: Principal, limit: int = 50, *, engine: Engine | None = None) -> pl.DataFrame:
    """The latest ingestion runs the principal may see, newest first (RUN_SCHEMA; times in UTC). A scoped
    principal sees a run only for their rows, and its counts are of those rows (registry.run_scope)."""
    return run_scope.visible_runs(principal, _engine(engine), limit)


def rejected_rows(principal: Principal, run_ids: Sequence[int], *, engine: Engine | None = None) -> pl.DataFrame:
    """The rejected rows of runs that are the principal's (registry.run_scope), ready to send back to a firm:
    run_id, file_name, row, column, reason, then the row's cells as the file had them (one column per header;
    whole-file and column notes have none)."""
    base, raws = run_scope.visible_rejections(principal, _engine(engine), run_ids)
    headers = list(dict.fromkeys(k for raw in raws for k in raw))
    if not headers:
        return base
    cells = pl.DataFrame({h: [None if raw.get(h) is None else str(raw.get(h)) for raw in raws] for h in headers},
                         schema=dict.fromkeys(headers, pl.String))
    # A header that clashes with ours keeps the file's name with a mark.
    return pl.concat([base, cells.rename({h: f"{h} (原值)" for h in headers if h in base.columns})],
                     how="horizontal")


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


def ingest_uploads(engine: Engine, uploads: Sequence[Upload], kind: str | None = None,
                   progress: ProgressCallback | None = None, actor: str | None = None) -> list[FileResult]:
    """Load files uploaded in the dashboard exactly as `zjtx ingest` does (registry.ingest, source `upload`):
    the same validation, runs, archive and quarantine. The files keep their own names. Each file gets its own
    outcome, in the order given: a file refused by type or size (registry.ingest.guard) or one that cannot be
    read or loaded is `rejected`/`failed` with its reason, and the other files still load. `actor` (the
    signed-in username) is who the audit trail names for each run."""
    refused: dict[int, FileResult] = {}
    with tempfile.TemporaryDirectory(prefix="zjtx-upload-") as folder:
        paths: list[Path] = []
        for index, upload in enumerate(uploads):
            try:
                check_upload(upload.name, len(upload.data))
            except UnsafeFile as exc:
                refused[index] = FileResult(upload.name, None, None, "rejected",
                                            rejections=[Rejection(None, None, exc.reason)])
                continue
            # One sub-folder per file: two uploads with the same name stay two files.
            target = Path(folder) / str(index) / safe_name(Path(upload.name).name)
            target.parent.mkdir()
            target.write_bytes(upload.data)
            paths.append(target)
        loaded = iter(ingest_each(engine, paths, kind=kind, source="upload", progress=progress, actor=actor))
        return [refused[i] if i in refused else next(loaded) for i in range(len(uploads))]


# ---------------------------------------------------------------- scheduled jobs

JOB_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "job": pl.String, "label": pl.String, "cron": pl.String, "last_started": pl.Datetime("us"),
    "last_finished": pl.Datetime("us"), "last_status": pl.String, "last_error": pl.String,
    "next_run": pl.Datetime("us", "UTC"), "pending_requests": pl.Int64,
}


def jobs_overview(settings: Settings | None = None, now: datetime | None = None, *,
                  engine: Engine | None = None) -> pl.DataFrame:
    """One row per scheduled job: its cron, the last run (start, end, status, error), the next scheduled run
    (null when disabled) and the number of "run now" requests not yet picked up."""
    settings = settings or get_settings()
    now = now or datetime.now(ZoneInfo("UTC"))
    eng = _engine(engine)
    latest = sa.select(JR.c.job, sa.func.max(JR.c.id).label("id")).group_by(JR.c.job).subquery()
    with eng.connect() as conn:
        last = {r.job: r for r in conn.execute(
            sa.select(JR.c.job, JR.c.started_at, JR.c.finished_at, JR.c.status, JR.c.error)
            .join(latest, latest.c.id == JR.c.id))}
        pending: dict[str, int] = dict(conn.execute(sa.select(JQ.c.job, sa.func.count())
                                                    .where(JQ.c.picked_at.is_(None))
                                                    .group_by(JQ.c.job)).all())
    rows = []
    for spec in JOBS.values():
        cron = getattr(settings.scheduler, spec.cron_setting, "") or ""
        next_run = None
        if cron.strip():
            next_run = parse_cron(cron, settings.scheduler.timezone, spec.cron_setting).get_next_fire_time(None, now)
        run = last.get(spec.name)
        rows.append({
            "job": spec.name, "label": spec.label_zh, "cron": cron,
            "last_started": run.started_at if run else None, "last_finished": run.finished_at if run else None,
            "last_status": run.status if run else None, "last_error": run.error if run else None,
            "next_run": next_run.astimezone(ZoneInfo("UTC")) if next_run else None,
            "pending_requests": pending.get(spec.name, 0),
        })
    return pl.DataFrame(rows, schema=JOB_SCHEMA)
