"""Lifecycle duties of the 2022/2026 national rules, each at its deadline (the day before, the day, the day after),
read from a database on both engines:

- the yearly information update (年度信息更新), due 30 April (63号 practice) or 31 May for firms of a province whose
  rule says so, with that province's consequence (two missed updates in one validity period → exit);
- 更名/重组/迁移 reported within 3 calendar months (a `missing_report` naming the duty when late);
- 注销 / 吊销 / 破产 end a recognition whatever its policy lists.

Expected flags are worked out by hand from the dates written here.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from builders import enterprise_row, insert_rows, recognition_row

from registry.lifecycle import compute_flags
from registry.models import Enterprise, Event, Recognition
from registry.policy import ExitRule, Lifecycle, Source, load_bundle
from registry.policy.schema import InfoUpdate, InfoUpdateVariant

SRC = Source(doc="工信部企业〔2022〕63号", part="测试")
ZJ = Source(doc="浙经信企业〔2026〕108号", part="测试")
RULES = Lifecycle(
    validity_years=3,
    info_update=InfoUpdate(what="年度信息更新 / yearly information update", due_month=4, due_day=30, source=SRC,
                           variants=[InfoUpdateVariant(jurisdiction="cn-zj", due_month=5, due_day=31, max_missed=2,
                                                       source=ZJ)]),
    exit_rules=[ExitRule(id=f"{e}_not_reported", label_zh="3个月内未报告", label_en="not reported within 3 months",
                         kind="notification", event=e, notify_within_months=3, flag="missing_report",
                         severity="warning", source=SRC) for e in ("rename", "restructure", "relocation")],
)

RECOGNIZED, VALID_UNTIL = date(2023, 6, 1), date(2026, 5, 31)
# key: (region, events as (event, occurred_on, notified_on))
FIRMS = {
    "GD": ("440300", [("info_update", date(2024, 3, 1), None)]),  # 2024 done, 2025 missed
    "GD_LATE": ("440300", [("info_update", date(2024, 5, 15), None)]),  # after 30 April: does not count
    "ZJ": ("330100", []),  # never updates: 2024 and 2025 missed → exit
    "ZJ_MAY": ("330100", [("info_update", date(2024, 5, 15), None), ("info_update", date(2025, 5, 31), None)]),
    "RENAMED": ("440300", [("rename", date(2025, 1, 31), date(2025, 4, 30)), ("info_update", date(2024, 1, 5), None),
                           ("info_update", date(2025, 1, 5), None)]),
    "MOVED": ("440300", [("relocation", date(2025, 1, 31), date(2025, 5, 1)), ("info_update", date(2024, 1, 5), None),
                         ("info_update", date(2025, 1, 5), None)]),
    "SILENT": ("440300", [("restructure", date(2025, 1, 31), None), ("info_update", date(2024, 1, 5), None),
                          ("info_update", date(2025, 1, 5), None)]),
    "GONE": ("440300", [("deregistration", date(2025, 3, 10), None)]),
    "BROKE": ("440300", [("bankruptcy", date(2025, 3, 10), None)]),
    "LICENCE": ("440300", [("revocation_of_licence", date(2025, 3, 10), None)]),
}


def uscc(key: str) -> str:
    return f"91{FIRMS[key][0]}{key:_<8}X"[:18]


@pytest.fixture
def registry(engine):
    enterprises, recognitions, events = [], [], []
    for n, (key, (region, evs)) in enumerate(FIRMS.items(), start=1):
        name = f"生命周期{key}有限公司"
        enterprises.append(enterprise_row(uscc(key), name, region, id=n, industry_code="C35",
                                          founded_on=date(2010, 1, 1)))
        recognitions.append(recognition_row(n, "zjtx_sme", f"cn-{'zj' if region[:2] == '33' else 'gd'}", RECOGNIZED,
                                            VALID_UNTIL, batch="2023"))
        events += [{"enterprise_id": n, "event": e, "occurred_on": on, "notified_on": notified, "detail": None}
                   for e, on, notified in evs]
    with engine.begin() as conn:
        insert_rows(conn, Enterprise.__table__, enterprises)
        insert_rows(conn, Recognition.__table__, recognitions)
        insert_rows(conn, Event.__table__, events)
    return engine


def flags_on(engine, day: date) -> dict[str, list[tuple[str, str]]]:
    """key → sorted (flag, reason) pairs on `day` (reason: the year or rule the flag names)."""
    flags = compute_flags(load_bundle(engine), day, resolver=lambda tier, jurisdiction, on: RULES, promotions=False)
    back = {uscc(k): k for k in FIRMS}
    out: dict[str, list[tuple[str, str]]] = {}
    for row in flags.filter(flags["flag"].is_in(["missing_report", "exit"])).iter_rows(named=True):
        evidence = json.loads(row["evidence"])
        reason = str(evidence.get("year") or evidence.get("reason"))
        out.setdefault(back[row["uscc"]], []).append((row["flag"], reason))
    return {k: sorted(v) for k, v in out.items()}


def test_the_yearly_update_is_due_on_30_april(registry):
    # 2024: the first year after recognition (2023-06-01). On the deadline nothing is missed yet.
    on_deadline = flags_on(registry, date(2024, 4, 30))
    assert "GD" not in on_deadline and "GD_LATE" not in on_deadline
    after = flags_on(registry, date(2024, 5, 1))
    assert "GD" not in after  # updated 2024-03-01
    assert after["GD_LATE"] == [("missing_report", "2024")]
    assert flags_on(registry, date(2025, 5, 1))["GD"] == [("missing_report", "2025")]


def test_a_province_with_its_own_deadline_and_consequence(registry):
    assert "ZJ" not in flags_on(registry, date(2024, 5, 31))  # Zhejiang: by 31 May
    assert flags_on(registry, date(2024, 6, 1))["ZJ"] == [("missing_report", "2024")]  # one missed: no exit yet
    assert "ZJ_MAY" not in flags_on(registry, date(2024, 6, 1))  # 15 May is in time in Zhejiang
    assert flags_on(registry, date(2025, 5, 31))["ZJ"] == [("missing_report", "2024")]
    second = flags_on(registry, date(2025, 6, 1))
    assert second["ZJ"] == [("exit", "info_update_missed"), ("missing_report", "2024"), ("missing_report", "2025")]
    assert "ZJ_MAY" not in second  # updated on the deadline day
    # The national default has no exit for missed updates: GD_LATE and GD missed 2024/2025 without one.
    assert all(flag != "exit" for flag, _ in second.get("GD", []))


def test_the_2026_update_is_not_owed_after_the_validity_ends(registry):
    # valid until 2026-05-31: the 2026 deadline (30 April) is inside it, and is owed.
    assert ("missing_report", "2026") in flags_on(registry, date(2026, 5, 1))["GD"]


def test_a_change_is_reported_within_three_calendar_months(registry):
    # Occurred 2025-01-31 → deadline 2025-04-30 (three months on, the end of a shorter month).
    assert "RENAMED" not in flags_on(registry, date(2025, 5, 2))  # reported on the deadline day
    assert flags_on(registry, date(2025, 5, 2))["MOVED"] == [("missing_report", "relocation_not_reported")]  # reported a day late
    assert "SILENT" not in flags_on(registry, date(2025, 4, 30))
    late = compute_flags(load_bundle(registry), date(2025, 5, 1), resolver=lambda *_: RULES, promotions=False)
    silent = late.filter(late["uscc"] == uscc("SILENT"), late["flag"] == "missing_report")
    assert silent.height == 1
    evidence = json.loads(silent["evidence"][0])
    assert evidence["reason"] == "restructure_not_reported" and evidence["deadline"] == "2025-04-30"
    assert "未报告" in evidence["rule"] and silent["due_on"][0] == date(2025, 4, 30)


@pytest.mark.parametrize("key,event", [("GONE", "deregistration"), ("BROKE", "bankruptcy"),
                                       ("LICENCE", "revocation_of_licence")])
def test_the_firm_ceasing_to_exist_ends_the_recognition(registry, key, event):
    def exits(day: date) -> list[tuple[str, str]]:
        return [f for f in flags_on(registry, day).get(key, []) if f[0] == "exit"]

    assert exits(date(2025, 3, 9)) == []
    assert exits(date(2025, 3, 10)) == [("exit", f"ceased_{event}")]


def test_the_chase_list_names_the_latest_missed_update(registry):
    from registry.reminders import reminder_list

    rows = reminder_list(load_bundle(registry), date(2025, 6, 1), resolver=lambda *_: RULES)
    updates = {r["uscc"]: r for r in rows.filter(rows["frequency"] == "info_update").iter_rows(named=True)}
    # GD and GD_LATE missed 2025 (30 April); ZJ missed 2025 (31 May): the latest year each, once.
    assert {k: updates[uscc(k)]["period"] for k in ("GD", "GD_LATE", "ZJ")} == {"GD": "2025", "GD_LATE": "2025",
                                                                                "ZJ": "2025"}
    assert updates[uscc("ZJ")]["report_due_on"] == date(2025, 5, 31)
    assert updates[uscc("GD")]["frequency_zh"] == "年度信息更新"
    assert uscc("ZJ_MAY") not in updates and uscc("RENAMED") not in updates


# ---------------------------------------------------------------- the policy files' own lifecycle blocks


def test_the_2022_files_carry_the_duties(registry):
    """Recognised on 2023-06-01, the firms follow 63号's lifecycle (cn/zjtx-sme/2022, which replaced the provincial
    2021 rules): 30 April everywhere, Zhejiang's 2026 rule (31 May, exit after two misses) does not reach them."""
    def real(day: date) -> dict[str, list[tuple[str, str]]]:
        flags = compute_flags(load_bundle(registry), day, promotions=False)
        back = {uscc(k): k for k in FIRMS}
        out: dict[str, list[tuple[str, str]]] = {}
        for row in flags.filter(flags["flag"].is_in(["missing_report", "exit"])).iter_rows(named=True):
            evidence = json.loads(row["evidence"])
            out.setdefault(back[row["uscc"]], []).append((row["flag"], str(evidence.get("year") or evidence["reason"])))
        return {k: sorted(v) for k, v in out.items()}

    assert "ZJ" not in real(date(2024, 4, 30))
    assert real(date(2024, 5, 1))["ZJ"] == [("missing_report", "2024")]
    assert real(date(2025, 6, 1))["ZJ"] == [("missing_report", "2024"), ("missing_report", "2025")]  # no exit
    assert real(date(2025, 5, 2))["MOVED"] == [("missing_report", "relocation_not_reported")]
    assert "RENAMED" not in real(date(2025, 5, 2))
    assert ("exit", "ceased_deregistration") in real(date(2025, 3, 10))["GONE"]


def test_a_zhejiang_title_under_the_2026_rules(engine):
    """Recognised by Zhejiang on 2026-05-01 (cn/zjtx-sme/2026, variant cn-zj): the 2027 update is due on 31 May;
    two missed updates (2027, 2028) end the recognition."""
    with engine.begin() as conn:
        insert_rows(conn, Enterprise.__table__, [enterprise_row(
            "91330100ZJ2026000X", "浙江二〇二六有限公司", "330100", id=1, industry_code="C35", founded_on=date(2010, 1, 1))])
        insert_rows(conn, Recognition.__table__, [
            recognition_row(1, "zjtx_sme", "cn-zj", date(2026, 5, 1), None, batch="2026")])

    def duties(day: date) -> list[tuple[str, str]]:
        flags = compute_flags(load_bundle(engine), day, promotions=False)
        return sorted((r["flag"], str(json.loads(r["evidence"]).get("year") or json.loads(r["evidence"])["reason"]))
                      for r in flags.filter(flags["flag"].is_in(["missing_report", "exit"])).iter_rows(named=True))

    assert duties(date(2027, 5, 31)) == []
    assert duties(date(2027, 6, 1)) == [("missing_report", "2027")]
    assert duties(date(2028, 6, 1)) == [("exit", "info_update_missed"), ("missing_report", "2027"),
                                        ("missing_report", "2028")]
