"""The cultivation pipeline (梯度培育) behind the dashboard's 梯度 page: the ladder as a funnel, flows between tiers
by year, 复核 cohorts and promotion candidates.

Every function takes the asking Principal first and covers only its firms, optionally narrowed to a region-code
prefix and an industry section (registry.selection). "Held on a day" is read from the recognitions as history
(registry.selection.held_on), so every figure can be asked for a past as-of date. Counts are aggregated in SQL.

Definitions (docs/dashboard.md explains them to users):
- funnel: firms holding a recognition of each rung (innovative_sme → zjtx_sme → little_giant → single_champion)
  on the as-of date; a firm holding two rungs counts on both.
- flows, per calendar year and tier (up to the as-of date):
  `renewal` a row that supersedes an earlier one (a passed 复核, dated by its recognized_on);
  `promotion` the firm's first recognition at a tier while it held a lower national tier on that day;
  `new` every other recognition that renews nothing (first entries, and re-entries after a lapse);
  `revocation` a revoked row, dated by ended_on (undated revocations have no year);
  `expiry` a row closed as expired (dated by ended_on, else valid_until), or an active row whose valid_until passed
  with no renewal (dated by valid_until).
- cohorts: the entries (new + promotion) of a tier by year of recognition, with the outcome of their 复核 on the
  as-of date: renewed / revoked / expired / pending.
- promotion candidates: open `promotion` flags (the flags job evaluates the next tier's policy in force), or, on
  request, the same evaluation run now (`evaluate_promotion_candidates`) when the flags job has not run.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from registry import reference
from registry.access import Principal, region_prefixes
from registry.db import engine_or_default as _engine
from registry.lifecycle import promotion_targets, promotion_verdicts
from registry.models import FLAG_KINDS, TIERS, Flag, JobRun, table_of
from registry.queries import province_names
from registry.selection import (
    E,
    R,
    firm_conditions,
    firm_rows_source,
    held_on,
    read_frame,
    recognition_source,
    recognitions_of_firms,
    tier_rank,
    year_of,
)

F = table_of(Flag)
JR = table_of(JobRun)

LADDER = ("innovative_sme", "zjtx_sme", "little_giant", "single_champion")
FLOWS = ("new", "promotion", "renewal", "revocation", "expiry")
OUTCOMES = ("renewed", "revoked", "expired", "pending")


# ---------------------------------------------------------------- areas (province → city → county)


def area_level(region: str | None) -> int:
    """Length of the region-code prefix one level below `region`: 2 (provinces) under the whole country,
    4 (cities) under a province, 6 (counties) under a city or a county."""
    if not region:
        return 2
    return 4 if len(region) == 2 else 6


def own_area(principal: Principal) -> str | None:
    """The region-code prefix of the principal's area when it is one province, city or county (None: the whole
    country, or an area of several prefixes), where a breakdown by area starts for them."""
    prefixes = region_prefixes(principal.jurisdiction)
    return prefixes[0] if prefixes is not None and len(prefixes) == 1 else None


def area_names(codes: list[str]) -> pl.DataFrame:
    """`area_code` (2, 4 or 6 digits) → `name_zh`, `name_en` from GB/T 2260 (English only for provinces;
    a code outside the reference tables — e.g. a county since abolished — keeps its code as its name)."""
    provinces = province_names().select(pl.col("province_code").alias("area_code"), "name_zh", "name_en")
    places = pl.concat([
        reference.regions().filter(pl.col("level") != "province").select(
            pl.col("code").alias("code6"), pl.col("name").alias("place")),
        reference.counties().select(pl.col("code").alias("code6"), pl.col("name").alias("place")),
    ]).unique("code6", keep="first")
    frame = pl.DataFrame({"area_code": codes}, schema={"area_code": pl.String})
    # A city (4 digits) is the prefecture row <code>00; a county is its own 6-digit row.
    return (
        frame.with_columns(
            pl.when(pl.col("area_code").str.len_chars() == 4).then(pl.col("area_code") + "00")
            .otherwise(pl.col("area_code")).alias("code6"))
        .join(provinces, on="area_code", how="left")
        .join(places, on="code6", how="left")
        .select(
            "area_code",
            pl.coalesce("name_zh", "place", "area_code").alias("name_zh"),
            pl.coalesce("name_en", "place", "area_code").alias("name_en"),
        )
    )


def counties_in(principal: Principal, city: str, *, engine: Engine | None = None) -> pl.DataFrame:
    """The county-level region codes (6 digits) under a 4-digit city prefix that have firms in scope:
    `area_code`, `name_zh`, `name_en`, `firms`."""
    stmt = (sa.select(E.c.region_code, sa.func.count().label("firms"))
            .where(*firm_conditions(principal, city)).group_by(E.c.region_code).order_by(E.c.region_code))
    counted = read_frame(_engine(engine), stmt, {"area_code": pl.String, "firms": pl.Int64})
    return area_names(counted["area_code"].to_list()).join(counted, on="area_code", how="left")


def cities_in(principal: Principal, province: str) -> pl.DataFrame:
    """The prefecture-level units (4-digit prefixes) of a province that the principal may see:
    `area_code`, `name_zh`, `name_en`."""
    prefixes = region_prefixes(principal.jurisdiction)
    cities = reference.regions().filter(
        pl.col("level") == "prefecture", pl.col("code").str.starts_with(province)
    ).select(pl.col("code").str.slice(0, 4).alias("area_code"))
    if prefixes is not None:
        # Visible when the city lies inside the scope, or the scope lies inside the city (a county official).
        cities = cities.filter(pl.any_horizontal(
            *[pl.col("area_code").str.starts_with(p[:4]) | pl.lit(p).str.starts_with(pl.col("area_code"))
              for p in prefixes]))
    return area_names(cities["area_code"].unique(maintain_order=True).to_list())


def tiers_in_use(principal: Principal, *, engine: Engine | None = None) -> list[str]:
    """The national tiers in ladder order, then any regional tier the principal's firms have been recognised at."""
    stmt = recognitions_of_firms(sa.select(R.c.tier).distinct(), principal)
    present = read_frame(_engine(engine), stmt, {"tier": pl.String})["tier"].to_list()
    return list(TIERS) + sorted(t for t in present if t not in TIERS)


# ---------------------------------------------------------------- the funnel


def tier_funnel(principal: Principal, as_of: date, region: str | None = None, industry: str | None = None, *,
                engine: Engine | None = None) -> pl.DataFrame:
    """Firms holding each rung of the ladder on `as_of`: `tier`, `firms`, `ratio_pct` (firms as a percentage of
    the rung below; null for the first rung or when the rung below is empty)."""
    stmt = recognitions_of_firms(
        sa.select(R.c.tier, sa.func.count(sa.distinct(R.c.enterprise_id)).label("firms")),
        principal, region, industry,
    ).where(held_on(as_of), R.c.tier.in_(LADDER)).group_by(R.c.tier)
    counted = read_frame(_engine(engine), stmt, {"tier": pl.String, "firms": pl.Int64})
    ladder = pl.DataFrame({"tier": list(LADDER)}).join(counted, on="tier", how="left", maintain_order="left")
    firms = pl.col("firms").fill_null(0)
    below = firms.shift(1)
    return ladder.with_columns(firms.alias("firms")).with_columns(
        pl.when(below > 0).then((firms / below * 100).round(1)).otherwise(None).alias("ratio_pct"))


def funnel_by_area(principal: Principal, as_of: date, region: str | None = None, industry: str | None = None, *,
                   engine: Engine | None = None) -> pl.DataFrame:
    """The funnel one level down (provinces, a province's cities, a city's counties): `area_code`, `name_zh`,
    `name_en`, then one column per rung (firms on `as_of`), most innovative_sme firms first. Without a region the
    breakdown starts one level below the principal's own area (a provincial user sees their cities, not one
    province)."""
    width = area_level(region or own_area(principal))
    area = sa.func.substr(E.c.region_code, 1, width).label("area_code")
    stmt = (
        sa.select(area, R.c.tier, sa.func.count(sa.distinct(R.c.enterprise_id)).label("firms"))
        .select_from(R.join(E, E.c.id == R.c.enterprise_id))
        .where(*firm_conditions(principal, region, industry), held_on(as_of), R.c.tier.in_(LADDER))
        .group_by(area, R.c.tier)
    )
    long = read_frame(_engine(engine), stmt, {"area_code": pl.String, "tier": pl.String, "firms": pl.Int64})
    wide = pl.DataFrame({"area_code": long["area_code"].unique().sort()}, schema={"area_code": pl.String})
    for tier in LADDER:
        wide = wide.join(long.filter(pl.col("tier") == tier).select("area_code", pl.col("firms").alias(tier)),
                         on="area_code", how="left")
    wide = wide.with_columns(pl.col(t).fill_null(0) for t in LADDER)
    return (area_names(wide["area_code"].to_list()).join(wide, on="area_code", how="left")
            .sort([*LADDER, "area_code"], descending=[True] * len(LADDER) + [False]))


# ---------------------------------------------------------------- flows between tiers


def _successor_ids() -> sa.Select[Any]:
    earlier = R.alias("earlier")
    return sa.select(earlier.c.superseded_by).where(earlier.c.superseded_by.is_not(None))


def _without_predecessor(source: sa.FromClause, engine: Engine) -> tuple[sa.FromClause, sa.ColumnElement[bool]]:
    """The FROM clause and the condition "this row superseded none" (an entry, not a renewal).

    Each engine gets the form it plans well on 300,000 rows: PostgreSQL an outer join it runs as a hash anti-join
    (NOT IN a subquery is a hashed subplan that degrades when it outgrows work_mem); SQLite NOT IN, which it
    answers from a temporary index (its planner may turn the outer join into a scan per row)."""
    if engine.dialect.name == "sqlite":
        return source, R.c.id.not_in(_successor_ids())
    predecessor = R.alias("predecessor")
    return (source.outerjoin(predecessor, predecessor.c.superseded_by == R.c.id),
            predecessor.c.id.is_(None))


def _promotion_case() -> sa.ColumnElement[str]:
    """'promotion' for the firm's first row at a tier while it held a lower national tier that day, else 'new'."""
    same = R.alias("same_tier")
    lower = R.alias("lower_tier")
    earlier_at_tier = sa.exists().where(
        same.c.enterprise_id == R.c.enterprise_id, same.c.tier == R.c.tier, same.c.status != "withdrawn",
        sa.or_(same.c.recognized_on < R.c.recognized_on,
               sa.and_(same.c.recognized_on == R.c.recognized_on, same.c.id < R.c.id)),
    )
    held_lower = sa.exists().where(
        lower.c.enterprise_id == R.c.enterprise_id,
        tier_rank(lower.c.tier) < tier_rank(R.c.tier),
        held_on(R.c.recognized_on, lower),
    )
    # The bottom rung (and a regional tier) cannot be a step up: the subqueries run only for the rows that can.
    return sa.case((sa.and_(tier_rank(R.c.tier) > 0, held_lower, ~earlier_at_tier), "promotion"), else_="new")


FLOW_SCHEMA = {"year": pl.Int64, "tier": pl.String, "flow": pl.String, "firms": pl.Int64}


def tier_flows(principal: Principal, as_of: date, region: str | None = None, industry: str | None = None,
               tier: str | None = None, *, engine: Engine | None = None) -> pl.DataFrame:
    """Firms per calendar year, tier and flow (new, promotion, renewal, revocation, expiry) up to `as_of`:
    `year` (null for a revocation recorded without a date), `tier`, `flow`, `firms`."""
    eng = _engine(engine)
    source, conditions = recognition_source(principal, region, industry)
    if tier:
        conditions = [*conditions, R.c.tier == tier]
    firms = sa.func.count(sa.distinct(R.c.enterprise_id)).label("firms")

    def counted(year: sa.ColumnElement[Any], flow: sa.ColumnElement[str] | str, *where: sa.ColumnElement[bool],
                origin: sa.FromClause = source) -> pl.DataFrame:
        flow_col = (sa.literal(flow) if isinstance(flow, str) else flow).label("flow")
        year_col = year.label("year")
        stmt = (sa.select(year_col, R.c.tier, flow_col, firms).select_from(origin).where(*conditions, *where)
                .group_by(year_col, R.c.tier, flow_col))
        return read_frame(eng, stmt, FLOW_SCHEMA)

    recognized = year_of(R.c.recognized_on)
    closed_on = sa.func.coalesce(R.c.ended_on, R.c.valid_until)
    with_predecessor, is_entry = _without_predecessor(source, eng)
    parts = [
        counted(recognized, _promotion_case(), R.c.status != "withdrawn", R.c.recognized_on <= as_of, is_entry,
                origin=with_predecessor),
        counted(recognized, "renewal", R.c.status != "withdrawn", R.c.recognized_on <= as_of,
                R.c.id.in_(_successor_ids())),
        counted(year_of(R.c.ended_on), "revocation", R.c.status == "revoked",
                sa.or_(R.c.ended_on.is_(None), R.c.ended_on <= as_of)),
        counted(year_of(closed_on), "expiry", R.c.status == "expired",
                sa.or_(closed_on.is_(None), closed_on <= as_of)),
        counted(year_of(R.c.valid_until), "expiry", R.c.status == "active", R.c.superseded_by.is_(None),
                R.c.valid_until < as_of),
    ]
    flows = pl.concat(parts).group_by("year", "tier", "flow").agg(pl.col("firms").sum())
    order = {f: i for i, f in enumerate(FLOWS)}
    return flows.sort(pl.col("year"), pl.col("tier").replace_strict(
        {t: i for i, t in enumerate(TIERS)}, default=len(TIERS), return_dtype=pl.Int32), pl.col("tier"),
        pl.col("flow").replace_strict(order, return_dtype=pl.Int32), nulls_last=True).select(list(FLOW_SCHEMA))


# ---------------------------------------------------------------- 复核 cohorts


def review_cohorts(principal: Principal, as_of: date, tier: str, region: str | None = None,
                   industry: str | None = None, *, engine: Engine | None = None) -> pl.DataFrame:
    """The entries (first recognitions and re-entries, not renewals) of `tier` by year of recognition, with the
    outcome of their 复核 on `as_of`: `cohort` (year), `outcome` (renewed | revoked | expired | pending),
    `recognitions`, `share_pct` (of the cohort). Every cohort lists all four outcomes (0 when none)."""
    source, conditions = recognition_source(principal, region, industry)
    successor = R.alias("successor")
    closed_on = sa.func.coalesce(R.c.ended_on, R.c.valid_until)
    outcome = sa.case(
        (sa.and_(R.c.superseded_by.is_not(None), successor.c.recognized_on <= as_of), "renewed"),
        (sa.and_(R.c.status == "revoked", sa.or_(R.c.ended_on.is_(None), R.c.ended_on <= as_of)), "revoked"),
        (sa.and_(R.c.status == "expired", sa.or_(closed_on.is_(None), closed_on <= as_of)), "expired"),
        (R.c.valid_until < as_of, "expired"),
        else_="pending",
    ).label("outcome")
    cohort = year_of(R.c.recognized_on).label("cohort")
    eng = _engine(engine)
    with_predecessor, is_entry = _without_predecessor(source, eng)
    stmt = (
        sa.select(cohort, outcome, sa.func.count().label("recognitions"))
        .select_from(with_predecessor.outerjoin(successor, successor.c.id == R.c.superseded_by))
        .where(*conditions, R.c.tier == tier, R.c.status != "withdrawn", R.c.recognized_on <= as_of, is_entry)
        .group_by(cohort, outcome)
    )
    counted = read_frame(eng, stmt, {"cohort": pl.Int64, "outcome": pl.String, "recognitions": pl.Int64})
    if counted.is_empty():
        return counted.with_columns(pl.lit(None, pl.Float64).alias("share_pct"))
    grid = counted.select("cohort").unique().join(pl.DataFrame({"outcome": list(OUTCOMES)}), how="cross")
    full = grid.join(counted, on=["cohort", "outcome"], how="left").with_columns(pl.col("recognitions").fill_null(0))
    return full.with_columns(
        (pl.col("recognitions") / pl.col("recognitions").sum().over("cohort") * 100).round(1).alias("share_pct")
    ).sort(pl.col("cohort"), pl.col("outcome").replace_strict({o: i for i, o in enumerate(OUTCOMES)},
                                                               return_dtype=pl.Int32))


# ---------------------------------------------------------------- open flags and promotion candidates


def open_flag_firms(principal: Principal, region: str | None = None, industry: str | None = None, *,
                    engine: Engine | None = None) -> pl.DataFrame:
    """Firms with at least one open (unresolved) flag of each kind: `kind` (every FLAG_KINDS, in that order),
    `firms` (0 when none)."""
    source, conditions = firm_rows_source(F, principal, region, industry)
    stmt = (
        sa.select(F.c.kind, sa.func.count(sa.distinct(F.c.enterprise_id)).label("firms"))
        .select_from(source).where(*conditions, F.c.resolved_on.is_(None)).group_by(F.c.kind)
    )
    counted = read_frame(_engine(engine), stmt, {"kind": pl.String, "firms": pl.Int64})
    return (pl.DataFrame({"kind": list(FLAG_KINDS)}).join(counted, on="kind", how="left", maintain_order="left")
            .with_columns(pl.col("firms").fill_null(0)))


def last_flags_run(*, engine: Engine | None = None) -> datetime | None:
    """When the flags job last finished successfully (None: never — promotion flags do not exist yet)."""
    with _engine(engine).connect() as conn:
        finished: datetime | None = conn.execute(
            sa.select(sa.func.max(JR.c.finished_at)).where(JR.c.job == "flags", JR.c.status == "success")
        ).scalar_one()
    return finished


CANDIDATE_SCHEMA = {"tier": pl.String, "target_tier": pl.String, "firms": pl.Int64}


def promotion_candidates(principal: Principal, region: str | None = None, industry: str | None = None, *,
                         engine: Engine | None = None) -> pl.DataFrame:
    """Firms with an open `promotion` flag, per tier held: `tier`, `target_tier`, `firms`; every tier that has a
    next rung is listed (0 when none)."""
    stmt = (
        sa.select(F.c.tier, sa.func.count(sa.distinct(F.c.enterprise_id)).label("firms"))
        .select_from(F.join(E, E.c.id == F.c.enterprise_id))
        .where(*firm_conditions(principal, region, industry), F.c.kind == "promotion", F.c.resolved_on.is_(None))
        .group_by(F.c.tier)
    )
    counted = read_frame(_engine(engine), stmt, {"tier": pl.String, "firms": pl.Int64})
    return _candidate_frame(counted)


def _candidate_frame(counted: pl.DataFrame) -> pl.DataFrame:
    # The lifecycle module owns the ladder's promotion rules (which tier follows which, by which policies).
    return (promotion_targets().join(counted, on="tier", how="left", maintain_order="left")
            .with_columns(pl.col("firms").fill_null(0)).select(list(CANDIDATE_SCHEMA)))


def evaluate_promotion_candidates(principal: Principal, as_of: date, region: str | None = None,
                                  industry: str | None = None, *, engine: Engine | None = None) -> pl.DataFrame:
    """What the `promotion` flags would say on `as_of`, evaluated now: holders of a tier who do not hold the next
    one, each judged by the next tier's rule set in force for its jurisdiction (registry.lifecycle.promotion_policy,
    which asks registry.policy.resolve.policy_in_force like `zjtx evaluate --tier`). Columns as promotion_candidates plus `evaluated` (holders judged).

    Reads the holders' whole records (registry.policy.load_bundle): seconds for tens of thousands of firms, so the
    dashboard runs it only on request."""
    from registry.policy import load_bundle
    from registry.policy.indicators import with_annual_figures

    eng = _engine(engine)
    targets = promotion_targets()
    holder = R.alias("holder")
    firm_rows = (
        sa.select(E.c.uscc, E.c.region_code, R.c.tier)
        .select_from(R.join(E, E.c.id == R.c.enterprise_id))
        .where(*firm_conditions(principal, region, industry), held_on(as_of), R.c.tier.in_(targets["tier"].to_list()))
        .distinct()
    )
    held = read_frame(eng, firm_rows, {"uscc": pl.String, "region_code": pl.String, "tier": pl.String})
    holding_target = read_frame(eng, sa.select(E.c.uscc, holder.c.tier).select_from(
        holder.join(E, E.c.id == holder.c.enterprise_id)).where(
        held_on(as_of, holder), holder.c.tier.in_(targets["target_tier"].to_list()),
        *firm_conditions(principal, region, industry)).distinct(),
        {"uscc": pl.String, "target_tier": pl.String})
    candidates = (held.join(targets, on="tier").join(holding_target, on=["uscc", "target_tier"], how="anti"))
    evaluated = candidates.group_by("tier").agg(pl.col("uscc").n_unique().alias("evaluated"))
    if candidates.is_empty():
        return _candidate_frame(pl.DataFrame(schema={"tier": pl.String, "firms": pl.Int64})).with_columns(
            pl.lit(0, pl.Int64).alias("evaluated"))
    # Annual figures once for all the next tiers' policies (each evaluates a subset of these holders).
    bundle = with_annual_figures(load_bundle(eng, candidates["uscc"].unique().to_list()))
    found = promotion_verdicts(candidates.select("uscc", "tier", "region_code").unique(), bundle, as_of)
    found = found.select("uscc", "tier").unique()
    counted = found.group_by("tier").agg(pl.len().cast(pl.Int64).alias("firms"))
    return _candidate_frame(counted).join(evaluated, on="tier", how="left").with_columns(
        pl.col("evaluated").fill_null(0).cast(pl.Int64))
