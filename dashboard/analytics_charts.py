"""Charts of the analytics pages as pure functions: a polars frame in (as registry.pipeline / registry.targets return
it), a plotly figure out. Labels come from the i18n catalogue, so every chart is bilingual."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.charts import TIER_COLOUR, _layout
from dashboard.i18n import code_label, t

FLOW_COLOURS = {"new": "#1565C0", "promotion": "#2E7D32", "renewal": "#80CBC4", "revocation": "#C62828",
                "expiry": "#90A4AE"}
OUTFLOWS = ("revocation", "expiry")
OUTCOME_COLOURS = {"renewed": "#2E7D32", "revoked": "#C62828", "expired": "#90A4AE", "pending": "#FFB300"}
STATUS_COLOURS = {"achieved": "#2E7D32", "on_track": "#1E88E5", "behind": "#C62828", "no_data": "#B0BEC5",
                  "not_due": "#ECEFF1"}


def funnel_chart(funnel: pl.DataFrame, lang: str) -> go.Figure:
    """The ladder as a funnel (columns tier, firms; ladder order), each rung also as a share of the one below."""
    labels = [code_label("tier", tier, lang) for tier in funnel["tier"].to_list()]
    fig = go.Figure(go.Funnel(y=labels, x=funnel["firms"].to_list(), textinfo="value+percent previous",
                              marker={"color": ["#90CAF9", "#42A5F5", "#1565C0", "#0D47A1"][: funnel.height]},
                              name=t("chart.firms", lang)))
    return _layout(fig, t("pipeline.funnel", lang), height=340)


def flows_chart(flows: pl.DataFrame, lang: str) -> go.Figure:
    """Firms per year and flow (columns year, flow, firms; any tiers summed): inflows stacked up, revocations and
    expiries stacked below zero. Rows without a year are left out (the page says how many)."""
    dated = flows.filter(pl.col("year").is_not_null()).group_by("year", "flow").agg(pl.col("firms").sum())
    years = sorted(dated["year"].unique().to_list())
    fig = go.Figure()
    for flow, colour in FLOW_COLOURS.items():
        part = pl.DataFrame({"year": years}, schema={"year": pl.Int64}).join(
            dated.filter(pl.col("flow") == flow), on="year", how="left")
        if part["firms"].is_null().all():
            continue
        sign = -1 if flow in OUTFLOWS else 1
        values = [sign * (v or 0) for v in part["firms"].to_list()]
        fig.add_bar(x=[str(y) for y in years], y=values, name=code_label("flow", flow, lang), marker_color=colour,
                    customdata=part["firms"].fill_null(0).to_list(), hovertemplate="%{x}: %{customdata}")
    fig.update_layout(barmode="relative")
    fig.update_xaxes(type="category", title_text=t("chart.year", lang))
    fig.update_yaxes(title_text=t("chart.firms", lang))
    return _layout(fig, t("pipeline.flows", lang), height=380)


def cohort_chart(cohorts: pl.DataFrame, lang: str) -> go.Figure:
    """Per cohort year, the share of each 复核 outcome (columns cohort, outcome, recognitions, share_pct), stacked
    to 100%; the counts are in the hover and above each bar."""
    years = sorted(cohorts["cohort"].unique().to_list())
    labels = [str(y) for y in years]
    fig = go.Figure()
    for outcome, colour in OUTCOME_COLOURS.items():
        part = pl.DataFrame({"cohort": years}, schema={"cohort": pl.Int64}).join(
            cohorts.filter(pl.col("outcome") == outcome), on="cohort", how="left")
        fig.add_bar(x=labels, y=part["share_pct"].fill_null(0).to_list(), name=code_label("outcome", outcome, lang),
                    marker_color=colour, customdata=part["recognitions"].fill_null(0).to_list(),
                    hovertemplate="%{x}: %{customdata} (%{y:.1f}%)")
    totals = cohorts.group_by("cohort").agg(pl.col("recognitions").sum()).sort("cohort")
    fig.add_scatter(x=labels, y=[102] * len(years), mode="text", text=totals["recognitions"].to_list(),
                    textposition="top center", showlegend=False, hoverinfo="skip")
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category", title_text=t("chart.year", lang))
    fig.update_yaxes(title_text=t("chart.share", lang), range=[0, 112])
    return _layout(fig, t("pipeline.cohorts", lang), height=380)


def status_chart(counts: pl.DataFrame, lang: str) -> go.Figure:
    """Firms per indicator and status (columns of registry.targets.status_counts), stacked horizontal bars."""
    labels = [code_label("target_indicator", i, lang) for i in counts["indicator"].to_list()]
    fig = go.Figure()
    for status, colour in STATUS_COLOURS.items():
        if status not in counts.columns or counts[status].sum() == 0:
            continue
        fig.add_bar(y=labels, x=counts[status].to_list(), orientation="h", marker_color=colour,
                    name=code_label("target_status", status, lang))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text=t("chart.firms", lang))
    return _layout(fig, t("targets.status_by_indicator", lang), height=max(300, 28 * counts.height + 120))


def box_statistics(values: pl.DataFrame, by: str, value: str) -> pl.DataFrame:
    """by, n, q1, median, q3, mean, lowerfence, upperfence per group: what plotly draws a box from (quartiles
    interpolated linearly, plotly's default; whiskers at the furthest values within 1.5 × IQR)."""
    v = pl.col(value)
    q1, q3 = v.quantile(0.25, "linear"), v.quantile(0.75, "linear")
    return values.group_by(by, maintain_order=True).agg(
        n=pl.len(), q1=q1, median=v.median(), q3=q3, mean=v.mean(),
        lowerfence=v.filter(v >= q1 - 1.5 * (q3 - q1)).min(),
        upperfence=v.filter(v <= q3 + 1.5 * (q3 - q1)).max())


def attainment_box(attainment: pl.DataFrame, lang: str) -> go.Figure:
    """Distribution of attainment % per indicator (one box each) over the firms assessed with an actual value.

    The boxes are drawn from statistics computed here, not from the values: the national 目标表 has ≈ 200,000
    rows, and sending them to the browser on every page run was most of the page's time. Outliers are not drawn."""
    data = attainment.filter(pl.col("attainment_pct").is_not_null())
    fig = go.Figure()
    for row in box_statistics(data, "indicator", "attainment_pct").iter_rows(named=True):
        label = code_label("target_indicator", row["indicator"], lang)
        fig.add_box(y=[label], name=label, orientation="h", marker_color=TIER_COLOUR,
                    q1=[row["q1"]], median=[row["median"]], q3=[row["q3"]], mean=[row["mean"]],
                    lowerfence=[row["lowerfence"]], upperfence=[row["upperfence"]])
    fig.add_vline(x=100, line_dash="dot", line_color="#2E7D32")
    fig.update_layout(showlegend=False)
    fig.update_xaxes(title_text=t("chart.attainment", lang))
    return _layout(fig, t("targets.distribution", lang), height=max(300, 34 * data["indicator"].n_unique() + 120))


HISTOGRAM_BIN = 10.0  # percentage points of attainment per bar


def attainment_histogram(attainment: pl.DataFrame, lang: str, title: str) -> go.Figure:
    """Histogram of attainment % (one indicator's rows, or all) in bins of 10 points, stacked by status.
    Counted here rather than by plotly in the browser, for the same reason as attainment_box."""
    bins = (attainment.filter(pl.col("attainment_pct").is_not_null())
            .with_columns(low=(pl.col("attainment_pct") / HISTOGRAM_BIN).floor() * HISTOGRAM_BIN)
            .group_by("status", "low").len().sort("low"))
    fig = go.Figure()
    for status, colour in STATUS_COLOURS.items():
        rows = bins.filter(pl.col("status") == status)
        if rows.is_empty():
            continue
        low = rows["low"].to_list()
        fig.add_bar(x=[b + HISTOGRAM_BIN / 2 for b in low], y=rows["len"].to_list(), width=HISTOGRAM_BIN,
                    name=code_label("target_status", status, lang), marker_color=colour,
                    customdata=[[b, b + HISTOGRAM_BIN] for b in low],
                    hovertemplate="%{customdata[0]:g}–%{customdata[1]:g}%: %{y}<extra>%{fullData.name}</extra>")
    fig.update_layout(barmode="stack", bargap=0)
    fig.add_vline(x=100, line_dash="dot", line_color="#2E7D32")
    fig.update_xaxes(title_text=t("chart.attainment", lang))
    fig.update_yaxes(title_text=t("chart.firm_indicators", lang))
    return _layout(fig, title, height=340)


def firm_targets_chart(rows: pl.DataFrame, lang: str) -> go.Figure:
    """One firm's attainment % per indicator, coloured by status (columns indicator, attainment_pct, status)."""
    labels = [code_label("target_indicator", i, lang) for i in rows["indicator"].to_list()]
    colours = [STATUS_COLOURS.get(s, "#757575") for s in rows["status"].to_list()]
    values = rows["attainment_pct"].to_list()
    fig = go.Figure(go.Bar(
        y=labels, x=[v if v is not None else 0 for v in values], orientation="h", marker_color=colours,
        text=[f"{v:.0f}%" if v is not None else code_label("target_status", s, lang)
              for v, s in zip(values, rows["status"].to_list(), strict=True)],
        textposition="outside", name=t("chart.attainment", lang)))
    fig.add_vline(x=100, line_dash="dot", line_color="#2E7D32")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text=t("chart.attainment", lang))
    return _layout(fig, t("firm.targets_chart", lang), height=max(260, 30 * rows.height + 100))


def trajectory_chart(trajectory: pl.DataFrame, lang: str, title: str) -> go.Figure:
    """Actual firms by year-end (solid), the straight path from today to the last target (dashed) and the targets
    (diamonds) — columns on, kind, firms of registry.targets.regional_target_trajectory."""
    fig = go.Figure()
    styles = {
        "actual": {"mode": "lines+markers", "line": {"color": TIER_COLOUR}, "name": t("chart.actual", lang)},
        "path": {"mode": "lines", "line": {"color": "#EF6C00", "dash": "dash"}, "name": t("chart.path", lang)},
        "target": {"mode": "markers", "marker": {"symbol": "diamond", "size": 11, "color": "#C62828"},
                   "name": t("chart.target", lang)},
    }
    for kind, style in styles.items():
        part = trajectory.filter(pl.col("kind") == kind)
        if part.is_empty():
            continue
        fig.add_scatter(x=[d.isoformat() for d in part["on"].to_list()], y=part["firms"].to_list(), **style)
    fig.update_xaxes(type="date", title_text=t("chart.year", lang))
    fig.update_yaxes(title_text=t("chart.firms", lang), rangemode="tozero")
    return _layout(fig, title, height=360)
