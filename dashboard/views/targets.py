"""目标达成 KPI targets: firms' 目标表 (重点"小巨人") against their actual figures, and regional cultivation targets
against the recognised firms, with the trajectory needed to reach the target year.

Every number comes from registry.targets (rules and definitions in its docstring and in docs/dashboard.md).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard.analytics import industry_filter, region_filter
from dashboard.cache import cached_view
from dashboard.components import (
    current_lang,
    current_principal,
    labelled,
    show_table,
    table,
    today,
    tr,
)
from dashboard.exports import download_buttons
from dashboard.formatting import fmt_count
from dashboard.i18n import code_label, column_label
from dashboard.sections import targets as sections
from registry.access import jurisdictions_in_scope
from registry.pipeline import own_area
from registry.targets import (
    DIRECTIONS,
    STATUS_RULES,
    TARGET_STATUSES,
)

LAGGARDS_SHOWN = sections.LAGGARDS_SHOWN

lang = current_lang()
principal = current_principal()
name = "name_en" if lang == "en" else "name_zh"

st.title(tr("page.targets"))
as_of = st.date_input(tr("filter.as_of"), value=today(), key="targets_as_of", format="YYYY-MM-DD")

# ---------------------------------------------------------------- firm 目标表
st.header(tr("targets.firm_level"))
st.caption(tr("targets.firm_help"))
with st.expander(tr("targets.rules")):
    rules = pl.DataFrame({
        "status": [rule.status for rule in STATUS_RULES],
        "condition": [rule.en if lang == "en" else rule.zh for rule in STATUS_RULES],
    })
    table(rules, codes={"status": "target_status"})
    st.caption(" · ".join(f"{code_label('direction', d, lang)}: {tr('chart.actual')} {op} {tr('chart.target')}"
                          for d, op in DIRECTIONS.items()))

region = region_filter("targets")
firm_controls = st.columns(3)
industry = industry_filter("targets_industry", firm_controls[0])
# Counted, charted and labelled once per data version and choice (dashboard/sections/targets.py).
summary = cached_view(sections.firm_targets, as_of, region, industry, lang)

if summary.empty:
    st.info(tr("targets.none"))
else:
    metric_columns = st.columns(len(TARGET_STATUSES) + 1)
    metric_columns[0].metric(column_label("firms", lang), fmt_count(summary.firms), border=True)
    for column, status in zip(metric_columns[1:], TARGET_STATUSES, strict=True):
        column.metric(code_label("target_status", status, lang), fmt_count(summary.by_status[status]), border=True)

    st.plotly_chart(summary.status_chart, key="status_chart")
    shown_counts = show_table(summary.counts)
    download_buttons(shown_counts, tr("targets.status_by_indicator"), key="dl_status", what="aggregate")

    # One level below the chosen region (or the user's own area): where the firms meet their targets.
    st.subheader(tr("targets.by_area"))
    st.caption(tr("targets.by_area_help"))
    shown_by_area = show_table(cached_view(sections.areas_table, as_of, region, industry, region or own_area(principal),
                                           lang), key="targets_by_area")
    download_buttons(shown_by_area, tr("targets.by_area"), key="dl_by_area", what="aggregate")

    st.subheader(tr("targets.distribution"))
    st.caption(tr("targets.distribution_help"))
    indicators = summary.indicators
    indicator = firm_controls[1].selectbox(
        tr("targets.indicator"), [None, *indicators], key="targets_indicator",
        format_func=lambda i: tr("filter.all") if i is None else code_label("target_indicator", i, lang))
    histogram_title = tr("filter.all") if indicator is None else code_label("target_indicator", indicator, lang)
    chosen = cached_view(sections.indicator_view, as_of, region, industry, indicator, indicators, lang,
                         histogram_title)
    box_column, histogram_column = st.columns(2)
    box_column.plotly_chart(summary.box, key="attainment_box")
    histogram_column.plotly_chart(chosen.histogram, key="attainment_histogram")

    st.subheader(tr("targets.laggards"))
    st.caption(tr("targets.laggards_help", n=LAGGARDS_SHOWN))
    if chosen.laggards is None:
        st.info(tr("overview.no_data"))
    else:
        link = column_label("link", lang)
        show_table(chosen.laggards, key="laggards_table",
                   column_config={link: st.column_config.LinkColumn(link, display_text=tr("registry.open"))})
        download_buttons(lambda: sections.laggards_download(chosen.laggards_all, indicators, lang),
                         tr("targets.laggards"), key="dl_laggards")

    with st.expander(f"{tr('targets.detail')} ({chosen.rows:,})"):
        show_table(chosen.detail)
        download_buttons(lambda: labelled(chosen.detail_all, sections.DETAIL_CODES, lang), tr("targets.detail"),
                         key="dl_detail")

# ---------------------------------------------------------------- regional cultivation targets
st.header(tr("targets.region_level"))
st.caption(tr("targets.region_help"))
visible = jurisdictions_in_scope(principal)
names = dict(zip(visible["id"], visible[name], strict=True))
top_level = visible.filter(pl.col("level").is_in(["national", "province"]) | (pl.col("id") == principal.jurisdiction)
                           )["id"].to_list()
if not top_level:  # a county official without a jurisdiction of their own: no target can be theirs
    st.info(tr("targets.no_regional"))
    st.stop()
region_columns = st.columns(2)
default = principal.jurisdiction if principal.jurisdiction in top_level else top_level[0]
jurisdiction = region_columns[0].selectbox(tr("targets.region"), top_level, index=top_level.index(default),
                                           key="targets_region", format_func=names.get)
children = visible.filter(pl.col("parent_id") == jurisdiction, pl.col("level") == "city")["id"].to_list()
if children:
    city = region_columns[1].selectbox(tr("filter.city"), [None, *children], key=f"targets_city_{jurisdiction}",
                                       format_func=lambda j: tr("targets.children") if j is None else names[j])
    jurisdiction = city or jurisdiction
st.caption(tr("targets.county_note"))

# Everything below `cn` is every target: asked as the overview asks, the two pages share one cached result.
progress = cached_view(sections.regional_progress, as_of, None if jurisdiction == "cn" else jurisdiction, lang)
if progress is None:
    st.info(tr("targets.no_regional"))
else:
    regional_chart, regional_table, pairs = progress
    st.plotly_chart(regional_chart, key="regional_chart")
    shown_progress = show_table(regional_table)
    download_buttons(shown_progress, tr("targets.region_level"), key="dl_regional", what="aggregate")

    @st.fragment  # picking another target reruns this section alone
    def trajectory_section(pairs: tuple[tuple[str, str], ...], jurisdiction: str) -> None:
        st.subheader(tr("targets.trajectory"))
        pair = st.selectbox(tr("targets.pick"), pairs, key=f"targets_pair_{jurisdiction}",
                            format_func=lambda p: f"{names.get(p[0], p[0])} · {code_label('tier', p[1], lang)}")
        title = f"{tr('targets.trajectory')}: {names.get(pair[0], pair[0])} · {code_label('tier', pair[1], lang)}"
        trajectory_chart, trajectory_table = cached_view(
            sections.trajectory, as_of, pair[0], pair[1], lang, title,
            (tr("chart.actual"), tr("chart.path"), tr("chart.target")))
        st.plotly_chart(trajectory_chart, key="trajectory_chart")
        shown_trajectory = show_table(trajectory_table)
        download_buttons(shown_trajectory, tr("targets.trajectory"), key="dl_trajectory", what="aggregate")

    trajectory_section(pairs, jurisdiction)
