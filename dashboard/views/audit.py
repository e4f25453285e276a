"""审计日志 Audit log (admins): who did what and when, before and after, why — filtered, exported.

Rows come from registry.audit.audit_entries, which itself refuses anyone without `audit.view`. Everything is shown
as text (a table and JSON), never as HTML or Markdown: names and reasons come from users and files.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import streamlit as st

from dashboard.components import current_lang, current_principal, settings, today
from dashboard.database import engine
from dashboard.exports import download_buttons
from dashboard.i18n import t
from dashboard.safe_text import md_text
from registry.access import PermissionDenied
from registry.audit import audit_entries, audit_facets

SHOWN_ROWS = 1000
LABELS = {
    "id": ("编号", "ID"), "at": ("时间", "Time"), "actor": ("操作人", "Actor"), "action": ("操作", "Action"),
    "entity": ("对象类型", "Entity"), "entity_id": ("对象编号", "Entity id"), "reason": ("原因", "Reason"),
    "before": ("修改前", "Before"), "after": ("修改后", "After"),
}

lang = current_lang()
principal = current_principal()
db = engine()
zone = settings().scheduler.timezone

st.title(t("page.audit", lang))
st.caption(t("audit.append_only", lang))

try:
    facets = audit_facets(principal, engine=db)
except PermissionDenied as exc:  # the page is listed for admins only; the data layer checks again
    st.error(md_text(exc))
    st.stop()
row1 = st.columns(4)
since = row1[0].date_input(t("audit.since", lang), value=today() - timedelta(days=30), key="audit_since",
                           format="YYYY-MM-DD")
until = row1[1].date_input(t("audit.until", lang), value=today(), key="audit_until", format="YYYY-MM-DD")
action = row1[2].selectbox(t("audit.action", lang), [None, *facets["action"]], key="audit_action",
                           format_func=lambda v: t("audit.any", lang) if v is None else v)
entity = row1[3].selectbox(t("audit.entity", lang), [None, *facets["entity"]], key="audit_entity",
                           format_func=lambda v: t("audit.any", lang) if v is None else v)
row2 = st.columns(2)
actor = row2[0].text_input(t("audit.actor", lang), key="audit_actor").strip() or None
entity_id = row2[1].text_input(t("audit.entity_id", lang), key="audit_entity_id").strip() or None
filters = {"since": since, "until": until, "actor": actor, "action": action, "entity": entity,
           "entity_id": entity_id}


def readable(frame: pl.DataFrame) -> pl.DataFrame:
    """Local time to the second, headers in the user's language."""
    shown = frame.with_columns(
        pl.col("at").dt.convert_time_zone(zone).dt.replace_time_zone(None).dt.truncate("1s")
    ).select(list(LABELS))
    return shown.rename({name: pair[1] if lang == "en" else pair[0] for name, pair in LABELS.items()})


rows = audit_entries(principal, limit=SHOWN_ROWS, engine=db, **filters)
if rows.is_empty():
    st.info(t("audit.none", lang))
    st.stop()
st.caption(t("audit.count", lang, shown=f"{rows.height:,}", limit=f"{SHOWN_ROWS:,}"))
st.dataframe(readable(rows), hide_index=True, placeholder="—", key="audit_table")
download_buttons(lambda: readable(audit_entries(principal, limit=None, engine=db, **filters)),
                 t("page.audit", lang), key="dl_audit", what="audit")

with st.expander(t("audit.detail", lang)):
    picked = st.selectbox(t("audit.detail", lang), rows["id"].to_list(), key="audit_pick",
                          format_func=lambda i: f"#{i}")
    row = rows.filter(pl.col("id") == picked).row(0, named=True)
    st.text(f"{row['actor']} · {row['action']} · {row['entity']} {row['entity_id'] or ''}")
    if row["reason"]:
        st.text(row["reason"])
    before_column, after_column = st.columns(2)
    before_column.caption(LABELS["before"][lang == "en"])
    before_column.json(row["before"] or "null")
    after_column.caption(LABELS["after"][lang == "en"])
    after_column.json(row["after"] or "null")
