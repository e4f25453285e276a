"""数据接入 Data intake: upload files (the same validation and loading as the inbox job), recent ingestion runs and
their rejected rows (downloadable, to send back to firms), reporting completeness by period × region with the firms
behind each cell, and the scheduler's jobs with a "run now" request."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import ops, ops_charts
from dashboard.cache import cached
from dashboard.components import (
    current_lang,
    current_principal,
    firm_link_expr,
    labelled,
    settings,
    table,
    today,
    tr,
)
from dashboard.database import engine
from dashboard.exports import download_buttons
from dashboard.i18n import code_label, column_label
from registry.errors import UserError
from registry.ingest.headers import KINDS
from registry.intake import (
    FREQUENCIES,
    LEVELS,
    STATUSES,
    Upload,
    completeness,
    expected_reports,
    firms_in_cell,
    ingest_uploads,
    jobs_overview,
    recent_runs,
    rejected_rows,
)

lang = current_lang()
principal = current_principal()

st.title(tr("page.intake"))
# Only the open tab runs (the completeness of a large registry takes seconds to compute the first time).
upload_tab, runs_tab, completeness_tab, jobs_tab = st.tabs(
    [tr("intake.upload"), tr("intake.runs"), tr("intake.completeness"), tr("intake.jobs")], key="intake_tab",
    on_change="rerun")


def results_table(results) -> pl.DataFrame:
    """One row per uploaded file: its own name (not the server's temporary path), its outcome, and a note: why
    the whole file was rejected, or what was left out of it (other sheets)."""
    rows = [{**{k: v for k, v in r.to_json().items() if k not in ("rejections", "warnings")},
             "file": r.file.replace("\\", "/").rsplit("/", 1)[-1],
             "note": "; ".join(filter(None, [r.file_reason, *r.warnings])) or None} for r in results]
    return pl.DataFrame(rows, schema={"file": pl.String, "kind": pl.String, "run_id": pl.Int64, "status": pl.String,
                                      "rows_read": pl.Int64, "rows_loaded": pl.Int64, "rows_rejected": pl.Int64,
                                      "note": pl.String})


def show_rejections(run_ids: list[int], key: str) -> None:
    rows = rejected_rows(principal, run_ids, engine=engine())
    if rows.is_empty():
        st.caption(tr("intake.no_rejections"))
        return
    st.markdown(f"**{tr('intake.rejected')}** ({rows.height})")
    shown = table(rows)
    download_buttons(shown, tr("intake.rejected"), key=key)


# ---------------------------------------------------------------- upload
def upload_section() -> None:
    if not ops.allowed("data.ingest"):
        st.info(tr("ops.not_allowed"))
    else:
        files = st.file_uploader(tr("intake.files"), type=["csv", "xlsx", "txt"], accept_multiple_files=True,
                                 key="intake_files")
        kind = st.selectbox(tr("intake.kind"), [None, *KINDS], key="intake_kind",
                            format_func=lambda k: tr("intake.auto") if k is None else k)
        if st.button(tr("intake.load"), key="intake_load", disabled=not files, icon=":material/upload:"):
            bar = st.progress(0.0)

            def progress(name: str, done: int, total: int) -> None:
                bar.progress(done / total if total else 1.0,
                             text=tr("intake.loading", file=name.rsplit("/", 1)[-1], done=f"{done:,}",
                                     total=f"{total:,}"))

            try:
                results = ingest_uploads(engine(), [Upload(f.name, f.getvalue()) for f in files], kind,
                                         progress, actor=current_principal().username)
            except UserError as exc:
                st.error(str(exc))
            else:
                bar.progress(1.0, text=tr("intake.loaded"))
                st.session_state["intake_last_runs"] = [r.run_id for r in results if r.run_id is not None]
                st.session_state["intake_last_results"] = results_table(results)
                if any(r.rows_loaded for r in results):
                    # New rows can open or close flags: the scheduler recomputes them now, not at 06:30.
                    from jobs.runs import request_run

                    request_run(engine(), "flags", current_principal().username)
                    st.info(tr("intake.flags_requested"))
        if "intake_last_results" in st.session_state:
            table(st.session_state["intake_last_results"], codes={"status": "run_status"})
            show_rejections(st.session_state["intake_last_runs"], key="dl_upload_rejected")

# ---------------------------------------------------------------- runs
def runs_section() -> None:
    runs = ops.local_times(cached(recent_runs), ["started_at", "finished_at"])
    if runs.is_empty():
        st.caption(tr("ops.none"))
    else:
        table(runs, codes={"status": "run_status"})
        with_rejections = runs.filter(pl.col("rows_rejected") > 0)["run_id"].to_list() + \
            runs.filter(pl.col("status") == "rejected")["run_id"].to_list()
        names = dict(zip(runs["run_id"], runs["file_name"], strict=True))
        picked = st.selectbox(tr("intake.run"), sorted(set(with_rejections), reverse=True), key="intake_run",
                              index=None, format_func=lambda run: f"#{run} · {names[run]}",
                              placeholder=tr("ops.choose"))
        if picked is not None:
            show_rejections([picked], key="dl_run_rejected")

# ---------------------------------------------------------------- completeness
def completeness_section() -> None:
    controls = st.columns(3)
    as_of = controls[0].date_input(tr("ops.as_of"), value=today(), key="intake_as_of")
    level = controls[1].selectbox(tr("intake.level"), LEVELS, key="intake_level",
                                  index=0 if principal.jurisdiction == "cn" else 1,
                                  format_func=lambda v: code_label("level", v, lang))
    owed = cached(expected_reports, as_of=as_of, timezone=settings().scheduler.timezone)
    present = [f for f in FREQUENCIES if f in set(owed["frequency"].unique().to_list())]
    if not present:
        st.info(tr("intake.no_duties"))
    else:
        frequency = controls[2].selectbox(tr("intake.frequency"), present, key="intake_frequency",
                                          format_func=lambda v: code_label("frequency", v, lang))
        cells = completeness(owed.filter(pl.col("frequency") == frequency), level)
        st.plotly_chart(ops_charts.completeness_heatmap(cells, lang), key="intake_heatmap")
        with st.expander(tr("intake.completeness")):
            download_buttons(table(cells.drop("region_code"), codes={"frequency": "frequency"}),
                             tr("intake.completeness"), key="dl_completeness", what="aggregate")

        st.subheader(tr("intake.drill"))
        region_names = dict(zip(cells["region_code"], cells["region_name"], strict=True))
        drill = st.columns(3)
        region = drill[0].selectbox(tr("intake.region"), [None, *sorted(region_names)], key="intake_region",
                                    format_func=lambda c: tr("ops.any") if c is None else region_names[c])
        periods = cells.sort("report_due_on")["period"].unique(maintain_order=True).to_list()
        period = drill[1].selectbox(tr("intake.period"), [None, *periods], key="intake_period",
                                    index=len(periods), format_func=lambda p: tr("ops.any") if p is None else p)
        status = drill[2].selectbox(tr("intake.status"), [None, *STATUSES], key="intake_status", index=3,
                                    format_func=lambda s: tr("ops.any") if s is None
                                    else code_label("report_status", s, lang))
        firms = firms_in_cell(owed, level, region, period, frequency, status).with_columns(
            firm_link_expr("uscc", lang).alias("link")).rename({"status": "report_status"})
        link = column_label("link", lang)
        st.dataframe(
            labelled(firms.select("uscc", "name", "region_code", "tiers", "period", "report_due_on",
                                  "report_status", "received_on", "days_late", "link"),
                     codes={"report_status": "report_status", "tiers": "tier"}),
            hide_index=True, placeholder="—", key="intake_firms",
            column_config={link: st.column_config.LinkColumn(link, display_text=tr("registry.open"))})
        download_buttons(
            lambda: labelled(firms.drop("link"), codes={"report_status": "report_status", "frequency": "frequency",
                                                        "tiers": "tier"}),
            tr("intake.drill"), key="dl_drill")

# ---------------------------------------------------------------- jobs
def jobs_section() -> None:
    jobs = ops.local_times(jobs_overview(settings(), ops.now_utc(), engine=engine()),
                           ["last_started", "last_finished", "next_run"])
    # The job's name in the reader's language (registry/label_codes.py "job"), next to its code for run-job.
    table(jobs.with_columns(label=pl.col("job")), codes={"label": "job", "last_status": "run_status"})
    if ops.allowed("jobs.run"):
        from jobs.runs import request_run

        with st.container(horizontal=True, gap="small"):
            for job in jobs["job"].to_list():
                name = code_label("job", job, lang)
                if st.button(f"{tr('intake.run_now')}: {name}", key=f"run_now_{job}", icon=":material/play_arrow:"):
                    request_id = request_run(engine(), job, principal.username)
                    st.success(tr("intake.requested", job=name, id=request_id))


for tab, section in ((upload_tab, upload_section), (runs_tab, runs_section),
                     (completeness_tab, completeness_section), (jobs_tab, jobs_section)):
    if tab.open:
        with tab:
            section()
