"""Where a firm stands among its peers, metric by metric (the firm page's 同行对比 section).

Definitions (docs/dashboard.md states them to users):
- **peers** — the firms, in the principal's jurisdiction, holding on the as-of date the firm's highest tier held
  (registry.selection.held_on, ladder rank), in the same GB/T 4754 division (大类: section letter + 2 digits) and
  the same province. When fewer than `min_group` firms of that group have the metric (config
  `[monitoring] peer_min_group`), the group widens, in this order: same section (门类) in the province; same division
  nationally; same section nationally; the whole tier. The group used is named in the result, per metric.
- **figures** — last year's annual figures (上年 = as-of year − 1; registry.policy.indicators.annual_figures: the
  annual report, else complete sub-annual reports); ratios (研发强度, 资产负债率) on firms reporting both parts.
- **percentile** — the share of the group's firms (the firm included) whose figure is at or below the firm's, in
  percent: 100 = the highest of its group.
- **trend** — the firm's change on the year before, in percent, against the median of its peers' changes
  (firms with both years and a positive base).
"""

from __future__ import annotations

from datetime import date
from typing import cast

import polars as pl
from sqlalchemy import Engine

from registry.access import Principal, require
from registry.db import get_engine
from registry.policy.bundle import load_bundle
from registry.policy.indicators import annual_figures
from registry.selection import TIER_RANK, E, R, firm_conditions, held_on, read_frame

# metric → (numerator, denominator) for ratios in percent; None for a reported figure.
PEER_METRICS: dict[str, tuple[str, str] | None] = {
    "revenue": None, "main_revenue": None, "net_profit": None, "rd_expense": None,
    "rd_ratio": ("rd_expense", "revenue"), "employees": None, "export_value": None, "taxes_paid": None,
    "debt_ratio": ("total_liabilities", "total_assets"), "invention_patents": None,
}
BASE_METRICS = sorted({m for m, ratio in PEER_METRICS.items() if ratio is None}
                      | {part for ratio in PEER_METRICS.values() if ratio for part in ratio})

# Widening order: (name, same province?, industry key length: 3 = division "C39", 1 = section "C", 0 = any).
GROUPS: tuple[tuple[str, bool, int], ...] = (
    ("division_province", True, 3), ("section_province", True, 1), ("division_national", False, 3),
    ("section_national", False, 1), ("tier_national", False, 0))

PEER_SCHEMA = {
    "metric": pl.String, "value": pl.Float64, "percentile": pl.Float64, "peer_median": pl.Float64,
    "peer_q1": pl.Float64, "peer_q3": pl.Float64, "peers": pl.Int64, "group": pl.String,
    "change_pct": pl.Float64, "peer_median_change_pct": pl.Float64, "tier": pl.String, "year": pl.Int32,
}


def _metric_frame(annual: pl.DataFrame) -> pl.DataFrame:
    """uscc, year + one column per PEER_METRICS entry (ratios computed where both parts are reported)."""
    exprs = [pl.col(m) if ratio is None else (pl.col(ratio[0]) / pl.col(ratio[1]) * 100).alias(m)
             for m, ratio in PEER_METRICS.items()]
    return annual.select("uscc", "year", *exprs).with_columns(
        [pl.when(pl.col(m).is_finite()).then(pl.col(m)).alias(m) for m in PEER_METRICS])


def firm_peers(principal: Principal, uscc: str, as_of: date, *, engine: Engine | None = None,
               min_group: int = 10) -> pl.DataFrame:
    """One row per metric (PEER_SCHEMA): the firm's figure, percentile among its peers, the peers' median and
    quartiles, the group used, and the firm's and the peers' median change on the year before. Empty when the firm
    is outside the principal's scope or holds no tier on the as-of date."""
    require(principal, "read")
    engine = engine if engine is not None else get_engine()
    stmt = (E.join(R, R.c.enterprise_id == E.c.id).select()
            .with_only_columns(E.c.uscc, E.c.province_code, E.c.industry_code, R.c.tier)
            .where(*firm_conditions(principal), held_on(as_of)).distinct())
    held = read_frame(engine, stmt, {"uscc": pl.String, "province_code": pl.String, "industry_code": pl.String,
                                     "tier": pl.String})
    mine = held.filter(pl.col("uscc") == uscc)
    if mine.is_empty():
        return pl.DataFrame(schema=PEER_SCHEMA)
    tier = min(mine["tier"].to_list(), key=lambda t: -TIER_RANK.get(t, -1))  # highest rank held
    province, industry = mine["province_code"][0], mine["industry_code"][0] or ""
    cohort = held.filter(pl.col("tier") == tier).unique("uscc")
    year = as_of.year - 1
    bundle = load_bundle(engine, cohort["uscc"].to_list(), metrics=BASE_METRICS, years=[year - 1, year])
    figures = _metric_frame(annual_figures(bundle.reports, [year - 1, year], BASE_METRICS))
    last = figures.filter(pl.col("year") == year).drop("year")
    before = figures.filter(pl.col("year") == year - 1).drop("year")
    changes = last.join(before, on="uscc", how="inner", suffix="_before").select(
        "uscc", *[pl.when(pl.col(f"{m}_before") > 0)
                  .then((pl.col(m) - pl.col(f"{m}_before")) / pl.col(f"{m}_before") * 100).alias(m)
                  for m in PEER_METRICS])
    own = last.filter(pl.col("uscc") == uscc)
    own_change = changes.filter(pl.col("uscc") == uscc)
    rows = []
    for metric in PEER_METRICS:
        value = own[metric][0] if own.height else None
        if value is None:
            continue
        for name, same_province, key in GROUPS:
            group = cohort
            if same_province:
                group = group.filter(pl.col("province_code") == province)
            if key:
                if len(industry) < key:
                    continue
                group = group.filter(pl.col("industry_code").fill_null("").str.starts_with(industry[:key]))
            values = last.join(group.select("uscc"), on="uscc").select(metric).drop_nulls()[metric]
            if values.len() >= min_group or name == GROUPS[-1][0]:
                break
        peer_changes = changes.join(group.select("uscc"), on="uscc").filter(pl.col("uscc") != uscc)[metric]
        own_pct = own_change[metric][0] if own_change.height else None
        # (cast: Series.median() is typed for every dtype; of these numbers it is a float.)
        rows.append({
            "metric": metric, "value": value, "percentile": round(float((values <= value).mean() * 100), 1),
            "peer_median": values.median(), "peer_q1": values.quantile(0.25, "linear"),
            "peer_q3": values.quantile(0.75, "linear"), "peers": values.len(), "group": name,
            "change_pct": None if own_pct is None else round(own_pct, 2),
            "peer_median_change_pct": None if peer_changes.drop_nulls().is_empty()
            else round(cast(float, peer_changes.drop_nulls().median()), 2),
            "tier": tier, "year": year,
        })
    return pl.DataFrame(rows, schema=PEER_SCHEMA)
