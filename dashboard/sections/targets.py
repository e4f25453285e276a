"""The targets page's finished pieces (dashboard/views/targets.py), per data version, language and choices.

The national 目标表 has ≈ 200,000 rows: counting statuses, drawing the distributions and ranking the laggards from
it on every page run was most of a warm run's CPU; here it is done once per data version and choice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
import polars as pl

from dashboard import analytics_charts, charts
from dashboard.cache import cached
from dashboard.components import Table, firm_link_expr, labelled, labelled_table
from dashboard.evidence import plain_source
from dashboard.i18n import code_label
from registry.targets import (
    TARGET_INDICATORS,
    TARGET_STATUSES,
    attainment_by_area,
    firm_target_attainment,
    laggards,
    regional_target_progress,
    regional_target_trajectory,
    status_counts,
)

LAGGARDS_SHOWN = 50
DETAIL_SHOWN = 2000
DETAIL_CODES = {"indicator": "target_indicator", "status": "target_status", "direction": "direction"}


@dataclass(frozen=True)
class FirmTargets:
    """The firm-level 目标表 of a region and industry: totals, charts, the indicators on record."""

    empty: bool
    firms: int
    by_status: dict[str, int]
    status_chart: go.Figure | None
    counts: Table | None
    indicators: tuple[str, ...]
    box: go.Figure | None


def _attainment(as_of: date, region: str | None, industry: str | None) -> pl.DataFrame:
    return cached(firm_target_attainment, as_of=as_of, region=region, industry=industry)


def firm_targets(as_of: date, region: str | None, industry: str | None, lang: str) -> FirmTargets:
    attainment = _attainment(as_of, region, industry)
    if attainment.is_empty():
        return FirmTargets(True, 0, {}, None, None, (), None)
    counts = status_counts(attainment)
    on_record = set(attainment["indicator"].to_list())
    indicators = [i for i in TARGET_INDICATORS if i in on_record] + sorted(on_record - set(TARGET_INDICATORS))
    return FirmTargets(
        empty=False, firms=attainment["uscc"].n_unique(),
        by_status={status: int(counts[status].sum()) for status in TARGET_STATUSES},
        status_chart=analytics_charts.status_chart(counts, lang),
        counts=labelled_table(counts.rename({s: code_label("target_status", s, lang) for s in TARGET_STATUSES}),
                              {"indicator": "target_indicator"}, lang),
        indicators=tuple(indicators), box=analytics_charts.attainment_box(attainment, lang))


@dataclass(frozen=True)
class IndicatorView:
    """The chosen indicator's rows (or all): histogram, laggards, detail — and the frames their downloads take."""

    histogram: go.Figure
    laggards: Table | None
    laggards_all: pl.DataFrame
    detail: Table
    detail_all: pl.DataFrame
    rows: int


def readable_laggards(frame: pl.DataFrame, indicators: tuple[str, ...], lang: str) -> pl.DataFrame:
    """Behind-indicator codes as names, and a link to each firm's page."""
    labels = {i: code_label("target_indicator", i, lang) for i in indicators}
    return frame.with_columns(
        pl.col("behind_indicators").str.split(",").list.eval(pl.element().replace(labels))
        .list.join("、" if lang == "zh" else ", "),
        firm_link_expr("uscc", lang).alias("link"))


def laggards_download(frame: pl.DataFrame, indicators: tuple[str, ...], lang: str) -> pl.DataFrame:
    return labelled(readable_laggards(frame, indicators, lang).drop("link"), lang=lang)


def indicator_view(as_of: date, region: str | None, industry: str | None, indicator: str | None,
                   indicators: tuple[str, ...], lang: str, histogram_title: str) -> IndicatorView:
    attainment = _attainment(as_of, region, industry)
    chosen = attainment if indicator is None else attainment.filter(pl.col("indicator") == indicator)
    behind = laggards(chosen, limit=None)
    detail = chosen.rename({"target": "target_value", "actual": "actual_value"})
    return IndicatorView(
        histogram=analytics_charts.attainment_histogram(chosen, lang, histogram_title),
        laggards=None if behind.is_empty() else labelled_table(
            readable_laggards(behind.head(LAGGARDS_SHOWN), indicators, lang), lang=lang),
        laggards_all=behind, detail=labelled_table(detail.head(DETAIL_SHOWN), DETAIL_CODES, lang),
        detail_all=detail, rows=chosen.height)


PROGRESS_CODES = {"jurisdiction": "jurisdiction", "tier": "tier", "state": "regional_state"}


def regional_progress(as_of: date, jurisdiction: str | None,
                      lang: str) -> tuple[go.Figure, Table, tuple[tuple[str, str], ...]] | None:
    """Chart, table and the (jurisdiction, tier) pairs of a region's cultivation targets; None without any.
    Everything below `cn` (jurisdiction None) is every target: the overview's cached read."""
    progress = cached(regional_target_progress, as_of=as_of, jurisdiction=jurisdiction)
    if progress.is_empty():
        return None
    name = "name_en" if lang == "en" else "name_zh"
    columns = ["jurisdiction", name, "tier", "year", "target_count", "actual", "actual_year_ago",
               "pace_per_year", "needed_per_year", "attainment_pct", "state", "source"]
    # Sources without the repository's internal references (data/sources/… line numbers).
    shown = labelled_table(progress.select(columns).rename({name: "region"}).with_columns(
        pl.col("source").map_elements(plain_source, return_dtype=pl.String)), PROGRESS_CODES, lang)
    pairs = progress.select("jurisdiction", "tier").unique(maintain_order=True).rows()
    return charts.attainment_bar(progress, lang), shown, tuple(pairs)


def trajectory(as_of: date, jurisdiction: str, tier: str, lang: str, title: str,
               series: tuple[str, str, str]) -> tuple[go.Figure, Table]:
    """The trajectory chart and its table; `series` names actual, path and target in the language."""
    frame = cached(regional_target_trajectory, as_of=as_of, jurisdiction=jurisdiction, tier=tier)
    names = dict(zip(("actual", "path", "target"), series, strict=True))
    return (analytics_charts.trajectory_chart(frame, lang, title),
            labelled_table(frame.rename({"kind": "series"}).with_columns(pl.col("series").replace(names)), lang=lang))


def areas_table(as_of: date, region: str | None, industry: str | None, within: str | None, lang: str) -> Table:
    """One level below `within` (the chosen region or the user's own area): firms, indicators assessed and met,
    behind, the share met and the median attainment per area."""
    attainment = cached(firm_target_attainment, as_of=as_of, region=region, industry=industry)
    name = "name_en" if lang == "en" else "name_zh"
    by_area = attainment_by_area(attainment, within)
    return labelled_table(by_area.select("area_code", pl.col(name).alias("area"), "firms", "indicators",
                                         "met_indicators", "behind", "met_pct", "median_attainment_pct"), lang=lang)
