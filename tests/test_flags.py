"""Lifecycle flags on hand-built recognitions: the date windows at their boundaries, renewals, revocations,
exit rules, missing reports and anomalies (pure polars, no database)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from registry.lifecycle import FlagWindows, compute_flags, current_recognitions, flag_records, missing_reports
from registry.policy import ExitRule, Lifecycle, ReportingObligation, Source
from registry.policy.bundle import Bundle

A = "91110000000000000A"  # shapes only: these tests never validate the USCC check digit
B = "91110000000000000B"
SRC = Source(doc="测试文件", lines="L1-2")


def rec(uscc=A, tier="little_giant", jurisdiction="cn", recognized_on=date(2021, 7, 15),
        valid_until=date(2024, 7, 14), status="active", id=1, batch="3"):
    return {"uscc": uscc, "tier": tier, "jurisdiction": jurisdiction, "batch": batch,
            "recognized_on": recognized_on, "valid_until": valid_until, "status": status, "id": id}


def bundle(recs, enterprises=None, reports=None, events=None) -> Bundle:
    ents = enterprises or [{"uscc": r["uscc"], "name": "x", "region_code": "110101"} for r in recs]
    return Bundle.of(
        enterprises=pl.DataFrame(ents),
        recognitions=pl.DataFrame(recs),
        reports=pl.DataFrame(reports) if reports else None,
        events=pl.DataFrame(events) if events else None,
    )


def default_rules(tier, jurisdiction, on):
    return Lifecycle()


def kinds(flags: pl.DataFrame) -> list[str]:
    return sorted(flags["flag"].to_list())


VALID_UNTIL = date(2024, 7, 14)


@pytest.mark.parametrize(("days_before", "expected"), [
    (181, []),
    (180, ["review_due"]),
    (91, ["review_due"]),
    (90, ["expiring", "review_due"]),
    (0, ["expiring", "review_due"]),
    (-1, ["expired"]),
    (-400, ["expired"]),
])
def test_date_windows_at_their_boundaries(days_before, expected):
    flags = compute_flags(bundle([rec()]), VALID_UNTIL - timedelta(days=days_before), resolver=default_rules)
    assert kinds(flags) == expected


def test_windows_come_from_settings():
    flags = compute_flags(bundle([rec()]), VALID_UNTIL - timedelta(days=60),
                          FlagWindows(review_due_days=30, expiring_days=60), resolver=default_rules)
    assert kinds(flags) == ["expiring"]


def test_severity_due_on_and_evidence_of_expired():
    flags = compute_flags(bundle([rec()]), VALID_UNTIL + timedelta(days=10), resolver=default_rules)
    [record] = flag_records(flags)
    assert set(record) == {"uscc", "tier", "jurisdiction", "batch", "flag", "severity", "due_on", "evidence"}
    assert record["severity"] == "critical"
    assert record["due_on"] == "2024-07-14"
    assert record["batch"] == "3"
    assert record["evidence"]["days_overdue"] == 10
    assert record["evidence"]["valid_until"] == "2024-07-14"
    assert record["evidence"]["source"]


def test_renewal_present_means_no_expiry_flags():
    renewal = rec(recognized_on=date(2024, 6, 1), valid_until=date(2027, 5, 31), id=2)
    old = rec(status="superseded")
    after = compute_flags(bundle([old, renewal]), VALID_UNTIL + timedelta(days=5), resolver=default_rules)
    assert after.is_empty()
    # Before the renewal existed, the old recognition was the live one and its windows were open.
    before = compute_flags(bundle([old, renewal]), date(2024, 5, 31), resolver=default_rules)
    assert kinds(before) == ["expiring", "review_due"]
    assert set(before["recognition_id"]) == {1}


def test_revoked_and_withdrawn_recognitions_raise_nothing():
    revoked = compute_flags(bundle([rec(status="revoked")]), VALID_UNTIL + timedelta(days=1), resolver=default_rules)
    assert revoked.is_empty()
    # A withdrawn renewal never happened: the original is still the live one, and has expired.
    withdrawn = rec(recognized_on=date(2024, 6, 1), valid_until=date(2027, 5, 31), id=2, status="withdrawn")
    flags = compute_flags(bundle([rec(), withdrawn]), VALID_UNTIL + timedelta(days=1), resolver=default_rules)
    assert kinds(flags) == ["expired"]


def test_missing_valid_until_is_derived_from_the_jurisdiction_rule():
    anniversary = rec(valid_until=None)
    year_end = rec(uscc=B, jurisdiction="cn-xj", valid_until=None, id=2)

    def rules(tier, jurisdiction, on):
        return Lifecycle(expiry="year_end") if jurisdiction == "cn-xj" else Lifecycle()

    cur = current_recognitions(bundle([anniversary, year_end]).recognitions, date(2022, 1, 1))
    flags = compute_flags(bundle([anniversary, year_end]), date(2024, 1, 1), resolver=rules)
    by_firm = {r["uscc"]: r for r in flag_records(flags)}
    assert len(cur) == 2
    assert by_firm[B]["flag"] == "expired"  # 31 Dec of the third year: 2023-12-31
    assert by_firm[B]["due_on"] == "2023-12-31"
    assert by_firm[B]["evidence"]["valid_until_derived"] is True
    on_anniversary_eve = compute_flags(bundle([anniversary]), date(2024, 7, 14), resolver=rules)
    assert kinds(on_anniversary_eve) == ["expiring", "review_due"]
    assert flag_records(on_anniversary_eve)[0]["due_on"] == "2024-07-14"


def test_no_review_rule_means_no_review_due():
    flags = compute_flags(bundle([rec()]), VALID_UNTIL - timedelta(days=30),
                          resolver=lambda *_: Lifecycle(review_at_years=None))
    assert kinds(flags) == ["expiring"]


HEBEI_LIKE = Lifecycle(
    exit_rules=[
        ExitRule(id="major_accident", label_zh="重大事故", label_en="major accident", kind="event",
                 event="major_accident", within_years=3, severity="critical", source=SRC),
        ExitRule(id="false_declaration", label_zh="虚假申报", label_en="false declaration", kind="event",
                 event="false_declaration", ban_years=3, severity="critical", source=SRC),
        ExitRule(id="rename_not_notified", label_zh="更名未报告", label_en="rename not notified",
                 kind="notification", event="rename", notify_within_days=30, severity="warning", source=SRC),
        ExitRule(id="listed_main_board", label_zh="主板上市", label_en="listed on a main board", kind="listing",
                 boards=["main"], severity="critical", source=SRC),
        ExitRule(id="missed_monthly", label_zh="一年内3次以上未报月报", label_en="3+ monthly reports missed",
                 kind="missing_reports", frequency="monthly", max_missing=2, per="year", severity="critical",
                 source=SRC),
    ],
    reporting=[ReportingObligation(frequency="monthly", due_day=10, what="月度运行数据", source=SRC)],
)


def hebei(*_):
    return HEBEI_LIKE


def exits(flags: pl.DataFrame) -> dict[str, dict]:
    return {r["evidence"]["reason"]: r for r in flag_records(flags) if r["flag"] == "exit"}


def test_event_exit_rules_respect_their_window():
    events = [
        {"uscc": A, "event": "major_accident", "occurred_on": date(2023, 3, 1), "detail": "安全事故"},
        {"uscc": B, "event": "major_accident", "occurred_on": date(2017, 3, 1)},  # > 3 years before recognition
        {"uscc": B, "event": "false_declaration", "occurred_on": date(2021, 1, 5)},  # no window: always
    ]
    recs = [rec(), rec(uscc=B, id=2)]
    flags = compute_flags(bundle(recs, events=events), date(2023, 6, 1), resolver=hebei)
    ex = {(r["uscc"], r["evidence"]["reason"]): r for r in flag_records(flags)
          if r["flag"] == "exit" and r["evidence"]["reason"] != "missed_monthly"}  # no reports in this test
    assert set(ex) == {(A, "major_accident"), (B, "false_declaration")}
    assert ex[(A, "major_accident")]["severity"] == "critical"
    assert ex[(A, "major_accident")]["evidence"]["occurred_on"] == "2023-03-01"
    assert ex[(B, "false_declaration")]["evidence"]["ban_years"] == 3
    # An event after the as-of date is not known yet.
    assert "major_accident" not in exits(compute_flags(bundle(recs, events=events), date(2023, 2, 1), resolver=hebei))


@pytest.mark.parametrize(("occurred", "notified", "as_of", "flagged"), [
    (date(2022, 3, 1), date(2022, 3, 31), date(2022, 6, 1), False),  # exactly 30 days: in time
    (date(2022, 3, 1), date(2022, 4, 1), date(2022, 6, 1), True),    # 31 days: late
    (date(2022, 3, 1), None, date(2022, 3, 31), False),              # not yet notified, window still open
    (date(2022, 3, 1), None, date(2022, 4, 1), True),                # not notified, window passed
    (date(2022, 3, 1), date(2022, 5, 1), date(2022, 3, 20), False),  # notified later than as_of: window open
    (date(2021, 3, 1), None, date(2022, 6, 1), False),               # before recognition: not this rule
])
def test_notification_window(occurred, notified, as_of, flagged):
    events = [{"uscc": A, "event": "rename", "occurred_on": occurred, "notified_on": notified}]
    flags = compute_flags(bundle([rec()], events=events), as_of, resolver=hebei)
    assert ("rename_not_notified" in exits(flags)) is flagged


def test_listing_on_a_main_board_by_enterprise_or_event():
    ents = [{"uscc": A, "name": "a", "region_code": "130102", "listing_board": "main"},
            {"uscc": B, "name": "b", "region_code": "130102", "listing_board": "star"}]
    events = [{"uscc": B, "event": "listing", "occurred_on": date(2022, 9, 1), "detail": "star"}]
    flags = compute_flags(bundle([rec(), rec(uscc=B, id=2)], enterprises=ents, events=events), date(2023, 1, 1),
                          resolver=hebei)
    listed = {r["uscc"] for r in flag_records(flags) if r["evidence"].get("reason") == "listed_main_board"}
    assert listed == {A}


def monthly_reports(uscc, year, months):
    return [{"uscc": uscc, "period": f"{year}-{m:02d}", "revenue": 100.0} for m in months]


def test_missing_monthly_reports_and_the_exit_rule():
    # Recognised mid-2021; as of 2023-01-15 the periods are Jan 2022 .. Dec 2022 (due 10 Jan 2023).
    reports = monthly_reports(A, 2022, [m for m in range(1, 13) if m not in (2, 5)]) + \
        monthly_reports(B, 2022, [m for m in range(1, 13) if m not in (2, 5, 9)])
    b = bundle([rec(), rec(uscc=B, id=2)], reports=reports)
    flags = compute_flags(b, date(2023, 1, 15), resolver=hebei)
    missing = {(r["uscc"], r["evidence"]["period"]) for r in flag_records(flags) if r["flag"] == "missing_report"}
    assert missing == {(A, "2022-02"), (A, "2022-05"), (B, "2022-02"), (B, "2022-05"), (B, "2022-09")}
    ex = {(r["uscc"], r["evidence"]["reason"]) for r in flag_records(flags) if r["flag"] == "exit"}
    assert ex == {(B, "missed_monthly")}  # 3 missed > max 2; A missed exactly 2
    # December's report is due on 10 Jan: on that day it is not yet late.
    on_due_day = missing_reports(bundle([rec()], reports=monthly_reports(A, 2022, range(1, 12))), date(2023, 1, 10),
                                 resolver=hebei)
    assert on_due_day.is_empty()
    late = missing_reports(bundle([rec()], reports=monthly_reports(A, 2022, range(1, 12))), date(2023, 1, 11),
                           resolver=hebei)
    assert late["period"].to_list() == ["2022-12"]
    assert late["report_due_on"].to_list() == [date(2023, 1, 10)]


def test_no_reporting_duty_before_recognition():
    recognised_late = rec(recognized_on=date(2022, 11, 20), valid_until=date(2025, 11, 19))
    late = missing_reports(bundle([recognised_late]), date(2023, 1, 11), resolver=hebei)
    assert late["period"].to_list() == ["2022-11", "2022-12"]


def annual(uscc, year, revenue, rd):
    return {"uscc": uscc, "period": str(year), "revenue": revenue, "rd_expense": rd}


def test_revenue_drop_anomaly_threshold_is_strict():
    reports = [annual(A, 2022, 20000.0, 1000.0), annual(A, 2023, 14000.0, 700.0),   # −30%: not more than 30
               annual(B, 2022, 20000.0, 1000.0), annual(B, 2023, 13900.0, 695.0)]   # −30.5%
    flags = compute_flags(bundle([rec(), rec(uscc=B, id=2)], reports=reports), date(2024, 1, 2),
                          resolver=default_rules)
    anomalies = [r for r in flag_records(flags) if r["flag"] == "anomaly"]
    assert [(r["uscc"], r["evidence"]["reason"]) for r in anomalies] == [(B, "revenue_drop")]
    assert anomalies[0]["evidence"]["change_pct"] == -30.5
    assert anomalies[0]["severity"] == "warning"


def test_rd_ratio_falling_below_the_tier_threshold():
    reports = [annual(A, 2022, 20000.0, 700.0), annual(A, 2023, 20000.0, 580.0),   # 3.5% → 2.9% (a类 3%)
               annual(B, 2022, 20000.0, 500.0), annual(B, 2023, 20000.0, 400.0)]   # 2.5% → 2.0%: never met
    flags = compute_flags(bundle([rec(), rec(uscc=B, id=2)], reports=reports), date(2024, 3, 1),
                          resolver=default_rules)
    anomalies = [r for r in flag_records(flags) if r["flag"] == "anomaly"]
    assert [(r["uscc"], r["evidence"]["reason"]) for r in anomalies] == [(A, "rd_below_threshold")]
    assert anomalies[0]["evidence"]["threshold_pct"] == 3.0
    assert "79号" in anomalies[0]["evidence"]["source"]


def test_keys_are_stable_and_distinct():
    b = bundle([rec(), rec(uscc=B, id=2)])
    first = compute_flags(b, date(2024, 6, 1), resolver=default_rules)
    again = compute_flags(b, date(2024, 6, 2), resolver=default_rules)
    assert first["key"].to_list() == again["key"].to_list()
    assert first["key"].n_unique() == len(first)


def test_a_revocation_counts_from_its_date():
    revoked_later = {**rec(status="revoked"), "ended_on": date(2024, 8, 1)}
    assert kinds(compute_flags(bundle([revoked_later]), date(2024, 7, 20), resolver=default_rules)) == ["expired"]
    assert compute_flags(bundle([revoked_later]), date(2024, 8, 1), resolver=default_rules).is_empty()


# --- judged by the policy engine with the real policies (data/policies) -------------------------------------

def test_promotion_when_the_next_tiers_policy_finds_the_firm_eligible():
    from builders import bundle as firms_bundle
    from builders import little_giant_2020

    ready = little_giant_2020(1).but(recognitions=[("zjtx_sme", "cn-bj", date(2020, 1, 1))])
    weak = little_giant_2020(2).with_year(2020, rd_expense=100.0).but(
        recognitions=[("zjtx_sme", "cn-bj", date(2020, 1, 1))])
    holder = little_giant_2020(3).but(recognitions=[("zjtx_sme", "cn-bj", date(2020, 1, 1)),
                                                    ("little_giant", "cn", date(2020, 12, 1))])
    flags = compute_flags(firms_bundle(ready, weak, holder), date(2021, 5, 1))
    promotions = [r for r in flag_records(flags) if r["flag"] == "promotion"]
    assert [(r["uscc"], r["tier"]) for r in promotions] == [(ready.uscc, "zjtx_sme")]
    [p] = promotions
    assert p["severity"] == "info" and p["due_on"] is None
    assert p["evidence"]["target_tier"] == "little_giant"
    assert p["evidence"]["policy"] == "cn/little-giant/2021"
    assert p["evidence"]["class"] == "a"


def test_exit_when_a_little_giant_grows_into_a_large_enterprise():
    from builders import bundle as firms_bundle
    from builders import little_giant_2020

    big = little_giant_2020(4).with_year(2020, employees=1500.0, revenue=60000.0).but(
        recognitions=[("little_giant", "cn", date(2019, 7, 1))])
    small = little_giant_2020(5).but(recognitions=[("little_giant", "cn", date(2019, 7, 1))])
    flags = compute_flags(firms_bundle(big, small), date(2021, 5, 1))
    grown = [r for r in flag_records(flags) if r["flag"] == "exit" and r["evidence"]["reason"] == "grown_large"]
    assert [r["uscc"] for r in grown] == [big.uscc]
    assert grown[0]["evidence"]["size_class"] == "large"
    assert "79号" in grown[0]["evidence"]["source"]


def test_bucketed_rule_lookup_gives_what_lifecycle_for_gives_day_by_day():
    from registry.lifecycle import with_rules
    from registry.policy import lifecycle_for

    days = pl.date_range(date(2020, 12, 1), date(2022, 3, 1), "3d", eager=True)
    combos = [("zjtx_sme", "cn-xj"), ("zjtx_sme", "cn-he"), ("little_giant", "cn"), ("hb_little_giant", "cn-hb"),
              ("zjtx_sme", "cn-zj")]
    recs = pl.DataFrame([
        {"uscc": f"{i:018d}", "tier": t, "jurisdiction": j, "recognized_on": d, "valid_until": None, "id": i}
        for i, ((t, j), d) in enumerate((c, d) for c in combos for d in days)
    ], schema_overrides={"valid_until": pl.Date})
    bucketed, _ = with_rules(recs, lifecycle_for)
    daily, _ = with_rules(recs, lambda t, j, on: lifecycle_for(t, j, on))  # not bucketed: one call per day
    cols = ["id", "valid_until", "expiry", "validity_years", "review_at_years", "rule_source"]
    assert bucketed.sort("id").select(cols).equals(daily.sort("id").select(cols))
    assert bucketed["expiry"].n_unique() == 2  # Xinjiang's year-end rule is among them


def test_a_recognition_closed_as_expired_by_an_official_stops_flagging():
    closed = {**rec(status="expired"), "ended_on": date(2024, 8, 1)}
    assert kinds(compute_flags(bundle([closed]), date(2024, 7, 20), resolver=default_rules)) == ["expired"]
    assert compute_flags(bundle([closed]), date(2024, 8, 2), resolver=default_rules).is_empty()


def test_hainan_monthly_reporting_rule_from_the_real_policy_file():
    hainan = rec(tier="zjtx_sme", jurisdiction="cn-hi", recognized_on=date(2022, 1, 1), valid_until=None)
    reports = monthly_reports(A, 2022, range(1, 10))  # January to September; October-December missed
    flags = compute_flags(bundle([hainan], reports=reports), date(2023, 1, 11), promotions=False)
    records = flag_records(flags)
    missing = sorted(r["evidence"]["period"] for r in records if r["flag"] == "missing_report")
    assert missing == ["2022-10", "2022-11", "2022-12"]
    [exit_flag] = [r for r in records if r["flag"] == "exit"]
    assert exit_flag["evidence"]["reason"] == "missed_monthly_reports"
    assert exit_flag["evidence"]["missed"] == 3 and exit_flag["evidence"]["year"] == 2022
    # Two missed months is within the rule.
    fewer = compute_flags(bundle([hainan], reports=monthly_reports(A, 2022, range(1, 11))), date(2023, 1, 11),
                          promotions=False)
    assert "exit" not in fewer["flag"].to_list()


def test_reviews_more_frequent_than_validity_recur():
    # Beijing-like yearly 复评 within a 3-year validity: a window before each anniversary eve, then the end.
    rules = Lifecycle(validity_years=3, review_at_years=1)
    r = rec(valid_until=None)  # recognised 2021-07-15, valid until 2024-07-14

    def review(on):
        return [(f["due_on"], f["evidence"]["days_to_review"])
                for f in flag_records(compute_flags(bundle([r]), on, resolver=lambda *_: rules))
                if f["flag"] == "review_due"]

    assert review(date(2022, 7, 14) - timedelta(days=181)) == []
    assert review(date(2022, 7, 14) - timedelta(days=180)) == [("2022-07-14", 180)]
    assert review(date(2022, 7, 14)) == [("2022-07-14", 0)]
    assert review(date(2022, 7, 15)) == []  # next one 2023-07-14 is 364 days away
    assert review(date(2023, 1, 15)) == [("2023-07-14", 180)]
    assert review(date(2024, 3, 1)) == [("2024-07-14", 135)]


def test_review_at_years_longer_than_the_window_waits_for_the_end_of_validity():
    rules = Lifecycle(validity_years=5, review_at_years=3)
    r = rec(valid_until=None)  # valid until 2026-07-14, 复核 at 2024-07-14
    flags = flag_records(compute_flags(bundle([r]), date(2024, 7, 14) - timedelta(days=180),
                                       resolver=lambda *_: rules))
    assert [(f["flag"], f["due_on"]) for f in flags] == [("review_due", "2024-07-14")]
    assert compute_flags(bundle([r]), date(2025, 1, 1), resolver=lambda *_: rules).is_empty()


@pytest.mark.parametrize(("start", "expiry", "years", "last"), [
    (date(2021, 7, 19), "anniversary", 3, date(2024, 7, 18)),
    (date(2024, 2, 29), "anniversary", 3, date(2027, 2, 28)),   # no 29 Feb in 2027: runs to the end of February
    (date(2023, 3, 1), "anniversary", 1, date(2024, 2, 29)),
    (date(2021, 5, 10), "year_end", 3, date(2023, 12, 31)),
])
def test_valid_until_has_one_definition_used_by_flags_ingest_and_renewals(start, expiry, years, last):
    """Lifecycle.last_valid_day is the rule; the vectorised flags path derives the same date for a blank valid_until."""
    from registry.lifecycle import with_rules
    from registry.policy.schema import Lifecycle

    lifecycle = Lifecycle(validity_years=years, expiry=expiry)
    assert lifecycle.last_valid_day(start) == last
    recs = pl.DataFrame({"tier": ["t"], "jurisdiction": ["cn"], "recognized_on": [start],
                         "valid_until": pl.Series([None], dtype=pl.Date)})
    out, _ = with_rules(recs, resolver=lambda tier, jurisdiction, on: lifecycle)
    assert out["valid_until"].to_list() == [last]


def test_the_flags_summary_names_each_kind_once_with_its_severities():
    from cli.flags import summary_text

    flags = pl.DataFrame({"flag": ["exit", "exit", "exit", "expired", "review_due"],
                          "severity": ["critical", "warning", "critical", "critical", "info"]})
    assert summary_text(flags) == ("触发退出条件 exit: 3 (critical 2, warning 1), 已到期 expired: 1, "
                                   "待复核 review_due: 1")


def test_rd_bands_come_from_the_policy_files():
    # 工信厅企业函〔2021〕79号 L918-930: a类 营业收入1亿元及以上 研发占比不低于3%, b类 5000万元（含）—1亿元（不含）不低于6%;
    # 财建〔2021〕2号 L429-431: 重点小巨人 4%以上, whatever the revenue. Revenue in 万元.
    from registry.lifecycle import rd_bands
    from registry.policy import get_policy

    little = {(b["band_low"], b["band_high"], b["rd_min"]) for b in rd_bands(get_policy("cn/little-giant/2021"))}
    key = {(b["band_low"], b["band_high"], b["rd_min"]) for b in rd_bands(get_policy("cn/key-little-giant/2021"))}
    assert little == {(10000.0, None, 3.0), (5000.0, 10000.0, 6.0)}
    assert key == {(0.0, None, 4.0)}
