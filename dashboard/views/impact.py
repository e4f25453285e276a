"""影响评估 Rule impact: the holders and candidates of a jurisdiction under an old and a new rule set side by side —
verdict counts, the cross-table, which gates cost the most firms, and who passes today's 复核 standard but would
fail a new application. Every number comes from registry.impact.rule_impact (definitions there, in
docs/dashboard.md and on the page); `zjtx impact` prints the same."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import impact_charts
from dashboard.cache import data_version
from dashboard.components import (
    current_lang,
    current_principal,
    settings,
    table,
    today,
    tr,
)
from dashboard.exports import download_buttons
from dashboard.formatting import fmt_count
from dashboard.i18n import code_label
from registry.access import Principal, jurisdictions_in_scope
from registry.db import get_engine
from registry.errors import UserError
from registry.impact import COMPARISONS, default_pair, ladder_tiers, narrowed_jurisdiction, rule_impact
from registry.policy import get_policy, load_policies
from registry.policy.engine import VERDICTS

lang = current_lang()
principal = current_principal()
st.title(tr("page.impact"))

policies = {pid: p for pid, p in sorted(load_policies().items()) if p.tier and p.purpose != "classification"}
title = "title_en" if lang == "en" else "title_zh"
default_from, default_to = default_pair()
ids = list(policies)
controls = st.columns(4)
from_id = controls[0].selectbox(tr("impact.from"), ids, index=ids.index(default_from), key="impact_from",
                                format_func=lambda i: f"{i} · {getattr(policies[i], title)}")
to_id = controls[1].selectbox(tr("impact.to"), ids, index=ids.index(default_to), key="impact_to",
                              format_func=lambda i: f"{i} · {getattr(policies[i], title)}")
to_policy = get_policy(to_id)
names = dict(zip(jurisdictions_in_scope(principal)["id"], jurisdictions_in_scope(principal)[
    "name_en" if lang == "en" else "name_zh"], strict=True))
default_scope = narrowed_jurisdiction(principal, None, to_policy)
options = list(dict.fromkeys([default_scope, principal.jurisdiction, *names]))
scope = controls[2].selectbox(tr("impact.jurisdiction"), options, key=f"impact_scope_{to_id}",
                              format_func=lambda j: f"{names[j]} · {j}" if j in names else j)
as_of = controls[3].date_input(tr("filter.as_of"), value=today(), key="impact_as_of", format="YYYY-MM-DD")

tiers = ladder_tiers(to_policy.tier)
st.caption(tr("impact.definition", tier=code_label("tier", tiers[0], lang),
              below=("、" if lang == "zh" else ", ").join(code_label("tier", b, lang) for b in tiers[1:])
              or tr("impact.no_below")))
st.caption(tr("impact.confidence", old=get_policy(from_id).lowest_confidence() or "—",
              new=to_policy.lowest_confidence() or "—"))
if from_id == to_id:
    st.info(tr("impact.same"))



@st.cache_data(show_spinner=False, max_entries=32, ttl=3600)
def _impact(version: str, database_url: str, who: tuple[str, str, str], from_id: str, to_id: str, as_of,
            scope: str):
    # Its own cache, not dashboard.cache.cached: rule_impact takes the engine first and the principal second.
    # `version` (this page run's, dashboard/cache.py) is only a cache key: new data is a new entry. Evaluating
    # every holder twice takes seconds at national scale, so a rerun of the page must not repeat it.
    del version
    return rule_impact(get_engine(database_url), Principal(*who), from_id, to_id, as_of, scope)


try:
    with st.spinner(tr("page.impact")):
        result = _impact(data_version(), settings().database_url,
                         (principal.username, principal.role, principal.jurisdiction), from_id, to_id, as_of, scope)
except UserError as exc:
    st.error(str(exc))
    st.stop()

if result.firms.is_empty():
    st.info(tr("impact.none"))
    st.stop()

# ---------------------------------------------------------------- how many pass each
st.subheader(tr("impact.counts"))
counts = result.counts()
columns = st.columns(len(VERDICTS) + 1)
columns[0].metric(tr("impact.evaluated"), fmt_count(result.firms.height), border=True)
for column, verdict in zip(columns[1:], VERDICTS, strict=True):
    old, new = (counts.filter(pl.col("rule_set") == side)[verdict][0] for side in ("from", "to"))
    column.metric(code_label("verdict", verdict, lang), f"{fmt_count(old)} → {fmt_count(new)}", border=True)
table(counts, codes={"rule_set": "rule_set"}, key="impact_counts")

# ---------------------------------------------------------------- old against new
st.subheader(tr("impact.cross"))
st.caption(tr("impact.cross_help"))
comparisons = result.comparisons()
for column, comparison in zip(st.columns(len(COMPARISONS)), COMPARISONS, strict=True):
    column.metric(code_label("comparison", comparison, lang), fmt_count(comparisons[comparison]), border=True)
cross = result.crosstab().pivot(on="verdict_to", index="verdict_from", values="firms")
table(cross.select("verdict_from", *VERDICTS).rename({"verdict_from": "verdict_pair"}),
      codes={"verdict_pair": "verdict"}, key="impact_crosstab")

# ---------------------------------------------------------------- which gates cost the most
st.subheader(tr("impact.gates"))
st.caption(tr("impact.gates_help"))
gates = result.gate_costs
st.plotly_chart(impact_charts.gate_cost_chart(gates, lang), key="impact_gate_chart")
shown_gates = table(gates.select("criterion", "label_en" if lang == "en" else "label_zh", "firms_failing",
                                 "missing_data", "confidence", "source"), key="impact_gates")
download_buttons(shown_gates, f"{tr('impact.download')}_{tr('impact.gates')}", key="impact_dl_gates")

# ---------------------------------------------------------------- passes review, fails a new application
lost = result.review_pass_new_fail()
st.subheader(f"{tr('impact.lost')} · {fmt_count(lost.height)}")
st.caption(tr("impact.lost_help"))
firm_columns = ["uscc", "name", "region_code", "held_tier", "impact_role", "verdict_from", "score_from",
                "verdict_to", "score_to", "comparison", "failed_to", "missing_to"]
firm_codes = {"held_tier": "tier", "impact_role": "impact_role", "verdict_from": "verdict", "verdict_to": "verdict",
              "comparison": "comparison"}
shown_lost = table(lost.select(firm_columns), codes=firm_codes, key="impact_lost")
download_buttons(shown_lost, f"{tr('impact.download')}_{tr('impact.lost')}", key="impact_dl_lost")

# ---------------------------------------------------------------- every firm
with st.expander(f"{tr('impact.firms')} · {fmt_count(result.firms.height)}"):
    shown_firms = table(result.firms.select(firm_columns), codes=firm_codes, key="impact_firms")
    download_buttons(shown_firms, f"{tr('impact.download')}_{tr('impact.firms')}", key="impact_dl_firms")
