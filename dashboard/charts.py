"""Charts as pure functions: a polars frame in, a plotly figure out (no Streamlit, no database).

Labels come from the i18n catalogue, so every chart is bilingual; the frames have the columns the queries in
registry/queries.py return.
"""

from __future__ import annotations

from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl

from dashboard.formatting import WAN_PER_YI, fmt_money
from dashboard.i18n import code_label, t

STATUS_COLOURS = {
    "active": "#2E7D32", "superseded": "#90A4AE", "revoked": "#C62828", "withdrawn": "#EF6C00",
    "expired": "#607D8B",
}
SEVERITY_COLOURS = {"critical": "#C62828", "warning": "#F9A825", "info": "#1E88E5"}
TIER_COLOUR = "#1565C0"


def _layout(fig: go.Figure, title: str, height: int | None = None) -> go.Figure:
    fig.update_layout(title={"text": title}, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      height=height, legend={"orientation": "h", "y": -0.15})
    return fig


def tier_bar(counts: pl.DataFrame, lang: str) -> go.Figure:
    """Firms per tier (columns tier, firms), in the order given (the ladder order of counts_by_tier)."""
    labels = [code_label("tier", tier, lang) for tier in counts["tier"].to_list()]
    fig = go.Figure(go.Bar(x=labels, y=counts["firms"].to_list(), text=counts["firms"].to_list(),
                           textposition="outside", marker_color=TIER_COLOUR, name=t("chart.firms", lang)))
    fig.update_yaxes(title_text=t("chart.firms", lang))
    return _layout(fig, t("overview.valid_by_tier", lang))


def province_bar(counts: pl.DataFrame, lang: str, title: str | None = None) -> go.Figure:
    """Ranked horizontal bars, largest on top (columns name_zh, name_en, firms; already sorted by firms); also
    used one level down (cities, counties) with their own title."""
    names = counts["name_en" if lang == "en" else "name_zh"].to_list()
    fig = go.Figure(go.Bar(y=names, x=counts["firms"].to_list(), orientation="h", text=counts["firms"].to_list(),
                           textposition="outside", marker_color=TIER_COLOUR, name=t("chart.firms", lang)))
    fig.update_yaxes(autorange="reversed", title_text=None)
    fig.update_xaxes(title_text=t("chart.firms", lang))
    return _layout(fig, title or t("overview.by_province", lang), height=max(300, 24 * counts.height + 80))


def flags_bar(flags: pl.DataFrame, lang: str) -> go.Figure:
    """Open flags per kind, stacked by severity (columns kind, severity, flags)."""
    fig = go.Figure()
    kinds = flags["kind"].unique(maintain_order=True).to_list()
    for severity in ("critical", "warning", "info"):
        part = pl.DataFrame({"kind": kinds}).join(flags.filter(pl.col("severity") == severity), on="kind", how="left")
        if part["flags"].is_null().all():
            continue
        fig.add_bar(x=[code_label("flag", k, lang) for k in kinds], y=part["flags"].fill_null(0).to_list(),
                    name=code_label("severity", severity, lang), marker_color=SEVERITY_COLOURS[severity])
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text=t("chart.flags", lang))
    return _layout(fig, t("overview.flags", lang), height=320)


def attainment_bar(targets: pl.DataFrame, lang: str) -> go.Figure:
    """Target vs actual per jurisdiction · tier · year (columns of targets.regional_target_progress)."""
    name_column = "name_en" if lang == "en" else "name_zh"
    labels = [
        f"{name or jurisdiction} · {code_label('tier', tier, lang)} · {year}"
        for name, jurisdiction, tier, year in targets.select(name_column, "jurisdiction", "tier", "year").rows()
    ]
    fig = go.Figure()
    fig.add_bar(y=labels, x=targets["target_count"].to_list(), orientation="h", name=t("chart.target", lang),
                marker_color="#CFD8DC")
    fig.add_bar(y=labels, x=targets["actual"].to_list(), orientation="h", name=t("chart.actual", lang),
                marker_color=TIER_COLOUR,
                text=[f"{p:.1f}%" if p is not None else "" for p in targets["attainment_pct"].to_list()],
                textposition="outside")
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text=t("chart.firms", lang))
    return _layout(fig, t("overview.targets", lang), height=max(260, 40 * targets.height + 100))


def recognition_timeline(recognitions: pl.DataFrame, lang: str, as_of: date) -> go.Figure:
    """Validity bars (recognized_on → valid_until, or → ended_on / today when open-ended), one colour per status;
    a superseded recognition is hatched and its hover names the row that replaced it."""
    open_end = pl.coalesce(pl.col("valid_until"), pl.col("ended_on"), pl.lit(as_of))
    # A recognition revoked early ends at ended_on, before its valid_until.
    frame = recognitions.with_columns(pl.min_horizontal(pl.col("ended_on"), open_end).alias("bar_end"))
    fig = go.Figure()
    for status in frame["status"].unique(maintain_order=True).to_list():
        part = frame.filter(pl.col("status") == status)
        starts = part["recognized_on"].to_list()
        ends = part["bar_end"].to_list()
        rows = [f"{code_label('tier', tier, lang)} · {jur}" for tier, jur in part.select("tier", "jurisdiction").rows()]
        hover = [
            f"{code_label('status', status, lang)} {s} → {e}"
            + (" · " + t("firm.superseded_by", lang, id=sup) if sup else "")
            + (f" · {doc}" if doc else "")
            for s, e, sup, doc in zip(starts, part["valid_until"].to_list(), part["superseded_by"].to_list(),
                                      part["document_no"].to_list(), strict=True)
        ]
        fig.add_bar(
            y=rows,
            x=[(_as_ms(e + timedelta(days=1)) - _as_ms(s)) for s, e in zip(starts, ends, strict=True)],
            base=[s.isoformat() for s in starts],
            orientation="h",
            name=code_label("status", status, lang),
            marker={"color": STATUS_COLOURS.get(status, "#757575"),
                    "pattern": {"shape": "/" if status == "superseded" else ""}},
            hovertext=hover, hoverinfo="text",
        )
    fig.add_vline(x=as_of.isoformat(), line_dash="dot", line_color="#424242")
    fig.update_xaxes(type="date")
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(barmode="overlay")
    return _layout(fig, t("firm.timeline", lang), height=max(220, 50 * frame["tier"].n_unique() + 140))


def _as_ms(day: date) -> int:
    return (day - date(1970, 1, 1)).days * 86_400_000


# ---------------------------------------------------------------- operating data


def annual_indicators(reports: pl.DataFrame) -> pl.DataFrame:
    """One row per year: revenue, rd_expense, total_assets, total_liabilities, rd_ratio (%), debt_ratio (%).

    An annual report wins; else a December year-to-date report; else 12 monthly or 4 quarterly reports when every
    one of them is there (flows summed, stocks taken at the last period end). A year covered by none is absent.
    """
    stocks = ["total_assets", "total_liabilities"]
    flows = ["revenue", "rd_expense"]
    is_year_end = pl.col("period_end").dt.month() == 12
    annual = reports.filter((pl.col("period_type") == "annual") & (pl.col("basis") == "period")).with_columns(
        pl.lit(0).alias("priority"))
    ytd = reports.filter((pl.col("period_type") != "annual") & (pl.col("basis") == "ytd") & is_year_end).with_columns(
        pl.lit(1).alias("priority"))
    needed = pl.when(pl.col("period_type") == "monthly").then(12).otherwise(4)
    summed = (
        reports.filter((pl.col("period_type") != "annual") & (pl.col("basis") == "period"))
        .sort("period_end")
        .group_by("year", "period_type")
        .agg(
            pl.col("period").n_unique().alias("periods"),
            *[pl.when(pl.col(f).null_count() == 0).then(pl.col(f).sum()).alias(f) for f in flows],
            *[pl.col(s).last() for s in stocks],
        )
        .filter(pl.col("periods") == needed)
        .with_columns(pl.lit(2).alias("priority"))
    )
    columns = ["year", "priority", *flows, *stocks]
    parts = [frame.select(pl.col("year").cast(pl.Int64), pl.col("priority").cast(pl.Int32),
                          *[pl.col(c).cast(pl.Float64) for c in columns[2:]])
             for frame in (annual, ytd, summed)]
    best = pl.concat(parts).sort("year", "priority").group_by("year", maintain_order=True).first()
    return best.drop("priority").with_columns(
        _ratio("rd_expense", "revenue").alias("rd_ratio"),
        _ratio("total_liabilities", "total_assets").alias("debt_ratio"),
    )


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    return pl.when(pl.col(denominator) > 0).then((pl.col(numerator) / pl.col(denominator) * 100).round(2))


def annual_revenue_chart(indicators: pl.DataFrame, lang: str) -> go.Figure:
    years = [str(y) for y in indicators["year"].to_list()]
    revenue = indicators["revenue"].to_list()
    # In 亿元 once the amounts reach 10,000 万元; the axis shows plain numbers with the unit, never "35k"/"35M".
    in_yi = max((abs(v) for v in revenue if v is not None), default=0) >= WAN_PER_YI
    fig = go.Figure(go.Bar(x=years, y=[None if v is None else (v / WAN_PER_YI if in_yi else v) for v in revenue],
                           marker_color=TIER_COLOUR, name=t("firm.revenue_trend", lang),
                           hovertext=[fmt_money(v, lang) for v in revenue], hoverinfo="x+text"))
    fig.update_xaxes(type="category", title_text=t("chart.year", lang))
    fig.update_yaxes(title_text="亿元" if in_yi else "万元", tickformat=",.2f" if in_yi else ",.0f")
    return _layout(fig, t("firm.revenue_trend", lang))


def ratio_chart(indicators: pl.DataFrame, lang: str) -> go.Figure:
    """R&D ratio and debt ratio by year, in percent; a missing year leaves a gap, never a zero."""
    years = [str(y) for y in indicators["year"].to_list()]
    fig = go.Figure()
    fig.add_scatter(x=years, y=indicators["rd_ratio"].to_list(), mode="lines+markers", name=t("firm.rd_ratio", lang))
    fig.add_scatter(x=years, y=indicators["debt_ratio"].to_list(), mode="lines+markers",
                    name=t("firm.debt_ratio", lang))
    fig.update_xaxes(type="category", title_text=t("chart.year", lang))
    fig.update_yaxes(title_text="%")
    return _layout(fig, f"{t('firm.rd_ratio', lang)} · {t('firm.debt_ratio', lang)}")


def monthly_revenue(reports: pl.DataFrame) -> pl.DataFrame:
    """Revenue per month (columns period, period_end, revenue): 当期 reports as they are, and months known only
    from 本年累计 (ytd) reports derived as the difference from the previous month of the same year."""
    monthly = reports.filter(pl.col("period_type") == "monthly")
    direct = monthly.filter(pl.col("basis") == "period").select("period", "period_end", "revenue")
    ytd = monthly.filter(pl.col("basis") == "ytd").sort("period_end").with_columns(
        pl.col("period_end").dt.month().alias("month"))
    derived = ytd.with_columns(
        pl.when(pl.col("month") == 1).then(pl.col("revenue"))
        # Only a consecutive previous month gives a one-month difference.
        .when(pl.col("month").diff().over("year") == 1).then(pl.col("revenue").diff().over("year"))
        .alias("revenue")
    ).select("period", "period_end", "revenue").filter(~pl.col("period").is_in(direct["period"].implode()))
    return pl.concat([direct, derived]).sort("period_end")


def monthly_revenue_chart(months: pl.DataFrame, lang: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=months["period"].to_list(), y=months["revenue"].to_list(), marker_color="#00897B",
                           name=t("firm.monthly_revenue", lang)))
    fig.update_xaxes(type="category", title_text=t("chart.month", lang))
    fig.update_yaxes(title_text="万元")
    return _layout(fig, t("firm.monthly_revenue", lang))

