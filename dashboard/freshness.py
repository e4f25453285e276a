"""The sidebar's note of when data last arrived: the latest ingestion the user may see and the latest job run."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard.cache import cached_with_job_runs
from dashboard.components import current_lang, settings, tr
from dashboard.formatting import fmt_date
from dashboard.i18n import code_label
from dashboard.safe_text import md_text
from registry.queries import data_freshness


def freshness_note() -> None:
    # Cached per user until the data changes or a job records a run: it runs on every page.
    fresh = cached_with_job_runs(data_freshness)
    ingestion, job = fresh["ingestion"], fresh["job"]
    lines = [f"**{tr('app.freshness')}**"]
    if ingestion:
        lines.append(f"{tr('app.last_ingestion')}: {_local(ingestion['finished_at'])} · {md_text(ingestion['file_name'])}")
    else:
        lines.append(f"{tr('app.last_ingestion')}: {tr('app.never')}")
    if job:
        lines.append(f"{tr('app.last_job')}: {_local(job['finished_at'])} · {code_label('job', job['job'], current_lang())}")
    else:
        lines.append(f"{tr('app.last_job')}: {tr('app.never')}")
    with st.sidebar:
        st.caption("  \n".join(lines))


def _local(moment: datetime | None) -> str:
    """A stored UTC time in the configured zone (SQLite returns naive UTC)."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return fmt_date(moment.astimezone(ZoneInfo(settings().scheduler.timezone)))
