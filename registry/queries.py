"""Read-only queries behind the dashboard, returning polars frames.

Every firm-level query takes the asking Principal first and is limited to its jurisdiction (registry.access).
Counts are aggregated in SQL so that they stay fast on a 200,000-firm database; frames are read with
`pl.read_database` with an explicit schema, so an empty result has the same columns and types as a full one.
"A valid recognition on a date" = status `active` and recognized_on ≤ date ≤ valid_until (or no valid_until).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine, Select

from registry import fastread, lifecycle, reference
from registry.access import Principal, region_prefixes, scope_clause
from registry.db import engine_or_default as _engine
from registry.identity import normalize_name
from registry.models import (
    REPORT_METRICS,
    TIERS,
    Attribute,
    Enterprise,
    Event,
    Flag,
    IngestionRun,
    JobRun,
    Recognition,
    Report,
    ReviewDecision,
    table_of,
)
from registry.policy import bundle_cache
from registry.policy.bundle import Bundle, load_bundle
from registry.selection import firm_rows_source, held_on

E = table_of(Enterprise)
R = table_of(Recognition)
P = table_of(Report)
A = table_of(Attribute)
V = table_of(Event)
F = table_of(Flag)
IR = table_of(IngestionRun)
JR = table_of(JobRun)

FIRM_COLUMNS = {
    "uscc": pl.String, "name": pl.String, "region_code": pl.String, "province_code": pl.String,
    "industry_code": pl.String, "founded_on": pl.Date, "registered_capital": pl.Float64,
    "ownership": pl.String, "listing_board": pl.String, "main_product": pl.String,
}


def _read(engine: Engine, stmt: Select[Any], schema: Mapping[str, pl.DataType | type[pl.DataType]]) -> pl.DataFrame:
    # Columnar (registry.fastread): at 200,000 firms SQLAlchemy's rows took 3.4 s of the 3.9 s of
    # recognition_states, which the overview asks for on its first visit after new data.
    return fastread.read_frame(engine, stmt, schema)


def _scoped(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """Limit a statement that already joins `enterprise` to the principal's firms."""
    clause = scope_clause(principal, E.c.region_code)
    return stmt if clause is None else stmt.where(clause)


def _from_recognitions(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """Select from `recognition`, joining `enterprise` only when the principal's scope needs its region code
    (the join is most of the cost of a national count on a large registry)."""
    source, conditions = firm_rows_source(R, principal)
    return stmt.select_from(source).where(*conditions)


def valid_on(as_of: date) -> sa.ColumnElement[bool]:
    """The recognition was in force on `as_of`, read from the history (`registry.selection.held_on`): a past
    date keeps its answer when a renewal or revocation is recorded later."""
    return held_on(as_of)


def _tier_order(frame: pl.DataFrame) -> pl.DataFrame:
    """National tiers in ladder order first, then regional tiers alphabetically."""
    rank = {t: i for i, t in enumerate(TIERS)}
    return frame.sort(
        pl.col("tier").replace_strict(rank, default=len(TIERS), return_dtype=pl.Int32), pl.col("tier")
    )


# ---------------------------------------------------------------- overview counts


def counts_by_tier(principal: Principal, as_of: date, *, engine: Engine | None = None) -> pl.DataFrame:
    """Firms holding a valid recognition on `as_of`, per tier: `tier`, `firms`.

    Every national tier is present (0 when none); regional tiers appear when they have firms.
    """
    stmt = _from_recognitions(
        sa.select(R.c.tier, sa.func.count(sa.distinct(R.c.enterprise_id)).label("firms")), principal
    ).where(valid_on(as_of)).group_by(R.c.tier)
    counted = _read(_engine(engine), stmt, {"tier": pl.String, "firms": pl.Int64})
    national = pl.DataFrame({"tier": list(TIERS)}, schema={"tier": pl.String})
    every = national.join(counted, on="tier", how="full", coalesce=True).with_columns(pl.col("firms").fill_null(0))
    return _tier_order(every)


def counts_by_province(
    principal: Principal, as_of: date, tier: str | None = None, *, engine: Engine | None = None
) -> pl.DataFrame:
    """Firms with a valid recognition (of `tier`, or of any tier) per province, most first:
    `province_code` (2 digits), `name_zh`, `name_en`, `firms`."""
    # Firms with a valid recognition, as EXISTS: one index probe per firm, no DISTINCT over a join.
    holds = sa.exists().where(R.c.enterprise_id == E.c.id, valid_on(as_of))
    if tier:
        holds = holds.where(R.c.tier == tier)
    stmt = sa.select(E.c.province_code, sa.func.count().label("firms")).where(holds).group_by(E.c.province_code)
    counted = _read(_engine(engine), _scoped(stmt, principal), {"province_code": pl.String, "firms": pl.Int64})
    return (
        counted.join(province_names(), on="province_code", how="left")
        .with_columns(pl.col("name_zh").fill_null(pl.col("province_code")),
                      pl.col("name_en").fill_null(pl.col("province_code")))
        .select("province_code", "name_zh", "name_en", "firms")
        .sort(["firms", "province_code"], descending=[True, False])
    )


AREA_LEVELS = {2: "city", 4: "county"}  # the level below an area given by its code prefix


def counts_by_area(
    principal: Principal, as_of: date, within: str, tier: str | None = None, *, engine: Engine | None = None
) -> pl.DataFrame:
    """Firms with a valid recognition per area one level below `within` — a province (2-digit prefix) by city,
    a city (4-digit prefix) by county — most first: `code` (the prefix), `name_zh`, `name_en`, `firms`.
    GB/T 2260 names (reference.area_names); English shows the Chinese name with its code (no English list)."""
    if len(within) not in AREA_LEVELS or not within.isdigit():
        raise ValueError(f"within must be a 2- or 4-digit region prefix, got {within!r}")
    width = len(within) + 2
    holds = sa.exists().where(R.c.enterprise_id == E.c.id, valid_on(as_of))
    if tier:
        holds = holds.where(R.c.tier == tier)
    code = sa.func.substr(E.c.region_code, 1, width).label("code")
    stmt = (sa.select(code, sa.func.count().label("firms"))
            .where(holds, E.c.region_code.like(f"{within}%")).group_by(code))
    counted = _read(_engine(engine), _scoped(stmt, principal), {"code": pl.String, "firms": pl.Int64})
    names = reference.area_names(AREA_LEVELS[len(within)]).rename({"prefix": "code", "name": "name_zh"})
    return (
        counted.join(names, on="code", how="left")
        .with_columns(pl.col("name_zh").fill_null(pl.col("code")))
        .with_columns(name_en=pl.format("{} ({})", pl.col("name_zh"), pl.col("code")))
        .select("code", "name_zh", "name_en", "firms")
        .sort(["firms", "code"], descending=[True, False])
    )


def province_names() -> pl.DataFrame:
    """2-digit province code → Chinese name (GB/T 2260) and English name (jurisdictions table)."""
    provinces = reference.regions().filter(pl.col("level") == "province").select(
        pl.col("code").str.slice(0, 2).alias("province_code"), pl.col("name").alias("name_zh")
    )
    # Matched by Chinese name: Xinjiang's jurisdiction lists 4-digit prefixes (兵团 6590 is a jurisdiction of its own).
    english = reference.jurisdictions().filter(pl.col("level") == "province").select("name_zh", "name_en")
    return provinces.join(english, on="name_zh", how="left").with_columns(
        pl.col("name_en").fill_null(pl.col("province_code").replace_strict(
            OTHER_PROVINCE_NAMES_EN, default=pl.col("name_zh")))
    )


# Province-level units that recognise no firms (no jurisdiction row) but have GB/T 2260 codes.
OTHER_PROVINCE_NAMES_EN = {"71": "Taiwan", "81": "Hong Kong", "82": "Macao"}


def industry_sections() -> pl.DataFrame:
    """GB/T 4754-2017 门类: `section` letter and Chinese `name`."""
    return reference.industries().filter(pl.col("level") == "section").select(
        pl.col("code").alias("section"), "name"
    )


RECOGNITION_HISTORY = {
    "id": pl.Int64, "uscc": pl.String, "name": pl.String, "region_code": pl.String, "tier": pl.String,
    "jurisdiction": pl.String, "batch": pl.String, "recognized_on": pl.Date, "valid_until": pl.Date,
    "status": pl.String, "ended_on": pl.Date,
}


def recognition_states(principal: Principal, as_of: date, review_due_days: int, expiring_days: int, *,
                       engine: Engine | None = None) -> pl.DataFrame:
    """The principal's recognitions live on `as_of` with their lifecycle state, by the one definition in
    `registry.lifecycle.recognition_states` (each policy's own 复核 and validity rules, the recognition history as
    it stood on that date)."""
    history = _recognition_history(_engine(engine), principal, as_of)
    states = lifecycle.recognition_states(history, as_of, lifecycle.FlagWindows(review_due_days, expiring_days))
    # What a reader needs, not the internals (row ids, the index of the rules); one order whatever the row ids.
    return states.select(*STATE_COLUMNS).sort("uscc", "tier", "jurisdiction", "recognized_on")


def _recognition_history(eng: Engine, principal: Principal, as_of: date) -> pl.DataFrame:
    """The principal's recognitions granted by `as_of` (not withdrawn) with their firm's uscc, name and region:
    from the columnar copy of the tables when it is current (SQLite, kept by the flags job;
    registry.policy.bundle_cache), else from the tables, in one snapshot either way. At 200,000 firms the SELECT
    hands 3.4 million values to Python one by one (1.7 s of the overview's and the briefing's first run); the copy
    is Parquet. The principal's firms are found by the SQL scope clause itself, so the scope has one definition."""
    clause = scope_clause(principal, E.c.region_code)
    in_scope = {} if clause is None else {
        "in_scope": (sa.select(E.c.id.label("enterprise_id")).where(clause), {"enterprise_id": pl.Int64})}
    from_tables = {"history": (_scoped(
        sa.select(R.c.id, E.c.uscc, E.c.name, E.c.region_code, R.c.tier, R.c.jurisdiction, R.c.batch,
                  R.c.recognized_on, R.c.valid_until, R.c.status, R.c.ended_on)
        .select_from(R.join(E, E.c.id == R.c.enterprise_id))
        .where(R.c.recognized_on <= as_of, R.c.status != "withdrawn"), principal), RECOGNITION_HISTORY)}
    frames, copy = bundle_cache.read_beside_copy(eng, in_scope, {
        "enterprises": ["enterprise_id", "uscc", "name", "region_code"],
        "recognitions": ["enterprise_id", "id", "tier", "jurisdiction", "batch", "recognized_on", "valid_until",
                         "status", "ended_on"]}, otherwise=from_tables)
    if copy is None:
        return frames["history"]
    firms = copy["enterprises"]
    if "in_scope" in frames:
        firms = firms.join(frames["in_scope"], on="enterprise_id", how="semi")
    # As in SQL, a null recognized_on or status matches neither condition.
    rows = copy["recognitions"].filter(pl.col("recognized_on") <= as_of, pl.col("status") != "withdrawn")
    return (rows.join(firms, on="enterprise_id", how="inner")
            .select(pl.col(name).cast(dtype) for name, dtype in RECOGNITION_HISTORY.items()))


STATE_COLUMNS = ("uscc", "name", "region_code", "tier", "jurisdiction", "batch", "recognized_on", "valid_until",
                 "validity_years", "review_at_years", "rule_source", "review_on", "days_left", "review_due",
                 "expiring", "expired", "state")


def due_counts(
    principal: Principal, as_of: date, review_due_days: int, expiring_days: int, *, engine: Engine | None = None
) -> pl.DataFrame:
    """Per tier, firms whose recognition live on `as_of` is `review_due`, `expiring` or `expired` — the same
    definition as the lifecycle flags (`recognition_states`). A recognition can be review_due and expiring."""
    return due_counts_of(recognition_states(principal, as_of, review_due_days, expiring_days, engine=engine))


def due_counts_of(states: pl.DataFrame) -> pl.DataFrame:
    """due_counts from the frame of `recognition_states` (a page that shows the list too reads it once)."""
    schema = {"tier": pl.String, "review_due": pl.Int64, "expiring": pl.Int64, "expired": pl.Int64}
    counts = (
        states.filter(pl.any_horizontal(lifecycle.DATE_STATES))
        .group_by("tier")
        .agg(*(pl.col("uscc").filter(pl.col(name)).n_unique().alias(name) for name in lifecycle.DATE_STATES))
    )
    return _tier_order(counts.select(pl.col(name).cast(dtype) for name, dtype in schema.items()))


DUE_COLUMNS = {
    "uscc": pl.String, "name": pl.String, "region_code": pl.String, "tier": pl.String,
    "jurisdiction": pl.String, "batch": pl.String, "recognized_on": pl.Date, "valid_until": pl.Date,
}


def due_recognitions(
    principal: Principal, as_of: date, review_due_days: int, expiring_days: int, *, limit: int | None = None,
    engine: Engine | None = None,
) -> pl.DataFrame:
    """The recognitions behind due_counts, soonest first, with `days_left` and `state`
    (expired | expiring | review_due: the most pressing that holds)."""
    return due_recognitions_of(recognition_states(principal, as_of, review_due_days, expiring_days, engine=engine),
                               limit)


def due_recognitions_of(states: pl.DataFrame, limit: int | None = None) -> pl.DataFrame:
    """due_recognitions from the frame of `recognition_states`."""
    frame = (
        states.filter(pl.col("state").is_not_null())
        .sort("valid_until", "uscc")
        .select(*(pl.col(name).cast(dtype) for name, dtype in DUE_COLUMNS.items()),
                pl.col("days_left").cast(pl.Int64), "state")
    )
    return frame if limit is None else frame.head(limit)


def open_flags_by_kind(principal: Principal, *, as_of: date | None = None, engine: Engine | None = None
                       ) -> pl.DataFrame:
    """Open lifecycle flags per kind and severity: `kind`, `severity`, `firms`, `flags`. Open now, or, given
    `as_of`, open on that date as the flags job had stored them (opened on or before it, resolved after it or not
    at all): a past date's answer does not change when later decisions close its flags."""
    still_open = F.c.resolved_on.is_(None) if as_of is None else sa.and_(
        F.c.opened_on <= as_of, sa.or_(F.c.resolved_on.is_(None), F.c.resolved_on > as_of))
    source, conditions = firm_rows_source(F, principal)
    stmt = (
        sa.select(F.c.kind, F.c.severity, sa.func.count(sa.distinct(F.c.enterprise_id)).label("firms"),
                  sa.func.count().label("flags"))
        .select_from(source)
        .where(still_open, *conditions)
        .group_by(F.c.kind, F.c.severity)
        .order_by(F.c.kind, F.c.severity)
    )
    schema = {"kind": pl.String, "severity": pl.String, "firms": pl.Int64, "flags": pl.Int64}
    return _read(_engine(engine), stmt, schema)


# ---------------------------------------------------------------- the registry list


def search_firms(
    principal: Principal,
    text: str | None = None,
    uscc: str | None = None,
    province: str | None = None,
    industry: str | None = None,
    tier: str | None = None,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
    *,
    engine: Engine | None = None,
) -> tuple[pl.DataFrame, int]:
    """One page of firms matching every given filter, ordered by name, and the number of matches.

    text: substring of the normalised name (full-/half-width and spacing do not matter, Latin letters any case);
    uscc: code or its beginning; province: 2-digit code; industry: GB/T 4754 section letter or code prefix;
    tier / status: the firm has a recognition of that tier and/or that status.
    Columns: FIRM_COLUMNS + `tiers` (the tiers the firm holds as active recognitions, ladder order, "," joined).
    """
    conditions: list[sa.ColumnElement[bool]] = []
    if text and text.strip():
        conditions.append(sa.func.lower(E.c.name_norm).contains(normalize_name(text).lower(), autoescape=True))
    if uscc and uscc.strip():
        conditions.append(E.c.uscc.startswith(uscc.strip().upper(), autoescape=True))
    if province:
        conditions.append(E.c.province_code == province)
    if industry:
        conditions.append(E.c.industry_code.startswith(industry.strip().upper(), autoescape=True))
    if tier or status:
        holds = sa.select(R.c.id).where(R.c.enterprise_id == E.c.id)
        if tier:
            holds = holds.where(R.c.tier == tier)
        if status:
            holds = holds.where(R.c.status == status)
        conditions.append(sa.exists(holds))
    scope = scope_clause(principal, E.c.region_code)
    if scope is not None:
        conditions.append(scope)

    eng = _engine(engine)
    count_stmt = sa.select(sa.func.count()).select_from(E).where(*conditions)
    page_stmt = (
        sa.select(E.c.id, *(E.c[name] for name in FIRM_COLUMNS))
        .where(*conditions)
        .order_by(E.c.name_norm, E.c.id)
        .offset(max(0, offset))
        .limit(max(0, limit))
    )
    with eng.connect() as conn:
        total = int(conn.execute(count_stmt).scalar_one())
    page = _read(eng, page_stmt, {"id": pl.Int64, **FIRM_COLUMNS})
    page_ids = page_stmt.with_only_columns(E.c.id).subquery()
    return _with_active_tiers(eng, page, sa.select(page_ids.c.id)).drop("id"), total


def _with_active_tiers(engine: Engine, firms: pl.DataFrame, ids: Select[Any]) -> pl.DataFrame:
    """Add `tiers` to the firms, reading the recognitions of the firms `ids` selects (a subquery, not a list of
    ids: a download of every firm would otherwise send 200,000 parameters)."""
    if firms.is_empty():
        return firms.with_columns(pl.lit("").alias("tiers"))
    held = _read(
        engine,
        sa.select(R.c.enterprise_id.label("id"), R.c.tier).where(R.c.enterprise_id.in_(ids), R.c.status == "active")
        .distinct(),
        {"id": pl.Int64, "tier": pl.String},
    )
    tiers = (
        _tier_order(held).group_by("id", maintain_order=True)
        .agg(pl.col("tier").str.join(",").alias("tiers"))
    )
    return firms.join(tiers, on="id", how="left").with_columns(pl.col("tiers").fill_null(""))


def search_firms_all(
    principal: Principal, *, engine: Engine | None = None, **filters: Any
) -> pl.DataFrame:
    """Every firm matching the filters of search_firms (for a download), without paging."""
    _, total = search_firms(principal, limit=0, engine=engine, **filters)
    frame, _ = search_firms(principal, limit=total, engine=engine, **filters)
    return frame


# ---------------------------------------------------------------- one firm


def _firm_id(principal: Principal, uscc: str, engine: Engine) -> int | None:
    stmt = _scoped(sa.select(E.c.id).where(E.c.uscc == uscc.strip().upper()), principal)
    with engine.connect() as conn:
        return conn.execute(stmt).scalar_one_or_none()


def firm_profile(principal: Principal, uscc: str, *, engine: Engine | None = None) -> dict[str, Any] | None:
    """The firm's registry entry, or None when it does not exist or lies outside the principal's jurisdiction
    (the two are indistinguishable on purpose: scope must not leak existence)."""
    stmt = _scoped(
        sa.select(*(E.c[name] for name in FIRM_COLUMNS), E.c.updated_at).where(E.c.uscc == uscc.strip().upper()),
        principal,
    )
    with _engine(engine).connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


RECOGNITION_COLUMNS = {
    "id": pl.Int64, "tier": pl.String, "jurisdiction": pl.String, "batch": pl.String, "recognized_on": pl.Date,
    "valid_until": pl.Date, "status": pl.String, "document_no": pl.String, "superseded_by": pl.Int64,
    "ended_on": pl.Date, "end_reason": pl.String,
}


def _firm_rows(principal: Principal, uscc: str, engine: Engine | None, table: sa.Table,
               schema: dict[str, Any], order: list[sa.ColumnElement[Any]]) -> pl.DataFrame:
    eng = _engine(engine)
    firm_id = _firm_id(principal, uscc, eng)
    if firm_id is None:
        return pl.DataFrame(schema=schema)
    stmt = sa.select(*(table.c[name] for name in schema)).where(table.c.enterprise_id == firm_id).order_by(*order)
    return _read(eng, stmt, schema)


def firm_recognitions(principal: Principal, uscc: str, *, engine: Engine | None = None) -> pl.DataFrame:
    """Every recognition of the firm, oldest first, history included (superseded, revoked, expired)."""
    return _firm_rows(principal, uscc, engine, R, RECOGNITION_COLUMNS, [R.c.recognized_on, R.c.id])


REPORT_COLUMNS: dict[str, Any] = {
    "period": pl.String, "period_type": pl.String, "year": pl.Int64, "period_end": pl.Date, "basis": pl.String,
    **{m: pl.Float64 for m in REPORT_METRICS},
}


def firm_reports(principal: Principal, uscc: str, *, engine: Engine | None = None) -> pl.DataFrame:
    """Every operating-data report of the firm in period order (blank metrics stay null: not reported ≠ 0)."""
    return _firm_rows(principal, uscc, engine, P, REPORT_COLUMNS, [P.c.period_end, P.c.basis])


ATTRIBUTE_COLUMNS = {"attribute": pl.String, "value": pl.String, "effective_on": pl.Date, "expires_on": pl.Date,
                     "evidence": pl.String}


def firm_attributes(principal: Principal, uscc: str, *, engine: Engine | None = None) -> pl.DataFrame:
    return _firm_rows(principal, uscc, engine, A, ATTRIBUTE_COLUMNS, [A.c.attribute, A.c.effective_on])


EVENT_COLUMNS = {"event": pl.String, "occurred_on": pl.Date, "notified_on": pl.Date, "detail": pl.String,
                 "source": pl.String}


def firm_events(principal: Principal, uscc: str, *, engine: Engine | None = None) -> pl.DataFrame:
    return _firm_rows(principal, uscc, engine, V, EVENT_COLUMNS, [V.c.occurred_on])


FLAG_COLUMNS = {"kind": pl.String, "severity": pl.String, "tier": pl.String, "jurisdiction": pl.String,
                "due_on": pl.Date, "opened_on": pl.Date, "resolved_on": pl.Date}


def firm_flags(principal: Principal, uscc: str, *, engine: Engine | None = None) -> pl.DataFrame:
    """Lifecycle flags of the firm, open ones first."""
    return _firm_rows(principal, uscc, engine, F, FLAG_COLUMNS,
                      [F.c.resolved_on.is_not(None), F.c.opened_on.desc()])


# ---------------------------------------------------------------- freshness


def data_version(engine: Engine | None = None) -> str:
    """A cheap key that changes whenever the data the pages show does: a page's cache is keyed by it, so new data
    shows without a restart. Max ids are index look-ups; deleted firms are caught by the enterprise count on SQLite
    and, on PostgreSQL, by the table's delete counter (the statistics system shows it seconds after the commit;
    nothing in zjtx deletes firms): counting a million firms took 70 ms, and every page run asks for this key.
    Flags count (the pages show them); job runs do not: the inbox job records one every 5 minutes whether or not a
    file arrived, and keyed by them every page went cold for its next visitor. What shows job runs is keyed by
    the latest job-run id, which dashboard_versions returns beside it."""
    return _versions(_engine(engine), flags=True)[0]


def dashboard_versions(engine: Engine | None = None) -> tuple[str, str]:
    """(data_version, the highest job-run id) in one question: a dashboard page run asks for both once; the
    second keys what shows scheduled-job runs (the sidebar's freshness note)."""
    return _versions(_engine(engine), flags=True)


def evaluated_data_version(engine: Engine | None = None) -> str:
    """data_version without the flags: the key of what a policy evaluation reads (firms, recognitions, reports and
    whatever an ingestion run loads, review decisions). The flags job's stored results (registry.result_store) are
    keyed by it: the flags job opens flags after it has evaluated, and a key that counted them would be stale at
    once."""
    return _versions(_engine(engine), flags=False)[0]


def _versions(eng: Engine, *, flags: bool) -> tuple[str, str]:
    if eng.dialect.name == "postgresql":
        firms = [sa.select(sa.func.max(E.c.id)).scalar_subquery(), sa.literal_column(
            "(SELECT n_tup_del FROM pg_stat_user_tables WHERE relid = 'enterprise'::regclass)")]
    else:
        firms = [sa.select(sa.func.count()).select_from(E).scalar_subquery()]
    parts = [
        sa.select(sa.func.max(IR.c.id)).scalar_subquery(),
        *firms,
        sa.select(sa.func.max(R.c.id)).scalar_subquery(),
        sa.select(sa.func.max(P.c.id)).scalar_subquery(),
        # Review decisions change rows in place (revocations, resolved flags): their count keys those changes.
        sa.select(sa.func.max(table_of(ReviewDecision).c.id)).scalar_subquery(),
        *([sa.select(sa.func.max(F.c.id)).scalar_subquery()] if flags else []),
    ]
    with eng.connect() as conn:
        *row, job_run = conn.execute(sa.select(*parts, sa.select(sa.func.max(JR.c.id)).scalar_subquery())).one()
    return "-".join("0" if v is None else str(v) for v in row), "0" if job_run is None else str(job_run)


def firm_bundle(principal: Principal, uscc: str, *, engine: Engine | None = None) -> Bundle | None:
    """One firm's data as policy evaluation reads it (registry.policy.bundle.Bundle), or None when the firm does
    not exist or lies outside the principal's jurisdiction (like firm_profile)."""
    if firm_profile(principal, uscc, engine=engine) is None:
        return None
    return load_bundle(_engine(engine), [uscc])


def data_freshness(principal: Principal, *, engine: Engine | None = None) -> dict[str, Any]:
    """When data last arrived: the latest finished ingestion run the principal may see (registry.run_scope; its
    file name only, never a server path) and the latest job run (None when there was none)."""
    from registry.run_scope import visible_runs

    eng = _engine(engine)
    runs = visible_runs(principal, eng, limit=20).filter(pl.col("finished_at").is_not_null())
    ingestion = None
    if not runs.is_empty():
        latest = runs.sort("finished_at", descending=True).row(0, named=True)
        ingestion = {k: latest[k] for k in ("file_name", "status", "finished_at")}
    with eng.connect() as conn:
        job = conn.execute(
            sa.select(JR.c.job, JR.c.status, JR.c.finished_at)
            .where(JR.c.finished_at.is_not(None)).order_by(JR.c.finished_at.desc()).limit(1)
        ).mappings().first()
    return {"ingestion": ingestion, "job": dict(job) if job else None}


def scope_prefixes(principal: Principal) -> tuple[str, ...] | None:
    """Region prefixes the principal sees (None = all); for pages that filter reference lists."""
    return region_prefixes(principal.jurisdiction)
