"""The rule-impact page's chart as a pure function: registry.impact's gate costs in, a plotly figure out."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.charts import _layout
from dashboard.i18n import column_label, t

FAILING_COLOUR = "#C62828"
MISSING_COLOUR = "#FFB300"


def gate_cost_chart(gates: pl.DataFrame, lang: str) -> go.Figure:
    """Horizontal bars per criterion of the new rule set that costs firms (columns of registry.impact.GATE_SCHEMA):
    firms failing it, and firms missing its data, stacked; the most costly at the top."""
    costly = gates.filter((pl.col("firms_failing") > 0) | (pl.col("missing_data") > 0))
    label = "label_en" if lang == "en" else "label_zh"
    names = [f"{text} ({cid})" for text, cid in zip(costly[label], costly["criterion"], strict=True)][::-1]
    fig = go.Figure()
    for column, colour in (("firms_failing", FAILING_COLOUR), ("missing_data", MISSING_COLOUR)):
        fig.add_bar(y=names, x=costly[column].to_list()[::-1], orientation="h", marker_color=colour,
                    name=column_label(column, lang))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text=t("chart.firms", lang))
    fig = _layout(fig, t("impact.chart_title", lang), height=max(300, 100 + 32 * costly.height))
    # The legend below the axis title, pinned to the figure's bottom edge: placed under the plot by a fraction
    # of its height (the shared layout), it sat on the axis title of a short chart.
    return fig.update_layout(legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.02,
                                     "x": 0}, margin={"b": 80})
