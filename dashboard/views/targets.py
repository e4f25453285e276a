"""目标达成 KPI targets: firms' 目标表 (重点"小巨人") against their actual figures, and regional cultivation targets
against the recognised firms, with the trajectory needed to reach the target year.

Every number comes from registry.targets (rules and definitions in its docstring and in docs/dashboard.md).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import analytics_charts, charts
from dashboard.analytics import industry_filter, region_filter
from dashboard.cache import cached
from dashboard.components import (
    current_lang,
    current_principal,
    firm_link_expr,
    labelled,
    table,
    today,
    tr,
)
from dashboard.evidence import plain_source
from dashboard.exports import download_buttons
from dashboard.formatting import fmt_count
from dashboard.i18n import code_label, column_label
from registry.access import jurisdictions_in_scope
from registry.pipeline import own_area
from registry.targets import (
    DIRECTIONS,
    STATUS_RULES,
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
attainment = cached(firm_target_attainment, as_of=as_of, region=region, industry=industry)

if attainment.is_empty():
    st.info(tr("targets.none"))
else:
    firms = attainment["uscc"].n_unique()
    counts = status_counts(attainment)
    metric_columns = st.columns(len(TARGET_STATUSES) + 1)
    metric_columns[0].metric(column_label("firms", lang), fmt_count(firms), border=True)
    for column, status in zip(metric_columns[1:], TARGET_STATUSES, strict=True):
        column.metric(code_label("target_status", status, lang), fmt_count(counts[status].sum()), border=True)

    st.plotly_chart(analytics_charts.status_chart(counts, lang), key="status_chart")
    shown_counts = table(counts.rename({s: code_label("target_status", s, lang) for s in TARGET_STATUSES}),
                         codes={"indicator": "target_indicator"})
    download_buttons(shown_counts, tr("targets.status_by_indicator"), key="dl_status", what="aggregate")

    # One level below the chosen region (or the user's own area): where the firms meet their targets.
    st.subheader(tr("targets.by_area"))
    st.caption(tr("targets.by_area_help"))
    by_area = attainment_by_area(attainment, region or own_area(principal))
    shown_by_area = table(by_area.select("area_code", pl.col(name).alias("area"), "firms", "indicators",
                                         "met_indicators", "behind", "met_pct", "median_attainment_pct"),
                          key="targets_by_area")
    download_buttons(shown_by_area, tr("targets.by_area"), key="dl_by_area", what="aggregate")

    st.subheader(tr("targets.distribution"))
    st.caption(tr("targets.distribution_help"))
    indicators = [i for i in TARGET_INDICATORS if i in set(attainment["indicator"].to_list())]
    indicators += sorted(set(attainment["indicator"].to_list()) - set(indicators))
    indicator = firm_controls[1].selectbox(
        tr("targets.indicator"), [None, *indicators], key="targets_indicator",
        format_func=lambda i: tr("filter.all") if i is None else code_label("target_indicator", i, lang))
    chosen = attainment if indicator is None else attainment.filter(pl.col("indicator") == indicator)
    box_column, histogram_column = st.columns(2)
    box_column.plotly_chart(analytics_charts.attainment_box(attainment, lang), key="attainment_box")
    histogram_title = tr("filter.all") if indicator is None else code_label("target_indicator", indicator, lang)
    histogram_column.plotly_chart(analytics_charts.attainment_histogram(chosen, lang, histogram_title),
                                  key="attainment_histogram")

    st.subheader(tr("targets.laggards"))
    st.caption(tr("targets.laggards_help", n=LAGGARDS_SHOWN))
    behind = laggards(chosen, limit=None)
    if behind.is_empty():
        st.info(tr("overview.no_data"))
    else:
        def readable(frame: pl.DataFrame) -> pl.DataFrame:
            labels = {i: code_label("target_indicator", i, lang) for i in indicators}
            return frame.with_columns(
                pl.col("behind_indicators").str.split(",").list.eval(pl.element().replace(labels))
                .list.join("、" if lang == "zh" else ", "),
                firm_link_expr("uscc", lang).alias("link"))

        link = column_label("link", lang)
        table(readable(behind.head(LAGGARDS_SHOWN)), key="laggards_table",
              column_config={link: st.column_config.LinkColumn(link, display_text=tr("registry.open"))})
        download_buttons(lambda: labelled(readable(behind).drop("link"), lang=lang), tr("targets.laggards"),
                         key="dl_laggards")

    with st.expander(f"{tr('targets.detail')} ({chosen.height:,})"):
        detail = chosen.rename({"target": "target_value", "actual": "actual_value"})
        detail_codes = {"indicator": "target_indicator", "status": "target_status", "direction": "direction"}
        table(detail.head(2000), codes=detail_codes)
        download_buttons(lambda: labelled(detail, detail_codes, lang), tr("targets.detail"), key="dl_detail")

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
progress = cached(regional_target_progress, as_of=as_of,
                  jurisdiction=None if jurisdiction == "cn" else jurisdiction)
if progress.is_empty():
    st.info(tr("targets.no_regional"))
else:
    st.plotly_chart(charts.attainment_bar(progress, lang), key="regional_chart")
    progress_columns = ["jurisdiction", name, "tier", "year", "target_count", "actual", "actual_year_ago",
                        "pace_per_year", "needed_per_year", "attainment_pct", "state", "source"]
    # Sources without the repository's internal references (data/sources/… line numbers).
    shown_progress = table(progress.select(progress_columns).rename({name: "region"}).with_columns(
        pl.col("source").map_elements(plain_source, return_dtype=pl.String)),
        codes={"jurisdiction": "jurisdiction", "tier": "tier", "state": "regional_state"})
    download_buttons(shown_progress, tr("targets.region_level"), key="dl_regional", what="aggregate")

    st.subheader(tr("targets.trajectory"))
    pairs = progress.select("jurisdiction", "tier").unique(maintain_order=True).rows()
    pair = st.selectbox(tr("targets.pick"), pairs, key=f"targets_pair_{jurisdiction}",
                        format_func=lambda p: f"{names.get(p[0], p[0])} · {code_label('tier', p[1], lang)}")
    trajectory = cached(regional_target_trajectory, as_of=as_of, jurisdiction=pair[0], tier=pair[1])
    title = f"{tr('targets.trajectory')}: {names.get(pair[0], pair[0])} · {code_label('tier', pair[1], lang)}"
    st.plotly_chart(analytics_charts.trajectory_chart(trajectory, lang, title), key="trajectory_chart")
    shown_trajectory = table(trajectory.rename({"kind": "series"}).with_columns(
        pl.col("series").replace({"actual": tr("chart.actual"), "path": tr("chart.path"), "target": tr("chart.target")})))
    download_buttons(shown_trajectory, tr("targets.trajectory"), key="dl_trajectory", what="aggregate")
