"""复核与退出 Review and exit: the queue of recognitions a manager must decide on, and the decisions themselves.

The queue is the open lifecycle flags that call for a decision — due for 复核, expiring, expired, an exit condition,
a missing report — with the firm, the recognition and the flag's evidence (values, dates, rule, source line).

A decision is one of
- `renew`  复核通过: a new recognition of the same firm, tier, jurisdiction and batch from the review date, valid for
           the period the jurisdiction's rules set (registry.policy.lifecycle_for); the old row becomes `superseded`
           and points to it (CONTRACT §2: a passed 复核 is a new row superseding the older one). A recognition that
           has already expired on the decision date is renewed only when asked explicitly (renew_expired=True):
           renewing it late is an exception, not the routine answer to an 已到期 flag;
- `revoke` 撤销: the recognition ends (`revoked`, ended_on = the decision date, end_reason = the reason); when the
           revocation rests on an exit rule of the policy that sets a re-application ban (ExitRule.ban_years), the
           ban runs from the decision date (ban_until);
- `watch`  保留观察: the recognition stays as it is; the flag is closed and the flags job does not reopen the same
           flag (same key) — a new condition, a later period or the next recognition raises a new one.
Every decision needs a reason, resolves the flag(s) it answers (renew and revoke: every open flag of the
recognition, which no longer holds), and is written to the audit trail in the same transaction.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import polars as pl
import sqlalchemy as sa
import xlsxwriter
from sqlalchemy import Connection, Engine

from registry import fastread
from registry.access import Principal, in_scope, mutation, require, scope_clause
from registry.audit import record
from registry.db import engine_or_default as _engine
from registry.errors import UserError
from registry.export import neutralize_text
from registry.models import Enterprise, Flag, Recognition, ReviewDecision, table_of, utcnow
from registry.policy import lifecycle_for
from registry.policy.schema import ExitRule
from registry.settings import get_settings

E, R, F, D = table_of(Enterprise), table_of(Recognition), table_of(Flag), table_of(ReviewDecision)

QUEUE_FLAGS = ("expired", "exit", "expiring", "review_due", "missing_report", "warning")
DECISIONS = ("renew", "revoke", "watch")
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}

QUEUE_SCHEMA = {
    "flag_id": pl.Int64, "recognition_id": pl.Int64, "uscc": pl.String, "name": pl.String,
    "region_code": pl.String, "tier": pl.String, "jurisdiction": pl.String, "batch": pl.String,
    "recognized_on": pl.Date, "valid_until": pl.Date, "flag": pl.String, "severity": pl.String,
    "due_on": pl.Date, "opened_on": pl.Date, "rule": pl.String, "source": pl.String, "evidence": pl.String,
}


class DecisionRefused(UserError):
    """A decision that cannot be recorded as asked (no reason, recognition already closed, bad date ...)."""


def today() -> date:
    return datetime.now(ZoneInfo(get_settings().scheduler.timezone)).date()


# ---------------------------------------------------------------- the queue


def review_queue(principal: Principal, jurisdiction: str | None = None, tier: str | None = None,
                 batch: str | None = None, flag: str | None = None, *, engine: Engine | None = None
                 ) -> pl.DataFrame:
    """Open flags that call for a decision on recognitions still active, for the firms in scope, most urgent first
    (critical before warning, then by due date). Columns QUEUE_SCHEMA; `evidence` is the flag's JSON, `rule` and
    `source` are read from it (the exit rule's label, or the date rule)."""
    frame = fastread.read_frame(_engine(engine), _queue_select(principal, jurisdiction, tier, batch, flag, True),
                                {n: t for n, t in QUEUE_SCHEMA.items() if n not in ("rule", "source")})
    return _most_urgent_first(frame.with_columns(**_rule_and_source(frame))).select(list(QUEUE_SCHEMA))


ITEM_SCHEMA = {n: t for n, t in QUEUE_SCHEMA.items() if n not in ("rule", "source", "evidence")}


def review_items(principal: Principal, jurisdiction: str | None = None, tier: str | None = None,
                 batch: str | None = None, flag: str | None = None, *, engine: Engine | None = None
                 ) -> pl.DataFrame:
    """review_queue's rows in its order, without the evidence (columns ITEM_SCHEMA): what the review page filters
    and counts. At provincial scale the open queue is 270,000 flags whose evidence is 250 MB of JSON; the page
    shows 500 of them (their evidence from `queue_evidence`) and builds the full list only for a download."""
    frame = fastread.read_frame(_engine(engine), _queue_select(principal, jurisdiction, tier, batch, flag, False),
                                ITEM_SCHEMA)
    return _most_urgent_first(frame).select(list(ITEM_SCHEMA))


def queue_evidence(principal: Principal, flag_ids: Sequence[int], *, engine: Engine | None = None
                   ) -> pl.DataFrame:
    """flag_id, rule, source, evidence (as review_queue has them) of the given flags, those of firms in scope."""
    conditions: list[sa.ColumnElement[bool]] = [F.c.id.in_(sorted(set(flag_ids)))]
    scope = scope_clause(principal, E.c.region_code)
    if scope is not None:
        conditions.append(scope)
    stmt = (sa.select(F.c.id.label("flag_id"), sa.cast(F.c.evidence, sa.Text).label("evidence"))
            .select_from(F.join(E, E.c.id == F.c.enterprise_id)).where(*conditions))
    frame = fastread.read_frame(_engine(engine), stmt, {"flag_id": pl.Int64, "evidence": pl.String})
    return frame.with_columns(**_rule_and_source(frame)).select("flag_id", "rule", "source", "evidence")


def _queue_select(principal: Principal, jurisdiction: str | None, tier: str | None, batch: str | None,
                  flag: str | None, evidence: bool) -> sa.Select[Any]:
    conditions = [F.c.resolved_on.is_(None), F.c.kind.in_(QUEUE_FLAGS), R.c.status == "active",
                  R.c.superseded_by.is_(None)]
    if jurisdiction:
        conditions.append(R.c.jurisdiction == jurisdiction)
    if tier:
        conditions.append(R.c.tier == tier)
    if batch:
        conditions.append(R.c.batch == batch)
    if flag:
        conditions.append(F.c.kind == flag)
    scope = scope_clause(principal, E.c.region_code)
    if scope is not None:
        conditions.append(scope)
    # Columnar (registry.fastread): the open queue is hundreds of thousands of flags at provincial scale, and
    # SQLAlchemy's rows were most of the review page's first visit after new data.
    return (
        sa.select(F.c.id.label("flag_id"), R.c.id.label("recognition_id"), E.c.uscc, E.c.name, E.c.region_code,
                  R.c.tier, R.c.jurisdiction, R.c.batch, R.c.recognized_on, R.c.valid_until, F.c.kind.label("flag"),
                  F.c.severity, F.c.due_on, F.c.opened_on,
                  *([sa.cast(F.c.evidence, sa.Text).label("evidence")] if evidence else []))
        .select_from(F.join(R, R.c.id == F.c.recognition_id).join(E, E.c.id == F.c.enterprise_id))
        .where(*conditions)
    )


def _most_urgent_first(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(pl.col("severity").replace_strict(SEVERITY_ORDER, default=3, return_dtype=pl.Int8),
                      pl.col("due_on"), pl.col("uscc"), pl.col("flag_id"), nulls_last=True)


_RULE_FIELDS = ("label_zh", "rule", "what")


def _rule_and_source(frame: pl.DataFrame) -> dict[str, pl.Series]:
    """`rule` (the exit rule's label, else the date rule, else what the flag is about) and `source` from each
    flag's evidence JSON. Decoded once into the four text fields (5× faster than a JSON-path search per field:
    6.7 s → 1.3 s for 268,000 open flags); evidence whose field holds something other than text cannot be decoded
    that way and is searched field by field as before, with the same result."""
    evidence = pl.col("evidence")
    try:
        fields = frame.select(evidence.str.json_decode(
            pl.Struct({name: pl.String for name in (*_RULE_FIELDS, "source")})).struct.unnest())
        rule = fields.select(pl.coalesce(*_RULE_FIELDS)).to_series()
        source = fields.get_column("source")
    except pl.exceptions.ComputeError:
        searched = frame.select(rule=pl.coalesce(*(evidence.str.json_path_match(f"$.{f}") for f in _RULE_FIELDS)),
                                source=evidence.str.json_path_match("$.source"))
        rule, source = searched.get_column("rule"), searched.get_column("source")
    return {"rule": rule.alias("rule"), "source": source.alias("source")}


def evidence_text() -> pl.Expr:
    """The evidence JSON as one readable line per flag ("valid_until: 2024-07-14, days_left: 95, ..."); a warning's
    evidence in words (registry.warnings: text_zh / text_en) when it has them."""
    evidence = pl.col("evidence")
    in_words = pl.concat_str(evidence.str.json_path_match("$.text_zh"), evidence.str.json_path_match("$.text_en"),
                             separator=" / ")
    flattened = (evidence.str.replace_all(r'^\{|\}$', "").str.replace_all(r'"', "")
                 .str.replace_all(r",(\S)", ", $1").str.replace_all(r":(\S)", ": $1"))
    return pl.coalesce(in_words, flattened)


# ---------------------------------------------------------------- which rules a revocation can rest on


class RevocationRule(TypedDict):
    id: str
    label_zh: str
    label_en: str
    ban_years: int | None
    source: str


def revocation_rules(principal: Principal, recognition_id: int, *, engine: Engine | None = None
                     ) -> list[RevocationRule]:
    """The exit rules of the policy in force for the recognition (id, label_zh, label_en, ban_years, source), to
    name the ground of a revocation. Empty when the firm is outside the principal's scope or the rules have none."""
    rec = _recognition(_engine(engine), recognition_id)
    if rec is None or not _visible(principal, rec["region_code"]):
        return []
    lifecycle = lifecycle_for(rec["tier"], rec["jurisdiction"], rec["recognized_on"])
    return [RevocationRule(id=r.id, label_zh=r.label_zh, label_en=r.label_en, ban_years=r.ban_years,
                           source=r.source.cite()) for r in lifecycle.exit_rules]


def renewal_valid_until(tier: str, jurisdiction: str, renewed_on: date) -> date:
    """valid_until of a recognition renewed on `renewed_on`, by the jurisdiction's rules: the day before the N-th
    anniversary, or 31 December of the N-th year counting the year of renewal (year_end)."""
    return lifecycle_for(tier, jurisdiction, renewed_on).last_valid_day(renewed_on)


def expired_for(valid_until: date | None, on: date) -> int:
    """Days since a recognition expired (valid through valid_until), as of `on`; 0 while it is still valid."""
    return max(0, (on - valid_until).days) if valid_until is not None else 0


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year + years, day=28)


# ---------------------------------------------------------------- decisions


@dataclass(frozen=True)
class DecisionResult:
    decision_ids: list[int]
    recognition_id: int
    uscc: str
    decision: str
    new_recognition_id: int | None = None
    new_valid_until: date | None = None
    ban_until: date | None = None
    flags_resolved: int = 0


@mutation("review.decide")
def record_decision(principal: Principal, recognition_id: int, decision: str, reason: str, *,
                    flag_ids: Sequence[int] = (), renewed_on: date | None = None, document_no: str | None = None,
                    exit_rule: str | None = None, on: date | None = None, renew_expired: bool = False,
                    engine: Engine | None = None) -> DecisionResult:
    """Record one decision on one recognition (see the module text); one transaction with its audit rows.

    flag_ids: the queue items it answers (watch closes exactly these). renewed_on: the 复核 date of a renewal
    (default: the decision date). exit_rule: the policy exit rule a revocation rests on (default: the rule of an
    exit flag among flag_ids), which sets the re-application ban.
    """
    on = on or today()
    with _engine(engine).begin() as conn:
        return _decide(conn, principal, recognition_id, list(flag_ids), decision, reason, renewed_on, document_no,
                       exit_rule, on, renew_expired)


@mutation("review.decide")
def record_decisions(principal: Principal, items: Iterable[tuple[int, int | None]], decision: str, reason: str, *,
                     renewed_on: date | None = None, document_no: str | None = None, on: date | None = None,
                     renew_expired: bool = False, engine: Engine | None = None) -> list[DecisionResult]:
    """The same decision for many queue items (recognition_id, flag_id) — a batch cohort — all or nothing: one
    decision per recognition, every item's flag answered, one transaction."""
    on = on or today()
    flags_by_recognition: dict[int, list[int]] = {}
    for recognition_id, flag_id in items:
        answered = flags_by_recognition.setdefault(int(recognition_id), [])  # a recognition without a flag counts
        if flag_id is not None and int(flag_id) not in answered:
            answered.append(int(flag_id))
    if not flags_by_recognition:
        raise DecisionRefused("没有选中任何事项 / nothing selected")
    with _engine(engine).begin() as conn:
        return [_decide(conn, principal, rid, flags, decision, reason, renewed_on, document_no, None, on,
                        renew_expired)
                for rid, flags in flags_by_recognition.items()]


def _recognition(conn_or_engine: Engine | Connection, recognition_id: int) -> dict[str, Any] | None:
    stmt = (sa.select(R, E.c.uscc, E.c.region_code, E.c.name)
            .select_from(R.join(E, E.c.id == R.c.enterprise_id)).where(R.c.id == recognition_id))
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
    else:
        row = conn_or_engine.execute(stmt).mappings().first()
    return dict(row) if row else None


def _visible(principal: Principal, region_code: str | None) -> bool:
    return in_scope(principal, region_code)


def _snapshot(rec: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "tier", "jurisdiction", "batch", "recognized_on", "valid_until", "status", "superseded_by",
            "ended_on", "end_reason", "document_no")
    return {k: rec.get(k) for k in keys}


def _decide(conn: Connection, principal: Principal, recognition_id: int, flag_ids: list[int], decision: str,
            reason: str, renewed_on: date | None, document_no: str | None, exit_rule: str | None, on: date,
            renew_expired: bool = False) -> DecisionResult:
    if decision not in DECISIONS:
        raise DecisionRefused(f"未知决定 / unknown decision {decision!r}: renew | revoke | watch")
    reason = (reason or "").strip()
    if not reason:
        raise DecisionRefused("必须填写理由 / a reason is required")
    rec = _recognition(conn, recognition_id)
    if rec is None or not _visible(principal, rec["region_code"]):
        # Outside the scope looks exactly like absent: scope must not leak existence.
        raise DecisionRefused(f"认定记录不存在 / no such recognition: {recognition_id}")
    require(principal, "review.decide", rec["region_code"])
    if rec["status"] != "active" or rec["superseded_by"] is not None:
        raise DecisionRefused(f"认定记录 #{recognition_id}（{rec['name']}）已是 {rec['status']}，不能再作决定 / "
                              f"recognition #{recognition_id} is already {rec['status']}")
    flags = _open_flags(conn, recognition_id, flag_ids)
    before = _snapshot(rec)
    new_id = new_until = ban_until = expired_days = None
    if decision == "renew":
        renewed_on = renewed_on or on
        if renewed_on <= rec["recognized_on"]:
            raise DecisionRefused(f"复核日期 {renewed_on} 须晚于原认定日期 {rec['recognized_on']} / the review date "
                                  f"must be after the recognition date")
        expired_days = expired_for(rec["valid_until"], on)
        if expired_days and not renew_expired:
            raise DecisionRefused(
                f"{rec['name']} 的认定已于 {rec['valid_until']} 到期（{expired_days} 天前）：为已到期的认定续期须明确确认 "
                f"/ the recognition of {rec['name']} expired on {rec['valid_until']} ({expired_days} days ago): "
                f"renewing an expired recognition must be confirmed explicitly")
        new_until = renewal_valid_until(rec["tier"], rec["jurisdiction"], renewed_on)
        new_id = conn.execute(sa.insert(R).values(
            enterprise_id=rec["enterprise_id"], tier=rec["tier"], jurisdiction=rec["jurisdiction"],
            batch=rec["batch"], recognized_on=renewed_on, valid_until=new_until, status="active",
            document_no=(document_no or "").strip() or None, created_at=utcnow(),
        ).returning(R.c.id)).scalar_one()
        conn.execute(sa.update(R).where(R.c.id == recognition_id).values(status="superseded", superseded_by=new_id))
    elif decision == "revoke":
        require(principal, "recognition.revoke", rec["region_code"])
        rule = _exit_rule(rec, exit_rule or _flag_rule(flags))
        if rule is not None and rule.ban_years:
            ban_until = add_years(on, rule.ban_years)
        conn.execute(sa.update(R).where(R.c.id == recognition_id).values(
            status="revoked", ended_on=on, end_reason=reason[:2000]))
    # renew / revoke end the recognition's flags; watch closes the items it answers.
    if decision == "watch":
        resolved = [f["id"] for f in flags]
    else:
        resolved = [r[0] for r in conn.execute(sa.select(F.c.id).where(
            F.c.recognition_id == recognition_id, F.c.resolved_on.is_(None)))]
    if resolved:
        conn.execute(sa.update(F).where(F.c.id.in_(resolved)).values(resolved_on=on))
    decided_at = utcnow()
    # One decision row per answered flag for watch (the flags job looks them up by flag), else one.
    targets = [f["id"] for f in flags] if decision == "watch" and flags else [flags[0]["id"] if flags else None]
    decision_ids = [conn.execute(sa.insert(D).values(
        recognition_id=recognition_id, enterprise_id=rec["enterprise_id"], decision=decision, reason=reason,
        decided_by=principal.username[:80], decided_at=decided_at, new_recognition_id=new_id, ban_until=ban_until,
        flag_id=flag_id,
    ).returning(D.c.id)).scalar_one() for flag_id in targets]
    after_rec = _snapshot(_recognition(conn, recognition_id) or {})
    summary = {"decision": decision, "recognition_id": recognition_id, "uscc": rec["uscc"],
               "flags_resolved": resolved, "new_recognition_id": new_id, "new_valid_until": new_until,
               "ban_until": ban_until, "decision_ids": decision_ids}
    if expired_days:
        summary["renewed_days_after_expiry"] = expired_days
    record(conn, principal, "review.decide", "recognition", recognition_id, {"recognition": before},
           {**summary, "recognition": after_rec}, reason)
    if decision == "revoke":
        record(conn, principal, "recognition.revoke", "recognition", recognition_id, before, after_rec, reason)
    return DecisionResult(decision_ids, recognition_id, rec["uscc"], decision, new_id, new_until, ban_until,
                          len(resolved))


def _open_flags(conn: Connection, recognition_id: int, flag_ids: list[int]) -> list[dict[str, Any]]:
    if not flag_ids:
        return []
    rows = conn.execute(sa.select(F.c.id, F.c.kind, F.c.key, F.c.evidence, F.c.resolved_on, F.c.recognition_id)
                        .where(F.c.id.in_(flag_ids))).mappings().all()
    found = {r["id"]: dict(r) for r in rows}
    for flag_id in flag_ids:
        row = found.get(flag_id)
        if row is None or row["recognition_id"] != recognition_id:
            raise DecisionRefused(f"提示 #{flag_id} 不属于认定记录 #{recognition_id} / flag {flag_id} is not about "
                                  f"recognition {recognition_id}")
        if row["resolved_on"] is not None:
            raise DecisionRefused(f"提示 #{flag_id} 已于 {row['resolved_on']} 关闭 / flag {flag_id} was already "
                                  f"resolved on {row['resolved_on']}")
    return [found[i] for i in flag_ids]


def _flag_rule(flags: list[dict[str, Any]]) -> str | None:
    for f in flags:
        evidence = f["evidence"] if isinstance(f["evidence"], dict) else json.loads(f["evidence"] or "{}")
        if f["kind"] == "exit" and evidence.get("reason"):
            return str(evidence["reason"])
    return None


def _exit_rule(rec: dict[str, Any], rule_id: str | None) -> ExitRule | None:
    """The exit rule of the recognition's policy with this id (None without an id); UserError for an id the
    policy does not have — a ban must come from the policy, never from a guess."""
    if rule_id is None:
        return None
    rules = lifecycle_for(rec["tier"], rec["jurisdiction"], rec["recognized_on"]).exit_rules
    for rule in rules:
        if rule.id == rule_id:
            return rule
    known = ", ".join(r.id for r in rules) or "—"
    raise DecisionRefused(f"该认定适用的政策没有退出条件 {rule_id!r} / the recognition's policy has no exit rule "
                          f"{rule_id!r} (known: {known})")


def watched_flag_keys(conn: Connection) -> set[str]:
    """Keys of flags a manager closed with `watch`: the flags job must not reopen them."""
    stmt = sa.select(F.c.key).select_from(D.join(F, F.c.id == D.c.flag_id)).where(D.c.decision == "watch")
    return {row[0] for row in conn.execute(stmt)}


# ---------------------------------------------------------------- what was decided

DECISION_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "decided_at": pl.Datetime("us"), "uscc": pl.String, "name": pl.String, "recognition_id": pl.Int64,
    "tier": pl.String, "jurisdiction": pl.String, "batch": pl.String, "decision": pl.String, "reason": pl.String,
    "decided_by": pl.String, "flag": pl.String, "new_recognition_id": pl.Int64, "new_valid_until": pl.Date,
    "ban_until": pl.Date,
}


def decisions(principal: Principal, uscc: str | None = None, limit: int | None = 500, *,
              engine: Engine | None = None) -> pl.DataFrame:
    """Recorded decisions for the firms in scope (one firm's with `uscc`), newest first (DECISION_SCHEMA)."""
    new = R.alias("new")
    stmt = (
        sa.select(D.c.decided_at, E.c.uscc, E.c.name, D.c.recognition_id, R.c.tier, R.c.jurisdiction, R.c.batch,
                  D.c.decision, D.c.reason, D.c.decided_by, F.c.kind, D.c.new_recognition_id, new.c.valid_until,
                  D.c.ban_until)
        .select_from(D.join(R, R.c.id == D.c.recognition_id).join(E, E.c.id == D.c.enterprise_id)
                     .outerjoin(F, F.c.id == D.c.flag_id).outerjoin(new, new.c.id == D.c.new_recognition_id))
        .order_by(D.c.id.desc())
    )
    if uscc:
        stmt = stmt.where(E.c.uscc == uscc.strip().upper())
    scope = scope_clause(principal, E.c.region_code)
    if scope is not None:
        stmt = stmt.where(scope)
    if limit is not None:
        stmt = stmt.limit(limit)
    with _engine(engine).connect() as conn:
        rows = conn.execute(stmt).all()
    return pl.DataFrame(rows, schema=DECISION_SCHEMA, orient="row")


# ---------------------------------------------------------------- the list an office circulates

WORKBOOK_COLUMNS = [
    ("uscc", "统一社会信用代码", "USCC"), ("name", "企业名称", "Name"), ("region_code", "行政区划代码", "Region"),
    ("tier", "称号", "Tier"), ("jurisdiction", "认定机关辖区", "Jurisdiction"), ("batch", "批次", "Batch"),
    ("recognized_on", "认定日期", "Recognised on"), ("valid_until", "有效期至", "Valid until"),
    ("flag", "提示类型", "Flag"), ("severity", "严重程度", "Severity"), ("due_on", "到期日", "Due on"),
    ("rule", "规则", "Rule"), ("source", "出处", "Source"), ("evidence_text", "证据", "Evidence"),
]
FILL_IN = [("处理意见", "Decision"), ("理由", "Reason"), ("经办人", "Handled by")]


def queue_workbook(queue: pl.DataFrame, title: str, labels: dict[str, dict[str, str]] | None = None) -> bytes:
    """The queue as the Excel list an office circulates: a title row, bilingual headers, one row per item, empty
    columns for the decision, reason and handler, filters and frozen headers. `labels` maps column → code → name
    (tiers, flags, severities in words)."""
    labels = labels or {}
    frame = queue.with_columns(evidence_text=evidence_text())
    for column, mapping in labels.items():
        if column in frame.columns:
            frame = frame.with_columns(pl.col(column).replace(mapping))
    frame = frame.select([c for c, _, _ in WORKBOOK_COLUMNS])
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False, "constant_memory": True})
    sheet = book.add_worksheet("复核清单 review")
    bold = book.add_format({"bold": True, "font_size": 14})
    header = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True, "valign": "top"})
    fill = book.add_format({"bold": True, "bg_color": "#FFF2CC", "border": 1, "text_wrap": True, "valign": "top"})
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string(0, 0, neutralize_text(title), bold)
    headers = [(f"{zh}\n{en}", header) for _, zh, en in WORKBOOK_COLUMNS] + [(f"{zh}\n{en}", fill)
                                                                               for zh, en in FILL_IN]
    for col, (text, style) in enumerate(headers):
        sheet.write_string(1, col, text, style)
    widths = {"name": 34, "rule": 30, "source": 30, "evidence_text": 60, "uscc": 21}
    for col, (name, _, _) in enumerate(WORKBOOK_COLUMNS):
        sheet.set_column(col, col, widths.get(name, 12))
    sheet.set_column(len(WORKBOOK_COLUMNS), len(headers) - 1, 16)
    for r, row in enumerate(frame.iter_rows(), start=2):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, date):
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), dates)
            else:
                sheet.write_string(r, c, neutralize_text(str(value)))
    sheet.freeze_panes(2, 2)
    sheet.autofilter(1, 0, 1 + frame.height, len(headers) - 1)
    book.close()
    return buffer.getvalue()
