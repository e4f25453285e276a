"""运行监测 Performance monitoring: how a cohort of recognised firms is doing — by tier, area (province → city →
county), industry (GB/T 4754 section or division) and period (year, quarter, month; 当期 or 本年累计).

Every number comes from registry.monitoring (definitions in its docstring and in docs/dashboard.md); the cohort's
figures are computed from one read of the cohort, once per data version and choice of filters
(dashboard.analytics.cached); a cell's firm list is read for that cell alone.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import monitoring_charts
from dashboard.analytics import industry_filter, region_filter
from dashboard.cache import cached
from dashboard.components import current_lang, firm_link_expr, labelled, table, today, tr
from dashboard.exports import download_buttons
from dashboard.formatting import fmt_count, fmt_money, fmt_pct
from dashboard.i18n import code_label, column_label, t
from dashboard.pages import page_spec
from dashboard.safe_text import md_text
from registry import monitoring, reference
from registry.monitoring import available_periods, firms_of_cell, monitoring_figures
from registry.pipeline import tiers_in_use

FIRM_PAGE = page_spec("firm").path
DEFAULT_TIERS = ("zjtx_sme", "little_giant")

lang = current_lang()
name_column = "name_en" if lang == "en" else "name_zh"

st.title(tr("page.monitoring"))

# ---------------------------------------------------------------- controls
region = region_filter("monitor")
first, second = st.columns(2), st.columns(4)
tier_options = cached(tiers_in_use)
tiers = first[0].multiselect(tr("monitor.tiers"), tier_options,
                             default=[tier for tier in DEFAULT_TIERS if tier in tier_options], key="monitor_tiers",
                             format_func=lambda v: code_label("tier", v, lang))
section = industry_filter("monitor_section", first[1])
industry = section
if section:
    all_label = tr("filter.all")
    divisions = reference.industries().filter(pl.col("level") == "division", pl.col("section") == section)
    division_names = {f"{section}{code}": name for code, name in zip(divisions["code"], divisions["name"], strict=True)}
    division = first[1].selectbox(tr("filter.industry") + " · GB/T 4754", [None, *division_names],
                                  key=f"monitor_division_{section}",
                                  format_func=lambda v: all_label if v is None else f"{v} {division_names[v]}")
    industry = division or section
grain = second[0].selectbox(tr("monitor.grain"), monitoring.GRAINS, key="monitor_grain",
                           format_func=lambda v: t(f"monitor.grain.{v}", lang))
basis = "period"
if grain != "year":
    basis = second[1].selectbox(tr("monitor.basis"), monitoring.BASES, key="monitor_basis",
                                format_func=lambda v: t(f"monitor.basis.{v}", lang))
metric = second[2].selectbox(tr("monitor.metric"), list(monitoring.METRICS), key="monitor_metric",
                             format_func=lambda v: t(f"monitor.metric.{v}", lang))
periods = cached(available_periods, grain=grain, basis=basis)
if not tiers:
    st.info(tr("monitor.no_tiers"))
    st.stop()
if not periods:
    st.info(tr("monitor.no_periods"))
    st.stop()
# A year still running has no annual figures yet (only its monthly or quarterly reports so far): open on the last
# full year rather than on an empty one.
opening = next((i for i, p in enumerate(periods) if grain != "year" or int(p) < today().year), 0)
period = second[3].selectbox(tr("monitor.period"), periods, index=opening, key=f"monitor_period_{grain}_{basis}")

choice = {"period": period, "grain": grain, "basis": basis, "metric": metric, "region": region,
          "industry": industry}
figures = cached(monitoring_figures, tiers=tuple(tiers), **choice)
spec = monitoring.METRICS[metric]
metric_label = tr(f"monitor.metric.{metric}")
st.caption(tr("monitor.cohort"))
if spec.is_ratio:
    st.caption(tr("monitor.ratio_note"))
if grain == "year":
    st.caption(tr("monitor.annual_note"))


def fmt_value(value: float | None) -> str:
    if spec.unit == "wan_yuan":
        return fmt_money(value, lang)
    if spec.unit == "percent":
        return fmt_pct(value, 2)
    return "—" if value is None else f"{value:,.1f}"


# ---------------------------------------------------------------- headline
head = figures.headline
yoy = tr("monitor.yoy", period=head["previous_period"])
cells = st.columns(3)
total_label = tr("monitor.pooled_ratio") if spec.is_ratio else tr("monitor.total")
cells[0].metric(f"{metric_label} · {total_label}", fmt_value(head["total"]),
                delta=None if head["total_yoy_pct"] is None else f"{head['total_yoy_pct']:+.1f}%",
                delta_description=yoy, border=True)
cells[1].metric(f"{metric_label} · {tr('monitor.median')}", fmt_value(head["median"]),
                delta=None if head["median_yoy_pct"] is None else f"{head['median_yoy_pct']:+.1f}%",
                delta_description=yoy, border=True)
cells[2].metric(tr("monitor.firms"), fmt_count(head["firms"]), border=True,
                delta=f"{tr('monitor.reporting')} {fmt_count(head['reporting'])} · "
                      f"{tr('monitor.coverage', pct=fmt_pct(head['coverage_pct']))}",
                delta_color="off", delta_arrow="off")
if not head["firms"]:
    st.info(tr("monitor.no_data"))
    st.stop()

# ---------------------------------------------------------------- trend and distribution
basename = f"{tr('page.monitoring')}_{metric_label}_{period}"
trend_column, box_column = st.columns(2)
trend = figures.trend
with trend_column:
    st.subheader(tr("monitor.trend"))
    st.plotly_chart(monitoring_charts.trend_chart(trend, metric, lang), key="monitor_trend_chart")
    with st.expander(tr("monitor.trend_table")):
        shown_trend = table(trend.select("period", "tier", "firms", "reporting", "coverage_pct", "total", "median"),
                            codes={"tier": "tier"})
    download_buttons(shown_trend, f"{basename}_{tr('monitor.trend')}", key="dl_monitor_trend", what="aggregate")
quartiles = figures.distribution
with box_column:
    st.subheader(tr("monitor.distribution"))
    st.plotly_chart(monitoring_charts.quartile_box(quartiles, metric, period, lang), key="monitor_box_chart")
    with st.expander(tr("monitor.quartiles_table")):
        shown_quartiles = table(quartiles, codes={"tier": "tier"})
    download_buttons(shown_quartiles, f"{basename}_{tr('monitor.distribution')}", key="dl_monitor_quartiles",
                     what="aggregate")

# ---------------------------------------------------------------- breakdown and the firms of one cell
st.subheader(tr("monitor.breakdown"))
by = st.segmented_control(tr("monitor.breakdown_by"), monitoring.BREAKDOWNS, default="area", key="monitor_by",
                          format_func=lambda v: t(f"monitor.by.{v}", lang)) or "area"
table_frame = figures.by_area if by == "area" else figures.by_industry
shown_breakdown = labelled(table_frame.select("group", pl.col(name_column).alias(by),
                                              "tier", "firms", "reporting", "coverage_pct", "total", "min", "q1",
                                              "median", "q3", "max"), {"tier": "tier"})
st.caption(tr("monitor.breakdown_help"))
picked = st.dataframe(shown_breakdown, hide_index=True, placeholder="—", key=f"monitor_breakdown_{by}", on_select="rerun",
                      selection_mode="single-row")
download_buttons(shown_breakdown, f"{basename}_{tr('monitor.breakdown')}", key="dl_monitor_breakdown",
                 what="aggregate")
# A row selected in the table picks the cell; the box below does the same without a mouse.
cell_key = f"monitor_cell_{by}"
rows = picked.selection.rows if picked is not None else []
if rows:
    st.session_state[cell_key] = rows[0]
cell_index = st.selectbox(
    tr("monitor.pick_cell"), [None, *range(table_frame.height)], key=cell_key,
    format_func=lambda i: "—" if i is None else
    f"{table_frame[name_column][i]} · {code_label('tier', table_frame['tier'][i], lang)}")
if cell_index is not None and cell_index < table_frame.height:
    cell = table_frame.row(cell_index, named=True)
    heading = tr("monitor.cell_firms", group=cell[name_column], tier=code_label("tier", cell["tier"], lang))
    st.markdown(f"**{md_text(heading)}**")
    firms = cached(firms_of_cell, group=cell["group"], tier=cell["tier"], by=by, **choice)
    link_header = column_label("link", lang)
    shown_firms = labelled(firms.rename({"value": metric}).with_columns(firm_link_expr("uscc", lang).alias("link")),
                           {"tier": "tier"})
    chosen = st.dataframe(
        shown_firms, hide_index=True, placeholder="—", key="monitor_cell_firms", on_select="rerun", selection_mode="single-row",
        column_config={link_header: st.column_config.LinkColumn(link_header, display_text=tr("monitor.open_firm"))})
    download_buttons(shown_firms.drop(link_header), f"{basename}_{cell['group']}_{cell['tier']}",
                     key="dl_monitor_cell", what="firms")
    chosen_rows = chosen.selection.rows if chosen is not None else []
    if chosen_rows:
        st.switch_page(FIRM_PAGE, query_params={"uscc": firms["uscc"][chosen_rows[0]], "lang": lang})
    if not firms.is_empty():
        names = dict(zip(firms["uscc"], firms["name"], strict=True))
        pick_column, button_column = st.columns([4, 1], vertical_alignment="bottom")
        firm = pick_column.selectbox(tr("monitor.open_firm"), list(names), key="monitor_pick_firm",
                                     format_func=lambda code: f"{names[code]} · {code}")
        if button_column.button(tr("monitor.open_firm"), key="monitor_open_firm", icon=":material/open_in_new:"):
            st.switch_page(FIRM_PAGE, query_params={"uscc": firm, "lang": lang})
