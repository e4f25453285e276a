"""The system of record (SQLModel tables). One class per entity; the schema itself is owned by Alembic.

Conventions: money in 万元 (as officials write it), ratios in percent, dates as DATE, timestamps in UTC.
Blank metrics are NULL, never 0: "not reported" is a fact of its own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Table, UniqueConstraint, inspect, text
from sqlmodel import Field, SQLModel

# Ladder order (rank = position). tech_sme 科技型中小企业 sits with innovative_sme in tier 1 (科技和创新型中小企业,
# 工信部企业〔2026〕2号), so it comes first: holding it and then innovative_sme is not a step down.
TIERS = ("tech_sme", "innovative_sme", "zjtx_sme", "little_giant", "key_little_giant", "single_champion")
RECOGNITION_STATUSES = ("active", "revoked", "withdrawn", "superseded", "expired")
REPORT_METRICS = (
    "revenue", "main_revenue", "net_profit", "total_assets", "total_liabilities", "taxes_paid",
    "rd_expense", "employees", "rd_staff", "export_value", "main_product_revenue", "equity_financing",
    "invention_patents", "utility_patents", "design_patents", "software_copyrights", "market_share",
    "province_rank",
    # Inputs of the 2022 and 2026 national rules (CONTRACT §3b): stocks at year end.
    "class1_ip", "class1_ip_high_value", "class1_ip_own", "class2_ip", "tech_staff", "total_cost",
    "intl_market_share", "national_rank",
)
# Flows are summed over sub-annual periods; stocks are read at period end (CONTRACT §2).
FLOW_METRICS = ("revenue", "main_revenue", "net_profit", "taxes_paid", "rd_expense", "export_value",
                "main_product_revenue", "equity_financing", "total_cost")
FLAG_KINDS = ("expiring", "review_due", "expired", "exit", "promotion", "missing_report", "anomaly")


def utcnow() -> datetime:
    return datetime.now(UTC)


def table_of(model: type[SQLModel]) -> Table:
    """The SQLAlchemy Core table of a table model (its `__table__`, which SQLModel sets at run time without
    declaring it to type checkers)."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


class Enterprise(SQLModel, table=True):
    __tablename__ = "enterprise"
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, unique=True, index=True)
    name: str
    # Full-width/half-width folded name, for search and matching.
    name_norm: str = Field(index=True)
    region_code: str = Field(max_length=6, index=True)
    province_code: str = Field(max_length=2, index=True)
    industry_code: str | None = Field(default=None, max_length=5, index=True)
    founded_on: date | None = None
    registered_capital: float | None = None
    ownership: str | None = None
    listing_board: str | None = Field(default=None, max_length=16)
    main_product: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Recognition(SQLModel, table=True):
    """One recognition at one tier by one jurisdiction. A passed 复核 is a new row superseding the old."""

    __tablename__ = "recognition"
    __table_args__ = (
        Index("ix_recognition_scope", "jurisdiction", "tier", "status"),
        Index("ix_recognition_valid_until", "valid_until"),
    )
    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    tier: str = Field(max_length=40, index=True)
    jurisdiction: str = Field(max_length=40)
    batch: str | None = Field(default=None, max_length=40)
    recognized_on: date
    valid_until: date | None = None
    status: str = Field(default="active", max_length=16)
    document_no: str | None = None
    superseded_by: int | None = Field(default=None, foreign_key="recognition.id")
    ended_on: date | None = None
    end_reason: str | None = None
    ingestion_run_id: int | None = Field(default=None, foreign_key="ingestion_run.id")
    created_at: datetime = Field(default_factory=utcnow)


class Report(SQLModel, table=True):
    """Operating data for one firm, one period, one basis (当期 period or 本年累计 ytd)."""

    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "period", "basis", name="uq_report_firm_period_basis"),
        Index("ix_report_period", "period_type", "year", "period"),
    )
    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    period: str = Field(max_length=7)  # 2024 | 2024Q3 | 2024-07
    period_type: str = Field(max_length=10)  # annual | quarterly | monthly
    year: int
    period_end: date
    basis: str = Field(default="period", max_length=6)  # period | ytd
    revenue: float | None = None
    main_revenue: float | None = None
    net_profit: float | None = None
    total_assets: float | None = None
    total_liabilities: float | None = None
    taxes_paid: float | None = None
    rd_expense: float | None = None
    employees: float | None = None
    rd_staff: float | None = None
    export_value: float | None = None
    main_product_revenue: float | None = None
    equity_financing: float | None = None
    invention_patents: float | None = None
    utility_patents: float | None = None
    design_patents: float | None = None
    software_copyrights: float | None = None
    market_share: float | None = None
    province_rank: float | None = None
    class1_ip: float | None = None
    class1_ip_high_value: float | None = None
    class1_ip_own: float | None = None
    class2_ip: float | None = None
    tech_staff: float | None = None
    total_cost: float | None = None
    intl_market_share: float | None = None
    national_rank: float | None = None
    ingestion_run_id: int | None = Field(default=None, foreign_key="ingestion_run.id")
    updated_at: datetime = Field(default_factory=utcnow)


class ReportRevision(SQLModel, table=True):
    """The values a report row had before a later file replaced them (nothing is lost on correction)."""

    __tablename__ = "report_revision"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    values: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    replaced_by_run_id: int | None = Field(default=None, foreign_key="ingestion_run.id")
    replaced_at: datetime = Field(default_factory=utcnow)


class Attribute(SQLModel, table=True):
    """A dated fact about a firm (研发机构, 高新技术企业, 从事细分市场起始年 ...)."""

    __tablename__ = "attribute"
    __table_args__ = (Index("ix_attribute_firm_name", "enterprise_id", "attribute"),)
    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id")
    attribute: str = Field(max_length=60, index=True)
    value: str
    effective_on: date
    expires_on: date | None = None
    evidence: str | None = None
    ingestion_run_id: int | None = Field(default=None, foreign_key="ingestion_run.id")


class Event(SQLModel, table=True):
    """A dated event (accident, tax violation, rename, listing, deregistration ...)."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_firm_kind", "enterprise_id", "event"),)
    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id")
    event: str = Field(max_length=40, index=True)
    occurred_on: date
    notified_on: date | None = None
    detail: str | None = None
    source: str | None = None
    ingestion_run_id: int | None = Field(default=None, foreign_key="ingestion_run.id")


class FirmTarget(SQLModel, table=True):
    """One row of a 重点小巨人 目标表: baseline → year-1 → year-2 target for one indicator."""

    __tablename__ = "firm_target"
    __table_args__ = (UniqueConstraint("enterprise_id", "indicator", "start_period", name="uq_firm_target"),)
    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    indicator: str = Field(max_length=60)
    baseline: float | None = None
    target_year1: float | None = None
    target_year2: float | None = None
    start_period: str = Field(max_length=7)
    direction: str = Field(default="higher", max_length=6)  # higher | lower is better
    unit: str | None = None


class RegionalTarget(SQLModel, table=True):
    """A cultivation target: jurisdiction → tier → year → count (cascades province → city → county)."""

    __tablename__ = "regional_target"
    __table_args__ = (UniqueConstraint("jurisdiction", "tier", "year", name="uq_regional_target"),)
    id: int | None = Field(default=None, primary_key=True)
    jurisdiction: str = Field(max_length=40, index=True)
    tier: str = Field(max_length=40)
    year: int
    target_count: int
    parent_jurisdiction: str | None = Field(default=None, max_length=40)
    source: str | None = None


class Flag(SQLModel, table=True):
    """A lifecycle flag. Recomputed idempotently: open while it holds, resolved (dated) when it stops."""

    __tablename__ = "flag"
    __table_args__ = (
        Index("ix_flag_open", "kind", "resolved_on"),
        Index("ix_flag_key", "key"),
        # At most one open flag per key, whatever runs the flags job (two processes at once would otherwise
        # both open it): a partial unique index, on both engines.
        Index("uq_flag_open_key", "key", unique=True, sqlite_where=text("resolved_on IS NULL"),
              postgresql_where=text("resolved_on IS NULL")),
        # The open flags' counts per kind, severity and firm from the index alone (migration 0009).
        Index("ix_flag_open_counts", "kind", "severity", "enterprise_id", sqlite_where=text("resolved_on IS NULL"),
              postgresql_where=text("resolved_on IS NULL")),
    )
    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    recognition_id: int | None = Field(default=None, foreign_key="recognition.id")
    tier: str | None = Field(default=None, max_length=40)
    jurisdiction: str | None = Field(default=None, max_length=40)
    kind: str = Field(max_length=20)
    severity: str = Field(max_length=10)  # info | warning | critical
    due_on: date | None = None
    # Identifies "the same flag" across recomputations: firm + recognition + kind + reason.
    key: str = Field(max_length=200)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    opened_on: date
    resolved_on: date | None = None


class ReviewDecision(SQLModel, table=True):
    __tablename__ = "review_decision"
    id: int | None = Field(default=None, primary_key=True)
    recognition_id: int = Field(foreign_key="recognition.id", index=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    decision: str = Field(max_length=10)  # renew | revoke | watch
    reason: str
    decided_by: str = Field(max_length=80)
    decided_at: datetime = Field(default_factory=utcnow)
    new_recognition_id: int | None = Field(default=None, foreign_key="recognition.id")
    ban_until: date | None = None
    flag_id: int | None = Field(default=None, foreign_key="flag.id")


class AuditLog(SQLModel, table=True):
    """Append-only: who did what, when, before and after, why. Never updated or deleted."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=80)
    action: str = Field(max_length=60, index=True)
    entity: str = Field(max_length=40)
    entity_id: str | None = Field(default=None, max_length=80)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    reason: str | None = None


class IngestionRun(SQLModel, table=True):
    __tablename__ = "ingestion_run"
    id: int | None = Field(default=None, primary_key=True)
    file_name: str
    sha256: str = Field(max_length=64, index=True)
    kind: str | None = Field(default=None, max_length=20)
    status: str = Field(max_length=12)  # running | loaded | partial | rejected | unchanged | failed
    source: str = Field(default="cli", max_length=10)  # cli | inbox | upload
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    error: str | None = None
    archive_path: str | None = None
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class RejectedRow(SQLModel, table=True):
    __tablename__ = "rejected_row"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="ingestion_run.id", index=True)
    row: int | None = None  # 1-based data row; None for a whole-file rejection
    column: str | None = None
    reason: str
    raw: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job_started", "job", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40)
    scheduled_for: datetime | None = None
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    status: str = Field(default="running", max_length=10)  # running | success | failed
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = None


class JobRequest(SQLModel, table=True):
    """A "run now" request written by the dashboard and picked up by the scheduler process."""

    __tablename__ = "job_request"
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40)
    requested_by: str = Field(max_length=80)
    requested_at: datetime = Field(default_factory=utcnow)
    picked_at: datetime | None = None
    job_run_id: int | None = Field(default=None, foreign_key="job_run.id")


class Snapshot(SQLModel, table=True):
    """Daily counts by jurisdiction × tier × status, kept for the pipeline history."""

    __tablename__ = "snapshot"
    __table_args__ = (UniqueConstraint("taken_on", "jurisdiction", "tier", "status", name="uq_snapshot"),)
    id: int | None = Field(default=None, primary_key=True)
    taken_on: date = Field(index=True)
    jurisdiction: str = Field(max_length=40)
    tier: str = Field(max_length=40)
    status: str = Field(max_length=16)
    count: int


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True, index=True)
    display_name: str | None = None
    password_hash: str | None = None
    role: str = Field(max_length=10)  # admin | official | analyst | manager
    jurisdiction: str = Field(default="cn", max_length=40)
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class SignInSession(SQLModel, table=True):
    """A dashboard sign-in that outlives the browser tab: the cookie holds a random token, this row only its
    SHA-256 hash (a copy of the table signs nobody in). Revoked on sign-out, password change and disable."""

    __tablename__ = "app_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    username: str = Field(max_length=80, index=True)
    method: str = Field(max_length=10)  # password | sso
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    revoked_reason: str | None = Field(default=None, max_length=80)


class SchedulerLock(SQLModel, table=True):
    """Single-scheduler guard on SQLite (PostgreSQL uses an advisory lock as well)."""

    __tablename__ = "scheduler_lock"
    id: int = Field(default=1, primary_key=True)
    holder: str
    pid: int
    acquired_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow)


class RegistryVersion(SQLModel, table=True):
    """One row whose counter changes with every write to the tables a policy evaluation reads (enterprise,
    recognition, report, attribute, event): SQLite triggers bump it (migration 0007). It keys the columnar copy
    of those tables (BundleCache), so a copy is used only for exactly the data it was made from."""

    __tablename__ = "registry_version"
    id: int = Field(default=1, primary_key=True)
    n: int = 0


class BundleCache(SQLModel, table=True):
    """A columnar copy (Parquet) of the evaluation's tables as of one registry_version, written by the flags
    job and read by whole-registry reads on SQLite instead of the rows (registry/policy/bundle_cache.py)."""

    __tablename__ = "bundle_cache"
    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(index=True)
    name: str = Field(max_length=20)  # enterprises | recognitions | reports | attributes | events
    part: int  # a frame is split into parts of at most PART_ROWS rows
    payload: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow)


class FinishedResult(SQLModel, table=True):
    """A heavy figure computed by the flags job for the whole registry (复核 risk, rule impact), kept for the pages
    to read instead of recomputing it on first visit (registry.result_store). Valid only for the data version and
    policy files it was computed from: one row per kind, the latest replacing the one before."""

    __tablename__ = "finished_result"
    __table_args__ = (UniqueConstraint("kind", "params", name="uq_finished_result_key"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # review_risk | rule_impact
    params: str = Field(max_length=400)  # canonical JSON of the parameters (as_of, months / from, to, scope)
    data_version: str = Field(max_length=200)  # registry.queries.data_version, read before computing
    policy_fingerprint: str = Field(max_length=64)  # registry.result_store.policy_fingerprint
    computed_at: datetime = Field(default_factory=utcnow)
    seconds: float = 0.0  # how long the computation took
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # registry.result_store.pack
