"""梯度培育 Pipeline: the ladder as a funnel, flows between tiers by year, 复核 cohorts and promotion candidates,
for a region (province → city → county), an industry section, a tier and an as-of date.

Every number comes from registry.pipeline (definitions in its docstring and in docs/dashboard.md).
"""

from __future__ import annotations

import streamlit as st

from dashboard.analytics import industry_filter, region_filter
from dashboard.cache import cached, cached_view
from dashboard.components import current_lang, current_principal, show_table, table, today, tr
from dashboard.database import engine
from dashboard.exports import download_buttons
from dashboard.formatting import fmt_count, fmt_date, fmt_pct
from dashboard.i18n import code_label
from dashboard.sections import pipeline as sections
from registry import pipeline
from registry.pipeline import (
    evaluate_promotion_candidates,
    tier_funnel,
    tiers_in_use,
)

lang = current_lang()
principal = current_principal()

st.title(tr("page.pipeline"))

region = region_filter("pipeline")
controls = st.columns(3)
industry = industry_filter("pipeline_industry", controls[0])
tier_options = [None, *cached(tiers_in_use)]
tier = controls[1].selectbox(tr("filter.tier"), tier_options, key="pipeline_tier",
                             format_func=lambda v: tr("filter.all_tiers") if v is None else code_label("tier", v, lang))
as_of = controls[2].date_input(tr("filter.as_of"), value=today(), key="pipeline_as_of", format="YYYY-MM-DD")
scope = {"region": region, "industry": industry}

# ---------------------------------------------------------------- the funnel
st.subheader(tr("pipeline.funnel"))
st.caption(tr("pipeline.funnel_help"))
funnel = cached(tier_funnel, as_of=as_of, **scope)
for column, (rung, firms, ratio) in zip(st.columns(funnel.height), funnel.rows(), strict=True):
    column.metric(code_label("tier", rung, lang), fmt_count(firms), delta=None if ratio is None else fmt_pct(ratio),
                  delta_color="off", delta_arrow="off", delta_description=tr("pipeline.of_below"), border=True)
chart_column, area_column = st.columns([2, 3])
chart_column.plotly_chart(cached_view(sections.funnel_chart, as_of, region, industry, lang), key="funnel_chart")
with area_column:
    st.markdown(f"**{tr('pipeline.by_area')}**")
    st.caption(tr("pipeline.by_area_help"))
    areas = cached_view(sections.areas_table, as_of, region, industry, lang)
    if areas is None:
        st.info(tr("pipeline.no_data"))
    else:
        shown_areas = show_table(areas, height=320)
        download_buttons(shown_areas, tr("pipeline.by_area"), key="dl_areas", what="aggregate")

# ---------------------------------------------------------------- flows by year
st.subheader(tr("pipeline.flows"))
st.caption(tr("pipeline.flows_help"))
flows = cached_view(sections.flows, as_of, tier, region, industry, lang)
if flows is None:
    st.info(tr("pipeline.no_data"))
else:
    flows_chart, undated, flows_table = flows
    st.plotly_chart(flows_chart, key="flows_chart")
    if undated:
        st.caption(tr("pipeline.undated", n=fmt_count(undated)))
    shown_flows = show_table(flows_table)
    download_buttons(shown_flows, tr("pipeline.flows"), key="dl_flows", what="aggregate")

# ---------------------------------------------------------------- 复核 cohorts
st.subheader(tr("pipeline.cohorts"))
st.caption(tr("pipeline.cohorts_help"))
cohort_tier = tier if tier is not None else "little_giant"
st.caption(f"{tr('pipeline.cohort_tier')}: {code_label('tier', cohort_tier, lang)}")
cohorts = cached_view(sections.cohorts, as_of, cohort_tier, region, industry, lang)
if cohorts is None:
    st.info(tr("pipeline.no_data"))
else:
    cohort_chart, cohort_table = cohorts
    st.plotly_chart(cohort_chart, key="cohort_chart")
    shown_cohorts = show_table(cohort_table)
    download_buttons(shown_cohorts, tr("pipeline.cohorts"), key="dl_cohorts", what="aggregate")

# ---------------------------------------------------------------- promotion candidates
st.subheader(tr("pipeline.candidates"))
flags_ran = pipeline.last_flags_run(engine=engine())
if flags_ran is not None:
    st.caption(tr("pipeline.candidates_from_flags", when=fmt_date(flags_ran)))
    candidates, candidates_table = cached_view(sections.candidates_table, region, industry, lang)
else:
    st.caption(tr("pipeline.candidates_no_flags"))
    # Evaluating reads every holder's records: only on request, and kept for this session's filters.
    run_key = f"pipeline_evaluated_{hash((region, industry, as_of))}"
    if st.button(tr("pipeline.evaluate"), key="pipeline_evaluate", icon=":material/play_arrow:"):
        with st.spinner(tr("pipeline.evaluate")):
            st.session_state[run_key] = cached(evaluate_promotion_candidates, as_of=as_of, **scope)
    candidates = st.session_state.get(run_key)
    candidates_table = None
    if candidates is not None:
        st.caption(tr("pipeline.evaluated", n=fmt_count(candidates["evaluated"].sum()), as_of=as_of.isoformat()))
if candidates is not None:
    for column, (held, target, firms) in zip(st.columns(candidates.height),
                                             candidates.select("tier", "target_tier", "firms").rows(), strict=True):
        column.metric(f"{code_label('tier', held, lang)} → {code_label('tier', target, lang)}", fmt_count(firms),
                      border=True)
    shown_candidates = (show_table(candidates_table) if candidates_table is not None
                        else table(candidates, codes={"tier": "tier", "target_tier": "tier"}))
    download_buttons(shown_candidates, tr("pipeline.candidates"), key="dl_candidates")
