"""总览 Overview: valid recognitions by tier and province, 复核 / expiry, open flags (firms per kind), cultivation
targets with attainment and whether they are on track (registry.targets)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard.cache import cached, cached_view
from dashboard.components import (
    current_lang,
    current_principal,
    labelled,
    settings,
    show_table,
    table,
    today,
    tr,
)
from dashboard.database import engine
from dashboard.drilldown import area_drilldown
from dashboard.exports import download_buttons
from dashboard.formatting import fmt_count
from dashboard.i18n import code_label
from dashboard.sections import overview as sections
from registry import queries
from registry.access import jurisdictions_in_scope
from registry.pipeline import open_flag_firms
from registry.queries import (
    counts_by_province,
    counts_by_tier,
    open_flags_by_kind,
)

DUE_LIST_ROWS = 200

lang = current_lang()
principal = current_principal()
lifecycle = settings().lifecycle

st.title(tr("page.overview"))
as_of = st.date_input(tr("overview.as_of"), value=today(), key="overview_as_of", format="YYYY-MM-DD")

# ---------------------------------------------------------------- by tier
st.subheader(tr("overview.valid_by_tier"))
by_tier = cached(counts_by_tier, as_of=as_of)
for column, (tier, firms) in zip(st.columns(by_tier.height), by_tier.select("tier", "firms").rows(), strict=True):
    column.metric(code_label("tier", tier, lang), fmt_count(firms), border=True)

left, right = st.columns(2)
with left:
    st.plotly_chart(cached_view(sections.tier_chart, as_of, lang), key="tier_chart")


@st.fragment  # the tier filter and the drill-down rerun this column alone
def province_section(tiers: list[str]) -> None:
    province_tier = st.selectbox(
        tr("overview.tier_filter"), [None, *tiers], key="overview_province_tier",
        format_func=lambda tier: tr("overview.all_tiers") if tier is None else code_label("tier", tier, lang),
    )
    by_province = cached(counts_by_province, as_of=as_of, tier=province_tier)
    if by_province.is_empty():
        st.info(tr("overview.no_data"))
    else:
        st.plotly_chart(cached_view(sections.province_chart, as_of, province_tier, lang), key="province_chart")
        area_drilldown(by_province, as_of, province_tier, lang, key="overview_area")


with right:
    province_section(by_tier["tier"].to_list())
shown = show_table(cached_view(sections.tier_table, as_of, lang))
download_buttons(shown, tr("overview.valid_by_tier"), key="dl_tier", what="aggregate")

# ---------------------------------------------------------------- due for 复核 / expiring
st.subheader(tr("overview.due"))
st.caption(tr("overview.due_help", review=lifecycle.review_due_days, expiring=lifecycle.expiring_days))
due = cached_view(sections.due_counts_frame, as_of, lifecycle.review_due_days, lifecycle.expiring_days)
due_columns = st.columns(4)
for column, metric in zip(due_columns[:3], ("review_due", "expiring", "expired"), strict=True):
    column.metric(tr(f"metric.{metric}"), fmt_count(due[metric].sum()), border=True)
# 复核 risk (registry.review_risk): the recognitions due within the configured months on course to fail; the list
# and its download are on the review page.
risk_months = settings().monitoring.review_risk_months
risk = cached_view(sections.review_risk_count, as_of, risk_months)
due_columns[3].metric(tr("overview.review_risk", months=risk_months), fmt_count(risk), border=True)
if not due.is_empty():
    table(due, codes={"tier": "tier"})
due_list = cached_view(sections.due_list_table, as_of, lifecycle.review_due_days, lifecycle.expiring_days,
                       DUE_LIST_ROWS, lang)
if not due_list.frame.is_empty():
    with st.expander(tr("overview.due_list")):
        st.caption(tr("overview.due_list_cap", shown=DUE_LIST_ROWS))
        due_codes = sections.DUE_LIST_CODES
        show_table(due_list)
        # The whole list can be tens of thousands of rows: built only when a download button is pressed.
        db = engine()

        def every_due() -> pl.DataFrame:
            return labelled(queries.due_recognitions(
                principal, as_of, lifecycle.review_due_days, lifecycle.expiring_days, engine=db), due_codes, lang)

        download_buttons(every_due, tr("overview.due_list"), key="dl_due")

# ---------------------------------------------------------------- open flags
st.subheader(tr("overview.flags"))
flags = cached(open_flags_by_kind)
if flags.is_empty():
    st.info(tr("overview.no_flags"))
else:
    st.markdown(f"**{tr('overview.flag_firms')}**")
    # Firms per kind (a firm with a warning and a critical flag of one kind counts once).
    firms_by_kind = cached(open_flag_firms)
    rows = firms_by_kind.rows()
    for start in range(0, len(rows), 4):  # four to a row: the labels stay readable
        for column, (kind, firms) in zip(st.columns(4), rows[start:start + 4], strict=False):
            column.metric(tr("overview.flag_metric", kind=code_label("flag", kind, lang)), fmt_count(firms),
                          border=True)
    flag_chart, flag_table = st.columns([2, 3])
    with flag_chart:
        st.plotly_chart(cached_view(sections.flags_chart, lang), key="flags_chart")
    with flag_table:
        shown_flags = show_table(cached_view(sections.flags_table, lang))
        download_buttons(shown_flags, tr("overview.flags"), key="dl_flags", what="aggregate")

# ---------------------------------------------------------------- cultivation targets
st.subheader(tr("overview.targets"))
st.caption(tr("overview.target_state_help"))
regions = jurisdictions_in_scope(principal).filter(pl.col("id") != "cn")
region_names = dict(zip(regions["id"], regions["name_en" if lang == "en" else "name_zh"], strict=True))
default_region = principal.jurisdiction if principal.jurisdiction in region_names else None
region_ids = [None, *region_names]


@st.fragment  # choosing a region reruns this section alone
def targets_section() -> None:
    region = st.selectbox(tr("overview.region"), region_ids, index=region_ids.index(default_region),
                          format_func=lambda rid: tr("registry.any") if rid is None else region_names[rid],
                          key="overview_region")
    for heading, parts, key in zip((tr("overview.national_targets"), tr("overview.region_targets")),
                                   cached_view(sections.target_parts, as_of, region, lang), ("national", "regional"),
                                   strict=True):
        st.markdown(f"**{heading}**")
        if parts is None:
            st.info(tr("overview.no_targets"))
            continue
        chart, shown_part = parts
        st.plotly_chart(chart, key=f"{key}_targets_chart")
        shown_targets = show_table(shown_part)
        download_buttons(shown_targets, heading, key=f"dl_{key}_targets", what="aggregate")


targets_section()
