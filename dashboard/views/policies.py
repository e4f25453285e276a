"""政策规则 Policies: every policy with its criteria tree, labels and the cited source text inline; its lifecycle
(validity, 复核, exit rules, reporting duties); a comparison of two versions; what-if — evaluate one firm of the
registry, or screen an uploaded application list and download the verdict workbook (`zjtx screen`'s)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard.components import current_lang, current_principal, table, today, tr
from dashboard.database import engine
from dashboard.exports import export_button
from dashboard.i18n import code_label
from dashboard.safe_text import md_text
from registry.errors import UserError
from registry.policy import get_policy, load_policies
from registry.policy.citations import compilation_lines, compilation_path
from registry.policy_tools import (
    criteria_diff,
    criteria_table,
    evaluate_firm,
    lifecycle_tables,
    screen_uploads,
)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

lang = current_lang()
st.title(tr("page.policies"))

policies = load_policies()
ids = sorted(policies)
title = "title_en" if lang == "en" else "title_zh"
policy_id = st.selectbox(tr("policies.pick"), ids, key="policies_pick",
                         format_func=lambda i: f"{i} · {getattr(policies[i], title)}")
policy = get_policy(policy_id)
st.header(getattr(policy, title))
st.caption(f"{policy.document_no} · {policy.issuer} · {policy.effective_from} – {policy.effective_to or '…'} · "
           f"{policy.jurisdiction} · {code_label('tier', policy.tier, lang) if policy.tier else '—'} · "
           f"{policy.purpose}" + (f" · supersedes {', '.join(policy.superseded_ids())}" if policy.supersedes else ""))
available = compilation_lines() is not None
if not available:
    # The file's name only: the server's folders are not shown to users (the path is in config.toml).
    st.warning(tr("policies.no_source_text", path=compilation_path().name))

tree_tab, lifecycle_tab, compare_tab, whatif_tab = st.tabs(
    [tr("policies.criteria"), tr("policies.lifecycle"), tr("policies.compare"), tr("policies.whatif")])
TEXT = {"source_text": st.column_config.TextColumn(width="large"), "label": st.column_config.TextColumn(width="medium")}


def shown(frame: pl.DataFrame) -> pl.DataFrame:
    """Without the source text column when the compilation is not there (it would be empty)."""
    return frame if available or "source_text" not in frame.columns else frame.drop("source_text")


# ---------------------------------------------------------------- criteria with their text
with tree_tab:
    criteria = criteria_table(policy, lang)
    criteria_columns = ["label", "rule", "source", "source_text", "quote", "waivers", "id"]
    if criteria["confidence"].is_not_null().any():  # rules after 2021: how sure the wording is (A … U)
        criteria_columns.insert(2, "confidence")
    st.dataframe(shown(criteria.select(criteria_columns)),
                 hide_index=True, placeholder="—", key="policies_tree", column_config=TEXT, row_height=60)
    if policy.interpretations:
        st.markdown("**解释与取舍 / Interpretations**")
        for reading in policy.interpretations:
            st.markdown(f"- `{reading.id}` {reading.en if lang == 'en' else reading.zh}")

# ---------------------------------------------------------------- lifecycle
with lifecycle_tab:
    facts, exits, duties = lifecycle_tables(policy, lang)
    if not facts:
        st.caption(tr("ops.none"))
    else:
        st.json(facts)
        if not exits.is_empty():
            st.dataframe(shown(exits), hide_index=True, placeholder="—", key="policies_exits", column_config=TEXT)
        if not duties.is_empty():
            table(shown(duties), codes={"frequency": "frequency"}, key="policies_duties")

# ---------------------------------------------------------------- versions
with compare_tab:
    family = policy_id.rsplit("/", 1)[0]
    siblings = [i for i in ids if i.rsplit("/", 1)[0] == family and i != policy_id]
    others = siblings + [i for i in ids if i not in siblings and i != policy_id]
    other_id = st.selectbox(tr("policies.other"), others, key=f"policies_other_{policy_id}")
    diff = criteria_diff(get_policy(other_id), policy, lang)
    st.caption(f"{other_id} → {policy_id}")
    if diff.is_empty():
        st.info(tr("policies.no_diff"))
    else:
        st.dataframe(diff, hide_index=True, placeholder="—", key="policies_diff")

# ---------------------------------------------------------------- what-if
with whatif_tab:
    as_of = st.date_input(tr("ops.as_of"), value=min(today(), policy.effective_to or today()), key="policies_as_of")
    st.markdown(f"**{tr('policies.one_firm')}**")
    uscc = st.text_input(tr("policies.firm_uscc"), key="policies_uscc", max_chars=18)
    if st.button(tr("policies.evaluate"), key="policies_evaluate", disabled=not uscc.strip()):
        try:
            record = evaluate_firm(current_principal(), policy, uscc, as_of, lang, engine=engine())
        except UserError as exc:
            st.error(md_text(exc))
        else:
            st.markdown(f"**{code_label('verdict', record['verdict'], lang)}**"
                        + (f" · {tr('firm.class')}: {record['class']}" if record["class"] else "")
                        + (f" · {tr('firm.score')}: {record['score']}" if record["score"] is not None else ""))
            detail_columns = ("label", "result", "actual", "expected",
                     *(k for k in ("points", "confidence", "note") if any(k in c for c in record["criteria"])), "source")
            table(pl.DataFrame([{k: None if c.get(k) is None else str(c.get(k)) for k in detail_columns}
                                for c in record["criteria"]],
                               schema=dict.fromkeys(detail_columns, pl.String))
                  .rename({"label": "criterion", "actual": "actual_value"}), codes={"result": "result"},
                  key="policies_firm_criteria")

    st.markdown(f"**{tr('policies.screen')}**")
    files = st.file_uploader(tr("policies.screen_files"), type=["csv", "xlsx", "txt"], accept_multiple_files=True,
                             key="policies_files")
    if st.button(tr("policies.screen_run"), key="policies_screen", disabled=not files):
        try:
            screening = screen_uploads(policy, [(f.name, f.getvalue()) for f in files], as_of, lang)
        except UserError as exc:
            st.error(md_text(exc))
        else:
            st.session_state["policies_screening"] = (policy_id, screening)
    if st.session_state.get("policies_screening", (None,))[0] == policy_id:
        screening = st.session_state["policies_screening"][1]
        counts = screening.counts()
        st.success(tr("policies.screen_result", firms=screening.result.height, eligible=counts["eligible"],
                      ineligible=counts["ineligible"], insufficient=counts["insufficient_data"]))
        for name, rows in screening.skipped:
            st.warning(tr("policies.skipped_rows", file=md_text(name), rows=rows))
        verdicts = screening.result.select("uscc", "verdict", "class", "score").join(
            screening.names.unique("uscc"), on="uscc", how="left").select("uscc", "name", "verdict", "class", "score")
        table(verdicts, codes={"verdict": "verdict"}, key="policies_verdicts")
        export_button(tr("policies.download_workbook"), lambda: (screening.workbook, screening.result.height),
                      what="firms", file_name=f"初核_{policy_id.replace('/', '_')}_{as_of:%Y%m%d}.xlsx",
                      mime=XLSX_MIME, key="policies_workbook", icon=":material/table:")
