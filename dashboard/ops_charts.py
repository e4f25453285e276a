"""Charts of the operations pages, as pure functions (a polars frame in, a plotly figure out)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.i18n import t


def completeness_heatmap(table: pl.DataFrame, lang: str) -> go.Figure:
    """Share reported (on time + late) per region × period, from registry.intake.completeness for one frequency.

    Rows are regions (most owed reports on top), columns periods in due order; the hover gives every count, so a
    pale cell reads as "many missing", not as "no data".
    """
    periods = table.sort("report_due_on")["period"].unique(maintain_order=True).to_list()
    regions = (table.group_by("region_code", "region_name").agg(pl.col("owed").sum())
               .sort(["owed", "region_code"], descending=[True, False]))
    grid = regions.select("region_code", "region_name").join(
        pl.DataFrame({"period": periods}), how="cross").join(
        table.select("region_code", "period", "owed", "reported", "late", "missing", "reported_pct"),
        on=["region_code", "period"], how="left")
    z, text = [], []
    for code in regions["region_code"].to_list():
        rows = grid.filter(pl.col("region_code") == code)
        z.append(rows["reported_pct"].to_list())
        text.append([
            "" if e is None else
            f"{t('intake.period', lang)} {p}<br>{r}+{la} / {e} ({pct}%)<br>"
            f"{'missing' if lang == 'en' else '未报送'}: {m}"
            for p, e, r, la, m, pct in rows.select("period", "owed", "reported", "late", "missing",
                                                   "reported_pct").rows()
        ])
    fig = go.Figure(go.Heatmap(
        z=z, x=periods, y=regions["region_name"].to_list(), zmin=0, zmax=100, colorscale="RdYlGn",
        hovertext=text, hoverinfo="text", colorbar={"title": {"text": "%"}},
        texttemplate="%{z:.0f}", xgap=1, ygap=1,
    ))
    fig.update_xaxes(type="category", title_text=t("intake.period", lang))
    fig.update_yaxes(autorange="reversed", title_text=None)
    fig.update_layout(title={"text": t("intake.heatmap", lang)}, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      height=max(260, 28 * regions.height + 120))
    return fig
