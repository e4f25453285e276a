"""The firm page's finished pieces (dashboard/views/firm.py), per data version, firm, language and day."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import plotly.graph_objects as go
import polars as pl

from dashboard import analytics_charts, charts, ops
from dashboard.cache import cached
from dashboard.components import Table, current_principal, labelled_table
from dashboard.database import engine
from registry import policy_tools, queries
from registry.errors import UserError
from registry.peers import firm_peers
from registry.policy import Policy, evaluate, evaluation_records, get_policy
from registry.queries import firm_attributes, firm_events, firm_flags, firm_recognitions, firm_reports
from registry.review import decisions
from registry.targets import firm_target_attainment

FLAG_CODES = {"kind": "flag", "severity": "severity", "tier": "tier", "jurisdiction": "jurisdiction"}
TARGET_CODES = {"indicator": "target_indicator", "status": "target_status", "direction": "direction"}


def recognitions(uscc: str, as_of: date, lang: str) -> tuple[go.Figure, bool, Table] | None:
    """The timeline, whether any recognition was superseded, and the table; None without recognitions."""
    frame = cached(firm_recognitions, uscc=uscc)
    if frame.is_empty():
        return None
    shown = frame.drop("ended_on", "end_reason") if frame["ended_on"].is_null().all() else frame
    return (charts.recognition_timeline(frame, lang, as_of), bool((frame["status"] == "superseded").any()),
            labelled_table(shown, {"tier": "tier", "status": "status"}, lang))


def review_decisions(uscc: str, lang: str) -> tuple[pl.DataFrame, Table] | None:
    """The firm's 复核 decisions in local time (for the page's lines) and their table; None without any."""
    frame = cached(decisions, uscc=uscc)
    if frame.is_empty():
        return None
    frame = ops.local_times(frame.drop("uscc", "name"), ["decided_at"])
    return frame, labelled_table(frame, {"decision": "decision", "tier": "tier", "flag": "flag"}, lang)


@dataclass(frozen=True)
class Reports:
    """Operating data: annual indicators (charts, table), monthly revenue, every report reported."""

    revenue: go.Figure | None
    ratios: go.Figure | None
    indicators: Table | None
    monthly: go.Figure | None
    reports: Table
    count: int


def reports(uscc: str, lang: str) -> Reports | None:
    frame = cached(firm_reports, uscc=uscc)
    if frame.is_empty():
        return None
    indicators = charts.annual_indicators(frame)
    annual = not indicators.is_empty()
    months = charts.monthly_revenue(frame)
    reported = frame.select(["period", "basis"] + [c for c in frame.columns[5:] if frame[c].is_not_null().any()])
    return Reports(
        revenue=charts.annual_revenue_chart(indicators, lang) if annual else None,
        ratios=charts.ratio_chart(indicators, lang) if annual else None,
        indicators=labelled_table(indicators, lang=lang) if annual else None,
        monthly=None if months.is_empty() else charts.monthly_revenue_chart(months, lang),
        reports=labelled_table(reported, lang=lang), count=frame.height)


def attributes(uscc: str, lang: str) -> Table | None:
    frame = cached(firm_attributes, uscc=uscc)
    return None if frame.is_empty() else labelled_table(frame, {"attribute": "attribute",
                                                               "value": "attribute_value"}, lang)


def events(uscc: str, lang: str) -> Table | None:
    frame = cached(firm_events, uscc=uscc)
    return None if frame.is_empty() else labelled_table(frame, {"event": "event"}, lang)


def flags(uscc: str, lang: str) -> tuple[tuple[int, Table | None], tuple[int, Table | None]] | None:
    """(rows, table) of the open flags and of the resolved ones; None without any flag."""
    frame = cached(firm_flags, uscc=uscc)
    if frame.is_empty():
        return None
    open_flags = frame.filter(pl.col("resolved_on").is_null()).drop("resolved_on")
    resolved = frame.filter(pl.col("resolved_on").is_not_null())
    open_part, resolved_part = ((part.height, None if part.is_empty() else labelled_table(part, FLAG_CODES, lang))
                                for part in (open_flags, resolved))
    return open_part, resolved_part


def peers(uscc: str, as_of: date, min_group: int, lang: str) -> tuple[int, str, Table] | None:
    """The year and tier of the peer group, and the comparison table; None without a large enough group."""
    frame = cached(firm_peers, uscc=uscc, as_of=as_of, min_group=min_group)
    if frame.is_empty():
        return None
    # "peer_group", not "group": the 运行监测 breakdown's "group" column has its own header.
    view = frame.select("metric", "value", "percentile", "peer_median", "peer_q1", "peer_q3", "peers",
                        pl.col("group").alias("peer_group"), "change_pct", "peer_median_change_pct")
    return (frame["year"][0], frame["tier"][0],
            labelled_table(view, {"metric": "peer_metric", "peer_group": "peer_group"}, lang))


def targets(uscc: str, as_of: date, lang: str) -> tuple[go.Figure, Table] | None:
    """The 目标表 (重点小巨人) chart and table; None for a firm without one."""
    frame = cached(firm_target_attainment, as_of=as_of, uscc=uscc)
    if frame.is_empty():
        return None
    view = frame.select(
        "indicator", "unit", "direction", "start_period", "baseline", "year1", "target_year1", "actual_year1",
        "year2", "target_year2", "actual_year2", "assessed_year", "attainment_pct", "status")
    return analytics_charts.firm_targets_chart(frame, lang), labelled_table(view, TARGET_CODES, lang)


def default_rule(uscc: str, as_of: date, purpose: str) -> Policy | None:
    """The rule the firm is judged on today for `purpose` (registry.policy_tools.firm_default_rule)."""
    return policy_tools.firm_default_rule(current_principal(), uscc, as_of, purpose, engine=engine())


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def evaluation(uscc: str, policy_id: str, as_of: date, lang: str) -> str | tuple[tuple[dict[str, Any], Table], ...]:
    """Each evaluation record (verdict, class, score) with its criteria table; the engine's refusal as text (e.g. a
    batch policy outside its application window)."""
    bundle = queries.firm_bundle(current_principal(), uscc, engine=engine())
    try:
        evaluated = evaluate(get_policy(policy_id), bundle, as_of)
    except UserError as exc:
        return str(exc)
    parts = []
    for record in evaluation_records(evaluated):
        # One firm's criteria (a few dozen): actual/expected mix numbers, text and counts, shown as text.
        # Scored rules add points; rules after 2021 add a confidence code and a note when not yet checked (CONTRACT §3b).
        columns = ("label", "result", "actual", "expected",
                   *(k for k in ("points", "confidence", "note") if any(k in c for c in record["criteria"])), "source")
        criteria = pl.DataFrame(
            {column: [_as_text(criterion.get(column)) for criterion in record["criteria"]] for column in columns},
            schema=dict.fromkeys(columns, pl.String),
        ).rename({"label": "criterion", "actual": "actual_value"})
        summary = {key: record.get(key) for key in ("verdict", "class", "score")}
        parts.append((summary, labelled_table(criteria, {"result": "result"}, lang)))
    return tuple(parts)
