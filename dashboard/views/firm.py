"""企业详情 Firm: profile, recognition timeline, operating data trends, attributes, events, open and resolved
flags, 目标表 targets vs actual, evaluation.

Opened with `?uscc=<code>` (links from the registry page) or from the search box. A firm outside the user's
jurisdiction looks exactly like a firm that does not exist.
"""

from __future__ import annotations

import json
import re

import polars as pl
import streamlit as st

from dashboard import analytics_charts, charts, ops
from dashboard.cache import cached
from dashboard.components import (
    current_lang,
    current_principal,
    settings,
    table,
    today,
    tr,
)
from dashboard.database import engine
from dashboard.exports import download_buttons
from dashboard.formatting import fmt_date, fmt_money
from dashboard.i18n import code_label, column_label
from dashboard.safe_text import md_text
from registry import policy_tools, queries, reference
from registry.errors import UserError
from registry.peers import firm_peers
from registry.policy import evaluate, evaluation_records, get_policy
from registry.policy.applicable import class_meaning, policies_for_region, policy_title
from registry.queries import (
    firm_attributes,
    firm_events,
    firm_flags,
    firm_profile,
    firm_recognitions,
    firm_reports,
    search_firms,
)
from registry.review import decisions
from registry.targets import firm_target_attainment

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
st.subheader(tr("firm.recognitions"))
recognitions = cached(firm_recognitions, uscc=selected)
if recognitions.is_empty():
    st.caption(tr("firm.none"))
else:
    st.plotly_chart(charts.recognition_timeline(recognitions, lang, as_of), key="timeline_chart")
    if (recognitions["status"] == "superseded").any():
        st.caption(tr("firm.superseded_note"))
    table(recognitions.drop("ended_on", "end_reason") if recognitions["ended_on"].is_null().all() else recognitions,
          codes={"tier": "tier", "status": "status"})

# ---------------------------------------------------------------- 复核决定 review decisions (registry.review)
decided = cached(decisions, uscc=selected)
if not decided.is_empty():
    st.markdown(f"**{tr('review.decisions')}**")
    decided = ops.local_times(decided.drop("uscc", "name"), ["decided_at"])
    for row in decided.head(3).iter_rows(named=True):  # the latest ones as text, all of them in the table
        st.markdown(f"- {fmt_date(row['decided_at'])} · {code_label('tier', row['tier'], lang)} · "
                    f"**{code_label('decision', row['decision'], lang)}**"
                    + (f" · {tr('review.new_valid_until', until=fmt_date(row['new_valid_until']))}"
                       if row["new_valid_until"] else "")
                    + (f" · {column_label('ban_until', lang)} {fmt_date(row['ban_until'])}" if row["ban_until"] else "")
                    + f" · {md_text(row['reason'])} · {md_text(row['decided_by'])}")  # free text: literal
    table(decided, codes={"decision": "decision", "tier": "tier", "flag": "flag"})

# ---------------------------------------------------------------- operating data
st.subheader(tr("firm.reports"))
reports = cached(firm_reports, uscc=selected)
if reports.is_empty():
    st.caption(tr("firm.none"))
else:
    indicators = charts.annual_indicators(reports)
    if not indicators.is_empty():
        revenue_column, ratio_column = st.columns(2)
        revenue_column.plotly_chart(charts.annual_revenue_chart(indicators, lang), key="revenue_chart")
        ratio_column.plotly_chart(charts.ratio_chart(indicators, lang), key="ratio_chart")
        st.markdown(f"**{tr('firm.annual')}**")
        shown_indicators = table(indicators)
        download_buttons(shown_indicators, f"{profile['uscc']}_{tr('firm.annual')}", key="dl_indicators")
    months = charts.monthly_revenue(reports)
    if not months.is_empty():
        st.plotly_chart(charts.monthly_revenue_chart(months, lang), key="monthly_chart")
    with st.expander(f"{tr('firm.reports')} ({reports.height})"):
        reported = reports.select(["period", "basis"] + [c for c in reports.columns[5:]
                                                         if reports[c].is_not_null().any()])
        shown_reports = table(reported)
        download_buttons(shown_reports, f"{profile['uscc']}_{tr('firm.reports')}", key="dl_reports")

# ---------------------------------------------------------------- attributes, events, flags
attributes_column, events_column = st.columns(2)
with attributes_column:
    st.subheader(tr("firm.attributes"))
    attributes = cached(firm_attributes, uscc=selected)
    if attributes.is_empty():
        st.caption(tr("firm.none"))
    else:
        table(attributes, codes={"attribute": "attribute", "value": "attribute_value"})
with events_column:
    st.subheader(tr("firm.events"))
    events = cached(firm_events, uscc=selected)
    if events.is_empty():
        st.caption(tr("firm.none"))
    else:
        table(events, codes={"event": "event"})

flags = cached(firm_flags, uscc=selected)
if not flags.is_empty():
    st.subheader(tr("firm.flags"))
    flag_codes = {"kind": "flag", "severity": "severity", "tier": "tier", "jurisdiction": "jurisdiction"}
    open_flags, resolved_flags = flags.filter(pl.col("resolved_on").is_null()), flags.filter(
        pl.col("resolved_on").is_not_null())
    for heading, part in ((tr("firm.open_flags"), open_flags.drop("resolved_on")),
                          (tr("firm.resolved_flags"), resolved_flags)):
        st.markdown(f"**{heading}** ({part.height})")
        if part.is_empty():
            st.caption(tr("firm.none"))
        else:
            table(part, codes=flag_codes)

# ---------------------------------------------------------------- 同行对比 peers (registry.peers)
peer_min = settings().monitoring.peer_min_group
peers = cached(firm_peers, uscc=profile["uscc"], as_of=as_of, min_group=peer_min)
if not peers.is_empty():
    st.subheader(tr("firm.peers"))
    st.caption(tr("firm.peers_help", year=peers["year"][0], tier=code_label("tier", peers["tier"][0], lang),
                  min=peer_min))
    # "peer_group", not "group": the 运行监测 breakdown's "group" column has its own header.
    peer_view = peers.select("metric", "value", "percentile", "peer_median", "peer_q1", "peer_q3", "peers",
                             pl.col("group").alias("peer_group"), "change_pct", "peer_median_change_pct")
    shown_peers = table(peer_view, codes={"metric": "peer_metric", "peer_group": "peer_group"})
    download_buttons(shown_peers, f"{profile['uscc']}_{tr('firm.peers')}", key="dl_firm_peers", what="firms")

# ---------------------------------------------------------------- 目标表 (重点小巨人): targets vs actual
firm_targets = cached(firm_target_attainment, as_of=as_of, uscc=profile["uscc"])
if not firm_targets.is_empty():
    st.subheader(tr("firm.targets"))
    st.caption(tr("targets.firm_help"))
    st.plotly_chart(analytics_charts.firm_targets_chart(firm_targets, lang), key="firm_targets_chart")
    target_view = firm_targets.select(
        "indicator", "unit", "direction", "start_period", "baseline", "year1", "target_year1", "actual_year1",
        "year2", "target_year2", "actual_year2", "assessed_year", "attainment_pct", "status")
    target_codes = {"indicator": "target_indicator", "status": "target_status", "direction": "direction"}
    shown_targets = table(target_view, codes=target_codes)
    download_buttons(shown_targets, f"{profile['uscc']}_{tr('firm.targets')}", key="dl_firm_targets")


# ---------------------------------------------------------------- evaluation (once the policy engine is there)
def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


st.subheader(tr("firm.evaluation"))
# The rule sets that can judge this firm: its city's, province's and the national ones, in force today (evaluating
# one outside its effective range is refused by the engine), named by title and document number.
applicable = {p.id: p for p in policies_for_region(region_code, as_of)}
in_force = list(applicable)
# Preselected: the rule the firm is judged on today, resolved like the promotion flags and `zjtx evaluate --tier`
# (next rung for a new application, the tier held for 复核).
purpose = st.radio(tr("firm.purpose"), ("new_application", "review"), horizontal=True, key="firm_purpose",
                   format_func=lambda code: tr(f"firm.purpose_{code}"))
default_rule = policy_tools.firm_default_rule(current_principal(), profile["uscc"], as_of, purpose,
                                              engine=engine())
policy_id = st.selectbox(tr("firm.policy"), in_force, key=f"firm_policy_{purpose}",
                         format_func=lambda pid: policy_title(applicable[pid], lang),
                         placeholder=tr("firm.policy_pick"),
                         index=in_force.index(default_rule.id) if default_rule and default_rule.id in in_force else None)
if default_rule is not None:
    st.caption(tr("firm.default_rule", policy=policy_title(default_rule, lang)))
evaluated = None
if policy_id:
    firm_bundle = queries.firm_bundle(current_principal(), profile["uscc"], engine=engine())
    try:
        evaluated = evaluate(get_policy(policy_id), firm_bundle, as_of)
    except UserError as exc:  # e.g. a batch policy outside its application window
        st.warning(md_text(exc))
if evaluated is not None:
    for record in evaluation_records(evaluated):
        verdict = code_label("verdict", record["verdict"], lang)
        meaning = class_meaning(applicable[policy_id], record.get("class"), lang)
        extra = ([f"{tr('firm.class')}: {record['class']}" + (f"（{meaning}）" if lang != "en" and meaning else
                                                              f" ({meaning})" if meaning else "")]
                 if record.get("class") is not None else [])
        extra += [f"{tr('firm.score')}: {record['score']}"] if record.get("score") is not None else []
        st.markdown(f"**{tr('firm.verdict')}: {verdict}**  " + " · ".join(extra))
        # One firm's criteria (a few dozen): actual/expected mix numbers, text and counts, shown as text.
        # Scored rules add points; rules after 2021 add a confidence code and a note when not yet checked (CONTRACT §3b).
        detail_columns = ("label", "result", "actual", "expected",
                 *(k for k in ("points", "confidence", "note") if any(k in c for c in record["criteria"])), "source")
        criteria = pl.DataFrame(
            {column: [_as_text(criterion.get(column)) for criterion in record["criteria"]] for column in detail_columns},
            schema=dict.fromkeys(detail_columns, pl.String),
        ).rename({"label": "criterion", "actual": "actual_value"})
        table(criteria, codes={"result": "result"})
