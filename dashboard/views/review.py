"""复核与退出 Review & exit: the recognitions a manager must decide on (open flags: due for 复核, expiring, expired,
exit conditions, missing reports), filterable, each with its evidence and a link to the firm; a decision (renew,
revoke, keep under watch) with a mandatory reason, one item at a time or for a batch cohort after a confirmation;
the queue as the Excel list an office circulates."""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from dashboard import ops
from dashboard.cache import cached, cached_view
from dashboard.components import (
    current_lang,
    current_principal,
    firm_link_expr,
    labelled,
    settings,
    show_table,
    today,
    tr,
)
from dashboard.database import engine
from dashboard.evidence import evidence_sentence, plain_source
from dashboard.exports import export_button
from dashboard.i18n import CODES, code_label, column_label
from dashboard.safe_text import md_text
from dashboard.sections import review as risk_section
from registry.errors import UserError
from registry.pipeline import last_flags_run
from registry.review import (
    DECISIONS,
    QUEUE_FLAGS,
    add_years,
    expired_for,
    queue_evidence,
    queue_workbook,
    record_decision,
    record_decisions,
    review_items,
    review_queue,
    revocation_rules,
)
from registry.review_risk import STANDARDS, risk_workbook

SHOWN = 500
NOTICE = "review_notice"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

lang = current_lang()
st.title(tr("page.review"))
if NOTICE in st.session_state:
    st.success(st.session_state.pop(NOTICE))

# ---------------------------------------------------------------- 复核 risk (registry.review_risk)
RISK_MONTHS = settings().monitoring.review_risk_months
# Counted and labelled once per data version (dashboard/sections/review.py).
risk = cached_view(risk_section.risk, today(), RISK_MONTHS)
with st.expander(f"{tr('risk.title')} · {risk.review:,}", icon=":material/trending_down:"):
    st.caption(tr("risk.help", months=RISK_MONTHS))
    st.markdown(tr("risk.summary", due=f"{risk.due:,}", review=f"{risk.review:,}", new=f"{risk.new_application:,}"))
    standard = st.radio(tr("risk.standard"), list(STANDARDS), key="risk_standard", horizontal=True,
                        format_func=lambda s: code_label("risk_standard", s, lang))
    at_risk = cached_view(risk_section.risk_table, today(), RISK_MONTHS, standard, SHOWN, lang)
    if at_risk is None:
        st.info(tr("risk.none"))
    else:
        risk_table, risk_names = at_risk
        risk_link = column_label("link", lang)
        show_table(risk_table, key="risk_table",
                   column_config={risk_link: st.column_config.LinkColumn(risk_link, display_text=tr("registry.open"))})
        export_button(tr("risk.export"), lambda: (risk_workbook(risk.result, risk_names), risk.result.firms.height),
                      what="review_list", file_name=f"复核风险_{today():%Y%m%d}.xlsx", mime=XLSX_MIME,
                      key="risk_export", icon=":material/table:")

# The queue without its evidence (250 MB of JSON at provincial scale): the evidence of the rows shown is read below,
# the whole list's only when it is downloaded.
queue = cached(review_items)


def options(column: str) -> list:
    return [None, *sorted(queue[column].drop_nulls().unique().to_list())]


def any_or(label):
    return lambda value: tr("ops.any") if value is None else label(value)


filters = st.columns(4)
jurisdiction = filters[0].selectbox(tr("review.jurisdiction"), options("jurisdiction"), key="review_jurisdiction",
                                    format_func=any_or(str))
tier = filters[1].selectbox(tr("review.tier"), options("tier"), key="review_tier",
                            format_func=any_or(lambda v: code_label("tier", v, lang)))
batch = filters[2].selectbox(tr("review.batch"), options("batch"), key="review_batch", format_func=any_or(str))
flag = filters[3].selectbox(tr("review.flag"), [None, *[k for k in QUEUE_FLAGS if k in set(queue["flag"])]],
                            key="review_flag", format_func=any_or(lambda v: code_label("flag", v, lang)))
chosen = {"jurisdiction": jurisdiction, "tier": tier, "batch": batch, "flag": flag}
items = queue
for column, value in chosen.items():
    if value is not None:
        items = items.filter(pl.col(column) == value)

st.caption(tr("review.total", items=f"{items.height:,}", firms=f"{items['uscc'].n_unique():,}"))
if queue.is_empty():
    # Nothing at all to decide: say whether the flags were ever computed, and how to compute them.
    finished = last_flags_run(engine=engine())
    if finished is None:
        st.info(tr("review.empty_never"))
    else:
        when = ops.local_times(pl.DataFrame({"at": [finished]}), ["at"])["at"][0]
        st.info(tr("review.empty_after", when=f"{when:%Y-%m-%d %H:%M}"))
    st.stop()
if items.is_empty():
    st.info(tr("review.empty"))
    st.stop()

CODE_KINDS = {"tier": "tier", "jurisdiction": "jurisdiction", "flag": "flag", "severity": "severity"}
shown = items.head(SHOWN)
shown = shown.join(cached(queue_evidence, tuple(shown["flag_id"].to_list())), on="flag_id", how="left",
                   maintain_order="left")
# Evidence as a sentence and sources without internal references (dashboard/evidence.py), not JSON.
shown = shown.with_columns(
    evidence_text=pl.Series([evidence_sentence(f, e, lang) for f, e in zip(shown["flag"], shown["evidence"], strict=True)],
                            dtype=pl.String),
    rule=pl.Series([plain_source(r) for r in shown["rule"]], dtype=pl.String),
    source=pl.Series([plain_source(r) for r in shown["source"]], dtype=pl.String),
    link=firm_link_expr("uscc", lang))
link = column_label("link", lang)
st.dataframe(
    labelled(shown.select("uscc", "name", "tier", "jurisdiction", "batch", "valid_until", "flag", "severity",
                          "due_on", "rule", "source", "evidence_text", "link"), CODE_KINDS),
    hide_index=True, placeholder="—", key="review_table",
    column_config={link: st.column_config.LinkColumn(link, display_text=tr("registry.open")),
                   column_label("valid_until", lang): st.column_config.DateColumn(format="YYYY-MM-DD"),
                   column_label("due_on", lang): st.column_config.DateColumn(format="YYYY-MM-DD")})
if items.height > SHOWN:
    st.caption(tr("review.shown", shown=SHOWN))


reader, database = current_principal(), engine()  # the download is built later, outside this page run


def workbook() -> tuple[bytes, int]:
    names = {column: {code: code_label(kind, code, lang) for code in CODES.get(kind, {})}
             for column, kind in CODE_KINDS.items()}
    scope = " · ".join(str(v) for v in chosen.values() if v is not None)
    listed = review_queue(reader, **chosen, engine=database)  # the items shown, with their evidence
    return queue_workbook(listed, f"{tr('page.review')} {today().isoformat()} {scope}".strip(), names), listed.height


export_button(tr("review.export"), workbook, what="review_list",
              file_name=f"复核清单_{today():%Y%m%d}.xlsx", mime=XLSX_MIME, key="review_export", icon=":material/table:")

# ---------------------------------------------------------------- one item
st.subheader(tr("review.evidence"))
labels = {r["flag_id"]: f"{r['name']} · {code_label('tier', r['tier'], lang)} · {code_label('flag', r['flag'], lang)}"
          f" · {r['due_on'] or ''}" for r in shown.iter_rows(named=True)}
picked = st.selectbox(tr("review.pick"), list(labels), key="review_pick", format_func=labels.get)
item = shown.filter(pl.col("flag_id") == picked).row(0, named=True)
left, right = st.columns([3, 2])
with left:
    # Names, codes and rule texts come from files: literal text, never Markdown (dashboard/safe_text.py).
    st.markdown(f"**{md_text(item['name'])}** · {md_text(item['uscc'])} · [{tr('review.open_firm')}]({item['link']})")
    st.markdown(f"**{tr('review.rule')}**: {md_text(item['rule']) or '—'}  \n"
                f"**{tr('review.source')}**: {md_text(item['source']) or '—'}")
    st.markdown(f"**{tr('review.evidence')}**: {md_text(item['evidence_text'])}")

with right:
    if not ops.allowed("review.decide"):
        st.info(tr("ops.not_allowed"))
    else:
        choices = [d for d in DECISIONS if d != "revoke" or ops.allowed("recognition.revoke")]
        expired_days = expired_for(item["valid_until"], today())
        if st.session_state.get("review_decision_for") != picked:
            # Another item: its decision starts afresh (a choice made for the previous one must not carry over).
            st.session_state.pop("review_decision", None)
            st.session_state["review_decision_for"] = picked
        if expired_days:
            st.warning(tr("review.expired_note", until=item["valid_until"].isoformat(), days=expired_days))
        # An expired recognition: nothing preselected, renewing it is a deliberate choice.
        decision = st.radio(tr("review.decision"), choices, key="review_decision", horizontal=True,
                            index=None if expired_days else 0,
                            format_func=lambda d: code_label("decision", d, lang))
        reason = st.text_area(tr("review.reason"), key=f"review_reason_{picked}")
        extra: dict = {}
        ban = None
        if decision == "renew":
            extra["renewed_on"] = st.date_input(tr("review.renew_on"), value=today(), key="review_renewed_on")
            extra["document_no"] = st.text_input(tr("review.document_no"), key="review_document_no")
            if expired_days:
                extra["renew_expired"] = st.checkbox(tr("review.renew_expired", days=expired_days),
                                                     key=f"review_renew_expired_{picked}")
        elif decision == "revoke":
            rules = revocation_rules(current_principal(), item["recognition_id"], engine=engine())
            by_id = {r["id"]: r for r in rules}
            flag_rule = json.loads(item["evidence"] or "{}").get("reason") if item["flag"] == "exit" else None
            ids = [None, *by_id]
            rule_id = st.selectbox(tr("review.rule"), ids, key=f"review_rule_{picked}",
                                   index=ids.index(flag_rule) if flag_rule in by_id else 0,
                                   format_func=lambda r: tr("ops.none") if r is None else
                                   f"{by_id[r]['label_en' if lang == 'en' else 'label_zh']} ({by_id[r]['source']})")
            extra["exit_rule"] = rule_id
            ban = by_id[rule_id]["ban_years"] if rule_id else None
            if ban:
                st.warning(tr("review.ban", years=ban, until=add_years(today(), ban).isoformat()))
            else:
                st.caption(tr("review.no_ban"))
        if st.button(tr("review.submit"), key="review_submit", type="primary", icon=":material/gavel:"):
            if decision is None:
                st.error(tr("review.choose_decision"))
            elif not reason.strip():
                st.error(tr("review.reason_required"))
            elif decision == "renew" and expired_days and not extra.get("renew_expired"):
                st.error(tr("review.confirm_expired"))
            else:
                try:
                    result = record_decision(current_principal(), item["recognition_id"], decision, reason,
                                             flag_ids=[item["flag_id"]], on=today(), engine=engine(), **extra)
                except UserError as exc:
                    st.error(md_text(exc))
                else:
                    note = tr("review.recorded", decision=code_label("decision", decision, lang), firm=md_text(item["name"]))
                    if result.new_valid_until:
                        note += " · " + tr("review.new_valid_until", until=result.new_valid_until.isoformat())
                    if result.ban_until:
                        note += " · " + tr("review.ban", years=ban, until=result.ban_until.isoformat())
                    st.session_state[NOTICE] = note
                    st.rerun()

# ---------------------------------------------------------------- a batch cohort
if ops.allowed("review.decide"):
    with st.expander(tr("review.bulk"), icon=":material/checklist:"):
        if batch is None:
            st.info(tr("review.bulk_need_batch"))
        else:
            choices = [d for d in DECISIONS if d != "revoke" or ops.allowed("recognition.revoke")]
            expired_items = items.filter(pl.col("valid_until") < today()).height
            bulk_decision = st.radio(tr("review.decision"), choices, key="bulk_decision", horizontal=True,
                                     index=None if expired_items else 0,
                                     format_func=lambda d: code_label("decision", d, lang))
            bulk_reason = st.text_area(tr("review.reason"), key="bulk_reason")
            bulk_extra: dict = {}
            if bulk_decision == "renew":
                bulk_extra["renewed_on"] = st.date_input(tr("review.renew_on"), value=today(), key="bulk_renewed_on")
                bulk_extra["document_no"] = st.text_input(tr("review.document_no"), key="bulk_document_no")
                if expired_items:
                    bulk_extra["renew_expired"] = st.checkbox(tr("review.bulk_expired", count=expired_items),
                                                              key="bulk_renew_expired")
            st.warning(tr("review.bulk_scope", items=f"{items.height:,}", firms=f"{items['uscc'].n_unique():,}",
                          decision=code_label("decision", bulk_decision, lang) if bulk_decision else "—"))
            confirmed = st.checkbox(tr("review.confirm"), key="bulk_confirm")
            if st.button(tr("review.bulk_submit"), key="bulk_submit", disabled=not confirmed, icon=":material/done_all:"):
                if bulk_decision is None:
                    st.error(tr("review.choose_decision"))
                elif not bulk_reason.strip():
                    st.error(tr("review.reason_required"))
                else:
                    try:
                        results = record_decisions(
                            current_principal(), items.select("recognition_id", "flag_id").rows(),
                            bulk_decision, bulk_reason, on=today(), engine=engine(), **bulk_extra)
                    except UserError as exc:
                        st.error(md_text(exc))
                    else:
                        st.session_state[NOTICE] = tr("review.bulk_done", count=len(results))
                        st.rerun()
