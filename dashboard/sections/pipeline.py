"""The pipeline page's finished pieces (dashboard/views/pipeline.py), per data version, language and choices."""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl

from dashboard import analytics_charts
from dashboard.cache import cached
from dashboard.components import Table, labelled_table
from dashboard.i18n import code_label
from registry import pipeline
from registry.pipeline import funnel_by_area, promotion_candidates, review_cohorts, tier_flows, tier_funnel


def funnel_chart(as_of: date, region: str | None, industry: str | None, lang: str) -> go.Figure:
    return analytics_charts.funnel_chart(cached(tier_funnel, as_of=as_of, region=region, industry=industry), lang)


def areas_table(as_of: date, region: str | None, industry: str | None, lang: str) -> Table | None:
    areas = cached(funnel_by_area, as_of=as_of, region=region, industry=industry)
    if areas.is_empty():
        return None
    name = "name_en" if lang == "en" else "name_zh"
    return labelled_table(areas.select("area_code", pl.col(name).alias("area"), *pipeline.LADDER), lang=lang)


def flows(as_of: date, tier: str | None, region: str | None, industry: str | None,
          lang: str) -> tuple[go.Figure, int, Table] | None:
    """The flows chart, how many flows have no year, and the table by year and tier; None without flows."""
    frame = cached(tier_flows, as_of=as_of, tier=tier, region=region, industry=industry)
    if frame.is_empty():
        return None
    undated = int(frame.filter(pl.col("year").is_null())["firms"].sum())
    by_year = frame.pivot(on="flow", index=["year", "tier"], values="firms").sort("year", nulls_last=True)
    present = [f for f in pipeline.FLOWS if f in by_year.columns]
    by_year = by_year.select("year", "tier", *[pl.col(f).fill_null(0) for f in present])
    shown = labelled_table(by_year.rename({f: code_label("flow", f, lang) for f in present}), {"tier": "tier"}, lang)
    return analytics_charts.flows_chart(frame, lang), undated, shown


def cohorts(as_of: date, tier: str, region: str | None, industry: str | None,
            lang: str) -> tuple[go.Figure, Table] | None:
    frame = cached(review_cohorts, as_of=as_of, tier=tier, region=region, industry=industry)
    if frame.is_empty():
        return None
    return analytics_charts.cohort_chart(frame, lang), labelled_table(frame, {"outcome": "outcome"}, lang)


def candidates_table(region: str | None, industry: str | None, lang: str) -> tuple[pl.DataFrame, Table]:
    """The promotion candidates the flags found (for the metrics) and their table."""
    frame = cached(promotion_candidates, region=region, industry=industry)
    return frame, labelled_table(frame, {"tier": "tier", "target_tier": "tier"}, lang)
