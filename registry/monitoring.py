"""运行监测 — the performance of recognised firms by cohort, area, industry and period (the dashboard's 运行监测 page).

One scoped read per question (`monitoring_panel`, the principal first, limited to its jurisdiction in SQL), then pure
polars functions over that panel for every figure the page shows, so each figure is computed once per data version
(the dashboard caches the panel by data version).

Definitions (docs/dashboard.md explains them to users):
- cohort: firms holding a recognition of one of the chosen tiers in force on the period's last day
  (registry.selection.held_on, read as history), inside the principal's scope, a region-code prefix (province 2,
  city 4, county 6 digits) and a GB/T 4754 industry prefix (section letter `C` or division `C35`). A firm holding two
  chosen tiers counts in each tier's cohort, once in the whole.
- period: year (the annual figure of registry.policy.indicators.annual_figures — the same annual revenue the
  policies use), quarter or month, on basis 当期 `period` or 本年累计 `ytd` (sub-annual only; quarters are read from
  quarterly reports and months from monthly ones).
- a ratio (研发强度 rd_expense / revenue, 资产负债率 total_liabilities / total_assets, in %) is computed only for firms
  reporting both parts (the denominator above zero); its cohort total is the pooled ratio over those firms.
- reporting coverage: firms with a figure / firms in the cohort.
- year on year: against the same period one year before, with that period's cohort.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from registry import fastread, reference
from registry.access import Principal
from registry.db import get_engine
from registry.models import Report, table_of
from registry.pipeline import area_level, area_names
from registry.policy import bundle_cache
from registry.policy.indicators import annual_figures
from registry.selection import E, R, firm_conditions, held_on, read_frame

P = table_of(Report)

GRAINS = ("year", "quarter", "month")
BASES = ("period", "ytd")
PERIOD_TYPE = {"year": "annual", "quarter": "quarterly", "month": "monthly"}
BREAKDOWNS = ("area", "industry")


@dataclass(frozen=True)
class Metric:
    key: str
    unit: str  # wan_yuan (万元) | persons | items | percent
    parts: tuple[str, ...]  # report columns: one, or numerator and denominator of a ratio

    @property
    def is_ratio(self) -> bool:
        return len(self.parts) == 2


METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("revenue", "wan_yuan", ("revenue",)),
    Metric("main_revenue", "wan_yuan", ("main_revenue",)),
    Metric("net_profit", "wan_yuan", ("net_profit",)),
    Metric("rd_expense", "wan_yuan", ("rd_expense",)),
    Metric("rd_intensity", "percent", ("rd_expense", "revenue")),
    Metric("employees", "persons", ("employees",)),
    Metric("export_value", "wan_yuan", ("export_value",)),
    Metric("taxes_paid", "wan_yuan", ("taxes_paid",)),
    Metric("debt_ratio", "percent", ("total_liabilities", "total_assets")),
    Metric("invention_patents", "items", ("invention_patents",)),
)}

# How many periods back from the chosen one the trend shows (each includes the same period a year before).
TREND_LENGTH = {"year": 5, "quarter": 8, "month": 13}

PANEL_SCHEMA = {
    "uscc": pl.String, "name": pl.String, "region_code": pl.String, "industry_code": pl.String,
    "tier": pl.String, "period": pl.String, "value": pl.Float64, "numerator": pl.Float64,
    "denominator": pl.Float64,
}


@dataclass(frozen=True)
class Panel:
    """Firm × tier × period rows of a cohort: `value` null when the firm did not report the metric (or, for a
    ratio, one of its parts). `periods` oldest first; the chosen period last."""
    metric: str
    grain: str
    periods: tuple[str, ...]
    rows: pl.DataFrame


# ---------------------------------------------------------------- periods


def period_end(period: str) -> date:
    """Last day of `2025`, `2025Q3` or `2025-07`."""
    year = int(period[:4])
    if len(period) == 4:
        return date(year, 12, 31)
    month = int(period[5]) * 3 if "Q" in period else int(period[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])


def shift_period(period: str, grain: str, steps: int) -> str:
    """The period `steps` periods later (negative: earlier) on the grain."""
    year = int(period[:4])
    if grain == "year":
        return str(year + steps)
    per_year = 4 if grain == "quarter" else 12
    index = year * per_year + (int(period[5]) if grain == "quarter" else int(period[5:7])) - 1 + steps
    y, n = divmod(index, per_year)
    return f"{y}Q{n + 1}" if grain == "quarter" else f"{y}-{n + 1:02d}"


def year_before(period: str, grain: str) -> str:
    return shift_period(period, grain, -{"year": 1, "quarter": 4, "month": 12}[grain])


def _check(grain: str, basis: str, metric: str) -> Metric:
    if grain not in GRAINS:
        raise ValueError(f"unknown period grain {grain!r}: one of {', '.join(GRAINS)}")
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}: one of {', '.join(BASES)}")
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}: one of {', '.join(METRICS)}")
    return METRICS[metric]


def available_periods(principal: Principal, grain: str = "year", basis: str = "period", *,
                      engine: Engine | None = None) -> list[str]:
    """Periods of the grain that the principal's firms have reports for, latest first (a year: any report of
    that year, since annual figures are also built from sub-annual reports)."""
    _check(grain, basis, "revenue")
    if grain == "year":
        stmt = sa.select(sa.cast(P.c.year, sa.String).label("period")).distinct()
    else:
        stmt = sa.select(P.c.period).distinct().where(P.c.period_type == PERIOD_TYPE[grain], P.c.basis == basis)
    conditions = firm_conditions(principal)
    if conditions:
        stmt = stmt.select_from(P.join(E, E.c.id == P.c.enterprise_id)).where(*conditions)
    rows = read_frame(engine or get_engine(), stmt, {"period": pl.String})
    return sorted(rows["period"].to_list(), reverse=True)


# ---------------------------------------------------------------- the panel (the one scoped read)


def _source(table: sa.Table, conditions: list[sa.ColumnElement[bool]]) -> sa.FromClause:
    """`table`, joined to `enterprise` only when a firm condition needs it (a national read skips the join)."""
    return table.join(E, E.c.id == table.c.enterprise_id) if conditions else table


Read = tuple[sa.Select[Any], dict[str, Any]]  # a statement and the schema of its frame (registry.fastread)


def _firms(conditions: list[sa.ColumnElement[bool]]) -> Read:
    """enterprise_id, uscc, name, region_code, industry_code of the chosen firms."""
    stmt = sa.select(E.c.id.label("enterprise_id"), E.c.uscc, E.c.name, E.c.region_code, E.c.industry_code
                     ).where(*conditions)
    return stmt, {"enterprise_id": pl.Int64, "uscc": pl.String, "name": pl.String, "region_code": pl.String,
                  "industry_code": pl.String}


def _day(day: date, engine: Engine) -> sa.ColumnElement[Any]:
    """A date constant comparable with DATE columns: typed on PostgreSQL (a bare literal in a UNION is text
    there); ISO text on SQLite, which stores dates as ISO text (CAST AS DATE would make it a number)."""
    text = sa.literal(day.isoformat(), sa.String)
    return sa.cast(text, sa.Date) if engine.dialect.name == "postgresql" else text


def _members(tiers: tuple[str, ...], conditions: list[sa.ColumnElement[bool]], periods: tuple[str, ...], engine: Engine) -> Read:
    """enterprise_id, tier, period: the cohort on each period's last day."""
    ends = sa.union_all(*[
        sa.select(sa.literal(p, sa.String).label("period"), _day(period_end(p), engine).label("period_end"))
        for p in periods]).subquery("period_ends")
    stmt = (
        sa.select(R.c.enterprise_id, R.c.tier, ends.c.period).distinct()
        .select_from(_source(R, conditions).join(ends, held_on(ends.c.period_end)))
        .where(R.c.tier.in_(tiers), *conditions)
    )
    return stmt, {"enterprise_id": pl.Int64, "tier": pl.String, "period": pl.String}


def _figures(conditions: list[sa.ColumnElement[bool]], grain: str, basis: str, metric: Metric, periods: tuple[str, ...]) -> Read:
    """The report rows behind the figures: for a year every report of the years (annual_figures picks), else
    the reports of the grain, basis and periods."""
    parts = list(metric.parts)
    columns = [P.c[m] for m in parts]
    source = _source(P, conditions)
    if grain == "year":
        stmt = (sa.select(P.c.enterprise_id, P.c.year, P.c.period, P.c.period_type, P.c.basis, *columns)
                .select_from(source).where(P.c.year.in_([int(p) for p in periods]), *conditions))
        return stmt, {"enterprise_id": pl.Int64, "year": pl.Int64, "period": pl.String, "period_type": pl.String,
                      "basis": pl.String, **{m: pl.Float64 for m in parts}}
    stmt = (sa.select(P.c.enterprise_id, P.c.period, *columns).select_from(source)
            .where(P.c.period_type == PERIOD_TYPE[grain], P.c.basis == basis, P.c.period.in_(periods), *conditions))
    return stmt, {"enterprise_id": pl.Int64, "period": pl.String, **{m: pl.Float64 for m in parts}}


def _annual(reports: pl.DataFrame, periods: tuple[str, ...], metric: Metric) -> pl.DataFrame:
    """enterprise_id, period (the year), <parts>: the annual figures the policies use."""
    parts = list(metric.parts)
    # annual_figures keys firms by a column named uscc; the id serves (the codes are joined on later).
    annual = annual_figures(reports.rename({"enterprise_id": "uscc"}), [int(p) for p in periods], parts)
    return annual.select(pl.col("uscc").cast(pl.Int64).alias("enterprise_id"),
                         pl.col("year").cast(pl.String).alias("period"), *[pl.col(m).cast(pl.Float64) for m in parts])


def _annual_of_copy(annual: pl.DataFrame, firms: pl.DataFrame, periods: tuple[str, ...], metric: Metric
                    ) -> pl.DataFrame:
    """As _annual, from the annual figures of every firm kept beside the copy: the chosen firms and years."""
    parts = list(metric.parts)
    return (annual.filter(pl.col("year").is_in([int(p) for p in periods]))
            .join(firms.select("enterprise_id", "uscc"), on="uscc", how="inner")
            .select(pl.col("enterprise_id").cast(pl.Int64), pl.col("year").cast(pl.String).alias("period"),
                    *[pl.col(m).cast(pl.Float64) for m in parts]))


def monitoring_panel(principal: Principal, *, tiers: tuple[str, ...], period: str, grain: str = "year",
                     basis: str = "period", metric: str = "revenue", region: str | None = None,
                     industry: str | None = None, history: bool = True, engine: Engine | None = None) -> Panel:
    """The cohort's firms and their figures for `period` and (with `history`) the TREND_LENGTH periods before it."""
    spec = _check(grain, basis, metric)
    if not tiers:
        raise ValueError("choose at least one tier")
    engine = engine or get_engine()
    back = TREND_LENGTH[grain] if history else 0
    periods = tuple(shift_period(period, grain, -k) for k in range(back, -1, -1))
    tiers = tuple(tiers)
    conditions = firm_conditions(principal, region, industry)
    reads = {"members": _members(tiers, conditions, periods, engine), "firms": _firms(conditions)}
    figures_read = {"figures": _figures(conditions, grain, basis, spec, periods)}
    if grain == "year":
        # A year's figures are the annual figures the flags job keeps beside the columnar copy (SQLite), when it
        # is current: the same annual_figures of the same rows, without reading every report of the years again
        # (3.5 s of this page's first run at 200,000 firms). One snapshot for every read either way.
        frames, copy = bundle_cache.read_beside_copy(
            engine, reads, {"annual": ["uscc", "year", *spec.parts]}, otherwise=figures_read)
        figures = (_annual_of_copy(copy["annual"], frames["firms"], periods, spec) if copy is not None
                   else _annual(frames["figures"], periods, spec))
    else:
        # One snapshot for the three reads (registry.fastread: columnar, one read transaction).
        frames = fastread.read_frames(engine, {**reads, **figures_read})
        figures = frames["figures"]
    members = frames["members"]
    if spec.is_ratio:
        num, den = (pl.col(c) for c in spec.parts)
        both = num.is_not_null() & den.is_not_null() & (den > 0)
        figures = figures.select(
            "enterprise_id", "period",
            pl.when(both).then(num / den * 100).alias("value"),
            pl.when(both).then(num).alias("numerator"),
            pl.when(both).then(den).alias("denominator"),
        )
    else:
        figures = figures.select("enterprise_id", "period", pl.col(spec.parts[0]).alias("value"),
                                 pl.lit(None, pl.Float64).alias("numerator"),
                                 pl.lit(None, pl.Float64).alias("denominator"))
    firms = frames["firms"].join(members.select("enterprise_id").unique(), on="enterprise_id")
    rows = members.join(firms, on="enterprise_id").join(figures, on=["enterprise_id", "period"], how="left").select(
        pl.col(name).cast(dtype) for name, dtype in PANEL_SCHEMA.items())
    return Panel(metric, grain, periods, rows)


# ---------------------------------------------------------------- figures over a panel


def _summary(metric: Metric) -> list[pl.Expr]:
    value = pl.col("value")
    total = (pl.col("numerator").sum() / pl.col("denominator").sum() * 100 if metric.is_ratio else value.sum())
    return [
        pl.col("uscc").n_unique().alias("firms"),
        value.count().alias("reporting"),
        pl.when(value.count() > 0).then(total).alias("total"),
        value.min().alias("min"),
        value.quantile(0.25, "linear").alias("q1"),
        value.median().alias("median"),
        value.quantile(0.75, "linear").alias("q3"),
        value.max().alias("max"),
    ]


def _with_coverage(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.col("firms") > 0).then((pl.col("reporting") / pl.col("firms") * 100).round(1))
        .alias("coverage_pct"))


def _one_per_firm(rows: pl.DataFrame) -> pl.DataFrame:
    """A firm holding two chosen tiers counts once in the whole cohort."""
    return rows.unique(["uscc", "period"], keep="first", maintain_order=True)


def headline(panel: Panel) -> dict[str, object]:
    """The chosen period across the whole cohort, with the same period a year before:
    period, firms, reporting, coverage_pct, total, median, and previous_* and *_yoy_pct (percent change)."""
    metric = METRICS[panel.metric]
    current = panel.periods[-1]
    previous = year_before(current, panel.grain)
    rows = _one_per_firm(panel.rows)
    figures = {}
    for label, p in (("", current), ("previous_", previous)):
        frame = _with_coverage(rows.filter(pl.col("period") == p).select(_summary(metric)))
        figures.update({f"{label}{k}": frame[k][0] for k in ("firms", "reporting", "coverage_pct", "total", "median")})
    for k in ("total", "median"):
        now, before = figures[k], figures[f"previous_{k}"]
        figures[f"{k}_yoy_pct"] = (None if now is None or before in (None, 0)
                                   else round((now - before) / abs(before) * 100, 1))
    return {"period": current, "previous_period": previous, **figures}


def trend(panel: Panel) -> pl.DataFrame:
    """tier, period, firms, reporting, coverage_pct, total, min, q1, median, q3, max — per tier and period."""
    metric = METRICS[panel.metric]
    grid = pl.DataFrame({"period": list(panel.periods)}).join(
        panel.rows.select(pl.col("tier").unique()), how="cross")
    summary = panel.rows.group_by("tier", "period").agg(_summary(metric))
    return _with_coverage(grid.join(summary, on=["tier", "period"], how="left")
                          .with_columns(pl.col("firms", "reporting").fill_null(0))).sort("tier", "period")


def distribution(panel: Panel) -> pl.DataFrame:
    """The spread across the reporting firms of each tier in the chosen period: tier, reporting, min, q1, median,
    q3, max (quartiles by linear interpolation)."""
    current = panel.periods[-1]
    return trend(panel).filter(pl.col("period") == current).select(
        "tier", "reporting", "min", "q1", "median", "q3", "max")


def _group(by: str, region: str | None, industry: str | None) -> pl.Expr:
    if by == "area":
        return pl.col("region_code").str.slice(0, area_level(region)).alias("group")
    if by == "industry":
        # Sections when no industry is chosen, divisions (C35) inside a section or division.
        return pl.col("industry_code").fill_null("").str.slice(0, 3 if industry else 1).alias("group")
    raise ValueError(f"unknown breakdown {by!r}: one of {', '.join(BREAKDOWNS)}")


def group_names(by: str, codes: list[str]) -> pl.DataFrame:
    """group → name_zh, name_en (areas from GB/T 2260, industries from GB/T 4754; blank industry = 未填)."""
    if by == "area":
        return area_names(codes).rename({"area_code": "group"})
    industries = reference.industries()
    sections = industries.filter(pl.col("level") == "section").select(pl.col("code").alias("group"), "name")
    divisions = industries.filter(pl.col("level") == "division").select(
        (pl.col("section") + pl.col("code")).alias("group"), "name")
    names = pl.concat([sections, divisions])
    return (pl.DataFrame({"group": codes}, schema={"group": pl.String}).join(names, on="group", how="left")
            .select("group", pl.col("name").fill_null(pl.col("group")).alias("name_zh"),
                    pl.col("name").fill_null(pl.col("group")).alias("name_en")))


def breakdown(panel: Panel, by: str = "area", region: str | None = None, industry: str | None = None
              ) -> pl.DataFrame:
    """The chosen period by area (one level below `region`) or industry, and tier: group, name_zh, name_en, tier,
    firms, reporting, coverage_pct, total, min, q1, median, q3, max."""
    metric = METRICS[panel.metric]
    current = panel.rows.filter(pl.col("period") == panel.periods[-1]).with_columns(_group(by, region, industry))
    table = _with_coverage(current.group_by("group", "tier").agg(_summary(metric)))
    names = group_names(by, table["group"].unique().to_list())
    return (table.join(names, on="group", how="left")
            .select("group", "name_zh", "name_en", "tier", "firms", "reporting", "coverage_pct", "total", "min",
                    "q1", "median", "q3", "max")
            .sort("group", "tier"))


def cell_firms(panel: Panel, group: str, tier: str, by: str = "area", region: str | None = None,
               industry: str | None = None) -> pl.DataFrame:
    """The firms of one breakdown cell in the chosen period, highest figure first (not reported last):
    uscc, name, region_code, industry_code, tier, value."""
    return (panel.rows.filter(pl.col("period") == panel.periods[-1], pl.col("tier") == tier)
            .with_columns(_group(by, region, industry)).filter(pl.col("group") == group)
            .select("uscc", "name", "region_code", "industry_code", "tier", "value")
            .sort("value", "uscc", descending=[True, False], nulls_last=True))


# ---------------------------------------------------------------- what the page caches


@dataclass(frozen=True)
class Figures:
    """Every aggregate the page shows for one choice of filters: small frames, cheap to cache and to send."""
    headline: dict[str, object]
    trend: pl.DataFrame
    distribution: pl.DataFrame
    by_area: pl.DataFrame
    by_industry: pl.DataFrame


def monitoring_figures(principal: Principal, *, tiers: tuple[str, ...], period: str, grain: str = "year",
                       basis: str = "period", metric: str = "revenue", region: str | None = None,
                       industry: str | None = None, engine: Engine | None = None) -> Figures:
    """headline, trend, distribution and both breakdowns from one read of the cohort."""
    panel = monitoring_panel(principal, tiers=tiers, period=period, grain=grain, basis=basis, metric=metric,
                             region=region, industry=industry, engine=engine)
    return Figures(headline(panel), trend(panel), distribution(panel), breakdown(panel, "area", region, industry),
                   breakdown(panel, "industry", region, industry))


def firms_of_cell(principal: Principal, *, group: str, tier: str, by: str, period: str, grain: str = "year",
                  basis: str = "period", metric: str = "revenue", region: str | None = None,
                  industry: str | None = None, engine: Engine | None = None) -> pl.DataFrame:
    """cell_firms of one breakdown cell, read for that cell alone (its area or industry is a narrower prefix of
    the same kind, its tier one of the chosen, its period the chosen one)."""
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}: one of {', '.join(BREAKDOWNS)}")
    panel = monitoring_panel(principal, tiers=(tier,), period=period, grain=grain, basis=basis, metric=metric,
                             region=group if by == "area" else region,
                             industry=(group or None) if by == "industry" else industry, history=False,
                             engine=engine)
    return cell_firms(panel, group, tier, by, region, industry)
