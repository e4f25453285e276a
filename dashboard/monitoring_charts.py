"""The 运行监测 page's charts as pure functions: registry.monitoring's frames in, plotly figures out.

Money is shown in 万元, or in 亿元 when the largest figure drawn reaches 10,000 万元; the unit is in every title."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.charts import _layout
from dashboard.formatting import WAN_PER_YI
from dashboard.i18n import code_label, t
from registry.monitoring import METRICS

YI_LABEL = {"zh": "亿元", "en": "CNY 100m"}


def unit_scale(metric: str, values: pl.Series, lang: str) -> tuple[float, str]:
    """The divisor for the figures drawn and the unit's label."""
    unit = METRICS[metric].unit
    largest = values.drop_nulls().abs().max() if values.len() else None
    if unit == "wan_yuan" and largest is not None and largest >= WAN_PER_YI:
        return float(WAN_PER_YI), YI_LABEL["en" if lang == "en" else "zh"]
    return 1.0, t(f"monitor.unit.{unit}", lang)


def metric_name(metric: str, lang: str) -> str:
    return t(f"monitor.metric.{metric}", lang)


def trend_chart(trend: pl.DataFrame, metric: str, lang: str) -> go.Figure:
    """One line per tier: the median of the reporting firms in each period (registry.monitoring.trend)."""
    divisor, unit = unit_scale(metric, trend["median"], lang)
    fig = go.Figure()
    for tier in trend["tier"].unique(maintain_order=True).to_list():
        part = trend.filter(pl.col("tier") == tier)
        fig.add_scatter(x=part["period"].to_list(), y=(part["median"] / divisor).to_list(), mode="lines+markers",
                        name=code_label("tier", tier, lang), connectgaps=False)
    fig.update_xaxes(type="category", title_text=t("monitor.period", lang))
    fig.update_yaxes(title_text=f"{t('monitor.median', lang)} ({unit})")
    return _layout(fig, t("monitor.trend_title", lang, metric=metric_name(metric, lang), unit=unit), height=380)


def quartile_box(quartiles: pl.DataFrame, metric: str, period: str, lang: str) -> go.Figure:
    """One box per tier drawn from its quartiles (min, q1, median, q3, max of registry.monitoring.distribution):
    no firm's own figure reaches the browser."""
    data = quartiles.filter(pl.col("reporting") > 0)
    divisor, unit = unit_scale(metric, data["max"], lang)
    fig = go.Figure()
    for row in data.iter_rows(named=True):
        label = code_label("tier", row["tier"], lang)
        fig.add_box(x=[label], name=label, q1=[row["q1"] / divisor], median=[row["median"] / divisor],
                    q3=[row["q3"] / divisor], lowerfence=[row["min"] / divisor], upperfence=[row["max"] / divisor])
    fig.update_layout(showlegend=False)
    fig.update_yaxes(title_text=f"{metric_name(metric, lang)} ({unit})")
    return _layout(fig, t("monitor.box_title", lang, metric=metric_name(metric, lang), period=period, unit=unit),
                   height=380)
