"""Derived indicators for all firms at once, as of a date (CONTRACT §3), in polars.

`derive_indicators(bundle, refs, as_of)` returns one row per firm with one column per requested indicator
(`IndicatorRef.key()`). Annual figures are the years before as_of (上年 = as_of.year - 1); attributes and
recognitions are those in force on as_of; events are those up to it. Nothing here loops over firms.

Value conventions: null = not known (missing data); NaN = known but not computable (growth from a
non-positive base, a ratio over zero) — the engine treats NaN as not meeting the threshold.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import polars as pl

from registry.models import FLOW_METRICS, REPORT_METRICS
from registry.policy.bundle import Bundle
from registry.policy.schema import GROWTH_AGGREGATIONS, IndicatorRef

# ---------------------------------------------------------------------------------------------------------
# The catalogue: every indicator a policy may name (docs/policies.md lists the same table).
# ---------------------------------------------------------------------------------------------------------

# Ratios of two annual metrics, in percent. Pooled over N years = sum(numerator) / sum(denominator).
RATIOS: dict[str, tuple[str, str]] = {
    "rd_ratio": ("rd_expense", "revenue"),  # 研发经费支出占营业收入比重
    "debt_ratio": ("total_liabilities", "total_assets"),  # 资产负债率
    "main_business_share": ("main_revenue", "revenue"),  # 主营业务收入占营业收入比重
    "rd_staff_ratio": ("rd_staff", "employees"),  # 研发人员占职工总数比例
    "main_product_share": ("main_product_revenue", "revenue"),  # 主导产品销售收入占营业收入比重
    # Over main-business revenue, where a policy says 占主营业务收入 (沪科规〔2021〕12号, 苏工信中小〔2021〕522号, 琼工信规
    # 〔2021〕1号, 青海2021办法): dividing by total revenue, which is never smaller, judged those firms too strictly.
    "rd_to_main_revenue": ("rd_expense", "main_revenue"),  # 研发经费支出占主营业务收入比重
    "main_product_to_main_revenue": ("main_product_revenue", "main_revenue"),  # 主导产品销售收入占主营业务收入比重
    # The 2022 / 2026 national rules and 科技型中小企业评价 (CONTRACT §3b).
    "net_profit_margin": ("net_profit", "revenue"),  # 净利润率 (净利润 / 营业收入)
    "tech_staff_ratio": ("tech_staff", "employees"),  # 科技人员占职工总数比例
    "rd_to_total_cost": ("rd_expense", "total_cost"),  # 研发费用占成本费用支出总额比例
}
# Sums of annual metrics (counts by type). Known only when every part is known; `~lb` is the sum of the
# parts that are known, a lower bound the engine uses for ">=" (5 utility patents pass whatever design is).
SUMS: dict[str, tuple[str, ...]] = {
    "other_ip": ("utility_patents", "design_patents", "software_copyrights"),  # 实用新型+外观+软著
    "utility_software_ip": ("utility_patents", "software_copyrights"),
    "ip_total": ("invention_patents", "utility_patents", "design_patents", "software_copyrights"),
}
ANNUAL = set(REPORT_METRICS) | set(RATIOS) | set(SUMS)

# Attributes (CONTRACT §2) and how their text value is read.
ATTRIBUTES: dict[str, str] = {
    "niche_since_year": "number", "rd_institution": "text", "info_system": "bool", "own_brand": "bool",
    "quality_cert": "bool", "product_standard": "text", "foreign_cert": "bool", "standards_led": "number",
    "standards_participated": "number", "key_tech_breakthrough": "bool", "listing_plan": "text",
    "high_tech_enterprise": "bool", "industry_orientation": "text",
    # The 2022 / 2026 national rules (CONTRACT §3b). innovation_honour, science_award and maker_china have several
    # rows at once or count within a window: read them with attribute_any / attribute_within.
    "chain_role": "text", "strategic_emerging": "bool", "digital_level": "number", "quality_award": "bool",
    "quality_score": "number", "science_award": "text", "science_award_rank": "number", "maker_china": "text",
    "innovation_honour": "text",
    "global_rank": "number",  # 制造业单项冠军: the lead product's world niche rank (工信部政法〔2023〕138号)
}
# Indicators computed from several sources; params in brackets.
FIRM = {
    "operating_years": "full years from founded_on to as_of (连续经营/登记设立年限)",
    "years_in_niche": "as_of.year - niche_since_year: years in the niche counted to the end of 上年, start year included",
    "standards_count": "standards_led + standards_participated (主持或参与制修订标准数)",
    "listing_board": "board of the latest `listing` event up to as_of, else enterprises.listing_board",
    "sme_size_class": "large | medium | small | micro under 工信部联企业〔2011〕300号, from 上年 figures",
    "industry_code": "GB/T 4754-2017 code of the firm",
    "in_jurisdiction": "region_code lies in params.jurisdiction, or starts with one of params.region_codes (a zone) (bool)",
    "events_within": "number of params.events with occurred_on in (as_of - params.years, as_of]; years 0 = ever",
    "holds_tier": "holds a recognition of params.tiers (from params.jurisdictions) in force on as_of, or granted in "
                  "params.recognized_in_years (bool)",
    "in_group": "has an in-force attribute params.attribute with a value in params.values (bool)",
    "attribute": "in-force value of attribute params.name read as params.type (bool | number | text)",
    "attribute_any": "an in-force row of attribute params.name has a value in params.values (bool; null when the "
                     "firm has no in-force row of it) — for attributes with several rows at once (innovation_honour)",
    "attribute_within": "a row of attribute params.name dated (as_of - params.years, as_of] has a value in "
                        "params.values and, with params.rank, a same-day params.rank row ≤ params.max_rank (bool; "
                        "null when the firm has no row of it dated up to as_of, or the rank that decides is blank)",
    "attribute_max_within": "highest number of attribute params.name dated (as_of - params.years, as_of] (null: none)",
}

TRUE_WORDS = ("true", "1", "yes", "y", "是", "有", "t")
FALSE_WORDS = ("false", "0", "no", "n", "否", "无", "none", "f", "")


def known_indicator(name: str) -> bool:
    return name in ANNUAL or name in ATTRIBUTES or name in FIRM


def annual_depth(ref: IndicatorRef) -> int:
    """How many years before as_of an annual indicator needs."""
    w = ref.window
    return w.years + 1 if w.aggregation in GROWTH_AGGREGATIONS else w.years


# ---------------------------------------------------------------------------------------------------------
# Annual figures from annual and sub-annual reports.
# ---------------------------------------------------------------------------------------------------------


# Sums of sub-annual flows are rounded to this many decimals: polars adds a group's rows in no fixed order, and
# the last bit of a float then differed between runs (11104.490000000002 vs 11104.49), which made a flag's
# evidence look changed on every recomputation. Reports carry at most a few decimals (万元), so nothing is lost.
SUM_DECIMALS = 6


def annual_figures(reports: pl.DataFrame, years: Iterable[int], metrics: Iterable[str] | None = None
                   ) -> pl.DataFrame:
    """uscc, year, <metrics>: one row per firm and year that has any figure.

    Per metric, in this order of preference: the annual report; the year-end 本年累计 (ytd) report (December,
    else Q4); the 12 monthly 当期 reports (flows summed, stocks at December); the 4 quarterly 当期 reports
    (flows summed, stocks at Q4). A sum needs every period present with the metric reported.
    """
    metrics = list(metrics or REPORT_METRICS)
    flows = [m for m in metrics if m in FLOW_METRICS]
    stocks = [m for m in metrics if m not in FLOW_METRICS]
    r = reports.lazy().filter(pl.col("year").is_in(list(years))).select(
        "uscc", "year", "period", "period_type", pl.col("basis").fill_null("period"), *metrics).collect()
    # The common case: a firm-year with one annual report that has every metric needs nothing else, so its
    # sub-annual reports are not aggregated at all (at a million firms that aggregation was most of the time).
    complete = pl.all_horizontal([pl.col(m).is_not_null() for m in metrics]) if metrics else pl.lit(True)
    # So is one whose annual report is its only report of the year, complete or not: nothing else could supply a
    # missing figure (with a blank 国际市场占有率 in most annual reports, that is most firm-years at a million firms
    # on PostgreSQL, which sends no sub-annual rows that cannot change a figure: bundle._annual_figure_rows).
    is_annual = pl.col("period_type") == "annual"
    single = r.filter(is_annual).filter(~pl.struct("uscc", "year").is_duplicated())
    direct = single.filter(complete)
    if metrics:
        others = r.filter(~is_annual).select("uscc", "year").unique()
        alone = single.filter(~complete).join(others, on=["uscc", "year"], how="anti")
        direct = pl.concat([direct, alone]) if alone.height else direct
    rest = r.join(direct.select("uscc", "year"), on=["uscc", "year"], how="anti") if direct.height else r
    direct = direct.select("uscc", "year", *metrics)
    if rest.is_empty():
        return direct
    pending = rest.lazy()
    annual = pending.filter(pl.col("period_type") == "annual").with_columns(priority=pl.lit(0, pl.Int8))
    ytd_end = pending.filter(
        (pl.col("basis") == "ytd")
        & (((pl.col("period_type") == "monthly") & pl.col("period").str.ends_with("-12"))
           | ((pl.col("period_type") == "quarterly") & pl.col("period").str.ends_with("Q4")))
    ).with_columns(priority=pl.when(pl.col("period_type") == "monthly").then(1).otherwise(2).cast(pl.Int8))
    parts = [annual.select("uscc", "year", "priority", *metrics),
             ytd_end.select("uscc", "year", "priority", *metrics)]
    for ptype, n, last, prio in (("monthly", 12, "-12", 3), ("quarterly", 4, "Q4", 4)):
        sub = pending.filter((pl.col("period_type") == ptype) & (pl.col("basis") == "period")).unique(
            ["uscc", "period"], keep="last")
        complete_periods = pl.col("period").n_unique() == n
        parts.append(sub.group_by("uscc", "year").agg(
            pl.lit(prio, pl.Int8).alias("priority"),
            *[pl.when(complete_periods & (pl.col(m).count() == n)).then(pl.col(m).sum().round(SUM_DECIMALS)).alias(m)
              for m in flows],
            *[pl.when(complete_periods).then(pl.col(m).filter(pl.col("period").str.ends_with(last)).first()).alias(m)
              for m in stocks],
        ).select("uscc", "year", "priority", *metrics))
    stacked = pl.concat(parts, how="vertical_relaxed")
    merged = (stacked.sort("priority")
              .group_by("uscc", "year", maintain_order=True)
              .agg(pl.col(m).drop_nulls().first() for m in metrics)
              .collect())
    return pl.concat([direct, merged], how="vertical_relaxed")


def with_annual_figures(bundle: Bundle) -> Bundle:
    """The bundle with the annual figures of every firm, year and metric computed once, for a run that
    evaluates many policies over it (the flags: ≈ 20 promotion policies, the size class, the anomalies).
    Computed per call they were most of a flags run at a million firms (docs/benchmarks.md)."""
    if bundle.annual is not None:
        return bundle
    years = bundle.reports.get_column("year").drop_nulls().unique().to_list()
    return dataclasses.replace(bundle, annual=annual_figures(bundle.reports, years))


def bundle_annual(bundle: Bundle, years: Iterable[int], metrics: Iterable[str]) -> pl.DataFrame:
    """uscc, year, <metrics> for these years: from the figures computed once when there are, else from the
    reports."""
    years, metrics = list(years), list(metrics)
    # Any object with `reports` will do (lifecycle's BundleLike).
    annual: pl.DataFrame | None = getattr(bundle, "annual", None)
    if annual is None:
        return annual_figures(bundle.reports, years, metrics)
    missing = [m for m in metrics if m not in annual.columns]
    if missing:  # a caller's mistake, not a data problem: the figures were computed for other metrics
        raise ValueError(f"annual figures computed without {missing}")
    return annual.filter(pl.col("year").is_in(years)).select("uscc", "year", *metrics)


def _wide_annual(firms: pl.DataFrame, bundle: Bundle, as_of: date, depth: int, metrics: list[str]
                 ) -> pl.DataFrame:
    """uscc + <metric>#k for k = 1..depth (k = 1 is 上年)."""
    years = [as_of.year - k for k in range(1, depth + 1)]
    fig = bundle_annual(bundle, years, metrics)
    out = firms
    for k, y in enumerate(years, start=1):
        out = out.join(fig.filter(pl.col("year") == y).select(
            "uscc", *[pl.col(m).alias(f"{m}#{k}") for m in metrics]), on="uscc", how="left")
    return out


def _base_metrics(name: str) -> list[str]:
    if name in RATIOS:
        return list(RATIOS[name])
    if name in SUMS:
        return list(SUMS[name])
    return [name]


def _all_known(cols: list[pl.Expr]) -> pl.Expr:
    return pl.all_horizontal([c.is_not_null() for c in cols])


def _year_value(name: str, k: int) -> pl.Expr:
    """The indicator's value for year k (1 = 上年) from the wide annual columns."""
    if name in RATIOS:
        num, den = (pl.col(f"{m}#{k}") for m in RATIOS[name])
        return _ratio(num, den)
    if name in SUMS:
        parts = [pl.col(f"{m}#{k}") for m in SUMS[name]]
        return pl.when(_all_known(parts)).then(pl.sum_horizontal(parts))
    return pl.col(f"{name}#{k}")


# Derived percentages are rounded to 9 places so that a figure exactly on a threshold (70.0%, 3.0%, +5%)
# is not pushed across it by binary floating point (1.05 - 1 = 0.050000000000000044).
PRECISION = 9


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return (pl.when(num.is_null() | den.is_null()).then(None)
            .when(den <= 0).then(float("nan"))
            .otherwise((num * 100.0 / den).round(PRECISION)))


def _growth(new: pl.Expr, old: pl.Expr) -> pl.Expr:
    # A growth rate from a zero or negative base says nothing (a loss halving is not -50% "growth").
    return (pl.when(new.is_null() | old.is_null()).then(None)
            .when(old <= 0).then(float("nan"))
            .otherwise(((new - old) * 100.0 / old).round(PRECISION)))


def _annual_exprs(ref: IndicatorRef) -> dict[str, pl.Expr]:
    name, w = ref.indicator, ref.window
    key, n = ref.key(), w.years
    agg = w.aggregation
    if agg == "last":
        out = {key: _year_value(name, 1)}
        if name in SUMS:
            parts = [pl.col(f"{m}#1") for m in SUMS[name]]
            out[key + "~lb"] = pl.when(pl.any_horizontal([p.is_not_null() for p in parts])).then(
                pl.sum_horizontal(parts))
        return out
    if agg in ("each", "any"):  # one column per year; the engine combines them with all / any
        return {f"{key}#{k}": _year_value(name, k) for k in range(1, n + 1)}
    if agg in ("each_growth", "any_growth"):
        return {f"{key}#{k}": _growth(_year_value(name, k), _year_value(name, k + 1)) for k in range(1, n + 1)}
    if agg == "pooled":
        if name in RATIOS:
            nums = [pl.col(f"{RATIOS[name][0]}#{k}") for k in range(1, n + 1)]
            dens = [pl.col(f"{RATIOS[name][1]}#{k}") for k in range(1, n + 1)]
            return {key: pl.when(_all_known(nums + dens)).then(
                _ratio(pl.sum_horizontal(nums), pl.sum_horizontal(dens)))}
        agg = "sum"
    values = [_year_value(name, k) for k in range(1, n + 1)]
    if agg == "sum":
        return {key: pl.when(_all_known(values)).then(pl.sum_horizontal(values))}
    if agg == "mean":
        return {key: pl.when(_all_known(values)).then(pl.mean_horizontal(values).round(PRECISION))}
    if agg == "growth":
        return {key: _growth(_year_value(name, 1), _year_value(name, 1 + n))}
    if agg == "mean_growth":
        rates = [_growth(_year_value(name, k), _year_value(name, k + 1)) for k in range(1, n + 1)]
        return {key: pl.when(_all_known(rates)).then(pl.mean_horizontal(rates).round(PRECISION))}
    if agg == "compound_growth":
        new, old = _year_value(name, 1), _year_value(name, n + 1)
        return {key: pl.when(new.is_null() | old.is_null()).then(None)
                .when((old <= 0) | (new < 0)).then(float("nan"))
                .otherwise((((new / old) ** (1.0 / n) - 1.0) * 100.0).round(PRECISION))}
    raise ValueError(f"unknown aggregation {agg}")


# ---------------------------------------------------------------------------------------------------------
# Attributes, events, recognitions.
# ---------------------------------------------------------------------------------------------------------


def attributes_in_force(attributes: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """uscc, attribute, value: the latest attribute row in force on as_of (expires_on is the last valid day)."""
    return (attributes.lazy()
            .filter((pl.col("effective_on") <= as_of)
                    & (pl.col("expires_on").is_null() | (pl.col("expires_on") >= as_of)))
            .group_by("uscc", "attribute")
            .agg(pl.col("value").sort_by("effective_on").last())
            .collect())


def read_attribute(value: pl.Expr, kind: str) -> pl.Expr:
    text = value.str.strip_chars()
    if kind == "number":
        return text.cast(pl.Float64, strict=False)
    if kind == "bool":
        low = text.str.to_lowercase()
        # A certificate or brand recorded by name (e.g. "ISO9001") is a yes.
        return (pl.when(low.is_null()).then(None)
                .when(low.is_in(list(FALSE_WORDS))).then(False)
                .otherwise(True))
    return text.str.to_lowercase()


def _years_before(as_of: date, years: float) -> date:
    whole = int(years)
    y = as_of.year - whole
    day = min(as_of.day, 28) if as_of.month == 2 else as_of.day
    start = date(y, as_of.month, day)
    frac_days = round((years - whole) * 365.25)
    return start - timedelta(days=frac_days)


def recognitions_held(recognitions: pl.DataFrame, as_of: date) -> pl.LazyFrame:
    """Recognition rows in force on as_of: granted by then, not yet past valid_until (recognized_on + 3 years
    when unknown), and not ended (revoked/withdrawn rows count until their ended_on)."""
    valid_until = pl.coalesce(
        pl.col("valid_until"),
        pl.col("recognized_on").dt.offset_by("3y") - pl.duration(days=1),
    )
    ended = pl.col("status").is_in(["revoked", "withdrawn"]) & (
        pl.col("ended_on").is_null() | (pl.col("ended_on") <= as_of))
    return recognitions.lazy().filter(
        (pl.col("recognized_on") <= as_of) & (valid_until >= as_of) & ~ended)


def _jurisdiction_prefixes(jurisdiction: str) -> list[str] | None:
    from registry.reference import jurisdictions

    row = jurisdictions().filter(pl.col("id") == jurisdiction)
    if row.is_empty():
        raise ValueError(f"unknown jurisdiction {jurisdiction}")
    codes = [p for p in row["region_codes"][0].split(";") if p]
    return codes or None  # cn: every region


def _sme_size_class() -> pl.Expr:
    """Expression over columns industry_key, employees, revenue, total_assets and the standard's thresholds
    (joined beforehand): 300号 — SME when any measure is below the SME maximum ("以下" is strict); medium
    when every measure reaches the medium minimum ("及以上"); small likewise; micro otherwise."""
    measures = (("employees", "employees"), ("revenue", "revenue"), ("assets", "total_assets"))

    def used(m: str) -> pl.Expr:
        return pl.col(f"uses_{m}")

    def below(limit: str, m: str, col: str) -> pl.Expr:
        return pl.when(used(m)).then(pl.col(col) < pl.col(f"{limit}_{m}_max")).otherwise(False)

    def reaches(limit: str, m: str, col: str) -> pl.Expr:
        return pl.when(used(m)).then(pl.col(col) >= pl.col(f"{limit}_{m}_min")).otherwise(True)

    sme = pl.any_horizontal([below("sme", m, c) for m, c in measures])
    medium = pl.all_horizontal([reaches("medium", m, c) for m, c in measures])
    small = pl.all_horizontal([reaches("small", m, c) for m, c in measures])
    return (pl.when(pl.col("industry_key").is_null()).then(None)
            .when(sme.not_()).then(pl.lit("large"))
            .when(sme & medium).then(pl.lit("medium"))
            .when(sme & small & medium.not_()).then(pl.lit("small"))
            .when(small.not_()).then(pl.lit("micro"))
            .otherwise(None))


SME_SIZE_METRICS = ("employees", "revenue", "total_assets")


def _sme_frame(firms: pl.DataFrame, enterprises: pl.DataFrame, bundle: Bundle, as_of: date
               ) -> pl.DataFrame:
    from registry.reference import sme_industry_key, sme_size_standard

    codes = enterprises.select("industry_code").unique().drop_nulls()["industry_code"].to_list()

    def key_of(code: str) -> str | None:
        try:
            return sme_industry_key(code)
        except ValueError:
            return None

    # One lookup per distinct industry code (a few hundred), not per firm.
    keys = pl.DataFrame({"industry_code": codes, "industry_key": [key_of(c) for c in codes]},
                        schema={"industry_code": pl.String, "industry_key": pl.String})
    figs = bundle_annual(bundle, [as_of.year - 1], SME_SIZE_METRICS)
    df = (firms.join(enterprises.select("uscc", "industry_code").unique("uscc"), on="uscc", how="left")
          .join(keys, on="industry_code", how="left")
          .join(sme_size_standard().with_columns(  # per standard row, not per firm
              pl.col("measures").str.contains(m).alias(f"uses_{m}") for m in ("employees", "revenue", "assets")),
              on="industry_key", how="left")
          .join(figs.drop("year"), on="uscc", how="left"))
    return df.select("uscc", _sme_size_class().alias("sme_size_class"))


# ---------------------------------------------------------------------------------------------------------
# The entry point.
# ---------------------------------------------------------------------------------------------------------


def _attribute_names(ref: IndicatorRef) -> set[str]:
    """The attributes an indicator reads through the pivot of in-force attributes (empty: none)."""
    if ref.indicator in ATTRIBUTES:
        return {ref.indicator}
    # set[Any]: params are open (IndicatorRef.params), so params.name is whatever the policy file wrote.
    read: dict[str, set[Any]] = {"years_in_niche": {"niche_since_year"},
                                 "standards_count": {"standards_led", "standards_participated"},
                                 "attribute": {ref.params.get("name")}}
    return read.get(ref.indicator, set())


@dataclasses.dataclass(frozen=True)
class DataNeeds:
    """What a set of indicators reads as of a date: report metrics of which years, and attributes
    (load_bundle can read only these)."""

    metrics: frozenset[str]
    years: frozenset[int]
    attributes: frozenset[str]


def data_needs(refs: Iterable[IndicatorRef], as_of: date) -> DataNeeds:
    metrics: set[str] = set()
    years: set[int] = set()
    attributes: set[str] = set()
    for r in refs:
        if r.indicator in ANNUAL:
            metrics |= set(_base_metrics(r.indicator))
            years |= {as_of.year - k for k in range(1, annual_depth(r) + 1)}
        elif r.indicator == "sme_size_class":
            metrics |= set(SME_SIZE_METRICS)
            years.add(as_of.year - 1)
        elif r.indicator == "in_group":
            attributes.add(r.params["attribute"])
        elif r.indicator in ("attribute_any", "attribute_within", "attribute_max_within"):
            attributes.add(r.params["name"])
            if r.params.get("rank"):
                attributes.add(r.params["rank"])
        attributes |= _attribute_names(r)
    return DataNeeds(frozenset(metrics), frozenset(years), frozenset(attributes))


def derive_indicators(bundle: Bundle, refs: Iterable[IndicatorRef], as_of: date) -> pl.DataFrame:
    """One row per firm of bundle.enterprises: uscc + a column per requested indicator key."""
    refs = list({r.key(): r for r in refs}.values())
    firms = bundle.enterprises.select("uscc").unique(maintain_order=True)
    out = firms
    needs = data_needs(refs, as_of)
    if bundle.annual is None and needs.metrics:
        # Once for every annual indicator and the size class, not once per reader.
        bundle = dataclasses.replace(bundle, annual=annual_figures(bundle.reports, needs.years, needs.metrics))

    annual = [r for r in refs if r.indicator in ANNUAL]
    if annual:
        depth = max(annual_depth(r) for r in annual)
        metrics = sorted({m for r in annual for m in _base_metrics(r.indicator)})
        wide = _wide_annual(firms, bundle, as_of, depth, metrics)
        exprs: dict[str, pl.Expr] = {}
        for r in annual:
            exprs.update(_annual_exprs(r))
        out = out.join(wide.select("uscc", **exprs), on="uscc", how="left")

    attr_refs = [r for r in refs if _attribute_names(r)]
    if attr_refs:
        names = {n for r in attr_refs for n in _attribute_names(r)}
        in_force = attributes_in_force(bundle.attributes.filter(pl.col("attribute").is_in(list(names))), as_of)
        # One pivot (a column per attribute) instead of a join per attribute.
        pivoted = in_force.pivot(on="attribute", index="uscc", values="value", on_columns=sorted(names))
        wide = firms.join(pivoted.rename({n: f"attr:{n}" for n in names}), on="uscc", how="left")
        exprs = {}
        for r in attr_refs:
            if r.indicator == "years_in_niche":
                exprs[r.key()] = pl.lit(float(as_of.year)) - read_attribute(pl.col("attr:niche_since_year"), "number")
            elif r.indicator == "standards_count":
                parts = [read_attribute(pl.col(f"attr:{n}"), "number")
                         for n in ("standards_led", "standards_participated")]
                exprs[r.key()] = pl.when(_all_known(parts)).then(pl.sum_horizontal(parts))
                exprs[r.key() + "~lb"] = pl.when(pl.any_horizontal([p.is_not_null() for p in parts])).then(
                    pl.sum_horizontal(parts))
            elif r.indicator == "attribute":
                exprs[r.key()] = read_attribute(pl.col(f"attr:{r.params['name']}"), r.params.get("type", "text"))
            else:
                exprs[r.key()] = read_attribute(pl.col(f"attr:{r.indicator}"), ATTRIBUTES[r.indicator])
        out = out.join(wide.select("uscc", **exprs), on="uscc", how="left")

    ent = bundle.enterprises.unique("uscc", keep="last")
    for r in refs:
        key, p = r.key(), r.params
        if r.indicator == "operating_years":
            f = pl.col("founded_on")
            after_anniversary = (f.dt.month().cast(pl.Int32) * 100 + f.dt.day().cast(pl.Int32)) > (
                as_of.month * 100 + as_of.day)
            col = (pl.lit(as_of.year) - f.dt.year().cast(pl.Int32) - after_anniversary.cast(pl.Int32)).cast(pl.Float64)
            out = out.join(ent.select("uscc", col.alias(key)), on="uscc", how="left")
        elif r.indicator == "industry_code":
            out = out.join(ent.select("uscc", pl.col("industry_code").alias(key)), on="uscc", how="left")
        elif r.indicator == "in_jurisdiction":
            # region_codes: a zone that is no jurisdiction of its own (珠三角核心区, 成都平原经济区), by prefecture codes.
            prefixes = ([str(c) for c in p["region_codes"]] if p.get("region_codes")
                        else _jurisdiction_prefixes(p["jurisdiction"]))
            rc = pl.col("region_code")
            col = (rc.is_not_null() if prefixes is None
                   else pl.when(rc.is_null()).then(None).otherwise(
                       pl.any_horizontal([rc.str.starts_with(x) for x in prefixes])))
            out = out.join(ent.select("uscc", col.alias(key)), on="uscc", how="left")
        elif r.indicator == "listing_board":
            listed = (bundle.events.lazy()
                      .filter((pl.col("event") == "listing") & (pl.col("occurred_on") <= as_of))
                      .sort("occurred_on").group_by("uscc").agg(pl.col("detail").last().alias("_event_board"))
                      .collect())
            col = pl.coalesce(pl.col("_event_board").str.strip_chars().str.to_lowercase(),
                              pl.col("listing_board").str.strip_chars().str.to_lowercase())
            out = out.join(ent.select("uscc", "listing_board").join(listed, on="uscc", how="left")
                           .select("uscc", col.alias(key)), on="uscc", how="left")
        elif r.indicator == "events_within":
            # years = 0 (no within_years in the policy): any event up to as_of counts.
            after = (pl.col("occurred_on") > _years_before(as_of, float(p["years"]))) if p.get("years") else pl.lit(True)
            counts = (bundle.events.lazy()
                      .filter(pl.col("event").is_in(list(p["events"]))
                              & after & (pl.col("occurred_on") <= as_of))
                      .group_by("uscc").agg(pl.len().cast(pl.Float64).alias(key)).collect())
            out = out.join(counts, on="uscc", how="left").with_columns(pl.col(key).fill_null(0.0))
        elif r.indicator == "holds_tier":
            if p.get("recognized_in_years"):
                # A title granted in the named years counts whether or not it is still in force (not if revoked).
                held = bundle.recognitions.lazy().filter(
                    (pl.col("recognized_on") <= as_of)
                    & pl.col("recognized_on").dt.year().is_in(list(p["recognized_in_years"]))
                    & ~pl.col("status").is_in(["revoked", "withdrawn"]))
            else:
                held = recognitions_held(bundle.recognitions, as_of)
            held = held.filter(pl.col("tier").is_in(list(p["tiers"])))
            if p.get("jurisdictions"):
                held = held.filter(pl.col("jurisdiction").is_in(list(p["jurisdictions"])))
            ids = held.select("uscc").unique().with_columns(pl.lit(True).alias(key)).collect()
            out = out.join(ids, on="uscc", how="left").with_columns(pl.col(key).fill_null(False))
        elif r.indicator == "in_group":
            rows = (bundle.attributes.lazy()
                    .filter((pl.col("attribute") == p["attribute"])
                            & (pl.col("effective_on") <= as_of)
                            & (pl.col("expires_on").is_null() | (pl.col("expires_on") >= as_of))
                            & pl.col("value").str.strip_chars().is_in(list(p["values"])))
                    .select("uscc").unique().with_columns(pl.lit(True).alias(key)).collect())
            out = out.join(rows, on="uscc", how="left").with_columns(pl.col(key).fill_null(False))
        elif r.indicator == "sme_size_class":
            out = out.join(_sme_frame(firms, ent, bundle, as_of).rename({"sme_size_class": key}),
                           on="uscc", how="left")
        elif r.indicator == "attribute_any":
            out = out.join(_attribute_any(bundle.attributes, p, as_of).rename({"v": key}), on="uscc", how="left")
        elif r.indicator == "attribute_within":
            out = out.join(_attribute_within(bundle.attributes, p, as_of).rename({"v": key}), on="uscc", how="left")
        elif r.indicator == "attribute_max_within":
            dated = _dated_rows(bundle.attributes, p["name"], as_of, float(p["years"]))
            best = dated.group_by("uscc").agg(
                read_attribute(pl.col("value"), "number").max().alias(key)).collect()
            out = out.join(best, on="uscc", how="left")
    return out


def _dated_rows(attributes: pl.DataFrame, name: str, as_of: date, years: float | None) -> pl.LazyFrame:
    """Rows of one attribute dated up to as_of (and after as_of - years, when years is given)."""
    cond = (pl.col("attribute") == name) & (pl.col("effective_on") <= as_of)
    if years:
        cond = cond & (pl.col("effective_on") > _years_before(as_of, years))
    return attributes.lazy().filter(cond)


def _attribute_any(attributes: pl.DataFrame, p: dict[str, Any], as_of: date) -> pl.DataFrame:
    """uscc, v: an in-force row of p.name with a value in p.values; false when only other values are in force."""
    values = [str(v).lower() for v in p["values"]]
    rows = (attributes.lazy()
            .filter((pl.col("attribute") == p["name"]) & (pl.col("effective_on") <= as_of)
                    & (pl.col("expires_on").is_null() | (pl.col("expires_on") >= as_of))))
    return (rows.group_by("uscc")
            .agg(pl.col("value").str.strip_chars().str.to_lowercase().is_in(values).any().alias("v"))
            .collect())


def _attribute_within(attributes: pl.DataFrame, p: dict[str, Any], as_of: date) -> pl.DataFrame:
    """uscc, v: three-valued "an award / a list entry of these values within the window (with a rank ≤ max)".

    Known false when the firm has rows of the attribute up to as_of but none matches (a `none` row says "no
    award"); unknown (null) when it has none at all, or when a matching row's rank is blank and no other row
    decides."""
    values = [str(v).lower() for v in p["values"]]
    ever = _dated_rows(attributes, p["name"], as_of, None).select("uscc").unique()
    hits = (_dated_rows(attributes, p["name"], as_of, float(p["years"]))
            .filter(pl.col("value").str.strip_chars().str.to_lowercase().is_in(values))
            .select("uscc", "effective_on"))
    if p.get("rank"):
        ranks = (_dated_rows(attributes, p["rank"], as_of, float(p["years"]))
                 .select("uscc", "effective_on", read_attribute(pl.col("value"), "number").alias("rank")))
        ok = pl.col("rank") <= float(p["max_rank"])
        hits = hits.join(ranks, on=["uscc", "effective_on"], how="left").with_columns(
            pl.when(pl.col("rank").is_null()).then(None).otherwise(ok).alias("hit"))
    else:
        hits = hits.with_columns(pl.lit(True).alias("hit"))
    # Kleene OR over a firm's matching rows: any true wins, else any unknown rank leaves it unknown.
    decided = hits.group_by("uscc").agg(
        pl.when(pl.col("hit").any()).then(True)
        .when(pl.col("hit").is_null().any()).then(None)
        .otherwise(False).alias("hit"),
        pl.lit(True).alias("matched"))
    return (ever.join(decided, on="uscc", how="left")
            .select("uscc", pl.when(pl.col("matched").is_null()).then(False).otherwise(pl.col("hit")).alias("v"))
            .collect())
