"""企业详情 Firm: profile, recognition timeline, operating data trends, attributes, events, open and resolved
flags, 目标表 targets vs actual, evaluation.

Opened with `?uscc=<code>` (links from the registry page) or from the search box. A firm outside the user's
jurisdiction looks exactly like a firm that does not exist.
"""

from __future__ import annotations

import re

import polars as pl
import streamlit as st

from dashboard.cache import cached, cached_view
from dashboard.components import (
    current_lang,
    settings,
    show_table,
    today,
    tr,
)
from dashboard.exports import download_buttons
from dashboard.formatting import fmt_date, fmt_money
from dashboard.i18n import code_label, column_label
from dashboard.safe_text import md_text
from dashboard.sections import firm as sections
from registry import queries, reference
from registry.policy.applicable import class_meaning, policies_for_region, policy_title
from registry.queries import (
    firm_profile,
    search_firms,
)

MATCH_LIMIT = 20
USCC_LIKE = re.compile(r"[0-9A-Za-z]{6,18}")

lang = current_lang()
as_of = today()

st.title(tr("page.firm"))

selected = st.query_params.get("uscc")
search = st.text_input(tr("firm.search"), key="firm_search", placeholder=tr("firm.prompt")).strip()
if search:
    by_code = bool(USCC_LIKE.fullmatch(search)) and any(c.isdigit() for c in search)
    matches, _ = cached(search_firms, text=None if by_code else search, uscc=search if by_code else None,
                       limit=MATCH_LIMIT)
    if matches.is_empty():
        st.info(tr("firm.none_found"))
    else:
        names = dict(zip(matches["uscc"], matches["name"], strict=True))
        options = matches["uscc"].to_list()
        picked = st.selectbox(tr("firm.matches"), options, key=f"firm_pick_{search}",
                              index=options.index(selected) if selected in options else 0,
                              format_func=lambda code: f"{names[code]} · {code}")
        if picked != selected:
            selected = picked
            st.query_params["uscc"] = picked

if not selected:
    st.info(tr("firm.prompt"))
    st.stop()

profile = cached(firm_profile, uscc=selected)
if profile is None:
    st.warning(tr("firm.not_found", uscc=md_text(selected)))  # the address is anyone's to write
    st.stop()

# ---------------------------------------------------------------- profile
st.header(md_text(profile["name"]))  # names come from files: shown as written, never as Markdown
st.caption(f"{column_label('uscc', lang)}: {md_text(profile['uscc'])}")
region_code = profile["region_code"]
region_rows = reference.regions().filter(
    pl.col("code").is_in([region_code[:2] + "0000", region_code[:4] + "00", region_code]))
region_text = " · ".join(dict.fromkeys(region_rows.sort("code")["name"].to_list())) or region_code
industry = profile["industry_code"] or ""
section_names = dict(zip(queries.industry_sections()["section"], queries.industry_sections()["name"], strict=True))
facts = [
    ("region", md_text(f"{region_text} ({region_code})")),
    ("industry_code", md_text(f"{industry} {section_names.get(industry[:1], '')}".strip()) or "—"),
    ("founded_on", fmt_date(profile["founded_on"])),
    ("registered_capital", fmt_money(profile["registered_capital"], lang)),
    ("ownership", md_text(profile["ownership"]) or "—"),
    ("listing_board", code_label("listing_board", profile["listing_board"], lang) or "—"),
    ("main_product", md_text(profile["main_product"]) or "—"),
]
st.subheader(tr("firm.profile"))
# The capital is formatted with its unit (万元 / 亿元), so its label carries none.
PROFILE_LABELS = {"registered_capital": tr("firm.capital")}
for column, (name, value) in zip(st.columns(4) * 2, facts, strict=False):
    column.markdown(f"**{PROFILE_LABELS.get(name) or column_label(name, lang)}**  \n{value}")

# ---------------------------------------------------------------- recognitions
# Every section below is built once per data version, firm and language (dashboard/sections/firm.py).
st.subheader(tr("firm.recognitions"))
recognitions = cached_view(sections.recognitions, selected, as_of, lang)
if recognitions is None:
    st.caption(tr("firm.none"))
else:
    timeline, superseded, recognitions_table = recognitions
    st.plotly_chart(timeline, key="timeline_chart")
    if superseded:
        st.caption(tr("firm.superseded_note"))
    show_table(recognitions_table)

# ---------------------------------------------------------------- 复核决定 review decisions (registry.review)
review_decisions = cached_view(sections.review_decisions, selected, lang)
if review_decisions is not None:
    st.markdown(f"**{tr('review.decisions')}**")
    decided, decisions_table = review_decisions
    for row in decided.head(3).iter_rows(named=True):  # the latest ones as text, all of them in the table
        st.markdown(f"- {fmt_date(row['decided_at'])} · {code_label('tier', row['tier'], lang)} · "
                    f"**{code_label('decision', row['decision'], lang)}**"
                    + (f" · {tr('review.new_valid_until', until=fmt_date(row['new_valid_until']))}"
                       if row["new_valid_until"] else "")
                    + (f" · {column_label('ban_until', lang)} {fmt_date(row['ban_until'])}" if row["ban_until"] else "")
                    + f" · {md_text(row['reason'])} · {md_text(row['decided_by'])}")  # free text: literal
    show_table(decisions_table)

# ---------------------------------------------------------------- operating data
st.subheader(tr("firm.reports"))
reports = cached_view(sections.reports, selected, lang)
if reports is None:
    st.caption(tr("firm.none"))
else:
    if reports.indicators is not None:
        revenue_column, ratio_column = st.columns(2)
        revenue_column.plotly_chart(reports.revenue, key="revenue_chart")
        ratio_column.plotly_chart(reports.ratios, key="ratio_chart")
        st.markdown(f"**{tr('firm.annual')}**")
        shown_indicators = show_table(reports.indicators)
        download_buttons(shown_indicators, f"{profile['uscc']}_{tr('firm.annual')}", key="dl_indicators")
    if reports.monthly is not None:
        st.plotly_chart(reports.monthly, key="monthly_chart")
    with st.expander(f"{tr('firm.reports')} ({reports.count})"):
        shown_reports = show_table(reports.reports)
        download_buttons(shown_reports, f"{profile['uscc']}_{tr('firm.reports')}", key="dl_reports")

# ---------------------------------------------------------------- attributes, events, flags
attributes_column, events_column = st.columns(2)
with attributes_column:
    st.subheader(tr("firm.attributes"))
    attributes = cached_view(sections.attributes, selected, lang)
    if attributes is None:
        st.caption(tr("firm.none"))
    else:
        show_table(attributes)
with events_column:
    st.subheader(tr("firm.events"))
    events = cached_view(sections.events, selected, lang)
    if events is None:
        st.caption(tr("firm.none"))
    else:
        show_table(events)

flags = cached_view(sections.flags, selected, lang)
if flags is not None:
    st.subheader(tr("firm.flags"))
    for heading, (rows, part) in zip((tr("firm.open_flags"), tr("firm.resolved_flags")), flags, strict=True):
        st.markdown(f"**{heading}** ({rows})")
        if part is None:
            st.caption(tr("firm.none"))
        else:
            show_table(part)

# ---------------------------------------------------------------- 同行对比 peers (registry.peers)
peer_min = settings().monitoring.peer_min_group
peers = cached_view(sections.peers, profile["uscc"], as_of, peer_min, lang)
if peers is not None:
    peer_year, peer_tier, peers_table = peers
    st.subheader(tr("firm.peers"))
    st.caption(tr("firm.peers_help", year=peer_year, tier=code_label("tier", peer_tier, lang), min=peer_min))
    shown_peers = show_table(peers_table)
    download_buttons(shown_peers, f"{profile['uscc']}_{tr('firm.peers')}", key="dl_firm_peers", what="firms")

# ---------------------------------------------------------------- 目标表 (重点小巨人): targets vs actual
firm_targets = cached_view(sections.targets, profile["uscc"], as_of, lang)
if firm_targets is not None:
    st.subheader(tr("firm.targets"))
    st.caption(tr("targets.firm_help"))
    targets_chart, targets_table = firm_targets
    st.plotly_chart(targets_chart, key="firm_targets_chart")
    shown_targets = show_table(targets_table)
    download_buttons(shown_targets, f"{profile['uscc']}_{tr('firm.targets')}", key="dl_firm_targets")


# ---------------------------------------------------------------- evaluation (once the policy engine is there)
@st.fragment  # choosing a purpose or a rule set reruns this section alone
def evaluation_section(uscc: str, region_code: str) -> None:
    st.subheader(tr("firm.evaluation"))
    # The rule sets that can judge this firm: its city's, province's and the national ones, in force today
    # (evaluating one outside its effective range is refused by the engine), named by title and document number.
    applicable = {p.id: p for p in policies_for_region(region_code, as_of)}
    in_force = list(applicable)
    # Preselected: the rule the firm is judged on today, resolved like the promotion flags and `zjtx evaluate
    # --tier` (next rung for a new application, the tier held for 复核).
    purpose = st.radio(tr("firm.purpose"), ("new_application", "review"), horizontal=True, key="firm_purpose",
                       format_func=lambda code: tr(f"firm.purpose_{code}"))
    default_rule = cached_view(sections.default_rule, uscc, as_of, purpose)
    policy_id = st.selectbox(tr("firm.policy"), in_force, key=f"firm_policy_{purpose}",
                             format_func=lambda pid: policy_title(applicable[pid], lang),
                             placeholder=tr("firm.policy_pick"),
                             index=in_force.index(default_rule.id) if default_rule and default_rule.id in in_force
                             else None)
    if default_rule is not None:
        st.caption(tr("firm.default_rule", policy=policy_title(default_rule, lang)))
    if not policy_id:
        return
    evaluated = cached_view(sections.evaluation, uscc, policy_id, as_of, lang)
    if isinstance(evaluated, str):  # e.g. a batch policy outside its application window
        st.warning(md_text(evaluated))
        return
    for record, criteria in evaluated:
        verdict = code_label("verdict", record["verdict"], lang)
        meaning = class_meaning(applicable[policy_id], record["class"], lang)
        extra = ([f"{tr('firm.class')}: {record['class']}" + (f"（{meaning}）" if lang != "en" and meaning else
                                                              f" ({meaning})" if meaning else "")]
                 if record["class"] is not None else [])
        extra += [f"{tr('firm.score')}: {record['score']}"] if record["score"] is not None else []
        st.markdown(f"**{tr('firm.verdict')}: {verdict}**  " + " · ".join(extra))
        show_table(criteria)


evaluation_section(profile["uscc"], region_code)
