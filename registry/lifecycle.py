"""Lifecycle flags of recognitions, computed as of any date from the data alone (pure polars, no per-firm loop).

A flag is a fact an official must act on: `review_due` (复核 window open), `expiring`, `expired` (valid_until
passed and no renewal), `exit` (an exit/revocation condition of the recognising jurisdiction's rules),
`missing_report` (a reporting period whose due date passed without a report), `anomaly` (sharp changes in the
annual figures) and `promotion` (meets the next tier's policy in force). Each carries its evidence: the values,
the dates, the rule and its source.

Which recognitions count on the as-of date: per chain (firm, tier, jurisdiction) the latest recognition
granted on or before that date; `withdrawn` rows never happened; a chain whose latest row is `revoked` or
`expired` (closed by an official on or before that date, by `ended_on`) has ended and raises nothing. A later 复核 row that renews the chain takes over from its own recognized_on, so the
same data answers for any date (a row `superseded` today was the live one before its successor existed).

The rules (validity, expiry, 复核, exit rules, reporting duties) are the recognising jurisdiction's, as picked
by `registry.policy.lifecycle_for(tier, jurisdiction, recognized_on)`; the review/expiring windows are config
(`[lifecycle]`). Readings of ambiguous text are written next to the code that makes them.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

import polars as pl

from registry.errors import UserError
from registry.policy import Lifecycle, Policy, evaluate, get_policy, lifecycle_for, load_policies
from registry.policy.bundle import Bundle
from registry.policy.indicators import bundle_annual, with_annual_figures
from registry.policy.resolve import normalise_purpose, policy_in_force
from registry.policy.schema import All, Leaf, iter_nodes
from registry.reference import jurisdiction_expr, jurisdictions
from registry.settings import LifecycleSettings

LifecycleResolver = Callable[[str, str, date], Lifecycle]

SEVERITY = {"expired": "critical", "exit": "critical", "review_due": "warning", "expiring": "warning",
            "missing_report": "warning", "anomaly": "warning", "promotion": "info", "warning": "warning"}

FLAG_SCHEMA = {
    "uscc": pl.String, "recognition_id": pl.Int64, "tier": pl.String, "jurisdiction": pl.String,
    "batch": pl.String, "flag": pl.String, "severity": pl.String, "due_on": pl.Date, "key": pl.String,
    "evidence": pl.String,
}

DEFAULT_RULE_SOURCE = "默认规则：有效期3年（无政策文件规定时） default rule: 3-year validity (when no policy file sets one)"

# Revenue falling by more than this share year on year is a sharp change (issue 4: "revenue down > 30%").
REVENUE_DROP_PCT = 30.0

# R&D ratio thresholds a recognised tier was granted on; falling below one is an anomaly worth a look before
# 复核. They are read from the tier's national policy file (one home for a threshold): every `all` node there with
# a leaf `rd_ratio >= x` gives a band of last year's revenue (万元) from the `revenue` leaves beside it —
# 79号 classes a (≥ 1亿元: 3%) and b (5000万元—1亿元: 6%) for 小巨人, 2号 (4%, any revenue) for 重点小巨人.
RD_THRESHOLD_POLICIES = {"little_giant": "cn/little-giant/2021", "key_little_giant": "cn/key-little-giant/2021"}


class BundleLike(Protocol):
    """What the flags need of interfaces B's Bundle: frames they read, never set (a frozen Bundle fits)."""

    @property
    def enterprises(self) -> pl.DataFrame: ...
    @property
    def recognitions(self) -> pl.DataFrame: ...
    @property
    def reports(self) -> pl.DataFrame: ...
    @property
    def events(self) -> pl.DataFrame: ...


@dataclass(frozen=True)
class FlagWindows:
    review_due_days: int = 180
    expiring_days: int = 90

    @classmethod
    def from_settings(cls, settings: LifecycleSettings) -> FlagWindows:
        return cls(settings.review_due_days, settings.expiring_days)


# ------------------------------------------------------------------------------------------------------------
# Which recognitions hold on a date, and under which rules
# ------------------------------------------------------------------------------------------------------------

def current_recognitions(recognitions: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The live recognition of each chain (uscc, tier, jurisdiction) on `as_of`; ended chains dropped."""
    live = (
        recognitions
        .filter(pl.col("recognized_on") <= as_of, pl.col("status").fill_null("active") != "withdrawn")
        .sort("recognized_on", "id")
        .group_by("uscc", "tier", "jurisdiction", maintain_order=True).last()
    )
    # Revoked, or closed as expired by an official: the chain has ended. A closure dated after as_of had not
    # happened yet; one without a date is taken as always in effect.
    closed = pl.col("status").fill_null("active").is_in(["revoked", "expired"])
    if "ended_on" in live.columns:
        closed = closed & (pl.col("ended_on").is_null() | (pl.col("ended_on") <= as_of))
    return live.filter(~closed)


def _policy_breakpoints() -> pl.Series:
    """Dates on which some policy starts or stops being in force: lifecycle_for is constant between them."""
    dates = set()
    for p in load_policies().values():
        for start, end in [(p.effective_from, p.effective_to), *((w.effective_from, w.effective_to) for w in p.purposes)]:
            dates.add(start)
            if end is not None:
                dates.add(end + timedelta(days=1))
    return pl.Series("bp", sorted(dates), dtype=pl.Date)


def _lifecycle_index(frame: pl.DataFrame, resolver: LifecycleResolver) -> tuple[pl.DataFrame, list[Lifecycle]]:
    """(tier, jurisdiction, recognized_on) → index into a list of distinct Lifecycle objects.

    The resolver runs once per distinct key, never once per firm. For `lifecycle_for` the dates are first
    bucketed between policy effective dates (its answer cannot change inside a bucket), so it runs once per
    tier × jurisdiction × bucket: a few dozen calls for a national registry instead of one per recognition day.
    """
    keys = frame.select("tier", "jurisdiction", "recognized_on").unique()
    if resolver is lifecycle_for:
        buckets = _policy_breakpoints().search_sorted(keys["recognized_on"], side="right")
        keys = keys.with_columns(bucket=pl.Series(buckets, dtype=pl.Int64))
    else:
        keys = keys.with_columns(bucket=pl.int_range(pl.len(), dtype=pl.Int64))
    calls = keys.group_by("tier", "jurisdiction", "bucket").agg(pl.col("recognized_on").min())
    lifecycles: list[Lifecycle] = []
    seen: dict[int, int] = {}
    idx = []
    for tier, jurisdiction, _bucket, on in calls.iter_rows():
        lc = resolver(tier, jurisdiction, on)
        idx.append(seen.setdefault(id(lc), len(lifecycles)))
        if len(lifecycles) < len(seen):
            lifecycles.append(lc)
    calls = calls.select("tier", "jurisdiction", "bucket", pl.Series("lc", idx, dtype=pl.Int32))
    return keys.join(calls, on=["tier", "jurisdiction", "bucket"], how="left").drop("bucket"), lifecycles


def _source_text(source: Any) -> str | None:
    if source is None:
        return None
    return source.cite() if hasattr(source, "cite") else f"{source.doc} {source.lines or ''}".strip()


def with_rules(recognitions: pl.DataFrame, resolver: LifecycleResolver = lifecycle_for
               ) -> tuple[pl.DataFrame, list[Lifecycle]]:
    """Attach each recognition's lifecycle (column `lc` + the date rules) and fill a missing valid_until.

    valid_until, when the file did not give one: `anniversary` → the day before the N-th anniversary of
    recognized_on (有效期3年 from 2021-07-15 ends 2024-07-14); `year_end` → 31 Dec of the N-th calendar year
    counting the year of recognition (Xinjiang: recognised in 2021, valid to 2023-12-31).
    """
    keys, lifecycles = _lifecycle_index(recognitions, resolver)
    rules = pl.DataFrame({
        "lc": pl.Series(range(len(lifecycles)), dtype=pl.Int32),
        "validity_years": pl.Series([lc.validity_years for lc in lifecycles], dtype=pl.Int32),
        "expiry": pl.Series([lc.expiry for lc in lifecycles], dtype=pl.String),
        "review_at_years": pl.Series([lc.review_at_years for lc in lifecycles], dtype=pl.Int32),
        "lapse_without_review": pl.Series([lc.lapse_without_review for lc in lifecycles], dtype=pl.Boolean),
        "rule_source": pl.Series([_source_text(lc.source) or DEFAULT_RULE_SOURCE for lc in lifecycles],
                                 dtype=pl.String),
    })
    # Lifecycle.last_valid_day, vectorised: the day before the anniversary; from 29 February, the end of February.
    shifted = pl.col("recognized_on").dt.offset_by(pl.format("{}y", pl.col("validity_years")))  # 29 Feb → 28 Feb
    leap_day = (pl.col("recognized_on").dt.month() == 2) & (pl.col("recognized_on").dt.day() == 29)
    anniversary = pl.when(leap_day).then(shifted).otherwise(shifted - pl.duration(days=1))
    year_end = pl.date(pl.col("recognized_on").dt.year() + pl.col("validity_years") - 1, 12, 31)
    out = (
        recognitions.join(keys, on=["tier", "jurisdiction", "recognized_on"], how="left")
        .join(rules, on="lc", how="left")
        .with_columns(
            valid_until_given=pl.col("valid_until").is_not_null(),
            valid_until=pl.coalesce(
                pl.col("valid_until"),
                pl.when(pl.col("expiry") == "year_end").then(year_end).otherwise(anniversary)),
        )
    )
    return out, lifecycles


# ------------------------------------------------------------------------------------------------------------
# Building the flag rows
# ------------------------------------------------------------------------------------------------------------

def _emit(frame: pl.DataFrame, flag: str, due_on: pl.Expr, reason: pl.Expr, evidence: dict[str, pl.Expr],
          severity: pl.Expr | None = None) -> pl.DataFrame:
    """Rows of one flag kind in the common shape; the key names the same flag across recomputations."""
    if frame.is_empty():
        return pl.DataFrame(schema=FLAG_SCHEMA)
    return frame.select(
        pl.col("uscc"),
        pl.col("id").cast(pl.Int64).alias("recognition_id"),
        pl.col("tier"),
        pl.col("jurisdiction"),
        pl.col("batch").cast(pl.String),
        pl.lit(flag).alias("flag"),
        (severity if severity is not None else pl.lit(SEVERITY[flag])).alias("severity"),
        due_on.cast(pl.Date).alias("due_on"),
        pl.concat_str([pl.col("uscc"), pl.col("id").cast(pl.String), pl.lit(flag), reason], separator=":",
                      ignore_nulls=True).alias("key"),
        pl.struct(**evidence).struct.json_encode().alias("evidence"),
    )


def _next_review(as_of: date) -> pl.Expr:
    """The next 复核 date on or after as_of: every `review_at_years` years from recognition ("入选满N年", the eve
    of the N-th anniversary), and at the latest valid_until. With N equal to the validity (the usual 3/3) this is
    valid_until; with a shorter N (Beijing's yearly 复评) the window recurs before each review. Whether an
    intermediate review took place is not in the data, so a passed one is not reported as overdue.
    """
    n = pl.col("review_at_years")
    k = pl.max_horizontal(pl.lit(1), (pl.lit(as_of.year) - pl.col("recognized_on").dt.year()) // n)

    def eve(multiple: pl.Expr) -> pl.Expr:
        return pl.col("recognized_on").dt.offset_by(pl.format("{}y", multiple * n)) - pl.duration(days=1)

    upcoming = pl.when(eve(k) >= as_of).then(eve(k)).otherwise(eve(k + 1))
    return pl.min_horizontal(upcoming, pl.col("valid_until"))


DATE_STATES = ("expired", "expiring", "review_due")  # most pressing first


def _with_date_states(cur: pl.DataFrame, as_of: date, windows: FlagWindows) -> pl.DataFrame:
    """The date rules, in one place: `days_left`, `review_on` and the booleans `review_due`, `expiring`,
    `expired` of each recognition (with its rules attached by `with_rules`) on `as_of`. A recognition can be both
    review_due and expiring; `state` is the most pressing of the three (null: none holds)."""
    cur = cur.with_columns(days_left=(pl.col("valid_until") - pl.lit(as_of)).dt.total_days(),
                           review_on=_next_review(as_of))
    cur = cur.with_columns(
        review_due=(pl.col("review_at_years").is_not_null()
                    & ((pl.col("review_on") - pl.lit(as_of)).dt.total_days() <= windows.review_due_days)
                    & (pl.col("days_left") >= 0)).fill_null(False),
        expiring=pl.col("days_left").is_between(0, windows.expiring_days).fill_null(False),
        expired=(pl.col("days_left") < 0).fill_null(False),
    )
    state = pl.lit(None, pl.String)
    for name in reversed(DATE_STATES):
        state = pl.when(pl.col(name)).then(pl.lit(name)).otherwise(state)
    return cur.with_columns(state=state)


def recognition_states(recognitions: pl.DataFrame, as_of: date, windows: FlagWindows | None = None,
                       resolver: LifecycleResolver = lifecycle_for) -> pl.DataFrame:
    """Each recognition live on `as_of` (`current_recognitions`: from the recognition history, so a decision
    recorded later does not change a past date's answer) with its lifecycle state under its own policy's rules.

    The one definition of 待复核 / 即将到期 / 已到期 that the flags, the overview's counts and lists, the briefing
    and the CLI share. Columns: those of `recognitions`, the rules of `with_rules`, `days_left`, `review_on`,
    booleans `review_due`, `expiring`, `expired`, and `state` (the most pressing; null when none holds).
    """
    cur, _ = with_rules(current_recognitions(recognitions, as_of), resolver)
    return _with_date_states(cur, as_of, windows or FlagWindows())


def _date_flags(cur: pl.DataFrame, as_of: date, windows: FlagWindows) -> list[pl.DataFrame]:
    cur = _with_date_states(cur, as_of, windows)
    common = {
        "recognized_on": pl.col("recognized_on"), "valid_until": pl.col("valid_until"),
        "valid_until_derived": ~pl.col("valid_until_given"), "validity_years": pl.col("validity_years"),
        "expiry": pl.col("expiry"), "days_left": pl.col("days_left"), "source": pl.col("rule_source"),
    }
    review, expiring, expired = (cur.filter(pl.col(name)) for name in ("review_due", "expiring", "expired"))
    return [
        _emit(review, "review_due", pl.col("review_on"), pl.lit(None, pl.String),
              {**common, "review_on": pl.col("review_on"), "review_at_years": pl.col("review_at_years"),
               "days_to_review": (pl.col("review_on") - pl.lit(as_of)).dt.total_days(),
               "rule": pl.lit(f"复核提示：复核日前 {windows.review_due_days} 天起 "
                              f"from {windows.review_due_days} days before the review date (lifecycle.review_due_days)")}),
        _emit(expiring, "expiring", pl.col("valid_until"), pl.lit(None, pl.String),
              {**common, "rule": pl.lit(f"即将到期：有效期届满前 {windows.expiring_days} 天内 "
                                        f"within {windows.expiring_days} days of the end of validity (lifecycle.expiring_days)")}),
        _emit(expired, "expired", pl.col("valid_until"), pl.lit(None, pl.String),
              {**common, "days_overdue": -pl.col("days_left"),
               "lapse_without_review": pl.col("lapse_without_review"),
               "rule": pl.lit("有效期届满且无复核续期 validity ended with no renewal")}),
    ]


# ------------------------------------------------------------------------------------------------------------
# Exit rules
# ------------------------------------------------------------------------------------------------------------

# A firm that no longer exists as a legal person holds no title, whatever the policy text says: 注销 (deregistered),
# 吊销营业执照 (business licence revoked) and 宣告破产 (declared bankrupt) end every recognition. Added to every
# lifecycle that has no rule of its own for the event.
CEASED_EVENTS: dict[str, tuple[str, str]] = {
    "deregistration": ("企业已注销，称号随主体资格终止", "deregistered: the title ends with the legal person"),
    "revocation_of_licence": ("营业执照被吊销，称号随主体资格终止",
                              "business licence revoked: the title ends with the legal person"),
    "bankruptcy": ("企业被宣告破产，称号随主体资格终止", "declared bankrupt: the title ends with the legal person"),
}
CEASED_SOURCE = ("《公司法》《市场主体登记管理条例》《企业破产法》：主体资格终止（不论政策文本是否列明） / "
                 "the firm ceased to exist as a legal person (whatever the policy text lists)")


def _exit_rules_frame(lifecycles: list[Lifecycle]) -> pl.DataFrame:
    rows = []
    for i, lc in enumerate(lifecycles):
        for r in lc.exit_rules:
            rows.append({
                "lc": i, "rule_id": r.id, "rule_kind": r.kind, "rule_event": r.event,
                "within_years": r.within_years, "boards": r.boards, "notify_within_days": r.notify_within_days,
                "notify_within_months": r.notify_within_months, "rule_flag": r.flag,
                "rule_frequency": r.frequency, "max_missing": r.max_missing, "ban_years": r.ban_years,
                "rule_severity": r.severity, "label_zh": r.label_zh, "label_en": r.label_en,
                "rule_source_exit": _source_text(r.source),
            })
        own = {r.event for r in lc.exit_rules if r.kind == "event"}
        for event, (zh, en) in CEASED_EVENTS.items():
            if event not in own:
                rows.append({"lc": i, "rule_id": f"ceased_{event}", "rule_kind": "event", "rule_event": event,
                             "rule_flag": "exit", "rule_severity": "critical", "label_zh": zh, "label_en": en,
                             "rule_source_exit": CEASED_SOURCE})
    schema = {"lc": pl.Int32, "rule_id": pl.String, "rule_kind": pl.String, "rule_event": pl.String,
              "within_years": pl.Float64, "boards": pl.List(pl.String), "notify_within_days": pl.Int64,
              "notify_within_months": pl.Int64, "rule_flag": pl.String,
              "rule_frequency": pl.String, "max_missing": pl.Int64, "ban_years": pl.Int64,
              "rule_severity": pl.String, "label_zh": pl.String, "label_en": pl.String,
              "rule_source_exit": pl.String}
    return pl.DataFrame(rows, schema=schema)


def _rule_evidence(**extra: pl.Expr) -> dict[str, pl.Expr]:
    return {"reason": pl.col("rule_id"), "label_zh": pl.col("label_zh"), "label_en": pl.col("label_en"),
            **extra, "ban_years": pl.col("ban_years"), "source": pl.col("rule_source_exit")}


def _exit_event_flags(cur_rules: pl.DataFrame, events: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """kind `event`: a dated event of that kind on or before as_of.

    Reading of `within_years` ("within N years of recognition"): the event happened between N years before
    recognized_on (it would have excluded the firm — 近三年未发生…) and N years after it; without a window, any
    event up to as_of counts (false declaration, deregistration).
    """
    rules = cur_rules.filter(pl.col("rule_kind") == "event")
    hits = rules.join(events.filter(pl.col("occurred_on") <= as_of),
                      left_on=["uscc", "rule_event"], right_on=["uscc", "event"], how="inner")
    years = pl.format("{}y", pl.col("within_years").cast(pl.Int64))
    # offset_by needs whole units; fractional windows (0.5 years) are taken in days.
    window_days = (pl.col("within_years") * 365.25).round().cast(pl.Int64)
    lower = pl.when(pl.col("within_years") == pl.col("within_years").floor()) \
        .then(pl.col("recognized_on").dt.offset_by(pl.concat_str(pl.lit("-"), years))) \
        .otherwise(pl.col("recognized_on") - pl.duration(days=window_days))
    upper = pl.when(pl.col("within_years") == pl.col("within_years").floor()) \
        .then(pl.col("recognized_on").dt.offset_by(years)) \
        .otherwise(pl.col("recognized_on") + pl.duration(days=window_days))
    hits = hits.filter(pl.col("within_years").is_null()
                       | pl.col("occurred_on").is_between(lower, upper))
    hits = _latest_per_rule(hits)
    return _emit(hits, "exit", pl.col("occurred_on"), pl.col("rule_id"),
                 _rule_evidence(event=pl.col("rule_event"), occurred_on=pl.col("occurred_on"),
                                detail=pl.col("detail"), events=pl.col("n_events"),
                                within_years=pl.col("within_years")),
                 severity=pl.col("rule_severity"))


def _latest_per_rule(hits: pl.DataFrame) -> pl.DataFrame:
    return (hits.sort("occurred_on")
            .with_columns(n_events=pl.len().over("id", "rule_id"))
            .group_by("id", "rule_id", maintain_order=True).last())


def _exit_listing_flags(cur_rules: pl.DataFrame, enterprises: pl.DataFrame, events: pl.DataFrame,
                        as_of: date) -> pl.DataFrame:
    """kind `listing`: the firm's listing_board, or a `listing` event (detail = board), is one of `boards`."""
    rules = cur_rules.filter(pl.col("rule_kind") == "listing").explode("boards")
    by_board = rules.join(enterprises.select("uscc", board=pl.col("listing_board")),
                          left_on=["uscc", "boards"], right_on=["uscc", "board"], how="inner") \
        .with_columns(occurred_on=pl.lit(None, pl.Date), via=pl.lit("enterprise.listing_board"))
    listed = events.filter(pl.col("event") == "listing", pl.col("occurred_on") <= as_of) \
        .select("uscc", "occurred_on", board=pl.col("detail").str.strip_chars().str.to_lowercase())
    by_event = rules.join(listed, left_on=["uscc", "boards"], right_on=["uscc", "board"], how="inner") \
        .with_columns(via=pl.lit("event listing"))
    hits = pl.concat([by_board, by_event], how="diagonal_relaxed")
    if hits.is_empty():
        return pl.DataFrame(schema=FLAG_SCHEMA)
    hits = (hits.sort("occurred_on", nulls_last=True)
            .group_by("id", "rule_id", maintain_order=True).first())
    return _emit(hits, "exit", pl.col("occurred_on"), pl.col("rule_id"),
                 _rule_evidence(board=pl.col("boards"), occurred_on=pl.col("occurred_on"), via=pl.col("via")),
                 severity=pl.col("rule_severity"))


def _exit_notification_flags(cur_rules: pl.DataFrame, events: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """kind `notification`: a rename/restructure/relocation after recognition not notified within the window.

    The deadline is occurred_on + `notify_within_days` days, or + `notify_within_months` calendar months (3 个月内:
    occurred 2025-01-31 → due 2025-04-30, the end of a shorter month). Late: notified_on after the deadline. Not
    notified (no notified_on, or one after as_of): late once as_of is after the deadline. The rule's `flag` says
    what a hit raises: `exit`, or `missing_report` (a duty breached, the consequence left to the official).
    """
    rules = cur_rules.filter(pl.col("rule_kind") == "notification")
    hits = rules.join(events.filter(pl.col("occurred_on") <= as_of),
                      left_on=["uscc", "rule_event"], right_on=["uscc", "event"], how="inner")
    notified = pl.col("notified_on").is_not_null() & (pl.col("notified_on") <= as_of)
    reported_or_today = pl.when(notified).then(pl.col("notified_on")).otherwise(pl.lit(as_of))
    deadline = (pl.when(pl.col("notify_within_months").is_not_null())
                .then(pl.col("occurred_on").dt.offset_by(pl.format("{}mo", pl.col("notify_within_months"))))
                .otherwise(pl.col("occurred_on") + pl.duration(days=pl.col("notify_within_days").fill_null(0))))
    hits = hits.with_columns(deadline=deadline, notified=notified,
                             delay_days=(reported_or_today - pl.col("occurred_on")).dt.total_days()) \
        .filter(pl.col("occurred_on") >= pl.col("recognized_on"), reported_or_today > pl.col("deadline"))
    hits = _latest_per_rule(hits)
    evidence = _rule_evidence(event=pl.col("rule_event"), occurred_on=pl.col("occurred_on"),
                              notified_on=pl.when(pl.col("notified")).then(pl.col("notified_on")),
                              deadline=pl.col("deadline"), delay_days=pl.col("delay_days"),
                              notify_within_days=pl.col("notify_within_days"),
                              notify_within_months=pl.col("notify_within_months"), detail=pl.col("detail"),
                              rule=pl.when(pl.col("notified"))
                              .then(pl.format("{} 发生于 {}，{} 才报告，晚于报告期限 {} / reported after the deadline",
                                              pl.col("rule_event"), pl.col("occurred_on"), pl.col("notified_on"),
                                              pl.col("deadline")))
                              .otherwise(pl.format("{} 发生于 {}，至 {} 仍未报告，报告期限 {} 已过 / not reported, "
                                                   "deadline passed", pl.col("rule_event"), pl.col("occurred_on"),
                                                   pl.lit(as_of), pl.col("deadline"))))
    exits = hits.filter(pl.col("rule_flag") == "exit")
    duties = hits.filter(pl.col("rule_flag") == "missing_report")
    return pl.concat([
        _emit(exits, "exit", pl.col("deadline"), pl.col("rule_id"), evidence, severity=pl.col("rule_severity")),
        _emit(duties, "missing_report", pl.col("deadline"),
              pl.concat_str(pl.col("rule_id"), pl.col("occurred_on").cast(pl.String), separator=":"), evidence,
              severity=pl.col("rule_severity")),
    ])


def _exit_missing_reports_flags(cur_rules: pl.DataFrame, missing: pl.DataFrame) -> pl.DataFrame:
    """kind `missing_reports`: more than `max_missing` reports of `frequency` missed in one calendar year."""
    rules = cur_rules.filter(pl.col("rule_kind") == "missing_reports")
    counts = missing.group_by("recognition_id", "frequency", "period_year").agg(
        missed=pl.len(), periods=pl.col("period").sort())
    hits = rules.join(counts, left_on=["id", "rule_frequency"], right_on=["recognition_id", "frequency"],
                      how="inner").filter(pl.col("missed") > pl.col("max_missing"))
    return _emit(hits, "exit", pl.date(pl.col("period_year"), 12, 31),
                 pl.concat_str(pl.col("rule_id"), pl.col("period_year").cast(pl.String), separator=":"),
                 _rule_evidence(frequency=pl.col("rule_frequency"), year=pl.col("period_year"),
                                missed=pl.col("missed"), max_missing=pl.col("max_missing"),
                                periods=pl.col("periods")),
                 severity=pl.col("rule_severity"))


# ------------------------------------------------------------------------------------------------------------
# The yearly information update (年度信息更新) on the national platform
# ------------------------------------------------------------------------------------------------------------

INFO_UPDATE_EVENT = "info_update"


def _info_update_rules(lifecycles: list[Lifecycle]) -> pl.DataFrame:
    """lc, variant jurisdiction (null = the national default), window and consequence of each yearly update duty."""
    rows = []
    for i, lc in enumerate(lifecycles):
        duty = lc.info_update
        if duty is None:
            continue
        base = {"lc": i, "what": duty.what, "opens_month": duty.opens_month, "opens_day": duty.opens_day}
        rows.append({**base, "variant": None, "due_month": duty.due_month, "due_day": duty.due_day,
                     "max_missed": duty.max_missed, "duty_source": _source_text(duty.source)})
        for v in duty.variants:
            rows.append({**base, "variant": v.jurisdiction, "due_month": v.due_month, "due_day": v.due_day,
                         "max_missed": v.max_missed, "duty_source": _source_text(v.source)})
    schema = {"lc": pl.Int32, "what": pl.String, "opens_month": pl.Int32, "opens_day": pl.Int32,
              "variant": pl.String, "due_month": pl.Int32, "due_day": pl.Int32, "max_missed": pl.Int64,
              "duty_source": pl.String}
    return pl.DataFrame(rows, schema=schema)


def _missed_info_updates(in_force: pl.DataFrame, lifecycles: list[Lifecycle], enterprises: pl.DataFrame,
                        events: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per recognition in force and year whose update deadline passed before as_of (the day after the
    deadline is the first day it is missed) with no `info_update` event between the window's opening and the
    deadline. A province's variant (deadline, consequence) applies to the firms of that province; otherwise the
    duty's own. Years: from the year after recognition to as_of's, deadlines on or before valid_until."""
    rules = _info_update_rules(lifecycles)
    if rules.is_empty() or in_force.is_empty():
        return pl.DataFrame()
    firms = in_force.join(rules.select("lc").unique(), on="lc", how="semi") \
        .join(enterprises.select("uscc", "region_code"), on="uscc", how="left")
    # The variant of the firm's province, if its duty has one (first match), else the default row.
    chosen = pl.lit(None, pl.String)
    for variant in reversed(rules["variant"].drop_nulls().unique().sort().to_list()):
        chosen = pl.when(_in_jurisdiction(pl.col("region_code").fill_null(""), variant)).then(pl.lit(variant)) \
            .otherwise(chosen)
    firms = firms.with_columns(variant=chosen)
    with_variant = firms.join(rules.filter(pl.col("variant").is_not_null()), on=["lc", "variant"], how="inner")
    default = firms.join(with_variant.select("id"), on="id", how="anti").drop("variant") \
        .join(rules.filter(pl.col("variant").is_null()), on="lc", how="inner")
    owed = (pl.concat([with_variant, default], how="diagonal_relaxed")
            .with_columns(year=pl.int_ranges(pl.col("recognized_on").dt.year() + 1, as_of.year + 1))
            .explode("year").drop_nulls("year")
            .with_columns(due=pl.date(pl.col("year"), pl.col("due_month"), pl.col("due_day")),
                          opens=pl.date(pl.col("year"), pl.col("opens_month"), pl.col("opens_day")))
            .filter(pl.col("due") < as_of, pl.col("due") <= pl.col("valid_until")))
    updates = events.filter(pl.col("event") == INFO_UPDATE_EVENT, pl.col("occurred_on") <= as_of) \
        .select("uscc", updated_on="occurred_on")
    done = owed.join(updates, on="uscc", how="inner") \
        .filter(pl.col("updated_on").is_between(pl.col("opens"), pl.col("due"))) \
        .select("id", "year").unique()
    return owed.join(done, on=["id", "year"], how="anti")


def missed_info_updates(bundle: BundleLike, as_of: date, resolver: LifecycleResolver = lifecycle_for) -> pl.DataFrame:
    """Yearly information updates missed on `as_of`, per recognition in force and year (as the flags see them).

    Columns: uscc, recognition_id, tier, jurisdiction, batch, year, opens, due, what, duty_source, latest_due (the
    most recent deadline of the recognition, the one a 催报 list chases)."""
    cur, lifecycles = with_rules(current_recognitions(bundle.recognitions, as_of), resolver)
    in_force = cur.filter(pl.col("valid_until") >= as_of)
    missed = _missed_info_updates(in_force, lifecycles, bundle.enterprises, bundle.events, as_of)
    columns = {"uscc": pl.String, "recognition_id": pl.Int64, "tier": pl.String, "jurisdiction": pl.String,
               "batch": pl.String, "year": pl.Int32, "opens": pl.Date, "due": pl.Date, "what": pl.String,
               "duty_source": pl.String, "latest_due": pl.Boolean}
    if missed.is_empty():
        return pl.DataFrame(schema=columns)
    return (missed.rename({"id": "recognition_id"})
            .with_columns(latest_due=pl.col("year") == pl.col("year").max().over("recognition_id"))
            .select(list(columns)).cast(columns))


def _info_update_flags(missed: pl.DataFrame) -> list[pl.DataFrame]:
    """`missing_report` for every missed update; `exit` when the missed updates of the current recognition reach
    the rule's max_missed (同一有效期内累计两次未更新 → 取消认定, only where a rule says so)."""
    if missed.is_empty():
        return []
    words = pl.format("{} 年度信息更新未在 {} 至 {} 期间完成 / the {} yearly information update was not made between "
                      "{} and {}", pl.col("year"), pl.col("opens"), pl.col("due"), pl.col("year"), pl.col("opens"),
                      pl.col("due"))
    duty = _emit(missed, "missing_report", pl.col("due"),
                 pl.concat_str(pl.lit(INFO_UPDATE_EVENT), pl.col("year").cast(pl.String), separator=":"),
                 {"duty": pl.lit(INFO_UPDATE_EVENT), "what": pl.col("what"), "year": pl.col("year"),
                  "window_opens": pl.col("opens"), "due_on": pl.col("due"), "rule": words,
                  "record_as": pl.lit("事件 info_update（年度信息更新，发生日期 = 更新日期） / event info_update, dated"),
                  "source": pl.col("duty_source")})
    counted = (missed.filter(pl.col("max_missed").is_not_null())
               .group_by("id", maintain_order=True)
               .agg(pl.all().exclude("id", "year", "due", "opens").first(), years=pl.col("year").sort(),
                    missed=pl.len(), last_due=pl.col("due").max())
               .filter(pl.col("missed") >= pl.col("max_missed")))
    exits = _emit(counted, "exit", pl.col("last_due"), pl.lit("info_update_missed"),
                  {"reason": pl.lit("info_update_missed"),
                   "label_zh": pl.format("同一有效期内累计 {} 次未完成年度信息更新（{} 次即取消认定）", pl.col("missed"),
                                         pl.col("max_missed")),
                   "label_en": pl.format("{} yearly information updates missed in one validity period ({} end the "
                                         "recognition)", pl.col("missed"), pl.col("max_missed")),
                   "years": pl.col("years"), "missed": pl.col("missed"), "max_missed": pl.col("max_missed"),
                   "variant": pl.col("variant"), "source": pl.col("duty_source")})
    return [duty, exits]


# ------------------------------------------------------------------------------------------------------------
# Reporting obligations
# ------------------------------------------------------------------------------------------------------------

def _clamped(year: int, month: int, day: int) -> date:
    """Day `day` of a month, or its last day (due on the 31st in a 30-day month = the 30th)."""
    while month > 12:
        year, month = year + 1, month - 12
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _periods(frequency: str, first_year: int, last_year: int) -> Iterable[tuple[str, date, date, list[str]]]:
    """(label, start, end, report periods that satisfy it) for every period of the years.

    Half-years have no period code in the contract: H1 is met by a report for the quarter or month ending
    in June (2024Q2 / 2024-06, normally year-to-date), H2 by one ending in December or by the annual report.
    """
    for y in range(first_year, last_year + 1):
        if frequency == "monthly":
            for m in range(1, 13):
                yield f"{y}-{m:02d}", date(y, m, 1), _clamped(y, m, 31), [f"{y}-{m:02d}"]
        elif frequency == "quarterly":
            for q in range(1, 5):
                yield f"{y}Q{q}", date(y, 3 * q - 2, 1), _clamped(y, 3 * q, 31), [f"{y}Q{q}"]
        elif frequency == "half_yearly":
            yield f"{y}H1", date(y, 1, 1), date(y, 6, 30), [f"{y}Q2", f"{y}-06"]
            yield f"{y}H2", date(y, 7, 1), date(y, 12, 31), [f"{y}Q4", f"{y}-12", f"{y}"]
        else:
            yield f"{y}", date(y, 1, 1), date(y, 12, 31), [f"{y}"]


def _due_on(obligation: Any, period_end: date) -> date:
    if obligation.frequency == "annual":
        return _clamped(period_end.year + 1, obligation.due_month, obligation.due_day)
    return _clamped(period_end.year, period_end.month + obligation.months_after, obligation.due_day)


def _obligation_calendar(lifecycles: list[Lifecycle], as_of: date) -> pl.DataFrame:
    """Every reporting period of every obligation from 1 Jan of last year whose due date is before as_of.

    Small (obligations × ≤ 24 periods): built in Python once, then joined to the firms.
    """
    rows = []
    for i, lc in enumerate(lifecycles):
        for j, o in enumerate(lc.reporting):
            for label, start, end, accepted in _periods(o.frequency, as_of.year - 1, as_of.year):
                due = _due_on(o, end)
                if due < as_of:
                    rows.append({"lc": i, "obligation": j, "frequency": o.frequency, "period": label,
                                 "period_year": start.year,
                                 "period_start": start, "period_end": end, "report_due_on": due,
                                 "accepted": accepted, "what": o.what, "obligation_source": _source_text(o.source)})
    schema = {"lc": pl.Int32, "obligation": pl.Int32, "frequency": pl.String, "period": pl.String,
              "period_year": pl.Int32, "period_start": pl.Date, "period_end": pl.Date, "report_due_on": pl.Date,
              "accepted": pl.List(pl.String), "what": pl.String, "obligation_source": pl.String}
    # The period most recently due of each obligation: the one a 催报 list chases.
    return pl.DataFrame(rows, schema=schema).with_columns(
        latest_due=pl.col("report_due_on") == pl.col("report_due_on").max().over("lc", "obligation"))


def _missing_reports(cur: pl.DataFrame, lifecycles: list[Lifecycle], reports: pl.DataFrame,
                     as_of: date) -> pl.DataFrame:
    """One row per live recognition × reporting period due before as_of with no report for it.

    Only periods while the recognition held: the period ends on or after recognized_on and starts on or
    before valid_until.
    """
    cal = _obligation_calendar(lifecycles, as_of)
    expected = cur.join(cal, on="lc", how="inner").filter(
        pl.col("period_end") >= pl.col("recognized_on"), pl.col("period_start") <= pl.col("valid_until"))
    present = reports.select("uscc", accepted=pl.col("period")).unique().with_columns(present=pl.lit(True))
    checked = (expected.with_row_index("_row").explode("accepted")
               .join(present, on=["uscc", "accepted"], how="left")
               .group_by("_row", maintain_order=True)
               .agg(pl.all().exclude("accepted", "present").first(), present=pl.col("present").any()))
    return checked.filter(~pl.col("present").fill_null(False)).drop("_row", "present") \
        .rename({"id": "recognition_id"})


def missing_reports(bundle: BundleLike, as_of: date, resolver: LifecycleResolver = lifecycle_for) -> pl.DataFrame:
    """Reports due before `as_of` and not filed, per live recognition and reporting period.

    Columns: uscc, recognition_id, tier, jurisdiction, batch, frequency, period, period_start, period_end,
    report_due_on, latest_due (the period most recently due of its obligation), what, obligation_source.
    """
    cur, lifecycles = with_rules(current_recognitions(bundle.recognitions, as_of), resolver)
    return _missing_reports(cur, lifecycles, bundle.reports, as_of).select(
        "uscc", "recognition_id", "tier", "jurisdiction", "batch", "frequency", "period", "period_start",
        "period_end", "report_due_on", "latest_due", "what", "obligation_source")


def _missing_report_flags(missing: pl.DataFrame) -> pl.DataFrame:
    return _emit(missing.rename({"recognition_id": "id"}), "missing_report", pl.col("report_due_on"),
                 pl.concat_str(pl.col("frequency"), pl.col("period"), separator=":"),
                 {"frequency": pl.col("frequency"), "period": pl.col("period"),
                  "period_end": pl.col("period_end"), "due_on": pl.col("report_due_on"),
                  "what": pl.col("what"), "source": pl.col("obligation_source")})


# ------------------------------------------------------------------------------------------------------------
# Anomalies in the annual figures
# ------------------------------------------------------------------------------------------------------------

def _rd_threshold_frame() -> pl.DataFrame:
    rows = [{"tier": tier, **band} for tier, policy_id in RD_THRESHOLD_POLICIES.items()
            for band in rd_bands(get_policy(policy_id))]
    return pl.DataFrame(rows, schema={"tier": pl.String, "band_low": pl.Float64, "band_high": pl.Float64,
                                      "rd_min": pl.Float64, "rd_source": pl.String})


def rd_bands(policy: Policy) -> list[dict[str, Any]]:
    """The R&D-ratio minimum of each revenue band of a policy: band_low (≥, 万元), band_high (<, None: open),
    rd_min (%), rd_source (document, lines and quote of the R&D criterion)."""
    bands = []
    for node in iter_nodes(policy.criteria):
        if not isinstance(node, All):
            continue
        leaves = [child for child in node.children if isinstance(child, Leaf)]
        revenue = [leaf for leaf in leaves if leaf.indicator == "revenue" and isinstance(leaf.threshold, int | float)]
        for rd in (leaf for leaf in leaves if leaf.indicator == "rd_ratio" and leaf.op == ">="):
            bands.append({
                "band_low": max((float(x.threshold) for x in revenue if x.op == ">="), default=0.0),
                "band_high": min((float(x.threshold) for x in revenue if x.op == "<"), default=None),
                "rd_min": float(rd.threshold),
                "rd_source": rd.source.cite() + (f" ({rd.source.quote})" if rd.source.quote else ""),
            })
    return bands


def _anomaly_flags(cur: pl.DataFrame, bundle: BundleLike, as_of: date) -> list[pl.DataFrame]:
    """Last year (as_of.year − 1) against the year before, from the annual figures (annual report, else
    complete sub-annual reports: registry.policy.indicators.annual_figures).

    revenue_drop: revenue down more than 30% year on year. rd_below_threshold: the R&D ratio (rd_expense /
    revenue, %) was at or above the tier's threshold the year before and is below it last year — a sharp
    change, not a firm that never met it (that is for 复核 to judge).
    """
    y1, y0 = as_of.year - 1, as_of.year - 2
    annual = bundle_annual(bundle, [y0, y1], ["revenue", "rd_expense"])
    last = annual.filter(pl.col("year") == y1).select("uscc", rev1="revenue", rd1="rd_expense")
    prev = annual.filter(pl.col("year") == y0).select("uscc", rev0="revenue", rd0="rd_expense")
    firms = cur.join(last, on="uscc", how="inner").join(prev, on="uscc", how="inner").with_columns(
        revenue_change_pct=((pl.col("rev1") - pl.col("rev0")) / pl.col("rev0") * 100).round(2),
        rd_ratio1=(pl.col("rd1") / pl.col("rev1") * 100).round(2),
        rd_ratio0=(pl.col("rd0") / pl.col("rev0") * 100).round(2),
    )
    year_end = pl.date(pl.lit(y1), 12, 31)
    drop = firms.filter(pl.col("rev0") > 0, pl.col("revenue_change_pct") < -REVENUE_DROP_PCT)
    out = [_emit(drop, "anomaly", year_end, pl.concat_str(pl.lit("revenue_drop"), pl.lit(str(y1)), separator=":"),
                 {"reason": pl.lit("revenue_drop"), "label_zh": pl.lit("营业收入同比下降超过30%"),
                  "label_en": pl.lit("revenue down more than 30% year on year"),
                  "year": pl.lit(y1), "revenue": pl.col("rev1"), "previous_year": pl.lit(y0),
                  "previous_revenue": pl.col("rev0"), "change_pct": pl.col("revenue_change_pct"),
                  "threshold_pct": pl.lit(-REVENUE_DROP_PCT)})]
    banded = firms.filter(pl.col("rev1") > 0, pl.col("rev0") > 0).join(_rd_threshold_frame(), on="tier", how="inner")
    in_band = pl.col("rev1").ge(pl.col("band_low")) & (pl.col("band_high").is_null() | (pl.col("rev1") < pl.col("band_high")))
    fell = banded.filter(in_band, pl.col("rd_ratio1") < pl.col("rd_min"), pl.col("rd_ratio0") >= pl.col("rd_min"))
    out.append(_emit(fell, "anomaly", year_end,
                     pl.concat_str(pl.lit("rd_below_threshold"), pl.lit(str(y1)), separator=":"),
                     {"reason": pl.lit("rd_below_threshold"), "label_zh": pl.lit("研发经费占比降至称号门槛以下"),
                      "label_en": pl.lit("R&D ratio fell below the tier's threshold"),
                      "year": pl.lit(y1), "rd_ratio_pct": pl.col("rd_ratio1"), "previous_rd_ratio_pct": pl.col("rd_ratio0"),
                      "threshold_pct": pl.col("rd_min"), "revenue": pl.col("rev1"), "source": pl.col("rd_source")}))
    return out


# ------------------------------------------------------------------------------------------------------------
# Conditions judged by the policy engine: no longer an SME, ready for the next tier
# ------------------------------------------------------------------------------------------------------------

SME_SIZE_POLICY = "cn/sme-size/2011"

# The next rung of the national ladder and the purpose its rule set serves. Which rule set judges a firm is
# decided by registry.policy.resolve.policy_in_force (the firm's jurisdiction chain, the as-of date, the purpose),
# the function `zjtx evaluate --tier` and `zjtx screen --tier` ask. 重点“小巨人” is a national support programme
# (财建〔2021〕2号, rule sets serving `support`): it is judged on the national rule, whose support period ends the
# programme — the provinces' 2021 申报和推荐条件 carry no end date of their own and would outlive it.
PROMOTION: dict[str, tuple[str, str]] = {
    "innovative_sme": ("zjtx_sme", "new_application"),
    "zjtx_sme": ("little_giant", "new_application"),
    "little_giant": ("key_little_giant", "support"),
}


def _subset(bundle: BundleLike, usccs: pl.Series) -> BundleLike:
    return bundle.only(usccs.unique().to_list()) if hasattr(bundle, "only") else bundle


def _not_sme_flags(cur_rules: pl.DataFrame, bundle: BundleLike, as_of: date) -> pl.DataFrame:
    """kind `not_sme`: the firm is `large` under 工信部联企业〔2011〕300号 on last year's figures."""
    rules = cur_rules.filter(pl.col("rule_kind") == "not_sme")
    policy = get_policy(SME_SIZE_POLICY)
    if rules.is_empty() or not policy.in_force(as_of):
        return pl.DataFrame(schema=FLAG_SCHEMA)
    sizes = evaluate(policy, _subset(bundle, rules["uscc"]), as_of, detail=False)
    large = sizes.filter(pl.col("class") == "large").select("uscc", size_class="class")
    hits = rules.join(large, on="uscc", how="inner")
    return _emit(hits, "exit", pl.lit(None, pl.Date), pl.col("rule_id"),
                 _rule_evidence(size_class=pl.col("size_class"), policy=pl.lit(SME_SIZE_POLICY),
                                size_rule=pl.lit(f"{policy.document_no} ({SME_SIZE_POLICY})")),
                 severity=pl.col("rule_severity"))


def _in_jurisdiction(region_code: pl.Expr, jurisdiction: str) -> pl.Expr:
    row = jurisdictions().filter(pl.col("id") == jurisdiction)
    prefixes = [p for p in (row["region_codes"][0].split(";") if len(row) else []) if p]
    if jurisdiction == "cn":
        return pl.lit(True)
    if not prefixes:
        return pl.lit(False)
    return pl.any_horizontal([region_code.str.starts_with(p) for p in prefixes])


def firm_jurisdiction(region_code: pl.Expr) -> pl.Expr:
    """The most specific recognising jurisdiction of a firm's region code (a city with its own rules, else its
    province), `cn` when the code is unknown or missing: where policy_in_force starts the firm's chain."""
    return jurisdiction_expr(region_code, most_specific=True).fill_null("cn")


def rule_for(tier: str, jurisdiction: str, as_of: date, purpose: str = "new_application",
             policies: dict[str, Policy] | None = None) -> Policy | None:
    """policy_in_force for a firm of `jurisdiction` (its chain up to cn); None when no rule is in force
    (e.g. 重点“小巨人” after its last support period)."""
    try:
        return policy_in_force(tier, jurisdiction, as_of, purpose, policies)
    except UserError:
        return None


def promotion_policy(tier_held: str, jurisdiction: str, as_of: date,
                     policies: dict[str, Policy] | None = None) -> Policy | None:
    """The rule set a holder of `tier_held` in `jurisdiction` is judged on for the next rung (None: no next
    rung, or no rule in force for it that day)."""
    if tier_held not in PROMOTION:
        return None
    target, purpose = PROMOTION[tier_held]
    return rule_for(target, "cn" if purpose == "support" else jurisdiction, as_of, purpose, policies)


# The national ladder, lowest first: every tier with a next rung, then the top one.
LADDER = (*PROMOTION, *(target for target, _ in PROMOTION.values() if target not in PROMOTION))


def firm_rule(tiers_held: Iterable[str], jurisdiction: str, as_of: date, purpose: str = "new_application",
              policies: dict[str, Policy] | None = None) -> Policy | None:
    """The rule set that judges a firm by default (the firm page). new_application: the next rung above the
    highest tier held (what the promotion flags judge), the ladder's first rung for a firm that holds none;
    review (复核): the highest tier held, on the rule for its 复核 that day (工信厅企业函〔2026〕117号: the 2026
    小巨人 复核 on the 2022 standard)."""
    held = [t for t in LADDER if t in set(tiers_held)]
    if normalise_purpose(purpose) == "re_review":
        return rule_for(held[-1], jurisdiction, as_of, "re_review", policies) if held else None
    if not held:
        return rule_for(LADDER[0], jurisdiction, as_of, "new_application", policies)
    return promotion_policy(held[-1], jurisdiction, as_of, policies)


def promotion_targets() -> pl.DataFrame:
    """tier, target_tier: the next rung of each tier PROMOTION knows."""
    return pl.DataFrame([(t, target) for t, (target, _) in PROMOTION.items()],
                        schema={"tier": pl.String, "target_tier": pl.String}, orient="row")


PROMOTION_VERDICT_SCHEMA = {"uscc": pl.String, "tier": pl.String, "target_tier": pl.String, "policy": pl.String,
                            "class": pl.String, "score": pl.Float64}


def promotion_verdicts(holders: pl.DataFrame, bundle: BundleLike, as_of: date,
                       policies: dict[str, Policy] | None = None) -> pl.DataFrame:
    """Which holders the next tier's rule finds eligible: `holders` has uscc, tier (held) and region_code, one
    row per firm and tier held, without the firms that already hold the next tier. Each holder is judged on the
    rule set promotion_policy resolves for its jurisdiction on the date. Columns PROMOTION_VERDICT_SCHEMA, one
    row per eligible firm. Used by the `promotion` flags and by the pipeline page's "evaluate now", so that both
    say the same."""
    policies = policies if policies is not None else load_policies()
    placed = holders.filter(pl.col("tier").is_in(list(PROMOTION))).with_columns(
        jurisdiction=firm_jurisdiction(pl.col("region_code")))
    out = []
    # One resolution per tier held and jurisdiction; then one evaluation per rule set.
    by_rule: dict[tuple[str, str], list[str]] = {}
    for (tier, jurisdiction), group in placed.group_by("tier", "jurisdiction", maintain_order=True):
        policy = promotion_policy(tier, jurisdiction, as_of, policies)
        if policy is not None:
            by_rule.setdefault((tier, policy.id), []).extend(group["uscc"].to_list())
    for (tier, policy_id), usccs in by_rule.items():
        try:
            verdicts = evaluate(policies[policy_id], _subset(bundle, pl.Series(usccs)), as_of, detail=False)
        except UserError:  # the policy cannot judge this date (e.g. outside a batch window)
            continue
        out.append(verdicts.filter(pl.col("verdict") == "eligible").select(
            "uscc", pl.lit(tier).alias("tier"), pl.lit(PROMOTION[tier][0]).alias("target_tier"),
            pl.lit(policy_id).alias("policy"), "class", "score"))
    return pl.concat(out).cast(PROMOTION_VERDICT_SCHEMA) if out else pl.DataFrame(schema=PROMOTION_VERDICT_SCHEMA)


def _promotion_flags(in_force: pl.DataFrame, bundle: BundleLike, as_of: date,
                     policies: dict[str, Policy] | None = None) -> pl.DataFrame:
    """`promotion`: a holder of a tier, not holding the next one, whom the next tier's policy finds eligible."""
    holding_target = in_force.select("uscc", target_tier="tier").unique()
    holders = (in_force.join(promotion_targets(), on="tier")
               .join(holding_target, on=["uscc", "target_tier"], how="anti")
               .join(bundle.enterprises.select("uscc", "region_code"), on="uscc", how="left"))
    if holders.is_empty():
        return pl.DataFrame(schema=FLAG_SCHEMA)
    eligible = promotion_verdicts(holders.select("uscc", "tier", "region_code").unique(), bundle, as_of, policies)
    hits = holders.join(eligible.rename({"class": "target_class", "score": "target_score"}),
                        on=["uscc", "tier", "target_tier"], how="inner")
    if hits.is_empty():
        return pl.DataFrame(schema=FLAG_SCHEMA)
    known = policies if policies is not None else load_policies()
    titles = {pid: p.title_zh for pid, p in known.items()}
    sources = {pid: p.document_no for pid, p in known.items()}
    return _emit(hits, "promotion", pl.lit(None, pl.Date), pl.col("policy"),
                 {"target_tier": pl.col("target_tier"), "policy": pl.col("policy"),
                  "policy_title": pl.col("policy").replace_strict(titles, return_dtype=pl.String),
                  "class": pl.col("target_class"), "score": pl.col("target_score"),
                  "source": pl.col("policy").replace_strict(sources, return_dtype=pl.String)})


# ------------------------------------------------------------------------------------------------------------
# Everything together
# ------------------------------------------------------------------------------------------------------------

def next_reviews(cur: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """`cur` (from with_rules) + review_on: the next 复核 date on or after as_of (null when the rules have no 复核)."""
    return cur.with_columns(review_on=pl.when(pl.col("review_at_years").is_not_null()).then(_next_review(as_of)))


def _warning_flags(in_force: pl.DataFrame, bundle: BundleLike, as_of: date, missing: pl.DataFrame) -> pl.DataFrame:
    """`warning`: the early-warning rules of data/warnings (registry.warnings), one flag per rule and occurrence."""
    from registry.warnings import warning_hits  # it builds on this module's recognitions and missing reports

    hits = warning_hits(next_reviews(in_force, as_of), bundle, as_of, missing, _policy_breakpoints())
    evidence = pl.col("evidence")
    return hits.select(
        "uscc", pl.col("id").alias("recognition_id"), "tier", "jurisdiction", "batch", flag=pl.lit("warning"),
        severity="severity", due_on="due_on",
        key=pl.concat_str([pl.col("uscc"), pl.col("id").cast(pl.String), pl.lit("warning"), pl.col("occurrence")],
                          separator=":"),
        evidence=evidence)


def compute_flags(bundle: BundleLike, as_of: date, windows: FlagWindows | None = None,
                  resolver: LifecycleResolver = lifecycle_for, policies: dict[str, Policy] | None = None,
                  promotions: bool = True) -> pl.DataFrame:
    """All lifecycle flags on `as_of` (columns FLAG_SCHEMA; evidence is a JSON object string).

    `policies` (default: data/policies) decide promotions; `promotions=False` skips that evaluation.
    """
    windows = windows or FlagWindows()
    if isinstance(bundle, Bundle):
        # Once for the whole run: the anomalies, the size class and every promotion policy read them.
        bundle = with_annual_figures(bundle)
    cur, lifecycles = with_rules(current_recognitions(bundle.recognitions, as_of), resolver)
    parts = _date_flags(cur, as_of, windows)
    # Exit conditions and reporting duties concern recognitions still in force; an expired one is already
    # flagged critical and is for the official to close.
    in_force = cur.filter(pl.col("valid_until") >= as_of)
    cur_rules = in_force.join(_exit_rules_frame(lifecycles), on="lc", how="inner")
    missing = _missing_reports(in_force, lifecycles, bundle.reports, as_of)
    parts += [
        _exit_event_flags(cur_rules, bundle.events, as_of),
        _exit_listing_flags(cur_rules, bundle.enterprises, bundle.events, as_of),
        _exit_notification_flags(cur_rules, bundle.events, as_of),
        _exit_missing_reports_flags(cur_rules, missing),
        _not_sme_flags(cur_rules, bundle, as_of),
        _missing_report_flags(missing),
        *_info_update_flags(_missed_info_updates(in_force, lifecycles, bundle.enterprises, bundle.events, as_of)),
        *_anomaly_flags(in_force, bundle, as_of),
        _warning_flags(in_force, bundle, as_of, missing),
    ]
    if promotions:
        parts.append(_promotion_flags(in_force, bundle, as_of, policies))
    flags = pl.concat([p.select(list(FLAG_SCHEMA)).cast(FLAG_SCHEMA) for p in parts if not p.is_empty()]
                      or [pl.DataFrame(schema=FLAG_SCHEMA)])
    return flags.sort("uscc", "tier", "jurisdiction", "flag", "key")


def flag_records(flags: pl.DataFrame) -> list[dict[str, Any]]:
    """CONTRACT §4 objects: uscc, tier, jurisdiction, batch, flag, severity, due_on, evidence."""
    return [
        {"uscc": r["uscc"], "tier": r["tier"], "jurisdiction": r["jurisdiction"], "batch": r["batch"],
         "flag": r["flag"], "severity": r["severity"],
         "due_on": r["due_on"].isoformat() if r["due_on"] else None,
         "evidence": json.loads(r["evidence"])}
        for r in flags.iter_rows(named=True)
    ]
