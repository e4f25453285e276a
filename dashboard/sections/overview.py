"""The overview page's finished pieces (dashboard/views/overview.py), per data version, language and choices."""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl

from dashboard import charts
from dashboard.cache import cached
from dashboard.components import Table, labelled_table
from dashboard.evidence import plain_source
from registry.queries import (
    counts_by_area,
    counts_by_province,
    counts_by_tier,
    due_counts_of,
    due_recognitions_of,
    open_flags_by_kind,
    recognition_states,
)
from registry.review_risk import review_risk
from registry.targets import regional_target_progress

TARGET_CODES = {"tier": "tier", "state": "regional_state"}
DUE_LIST_CODES = {"tier": "tier", "state": "due_state", "jurisdiction": "jurisdiction"}


def tier_chart(as_of: date, lang: str) -> go.Figure:
    return charts.tier_bar(cached(counts_by_tier, as_of=as_of), lang)


def tier_table(as_of: date, lang: str) -> Table:
    return labelled_table(cached(counts_by_tier, as_of=as_of), {"tier": "tier"}, lang)


def province_chart(as_of: date, tier: str | None, lang: str) -> go.Figure:
    return charts.province_bar(cached(counts_by_province, as_of=as_of, tier=tier), lang)


def area_chart(within: str, as_of: date, tier: str | None, lang: str, title: str) -> go.Figure:
    return charts.province_bar(cached(counts_by_area, as_of=as_of, within=within, tier=tier), lang, title=title)


def review_risk_count(as_of: date, months: int) -> int:
    """Recognitions due for 复核 within `months` on course to fail: a count (the frame behind it is tens of MB)."""
    return cached(review_risk, as_of=as_of, months=months).count("review")


def due_counts_frame(as_of: date, review_due_days: int, expiring_days: int) -> pl.DataFrame:
    """Per tier, due for 复核 / expiring / expired (registry.queries.due_counts, from the states the list reads too)."""
    return due_counts_of(cached(recognition_states, as_of=as_of, review_due_days=review_due_days,
                                expiring_days=expiring_days))


def due_list_table(as_of: date, review_due_days: int, expiring_days: int, limit: int, lang: str) -> Table:
    states = cached(recognition_states, as_of=as_of, review_due_days=review_due_days, expiring_days=expiring_days)
    return labelled_table(due_recognitions_of(states, limit), DUE_LIST_CODES, lang)


def flags_chart(lang: str) -> go.Figure:
    return charts.flags_bar(cached(open_flags_by_kind), lang)


def flags_table(lang: str) -> Table:
    return labelled_table(cached(open_flags_by_kind), {"kind": "flag", "severity": "severity"}, lang)


def target_parts(as_of: date, region: str | None, lang: str) -> tuple[tuple[go.Figure, Table] | None, ...]:
    """(chart, table) of the national targets and of the region's (None where there are none): the region's own
    targets and those of the cities below it (targets cascade province → city); every region's when None."""
    targets = cached(regional_target_progress, as_of=as_of)
    columns = ["name_zh" if lang == "zh" else "name_en", "tier", "year", "target_count", "actual",
               "attainment_pct", "needed_per_year", "state", "source"]
    national = targets.filter(pl.col("jurisdiction") == "cn")
    regional = targets.filter(pl.col("jurisdiction") != "cn")
    if region is not None:
        regional = regional.filter((pl.col("jurisdiction") == region) | (pl.col("parent_id") == region))
    return tuple(
        None if part.is_empty() else (
            charts.attainment_bar(part, lang),
            # Sources without the repository's internal references (data/sources/… line numbers).
            labelled_table(part.select(columns).rename({columns[0]: "region"}).with_columns(
                pl.col("source").map_elements(plain_source, return_dtype=pl.String)), TARGET_CODES, lang))
        for part in (national, regional))
