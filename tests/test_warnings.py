"""Early-warning rules (data/warnings/early-warning.yaml) at their thresholds: revenue down 19.9 % vs 20 %, one
quarter vs two; R&D intensity and debt ratio against the standard of the firm's next 复核 (the 2022 小巨人 rules for a
复核 in 2026, the 2026 rules for one in 2027 — numbers read from the policy texts, cited below); reports missing.
In memory and through the flags job on both engines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from registry.access import SYSTEM
from registry.errors import UserError
from registry.flag_store import store_flags
from registry.lifecycle import compute_flags, flag_records
from registry.models import Flag, Report
from registry.policy import Lifecycle, ReportingObligation, Source
from registry.review import evidence_text, review_queue
from registry.settings import Settings
from registry.warnings import load_warning_rules
from tests.test_flags import A, B, bundle, rec
from tests.test_jobs_functions import add_firm, add_recognition


def no_rules(*_):
    return Lifecycle()


def warnings_of(flags) -> dict[tuple[str, str], dict]:
    return {(r["uscc"], r["evidence"]["rule"]): r for r in flag_records(flags) if r["flag"] == "warning"}


def quarters(uscc, values: dict[str, float], basis="period"):
    return [{"uscc": uscc, "period": p, "basis": basis, "revenue": v} for p, v in values.items()]


# Recognised 2023-07-15: valid, and due for 复核, until 2026-07-14. As of 2026-01-15 the last quarter is 2025Q4.
RECOGNISED_2023 = {"recognized_on": date(2023, 7, 15), "valid_until": date(2026, 7, 14)}
BASE = {"2024Q3": 1000.0, "2024Q4": 1000.0}


@pytest.mark.parametrize(("q3", "q4", "warned"), [
    (800.0, 800.0, True),     # −20 % and −20 %: "down 20 % or more" includes 20
    (801.0, 800.0, False),    # −19.9 % in one of the two quarters
    (1000.0, 800.0, False),   # one quarter down, not two
    (800.0, 1000.0, False),   # the earlier one down, the latest recovered
])
def test_revenue_decline_at_its_thresholds(q3, q4, warned):
    reports = quarters(A, {**BASE, "2025Q3": q3, "2025Q4": q4})
    flags = compute_flags(bundle([rec(**RECOGNISED_2023)], reports=reports), date(2026, 1, 15), resolver=no_rules,
                          promotions=False)
    hit = warnings_of(flags).get((A, "revenue_decline"))
    assert (hit is not None) == warned
    if warned:
        assert hit["severity"] == "warning"
        assert hit["evidence"]["quarters"] == ["2025Q3", "2025Q4"]
        assert hit["evidence"]["change_pct"] == [-20.0, -20.0]
        assert "连续2个季度" in hit["evidence"]["text_zh"] and "2 consecutive quarters" in hit["evidence"]["text_en"]
        assert hit["due_on"] == "2025-12-31"


def test_revenue_decline_from_year_to_date_reports():
    # 本年累计: Q3 alone = ytd Q3 − ytd Q2. 2024: 500, 1000 → Q3 500; 2025: 400, 800 → Q3 400 (−20 %); Q4 likewise.
    ytd = quarters(A, {"2024Q2": 500.0, "2024Q3": 1000.0, "2024Q4": 1500.0,
                       "2025Q2": 400.0, "2025Q3": 800.0, "2025Q4": 1200.0}, basis="ytd")
    flags = compute_flags(bundle([rec(**RECOGNISED_2023)], reports=ytd), date(2026, 1, 15), resolver=no_rules,
                          promotions=False)
    assert warnings_of(flags)[(A, "revenue_decline")]["evidence"]["change_pct"] == [-20.0, -20.0]


def year_figures(uscc, year, revenue, rd, assets, liabilities):
    return {"uscc": uscc, "period": str(year), "revenue": revenue, "rd_expense": rd,
            "total_assets": assets, "total_liabilities": liabilities}


def test_rd_and_debt_against_the_standard_of_the_next_review():
    # A: 复核 on 2027-07-14 → 工信部企业〔2026〕2号 附件2: R&D ≥ 3 % each year, debt ratio ≤ 75 %.
    # B: 复核 on 2026-07-14 → the 2022 小巨人 rules (工信部企业〔2022〕63号 / 117号): debt ratio ≤ 70 %.
    a = rec(recognized_on=date(2024, 7, 15), valid_until=date(2027, 7, 14))
    b = rec(uscc=B, id=2, **RECOGNISED_2023)
    reports = [year_figures(A, 2025, 10000.0, 299.0, 1000.0, 751.0),   # 2.99 % < 3 %; 75.1 % > 75 %
               year_figures(B, 2025, 10000.0, 300.0, 1000.0, 710.0)]   # 3 % meets 3 %; 71 % > 70 % (not > 75)
    found = warnings_of(compute_flags(bundle([a, b], reports=reports), date(2026, 3, 1), resolver=no_rules,
                                      promotions=False))
    assert set(found) == {(A, "rd_below_review_standard"), (A, "debt_above_review_standard"),
                          (B, "debt_above_review_standard")}
    rd = found[(A, "rd_below_review_standard")]["evidence"]
    assert (rd["actual_pct"], rd["threshold_pct"], rd["policy"]) == (2.99, 3.0, "cn/little-giant/2026")
    assert rd["review_on"] == "2027-07-14" and "2.99%" in rd["text_zh"]
    assert found[(A, "debt_above_review_standard")]["evidence"]["threshold_pct"] == 75.0
    debt_b = found[(B, "debt_above_review_standard")]["evidence"]
    assert (debt_b["threshold_pct"], debt_b["policy"]) == (70.0, "cn/little-giant/2022")


def test_at_the_thresholds_nothing_is_raised():
    a = rec(recognized_on=date(2024, 7, 15), valid_until=date(2027, 7, 14))
    reports = [year_figures(A, 2025, 10000.0, 300.0, 1000.0, 750.0)]   # exactly 3 % and exactly 75 %
    found = warnings_of(compute_flags(bundle([a], reports=reports), date(2026, 3, 1), resolver=no_rules,
                                      promotions=False))
    assert found == {}


MONTHLY = Lifecycle(reporting=[ReportingObligation(frequency="monthly", due_day=10, what="月度运行数据",
                                                   source=Source(doc="测试", lines="L1"))])


@pytest.mark.parametrize(("missed", "warned"), [((2,), False), ((2, 5), True)])
def test_reports_missing_reuses_the_missing_report_computation(missed, warned):
    reports = [{"uscc": A, "period": f"2025-{m:02d}", "revenue": 100.0} for m in range(1, 13) if m not in missed]
    flags = compute_flags(bundle([rec(**RECOGNISED_2023)], reports=reports), date(2026, 1, 15),
                          resolver=lambda *_: MONTHLY, promotions=False)
    missing = sorted(r["evidence"]["period"] for r in flag_records(flags) if r["flag"] == "missing_report")
    assert missing == [f"2025-{m:02d}" for m in missed]
    hit = warnings_of(flags).get((A, "reports_missing"))
    assert (hit is not None) == warned
    if warned:
        assert hit["evidence"]["periods"] == missing and hit["evidence"]["missing"] == 2


def test_a_bad_rules_file_is_refused_with_the_field(tmp_path: Path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - {id: r1, kind: revenue_decline, label_zh: x, label_en: x}\n", encoding="utf-8")
    with pytest.raises(UserError, match="decline_pct"):
        load_warning_rules(bad)


def test_the_flags_job_stores_warnings(engine):
    # Three firms: −20 % in both quarters (warned); −19.9 % in the latest; −20 % in the latest quarter only.
    plans = {"both": (800.0, 800.0), "just_under": (800.0, 801.0), "one_quarter": (1000.0, 800.0)}
    firms = {}
    with Session(engine) as s:
        for key, (q3, q4) in plans.items():
            firm = add_firm(s)
            add_recognition(s, firm, date(2023, 7, 15), date(2026, 7, 14))
            for period, value in {**BASE, "2025Q3": q3, "2025Q4": q4}.items():
                s.add(Report(enterprise_id=firm.id, period=period, period_type="quarterly", year=int(period[:4]),
                             period_end=date(int(period[:4]), 12, 31), revenue=value))
            firms[key] = firm.id
        s.commit()
    store_flags(engine, date(2026, 1, 15), Settings(), resolver=no_rules)
    with Session(engine) as s:
        [warning] = s.exec(select(Flag).where(Flag.kind == "warning")).all()
    assert warning.enterprise_id == firms["both"]
    assert warning.severity == "warning" and warning.resolved_on is None
    assert warning.evidence["rule"] == "revenue_decline"
    assert warning.evidence["change_pct"] == [-20.0, -20.0]
    # Recomputed on the same day: kept, not reopened.
    again = store_flags(engine, date(2026, 1, 15), Settings(), resolver=no_rules)
    assert again["opened"] == 0
    # The review queue shows it, with its rule and its evidence in words.
    queue = review_queue(SYSTEM, flag="warning", engine=engine).with_columns(evidence_text=evidence_text())
    [row] = queue.iter_rows(named=True)
    assert row["rule"] == "营业收入连续两个季度同比下降20%以上"
    assert row["evidence_text"].startswith("2025Q3、2025Q4营业收入同比分别变动-20.0%、-20.0%")
    assert "/ revenue year on year in 2025Q3, 2025Q4" in row["evidence_text"]
