"""KPI targets behind the dashboard's 目标达成 page: a firm's 目标表 (重点"小巨人") against its actual figures, and
regional cultivation targets against the number of recognised firms, with the trajectory to the target year.

Every query takes the asking Principal first and covers only its firms (registry.selection).

Firm level (财建〔2021〕2号 附4 目标表, compilation L708-815): each row of `firm_target` gives an indicator's
baseline (初始值, at the end of the start period's year Y0), the year-1 target (实施期满一年, year Y0+1) and the
year-2 target (实施期满两年, Y0+2). The actual value of a year comes from the firm's annual figures (an annual
report, else complete sub-annual reports: registry.policy.indicators.annual_figures) or from its attributes in
force on 31 December of that year, as TARGET_INDICATORS declares per indicator; an attribute named like the
indicator (a number) stands in when that gives nothing, so any indicator a targets file names can be measured.
The status of a firm's indicator follows STATUS_RULES (first match), with `meets` read by the indicator's
direction (DIRECTIONS: higher is better → actual ≥ target, lower is better → actual ≤ target).

Regional level: a target (jurisdiction, tier, year, count) is met by the firms registered in the jurisdiction
that hold the tier (registry.selection.held_on) — whoever recognised them. The state compares the pace of the last
twelve months with the pace still needed to reach the target by 31 December of the target year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from registry.access import Principal, jurisdictions_in_scope
from registry.db import engine_or_default as _engine
from registry.models import Attribute, FirmTarget, RegionalTarget, Report, table_of
from registry.pipeline import area_level, area_names
from registry.policy.indicators import annual_figures, read_attribute
from registry.selection import E, R, firm_conditions, held_on, read_frame

FT = table_of(FirmTarget)
T = table_of(RegionalTarget)
P = table_of(Report)
A = table_of(Attribute)

# ---------------------------------------------------------------- the rules, as data


@dataclass(frozen=True)
class TargetIndicator:
    """How the actual value of a 目标表 indicator is measured for a year.

    measure: `ratio` (inputs[0] / inputs[1] × 100 of the year's annual figures), `metric` (the annual figure
    inputs[0]), `growth` ((inputs[0] of the year / of the year before − 1) × 100), `attribute_sum` (the sum of the
    numeric attributes in force on 31 December), `attribute_level` (the attribute's value mapped by `levels`),
    `attribute` (only the attribute named like the indicator)."""

    label_zh: str
    label_en: str
    unit: str
    measure: str
    inputs: tuple[str, ...] = ()
    levels: dict[str, float] = field(default_factory=dict)
    source: str = ""
    note: str = ""


# The 13 indicators of the national 目标表 (ids as the demo registry and targets files use them).
TARGET_INDICATORS: dict[str, TargetIndicator] = {
    "main_revenue_share": TargetIndicator(
        "主营业务收入占营业收入比重", "Main business revenue / revenue", "%", "ratio", ("main_revenue", "revenue"),
        source="L729-733"),
    "export_share": TargetIndicator(
        "主导产品出口额占营业收入比重", "Export value / revenue", "%", "ratio", ("export_value", "revenue"),
        source="L735", note="用企业出口额代替主导产品出口额 / the firm's export value stands in for the main "
                            "product's"),
    "foreign_certs": TargetIndicator(
        "获得发达国家或地区认证数量", "Developed-country certifications", "个", "attribute", source="L737-739"),
    "rd_ratio": TargetIndicator(
        "研发经费支出占营业收入比重", "R&D expense / revenue", "%", "ratio", ("rd_expense", "revenue"),
        source="L741-745", note="当年比重 / the year's own ratio"),
    "invention_patents": TargetIndicator(
        "有效发明专利数量", "Valid invention patents", "个", "metric", ("invention_patents",), source="L747"),
    "rd_institutions": TargetIndicator(
        "自建或联合建立研发机构", "R&D institutions", "个", "attribute_level", ("rd_institution",),
        levels={"none": 0.0, "self": 1.0, "joint": 1.0, "provincial": 2.0, "national": 3.0}, source="L749-753",
        note="资质只记录最高级别：无0、自建/联合1、省级2、国家级3 / the attribute records the highest level, "
             "read as none 0, own/joint 1, provincial 2, national 3"),
    "standards": TargetIndicator(
        "主持或参与制（修）订标准数量", "Standards led or participated in", "个", "attribute_sum",
        ("standards_led", "standards_participated"), source="L755-757"),
    "rd_projects": TargetIndicator(
        "近2年研发成果转化及应用项目数量", "R&D results applied (2 years)", "项", "attribute", source="L759"),
    "quality_certs": TargetIndicator(
        "质量管理体系认证数量", "Management system certifications", "项", "attribute", source="L761-771"),
    "product_standard": TargetIndicator(
        "产品执行标准达到国际/国家/行业标准", "Product standard at international/national/industry level", "是/否",
        "attribute_level", ("product_standard",),
        levels={"international": 1.0, "national": 1.0, "industry": 1.0, "none": 0.0}, source="L773-787"),
    "digital_cloud": TargetIndicator(
        "数字化和工业设计赋能、业务系统云端迁移", "Digitalisation / cloud migration", "是/否", "attribute",
        source="L789-803"),
    "listing_plan": TargetIndicator(
        "上市计划阶段", "Listing plan stage", "阶段", "attribute_level", ("listing_plan",),
        levels={"none": 0.0, "reform": 1.0, "tutoring": 2.0, "applied": 3.0}, source="L805-809",
        note="无0、股改1、辅导2、已递交申请3 / none 0, reform 1, tutoring 2, applied 3"),
    "main_revenue_growth": TargetIndicator(
        "上年主营业务收入增长率", "Main business revenue growth", "%", "growth", ("main_revenue",), source="L811"),
    # Not in the national 目标表; regional tables and firms set it, lower is better (file direction `lower`).
    "debt_ratio": TargetIndicator(
        "资产负债率", "Debt ratio", "%", "ratio", ("total_liabilities", "total_assets"),
        note="年末负债总额 ÷ 资产总额 / year-end liabilities ÷ assets; 方向应为 lower"),
}

# Which way is better, and what "meets the target" means then.
DIRECTIONS: dict[str, str] = {"higher": ">=", "lower": "<="}

# Annual figures are due by 31 May of the following year (DOMAIN §4: nationally every firm by 31 May): before
# that a year without figures is not yet "no data".
ANNUAL_FIGURES_DUE = (5, 31)


@dataclass(frozen=True)
class StatusRule:
    status: str
    when: tuple[str, ...]  # conditions (CONDITIONS), all must hold; "!" negates
    zh: str
    en: str


# First match wins. The assessed year is the latest target year (Y0+1, Y0+2) that is over and either has
# figures or is past their due date.
STATUS_RULES: tuple[StatusRule, ...] = (
    StatusRule("not_due", ("!assessed",), "尚无已结束的考核年度", "no target year is over yet"),
    StatusRule("no_data", ("!has_data",), "考核年度缺少实际值或目标值", "the assessed year's actual or target is missing"),
    StatusRule("achieved", ("meets_year2",), "实际值达到两年目标", "the actual meets the year-2 target"),
    StatusRule("on_track", ("year1_assessed", "meets_year1"), "一年期考核达到一年目标，两年期尚未结束",
               "year 1 assessed and its target met; year 2 not over yet"),
    StatusRule("behind", (), "其余情况：未达到考核年度目标", "otherwise: the assessed year's target not met"),
)
TARGET_STATUSES = tuple(rule.status for rule in STATUS_RULES)
ASSESSED_STATUSES = ("achieved", "on_track", "behind")  # an assessed year with an actual value
MET_STATUSES = ("achieved", "on_track")

# Regional targets: achieved / on_track / behind / missed (target year over, not reached).
REGIONAL_STATES = ("achieved", "on_track", "behind", "missed")

# ---------------------------------------------------------------- firm targets


FIRM_TARGET_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "uscc": pl.String, "name": pl.String, "region_code": pl.String, "indicator": pl.String, "unit": pl.String,
    "direction": pl.String, "start_period": pl.String, "baseline": pl.Float64, "target_year1": pl.Float64,
    "target_year2": pl.Float64,
}


def _firm_filter(principal: Principal, uscc: str | None, region: str | None, industry: str | None
                 ) -> list[sa.ColumnElement[bool]]:
    conditions = firm_conditions(principal, region, industry)
    if uscc:
        conditions.append(E.c.uscc == uscc.strip().upper())
    return conditions


def _attributes_needed() -> list[str]:
    derived = {i for spec in TARGET_INDICATORS.values() if spec.measure.startswith("attribute_") for i in spec.inputs}
    return sorted(derived)


def _report_metrics() -> list[str]:
    return sorted({i for spec in TARGET_INDICATORS.values() if spec.measure in ("ratio", "metric", "growth")
                   for i in spec.inputs})


def _measured_values(firm_years: pl.DataFrame, annual: pl.DataFrame, attributes: pl.DataFrame,
                     indicators: list[str]) -> pl.DataFrame:
    """uscc, year, indicator, actual for every requested (firm, year) and indicator."""
    previous = annual.with_columns((pl.col("year") + 1).alias("year")).rename(
        {m: f"{m}__prev" for m in annual.columns if m not in ("uscc", "year")})
    figures = firm_years.join(annual, on=["uscc", "year"], how="left").join(
        previous, on=["uscc", "year"], how="left")
    # Attributes in force on 31 December of each year: the latest effective row not expired by then.
    year_end = pl.date(pl.col("year"), 12, 31)
    in_force = (
        firm_years.join(attributes, on="uscc", how="inner")
        .filter(pl.col("effective_on") <= year_end, pl.col("expires_on").is_null() | (pl.col("expires_on") >= year_end))
        .sort("effective_on")
        .group_by("uscc", "year", "attribute").agg(pl.col("value").last())
    )
    parts = []
    for indicator in indicators:
        spec = TARGET_INDICATORS.get(indicator)
        derived = _derived(spec, figures, in_force) if spec else None
        own = in_force.filter(pl.col("attribute") == indicator).select(
            "uscc", "year", read_attribute(pl.col("value"), "number").alias("own"))
        frame = firm_years.join(own, on=["uscc", "year"], how="left")
        if derived is not None:
            frame = frame.join(derived, on=["uscc", "year"], how="left")
            actual = pl.coalesce("derived", "own")
        else:
            actual = pl.col("own")
        parts.append(frame.select("uscc", "year", pl.lit(indicator).alias("indicator"), actual.alias("actual")))
    return pl.concat(parts) if parts else pl.DataFrame(
        schema={"uscc": pl.String, "year": pl.Int64, "indicator": pl.String, "actual": pl.Float64})


def _derived(spec: TargetIndicator, figures: pl.DataFrame, in_force: pl.DataFrame) -> pl.DataFrame | None:
    keys = figures.select("uscc", "year")
    if spec.measure == "ratio":
        num, den = (pl.col(c) for c in spec.inputs)
        value = pl.when(den > 0).then((num / den * 100).round(2))
        return figures.select("uscc", "year", value.alias("derived"))
    if spec.measure == "metric":
        return figures.select("uscc", "year", pl.col(spec.inputs[0]).alias("derived"))
    if spec.measure == "growth":
        now, before = pl.col(spec.inputs[0]), pl.col(f"{spec.inputs[0]}__prev")
        value = pl.when(before > 0).then(((now / before - 1) * 100).round(2))
        return figures.select("uscc", "year", value.alias("derived"))
    if spec.measure == "attribute_sum":
        summed = (in_force.filter(pl.col("attribute").is_in(list(spec.inputs)))
                  .group_by("uscc", "year").agg(read_attribute(pl.col("value"), "number").sum().alias("derived")))
        return keys.join(summed, on=["uscc", "year"], how="left")
    if spec.measure == "attribute_level":
        levels = in_force.filter(pl.col("attribute") == spec.inputs[0]).select(
            "uscc", "year", read_attribute(pl.col("value"), "text")
            .replace_strict(spec.levels, default=None, return_dtype=pl.Float64).alias("derived"))
        return keys.join(levels, on=["uscc", "year"], how="left")
    return None  # `attribute`: only the attribute named like the indicator


def _meets(actual: pl.Expr, target: pl.Expr) -> pl.Expr:
    """actual meets target under the row's direction (DIRECTIONS); null when either is missing."""
    expr = pl.lit(None, pl.Boolean)
    for direction, comparison in DIRECTIONS.items():
        met = actual >= target if comparison == ">=" else actual <= target
        expr = pl.when(pl.col("direction") == direction).then(met).otherwise(expr)
    return expr


def _status_expr(conditions: dict[str, pl.Expr]) -> pl.Expr:
    expr = pl.lit(None, pl.String)
    for rule in reversed(STATUS_RULES):
        holds = pl.lit(True)
        for name in rule.when:
            cond = conditions[name.lstrip("!")].fill_null(False)
            holds = holds & (~cond if name.startswith("!") else cond)
        expr = pl.when(holds).then(pl.lit(rule.status)).otherwise(expr)
    return expr


def firm_target_attainment(principal: Principal, as_of: date, uscc: str | None = None, region: str | None = None,
                           industry: str | None = None, *, engine: Engine | None = None) -> pl.DataFrame:
    """One row per firm and 目标表 indicator: FIRM_TARGET_SCHEMA, then `year1`, `actual_year1`, `year2`,
    `actual_year2`, `assessed_year`, `target` and `actual` of the assessed year, `attainment_pct` (progress from the
    baseline to the assessed year's target: 100 = target reached, 0 = still at the baseline, negative = moved away;
    when the target equals the baseline, 100 if met else 0) and `status` (TARGET_STATUSES)."""
    eng = _engine(engine)
    conditions = _firm_filter(principal, uscc, region, industry)
    targets = read_frame(eng, sa.select(
        E.c.uscc, E.c.name, E.c.region_code, FT.c.indicator, FT.c.unit, FT.c.direction, FT.c.start_period,
        FT.c.baseline, FT.c.target_year1, FT.c.target_year2,
    ).select_from(FT.join(E, E.c.id == FT.c.enterprise_id)).where(*conditions)
        .order_by(E.c.uscc, FT.c.start_period, FT.c.indicator), FIRM_TARGET_SCHEMA)
    targets = targets.with_columns(
        pl.col("direction").fill_null("higher"),
        pl.col("unit").fill_null(pl.col("indicator").replace_strict(
            {k: v.unit for k, v in TARGET_INDICATORS.items()}, default=None, return_dtype=pl.String)),
        (pl.col("start_period").str.slice(0, 4).cast(pl.Int64, strict=False) + 1).alias("year1"),
    ).with_columns((pl.col("year1") + 1).alias("year2"))
    out_schema: dict[str, pl.DataType | type[pl.DataType]] = {
        **FIRM_TARGET_SCHEMA, "year1": pl.Int64, "actual_year1": pl.Float64, "year2": pl.Int64,
        "actual_year2": pl.Float64, "assessed_year": pl.Int64, "target": pl.Float64, "actual": pl.Float64,
        "attainment_pct": pl.Float64, "status": pl.String}
    if targets.is_empty():
        return pl.DataFrame(schema=out_schema)

    firm_years = pl.concat([targets.select("uscc", pl.col(c).alias("year")) for c in ("year1", "year2")]).unique()
    # One row of the bounds (row() is Any; Series.min() is typed for every dtype, dates and text included).
    lo, hi = (int(v) for v in firm_years.select(lo=pl.col("year").min(), hi=pl.col("year").max()).row(0))
    ids = sa.select(FT.c.enterprise_id).select_from(FT.join(E, E.c.id == FT.c.enterprise_id)).where(*conditions)
    metrics = _report_metrics()
    reports = read_frame(eng, sa.select(
        E.c.uscc, P.c.year, P.c.period, P.c.period_type, P.c.basis, *(P.c[m] for m in metrics),
    ).select_from(P.join(E, E.c.id == P.c.enterprise_id)).where(
        P.c.enterprise_id.in_(ids), P.c.year.between(lo - 1, hi)),
        {"uscc": pl.String, "year": pl.Int64, "period": pl.String, "period_type": pl.String, "basis": pl.String,
         **{m: pl.Float64 for m in metrics}})
    annual = annual_figures(reports, range(lo - 1, hi + 1), metrics).with_columns(pl.col("year").cast(pl.Int64))
    wanted = sorted(set(_attributes_needed()) | set(targets["indicator"].unique().to_list()))
    attributes = read_frame(eng, sa.select(E.c.uscc, A.c.attribute, A.c.value, A.c.effective_on, A.c.expires_on)
                            .select_from(A.join(E, E.c.id == A.c.enterprise_id))
                            .where(A.c.enterprise_id.in_(ids), A.c.attribute.in_(wanted)),
                            {"uscc": pl.String, "attribute": pl.String, "value": pl.String,
                             "effective_on": pl.Date, "expires_on": pl.Date})
    values = _measured_values(firm_years, annual, attributes, targets["indicator"].unique().to_list())
    for k in (1, 2):
        targets = targets.join(values.rename({"year": f"year{k}", "actual": f"actual_year{k}"}),
                               on=["uscc", "indicator", f"year{k}"], how="left")

    due_month, due_day = ANNUAL_FIGURES_DUE

    def assessable(k: int) -> pl.Expr:
        year = pl.col(f"year{k}")
        figures_due = pl.lit(as_of) >= pl.date(year + 1, due_month, due_day)
        return (year < as_of.year) & (pl.col(f"actual_year{k}").is_not_null() | figures_due)

    assessed_year = (pl.when(assessable(2)).then(pl.col("year2"))
                     .when(assessable(1)).then(pl.col("year1")).otherwise(None))
    frame = targets.with_columns(assessed_year.alias("assessed_year")).with_columns(
        pl.when(pl.col("assessed_year") == pl.col("year2")).then(pl.col("target_year2"))
        .when(pl.col("assessed_year") == pl.col("year1")).then(pl.col("target_year1")).alias("target"),
        pl.when(pl.col("assessed_year") == pl.col("year2")).then(pl.col("actual_year2"))
        .when(pl.col("assessed_year") == pl.col("year1")).then(pl.col("actual_year1")).alias("actual"),
    )
    conditions_by_name = {
        "assessed": pl.col("assessed_year").is_not_null(),
        "has_data": pl.col("actual").is_not_null() & pl.col("target").is_not_null(),
        "meets_year2": _meets(pl.col("actual"), pl.col("target_year2")),
        "year1_assessed": pl.col("assessed_year") == pl.col("year1"),
        "meets_year1": _meets(pl.col("actual"), pl.col("target_year1")),
    }
    span = pl.col("target") - pl.col("baseline")
    progress = pl.when(span != 0).then(((pl.col("actual") - pl.col("baseline")) / span * 100).round(1)) \
        .otherwise(pl.when(_meets(pl.col("actual"), pl.col("target"))).then(100.0).otherwise(0.0))
    frame = frame.with_columns(
        pl.when(pl.col("actual").is_not_null() & pl.col("target").is_not_null() & pl.col("baseline").is_not_null())
        .then(progress).alias("attainment_pct"),
        _status_expr(conditions_by_name).alias("status"),
    )
    order = {k: i for i, k in enumerate(TARGET_INDICATORS)}
    # As a pl.Schema: cast() types a dict's keys as name | selector | dtype, which dict[str, ...] is not.
    return frame.sort(pl.col("uscc"), pl.col("start_period"), pl.col("indicator").replace_strict(
        order, default=len(order), return_dtype=pl.Int32), pl.col("indicator")).select(list(out_schema)).cast(pl.Schema(out_schema))


def status_counts(attainment: pl.DataFrame) -> pl.DataFrame:
    """Per indicator, firms in each status: `indicator`, then one column per TARGET_STATUSES (0 when none)."""
    counts = attainment.group_by("indicator", "status").agg(pl.col("uscc").n_unique().cast(pl.Int64).alias("n"))
    wide = attainment.select("indicator").unique().sort("indicator")
    for status in TARGET_STATUSES:
        wide = wide.join(counts.filter(pl.col("status") == status).select("indicator", pl.col("n").alias(status)),
                         on="indicator", how="left")
    order = {k: i for i, k in enumerate(TARGET_INDICATORS)}
    return wide.with_columns(pl.col(s).fill_null(0) for s in TARGET_STATUSES).sort(
        pl.col("indicator").replace_strict(order, default=len(order), return_dtype=pl.Int32), pl.col("indicator"))


def laggards(attainment: pl.DataFrame, limit: int | None = 50) -> pl.DataFrame:
    """Firms by the number of indicators `behind`, most first, then by lowest median attainment: `uscc`, `name`,
    `region_code`, `behind`, `indicators` (assessed with data), `median_attainment_pct`, `behind_indicators`."""
    assessed = attainment.filter(pl.col("status").is_in(ASSESSED_STATUSES))
    ranked = (
        assessed.group_by("uscc", "name", "region_code").agg(
            (pl.col("status") == "behind").sum().cast(pl.Int64).alias("behind"),
            pl.len().cast(pl.Int64).alias("indicators"),
            pl.col("attainment_pct").median().round(1).alias("median_attainment_pct"),
            pl.col("indicator").filter(pl.col("status") == "behind").sort().str.join(",").alias("behind_indicators"),
        )
        .filter(pl.col("behind") > 0)
        .sort(["behind", "median_attainment_pct", "uscc"], descending=[True, False, False], nulls_last=True)
    )
    return ranked if limit is None else ranked.head(limit)


def attainment_by_area(attainment: pl.DataFrame, within: str | None) -> pl.DataFrame:
    """The 目标表 one level below `within` (a region-code prefix; None: the whole country → provinces, a province →
    its cities, a city or county → counties), from firm_target_attainment rows: `area_code`, `name_zh`, `name_en`,
    `firms` (with a 目标表), `indicators` (assessed with data), `met_indicators` (achieved or on track), `behind`,
    `met_pct` (met ÷ assessed × 100, null when none is assessed) and `median_attainment_pct` of the assessed rows;
    most firms first."""
    schema = {"area_code": pl.String, "name_zh": pl.String, "name_en": pl.String, "firms": pl.Int64,
              "indicators": pl.Int64, "met_indicators": pl.Int64, "behind": pl.Int64, "met_pct": pl.Float64,
              "median_attainment_pct": pl.Float64}
    rows = attainment if within is None else attainment.filter(pl.col("region_code").str.starts_with(within))
    if rows.is_empty():
        return pl.DataFrame(schema=schema)
    assessed = pl.col("status").is_in(ASSESSED_STATUSES)
    counted = (
        rows.with_columns(pl.col("region_code").str.slice(0, area_level(within)).alias("area_code"))
        .group_by("area_code").agg(
            pl.col("uscc").n_unique().alias("firms"),
            assessed.sum().alias("indicators"),
            pl.col("status").is_in(MET_STATUSES).sum().alias("met_indicators"),
            (pl.col("status") == "behind").sum().alias("behind"),
            pl.col("attainment_pct").filter(assessed).median().round(1).alias("median_attainment_pct"))
        .with_columns(pl.when(pl.col("indicators") > 0)
                      .then((pl.col("met_indicators") / pl.col("indicators") * 100).round(1)).alias("met_pct"))
    )
    return (area_names(counted["area_code"].to_list()).join(counted, on="area_code", how="left")
            .sort(["firms", "area_code"], descending=[True, False]).select(list(schema)).cast(pl.Schema(schema)))


# ---------------------------------------------------------------- regional targets


def _held_counts_by_prefix(engine: Engine, wanted: dict[date, list[str]], national: frozenset[str] = frozenset()
                           ) -> pl.DataFrame:
    """tier, prefix4, d0..dn: firms holding the tier on each day of `wanted` (day → the tiers asked for on that
    day; other tiers count 0 that day), per 4-digit region prefix — small whatever the registry size. Tiers in
    `national` are only needed for the whole country: they are counted without the firms' region (prefix4 ""),
    which spares the join with `enterprise` — most of the cost on a national registry.

    Each day's test runs only on the rows of its tiers (a past deadline often concerns one or two tiers).
    No scope clause here: the callers count only for targets whose jurisdiction the principal may see
    (registry.access.jurisdictions_in_scope) and restrict each count to that jurisdiction's region codes."""
    days = list(wanted)
    tiers = sorted({tier for day_tiers in wanted.values() for tier in day_tiers})
    schema = {"tier": pl.String, "prefix4": pl.String, **{f"d{k}": pl.Int64 for k in range(len(days))}}
    columns = [
        sa.func.count(sa.distinct(sa.case((sa.and_(R.c.tier.in_(wanted[day] or ["-"]), held_on(day)),
                                           R.c.enterprise_id)))).label(f"d{k}")
        for k, day in enumerate(days)
    ]
    rows = [R.c.status != "withdrawn", R.c.recognized_on <= max(days)]
    parts = []
    regional = [t for t in tiers if t not in national]
    if regional:
        prefix4 = sa.func.substr(E.c.region_code, 1, 4).label("prefix4")
        parts.append(read_frame(engine, sa.select(R.c.tier, prefix4, *columns)
                                .select_from(R.join(E, E.c.id == R.c.enterprise_id))
                                .where(R.c.tier.in_(regional), *rows).group_by(R.c.tier, prefix4), schema))
    countrywide = [t for t in tiers if t in national]
    if countrywide:
        parts.append(read_frame(engine, sa.select(R.c.tier, sa.literal("").label("prefix4"), *columns)
                                .where(R.c.tier.in_(countrywide), *rows).group_by(R.c.tier), schema))
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def _per_jurisdiction(counts: pl.DataFrame, pairs: pl.DataFrame, value_columns: list[str]) -> pl.DataFrame:
    """Sum prefix counts into (jurisdiction, tier) for the pairs (columns jurisdiction, tier, region_codes)."""
    exploded = pairs.with_columns(pl.col("region_codes").str.split(";").alias("prefix")).explode("prefix")
    # cn has no prefix: it covers every code.
    matched = exploded.join(counts, on="tier", how="inner").filter(
        (pl.col("prefix") == "") | pl.col("prefix4").str.starts_with(pl.col("prefix")))
    # A firm has one region code, hence one prefix4, and a jurisdiction's prefixes do not overlap: no double count.
    summed = matched.group_by("jurisdiction", "tier").agg(pl.col(c).sum() for c in value_columns)
    return pairs.select("jurisdiction", "tier").join(summed, on=["jurisdiction", "tier"], how="left").with_columns(
        pl.col(c).fill_null(0).cast(pl.Int64) for c in value_columns)


def _descendants(jurisdiction: str, table: pl.DataFrame) -> list[str]:
    parents = dict(zip(table["id"], table["parent_id"], strict=True))

    def under(jid: str) -> bool:
        while jid:
            if jid == jurisdiction:
                return True
            jid = parents.get(jid, "")
        return False

    return [jid for jid in table["id"].to_list() if under(jid)]


def regional_target_progress(principal: Principal, as_of: date, jurisdiction: str | None = None, *,
                             engine: Engine | None = None) -> pl.DataFrame:
    """The cultivation targets of `jurisdiction` and the jurisdictions below it (every target the principal may see
    when None) with what has been reached.

    `actual`: firms registered in the jurisdiction holding the tier on the as-of date, or on 31 December of the
    target year when that is earlier (a past target is judged on its deadline); `actual_year_ago` the same twelve
    months before that day (for a past target the year-end before its deadline, as on the trajectory); `pace_per_year` their difference; `needed_per_year` what is still missing spread
    over the time left to the deadline; `state`: achieved (actual ≥ target) | missed (deadline passed) | on_track
    (pace ≥ needed) | behind.

    Columns: jurisdiction, name_zh, name_en, parent_id, level, tier, year, target_count, actual, actual_year_ago,
    pace_per_year, needed_per_year, attainment_pct, state, source."""
    eng = _engine(engine)
    visible = jurisdictions_in_scope(principal)
    if jurisdiction is not None:
        visible = visible.filter(pl.col("id").is_in(_descendants(jurisdiction, visible)))
    targets = read_frame(eng, sa.select(T.c.jurisdiction, T.c.tier, T.c.year, T.c.target_count, T.c.source)
                         .where(T.c.jurisdiction.in_(visible["id"].to_list())),
                         {"jurisdiction": pl.String, "tier": pl.String, "year": pl.Int64, "target_count": pl.Int64,
                          "source": pl.String})
    # Open targets are judged on the as-of date (and a year before it, for the pace); past ones on their deadline.
    open_tiers = targets.filter(pl.col("year") >= as_of.year)["tier"].unique().sort().to_list()
    if as_of == date(as_of.year, 12, 31):  # the last day of the year: this year's targets are judged today
        open_tiers = targets.filter(pl.col("year") > as_of.year)["tier"].unique().sort().to_list()
    wanted: dict[date, list[str]] = {as_of: open_tiers, _minus_year(as_of): open_tiers}
    for year, group in targets.filter(pl.date(pl.col("year"), 12, 31) < as_of).group_by("year"):
        # A past target: its deadline and the year-end before it (its "a year ago", the trajectory's point).
        for day in (date(year[0], 12, 31), date(year[0] - 1, 12, 31)):
            wanted[day] = sorted(set(wanted.get(day, [])) | set(group["tier"].to_list()))
    days = list(wanted)
    national = frozenset(targets["tier"].unique().to_list()) - frozenset(
        targets.filter(pl.col("jurisdiction") != "cn")["tier"].to_list())
    counts = _held_counts_by_prefix(eng, wanted, national)
    pairs = targets.select("jurisdiction", "tier").unique().join(
        visible.select(pl.col("id").alias("jurisdiction"), "region_codes"), on="jurisdiction", how="left")
    columns = [f"d{k}" for k in range(len(days))]
    held = (_per_jurisdiction(counts, pairs, columns)
            .unpivot(index=["jurisdiction", "tier"], on=columns, variable_name="column", value_name="firms")
            .join(pl.DataFrame({"column": columns, "on": days}), on="column").drop("column"))
    deadline = pl.date(pl.col("year"), 12, 31)
    judged_on = pl.min_horizontal(deadline, pl.lit(as_of))
    years_left = (deadline - pl.lit(as_of)).dt.total_days() / 365.25
    missing = (pl.col("target_count") - pl.col("actual")).clip(lower_bound=0)

    def held_on_day(day: pl.Expr, name: str) -> pl.DataFrame:
        return targets.select("jurisdiction", "tier", "year", day.alias("on")).join(
            held, on=["jurisdiction", "tier", "on"], how="left").select(
            "jurisdiction", "tier", "year", pl.col("firms").fill_null(0).alias(name))

    frame = (
        targets.join(visible.select(pl.col("id").alias("jurisdiction"), "name_zh", "name_en", "parent_id", "level"),
                     on="jurisdiction", how="left")
        .join(held_on_day(judged_on, "actual"), on=["jurisdiction", "tier", "year"], how="left")
        # Twelve months before the day the target is judged on (as_of, or the deadline of a past target).
        .join(held_on_day(judged_on.dt.offset_by("-1y"), "actual_year_ago"), on=["jurisdiction", "tier", "year"],
              how="left")
        .with_columns(
            # Pace only matters while the target is open.
            pl.when(pl.lit(as_of) <= deadline).then(pl.col("actual") - pl.col("actual_year_ago"))
            .alias("pace_per_year"),
            pl.when(years_left > 0).then((missing / years_left).round(1)).alias("needed_per_year"),
            pl.when(pl.col("target_count") > 0)
            .then((pl.col("actual") / pl.col("target_count") * 100).round(1)).alias("attainment_pct"),
        )
        .with_columns(
            pl.when(pl.col("actual") >= pl.col("target_count")).then(pl.lit("achieved"))
            .when(pl.lit(as_of) > deadline).then(pl.lit("missed"))
            .when(pl.col("pace_per_year") >= pl.col("needed_per_year")).then(pl.lit("on_track"))
            .otherwise(pl.lit("behind")).alias("state"))
    )
    level_order = {"national": 0, "province": 1, "city": 2}
    return frame.sort(pl.col("level").replace_strict(level_order, default=3, return_dtype=pl.Int32),
                      "jurisdiction", "tier", "year").select(
        "jurisdiction", "name_zh", "name_en", "parent_id", "level", "tier", "year", "target_count", "actual",
        "actual_year_ago", "pace_per_year", "needed_per_year", "attainment_pct", "state", "source")


def _minus_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


TRAJECTORY_YEARS = 8  # year-ends shown before the as-of date


def regional_target_trajectory(principal: Principal, as_of: date, jurisdiction: str, tier: str, *,
                               engine: Engine | None = None) -> pl.DataFrame:
    """The line behind one target: `on` (date), `kind` (actual | path | target), `firms`.

    `actual`: firms of the jurisdiction holding the tier on 31 December of each earlier year (from the first year
    with such a recognition, at most TRAJECTORY_YEARS back) and on as_of; `path`: the straight line from the as-of
    count to the last target's count on 31 December of its year; `target`: each target (year-end) of the pair."""
    eng = _engine(engine)
    visible = jurisdictions_in_scope(principal).filter(pl.col("id") == jurisdiction)
    schema = {"on": pl.Date, "kind": pl.String, "firms": pl.Int64}
    if visible.is_empty():
        return pl.DataFrame(schema=schema)
    # The first year with such a recognition *in this jurisdiction's area*: a national minimum would tell a scoped
    # user when the tier first appeared outside their scope (tests/test_scope_leak.py).
    prefixes = [p for p in visible["region_codes"][0].split(";") if p]
    area = sa.or_(*(E.c.region_code.startswith(p, autoescape=True) for p in prefixes)) if prefixes else sa.true()
    first = read_frame(eng, sa.select(sa.func.min(R.c.recognized_on))
                       .select_from(R.join(E, E.c.id == R.c.enterprise_id))
                       .where(R.c.tier == tier, R.c.status != "withdrawn", area), {"first": pl.Date})["first"][0]
    targets = read_frame(eng, sa.select(T.c.year, T.c.target_count).where(
        T.c.jurisdiction == jurisdiction, T.c.tier == tier).order_by(T.c.year),
        {"year": pl.Int64, "target_count": pl.Int64})
    start_year = max(first.year, as_of.year - TRAJECTORY_YEARS) if first is not None else as_of.year
    days = [date(y, 12, 31) for y in range(start_year, as_of.year) if date(y, 12, 31) < as_of] + [as_of]
    counts = _held_counts_by_prefix(eng, dict.fromkeys(days, [tier]),
                                    frozenset({tier}) if jurisdiction == "cn" else frozenset())
    pair = pl.DataFrame({"jurisdiction": [jurisdiction], "tier": [tier],
                         "region_codes": [visible["region_codes"][0]]})
    columns = [f"d{k}" for k in range(len(days))]
    row = _per_jurisdiction(counts, pair, columns).row(0, named=True)
    actual = pl.DataFrame({"on": days, "kind": "actual", "firms": [row[c] for c in columns]}, schema=schema)
    parts = [actual]
    if not targets.is_empty():
        final_year, final_count = targets.row(-1)
        final_day = date(final_year, 12, 31)
        if final_day > as_of:
            parts.append(pl.DataFrame({"on": [as_of, final_day], "kind": "path",
                                       "firms": [row[columns[-1]], final_count]}, schema=schema))
        parts.append(pl.DataFrame({"on": [date(y, 12, 31) for y in targets["year"]], "kind": "target",
                                   "firms": targets["target_count"]}, schema=schema))
    return pl.concat(parts)

