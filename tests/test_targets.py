"""registry.targets on SQLite and PostgreSQL: firm 目标表 attainment with hand-made firms, regional targets against
the hand-made registry of tests/analytics_registry.py. Expected values are worked out by hand in the comments."""

from __future__ import annotations

import random
from datetime import date

import polars as pl
import pytest
import sqlalchemy as sa
from analytics_registry import insert_registry
from builders import enterprise_row, fix_sequences, insert_rows, report_row

from registry import pipeline, targets
from registry.access import SYSTEM, Principal
from registry.identity import make_uscc
from registry.models import Attribute, Enterprise, FirmTarget, RegionalTarget, Report

# K1: start 2021 (year 1 = 2022, year 2 = 2023), figures for 2022 and 2023.
# K2: start 2021, 2022 figures, 2023 only assets/liabilities (no revenue). K3: start 2022. K4: start 2023.
K_FIRMS = {11: "440305", 12: "440305", 13: "330212", 14: "110108"}
REPORTS = [
    # firm, year, revenue, main_revenue, rd_expense, export_value, invention_patents, total_assets, liabilities
    (11, 2022, 10000.0, 8000.0, 550.0, 600.0, 11.0, 10000.0, 5500.0),
    (11, 2023, 10000.0, 8800.0, 650.0, 800.0, 13.0, 10000.0, 4800.0),
    (12, 2022, 10000.0, 9000.0, 450.0, None, None, 10000.0, 5800.0),
    (12, 2023, None, None, None, None, None, 10000.0, 5600.0),
    (13, 2023, 10000.0, 9000.0, 550.0, None, None, None, None),
]
ATTRIBUTES = [
    # firm, attribute, value, effective_on, expires_on
    (11, "rd_institution", "national", date(2020, 1, 1), None),
    (11, "standards_led", "2", date(2021, 1, 1), None),
    (11, "standards_participated", "3", date(2021, 1, 1), None),
    (11, "listing_plan", "reform", date(2022, 6, 1), None),
    (11, "listing_plan", "tutoring", date(2024, 3, 1), None),  # after the 2023 year end: not counted for 2023
    (11, "rd_projects", "5", date(2023, 1, 1), None),
    (11, "product_standard", "none", date(2020, 1, 1), None),
]
# firm, indicator, baseline, year-1 target, year-2 target, start, direction
TARGETS = [
    (11, "rd_ratio", 4.0, 5.0, 6.0, "2021", "higher"),
    (11, "invention_patents", 10.0, 12.0, 15.0, "2021", "higher"),
    (11, "debt_ratio", 60.0, 55.0, 50.0, "2021", "lower"),
    (11, "export_share", 5.0, 6.0, 9.0, "2021", "higher"),
    (11, "standards", 3.0, 4.0, 5.0, "2021", "higher"),
    (11, "rd_institutions", 1.0, 2.0, 2.0, "2021", "higher"),
    (11, "listing_plan", 0.0, 1.0, 2.0, "2021", "higher"),
    (11, "rd_projects", 2.0, 3.0, 4.0, "2021", "higher"),
    (11, "main_revenue_growth", 5.0, 8.0, 12.0, "2021", "higher"),
    (11, "product_standard", 0.0, 1.0, 1.0, "2021", "higher"),
    (11, "digital_cloud", 0.0, 1.0, 1.0, "2021", "higher"),
    (12, "debt_ratio", 60.0, 55.0, 50.0, "2021", "lower"),
    (12, "rd_ratio", 4.0, 5.0, 6.0, "2021", "higher"),
    (12, "defect_rate", 2.0, 1.5, 1.0, "2021", "lower"),
    (13, "rd_ratio", 4.0, 5.0, 6.0, "2022", "higher"),
    (14, "rd_ratio", 4.0, 5.0, 6.0, "2023", "higher"),
]
AS_OF = date(2024, 7, 1)


@pytest.fixture
def firm_targets(engine):
    rng = random.Random(5)
    usccs = {n: make_uscc(rng, region) for n, region in K_FIRMS.items()}
    metrics = ("revenue", "main_revenue", "rd_expense", "export_value", "invention_patents", "total_assets",
               "total_liabilities")
    with engine.begin() as conn:
        insert_rows(conn, Enterprise.__table__, [
            enterprise_row(usccs[n], f"重点企业{n}", region, id=n, industry_code="C3562")
            for n, region in K_FIRMS.items()])
        insert_rows(conn, Report.__table__, [
            report_row(firm, str(year), **dict(zip(metrics, values, strict=True))) for firm, year, *values in REPORTS])
        conn.execute(sa.insert(Attribute.__table__), [
            {"enterprise_id": firm, "attribute": name, "value": value, "effective_on": on, "expires_on": until}
            for firm, name, value, on, until in ATTRIBUTES])
        conn.execute(sa.insert(FirmTarget.__table__), [
            {"enterprise_id": firm, "indicator": indicator, "baseline": b, "target_year1": t1, "target_year2": t2,
             "start_period": start, "direction": direction, "unit": None}
            for firm, indicator, b, t1, t2, start, direction in TARGETS])
    fix_sequences(engine, ["enterprise"])
    return engine, usccs


def rows_of(frame: pl.DataFrame, uscc: str) -> dict[str, tuple]:
    return {r["indicator"]: (r["status"], r["actual"], r["attainment_pct"])
            for r in frame.filter(pl.col("uscc") == uscc).iter_rows(named=True)}


def test_firm_targets_status_for_both_directions(firm_targets):
    engine, usccs = firm_targets
    result = targets.firm_target_attainment(SYSTEM, AS_OF, engine=engine)
    k1 = rows_of(result, usccs[11])
    # 2023 (year 2) is assessed: its figures are there (and due on 2024-05-31, before the as-of date).
    assert k1["rd_ratio"] == ("achieved", 6.5, 125.0)  # 650/10000 = 6.5% ≥ 6; (6.5−4)/(6−4)
    assert k1["invention_patents"] == ("behind", 13.0, 60.0)  # 13 < 15; (13−10)/(15−10)
    assert k1["debt_ratio"] == ("achieved", 48.0, 120.0)  # lower is better: 48% ≤ 50; (48−60)/(50−60)
    assert k1["export_share"] == ("behind", 8.0, 75.0)  # 800/10000 = 8% < 9; (8−5)/(9−5)
    assert k1["standards"] == ("achieved", 5.0, 100.0)  # 2 led + 3 participated
    assert k1["rd_institutions"] == ("achieved", 3.0, 200.0)  # national = 3 ≥ 2; (3−1)/(2−1)
    assert k1["listing_plan"] == ("behind", 1.0, 50.0)  # reform (1) on 2023-12-31; tutoring came in 2024
    assert k1["rd_projects"] == ("achieved", 5.0, 150.0)  # the attribute named like the indicator
    assert k1["main_revenue_growth"] == ("behind", 10.0, 71.4)  # 8800/8000 − 1 = 10% < 12; (10−5)/(12−5)
    assert k1["product_standard"] == ("behind", 0.0, 0.0)  # "none" = 0, target 1
    assert k1["digital_cloud"] == ("no_data", None, None)  # nothing measures it for this firm
    k2 = rows_of(result, usccs[12])
    assert k2["debt_ratio"] == ("behind", 56.0, 40.0)  # lower is better: 56% > 50; (56−60)/(50−60)
    assert k2["rd_ratio"] == ("no_data", None, None)  # no 2023 revenue, and 2023 figures are overdue
    assert k2["defect_rate"] == ("no_data", None, None)  # lower-is-better indicator without any value
    k3 = rows_of(result, usccs[13])
    # Start 2022: year 2 (2024) is not over, year 1 (2023) is assessed: 5.5% meets 5 but not 6.
    assert k3["rd_ratio"] == ("on_track", 5.5, 150.0)
    assert rows_of(result, usccs[14])["rd_ratio"][0] == "not_due"  # start 2023: 2024 is not over
    assert set(result["status"]) <= set(targets.TARGET_STATUSES)


def test_a_year_without_figures_is_not_no_data_before_they_are_due(firm_targets):
    engine, usccs = firm_targets
    early = targets.firm_target_attainment(SYSTEM, date(2024, 3, 1), engine=engine)
    k2 = early.filter(pl.col("uscc") == usccs[12], pl.col("indicator") == "rd_ratio").row(0, named=True)
    # 2023 figures are due on 2024-05-31: year 1 (2022, 4.5% < 5) is what can be judged on 2024-03-01.
    assert (k2["assessed_year"], k2["actual"], k2["status"]) == (2022, 4.5, "behind")
    k1 = early.filter(pl.col("uscc") == usccs[11], pl.col("indicator") == "rd_ratio").row(0, named=True)
    assert (k1["assessed_year"], k1["status"]) == (2023, "achieved")  # its 2023 figures are in already


def test_firm_targets_are_scoped_and_filtered(firm_targets):
    engine, usccs = firm_targets
    zhejiang = targets.firm_target_attainment(Principal("zj", "official", "cn-zj"), AS_OF, engine=engine)
    assert set(zhejiang["uscc"]) == {usccs[13]}
    one = targets.firm_target_attainment(SYSTEM, AS_OF, uscc=usccs[12], engine=engine)
    assert one["indicator"].to_list() == ["rd_ratio", "debt_ratio", "defect_rate"]  # declared order, then others
    assert set(targets.firm_target_attainment(SYSTEM, AS_OF, region="4403", engine=engine)["uscc"]) == {
        usccs[11], usccs[12]}
    assert targets.firm_target_attainment(SYSTEM, AS_OF, industry="I", engine=engine).is_empty()


def test_status_counts_and_laggards(firm_targets):
    engine, usccs = firm_targets
    result = targets.firm_target_attainment(SYSTEM, AS_OF, engine=engine)
    counts = targets.status_counts(result)
    rd = counts.filter(pl.col("indicator") == "rd_ratio").row(0, named=True)
    assert {s: rd[s] for s in targets.TARGET_STATUSES} == {
        "not_due": 1, "no_data": 1, "achieved": 1, "on_track": 1, "behind": 0}
    ranked = targets.laggards(result)
    # K1 is behind on 5 indicators (patents, export, listing, growth, product standard); K2 on 1 (debt ratio).
    assert ranked.select("uscc", "behind").rows() == [(usccs[11], 5), (usccs[12], 1)]
    assert ranked["behind_indicators"][1] == "debt_ratio"


def test_attainment_by_area_one_level_down(firm_targets):
    engine, usccs = firm_targets
    result = targets.firm_target_attainment(SYSTEM, AS_OF, engine=engine)
    by_province = targets.attainment_by_area(result, None)
    columns = ("area_code", "name_zh", "firms", "indicators", "met_indicators", "behind", "met_pct",
               "median_attainment_pct")
    # 广东 (K1, K2 in Shenzhen): K1 assessed on 10 indicators (5 achieved, 5 behind; digital_cloud has no data),
    # K2 on debt_ratio only (behind): 5 met of 11 = 45.5 %; the 11 attainments sorted are
    # 0, 40, 50, 60, 71.4, 75, 100, 120, 125, 150, 200 → median 75. 浙江: K3 on track (150 %). 北京: K4 not due.
    assert by_province.select(columns).rows() == [
        ("44", "广东省", 2, 11, 5, 6, 45.5, 75.0),
        ("11", "北京市", 1, 0, 0, 0, None, None),
        ("33", "浙江省", 1, 1, 1, 0, 100.0, 150.0),
    ]
    # Guangdong → its cities → Shenzhen's districts: the same two firms, one row each level down.
    assert targets.attainment_by_area(result, "44").select(columns).rows() == [
        ("4403", "深圳市", 2, 11, 5, 6, 45.5, 75.0)]
    assert targets.attainment_by_area(result, "4403")["area_code"].to_list() == ["440305"]
    # A Guangdong official's rows, broken down from their own area (the page passes pipeline.own_area).
    guangdong = Principal("gd", "official", "cn-gd")
    own = targets.firm_target_attainment(guangdong, AS_OF, engine=engine)
    assert targets.attainment_by_area(own, pipeline.own_area(guangdong))["area_code"].to_list() == ["4403"]
    assert targets.attainment_by_area(own, "33").is_empty()


def add_regional_targets(engine) -> None:
    rows = [("cn", "little_giant", 2025, 5), ("cn", "zjtx_sme", 2026, 4), ("cn-gd", "little_giant", 2026, 1),
            ("cn-gd-shenzhen", "innovative_sme", 2026, 3), ("cn-zj", "innovative_sme", 2024, 1)]
    with engine.begin() as conn:
        conn.execute(sa.insert(RegionalTarget.__table__), [
            {"jurisdiction": j, "tier": tier, "year": year, "target_count": count, "source": "test"}
            for j, tier, year, count in rows])


def test_regional_target_progress(engine):
    insert_registry(engine)
    add_regional_targets(engine)
    as_of = date(2025, 6, 30)
    progress = targets.regional_target_progress(SYSTEM, as_of, engine=engine)
    got = {(r["jurisdiction"], r["tier"]): r for r in progress.iter_rows(named=True)}
    national = got[("cn", "little_giant")]
    # F2, F4, F7 now and a year ago; 2 more needed in 184 days (0.504 years): 3.97 a year → behind.
    assert (national["actual"], national["actual_year_ago"], national["pace_per_year"]) == (3, 3, 0)
    assert (national["needed_per_year"], national["attainment_pct"], national["state"]) == (4.0, 60.0, "behind")
    assert got[("cn-gd", "little_giant")]["state"] == "achieved"  # F2
    # zjtx_sme has a national target only (counted without the firms' regions): F1 now and a year ago.
    assert (got[("cn", "zjtx_sme")]["actual"], got[("cn", "zjtx_sme")]["actual_year_ago"]) == (1, 1)
    shenzhen = got[("cn-gd-shenzhen", "innovative_sme")]
    # F1 and F8 now, F1 a year ago: +1 a year; 1 more needed over 549 days (1.503 years): 0.7 a year → on track.
    assert (shenzhen["actual"], shenzhen["pace_per_year"], shenzhen["needed_per_year"], shenzhen["state"]) == (
        2, 1, 0.7, "on_track")
    zhejiang = got[("cn-zj", "innovative_sme")]
    # Judged on 2024-12-31: F3 had been revoked on 2024-09-30 → 0 of 1, missed; no pace for a closed target.
    assert (zhejiang["actual"], zhejiang["state"], zhejiang["pace_per_year"]) == (0, "missed", None)
    # Its "a year ago" is the year-end before the deadline, 2023-12-31 (F3 held it from 2023-04-01): the same
    # number as the trajectory's point for 2023 on the same page.
    assert zhejiang["actual_year_ago"] == 1
    line = targets.regional_target_trajectory(SYSTEM, as_of, "cn-zj", "innovative_sme", engine=engine)
    assert (date(2023, 12, 31), 1) in line.filter(pl.col("kind") == "actual").select("on", "firms").rows()
    # A Guangdong official sees Guangdong's and Shenzhen's targets (registry.access decides whether the national
    # plan is in their scope), never Zhejiang's.
    guangdong = targets.regional_target_progress(Principal("gd", "official", "cn-gd"), as_of, engine=engine)
    assert {"cn-gd", "cn-gd-shenzhen"} <= set(guangdong["jurisdiction"])
    assert "cn-zj" not in set(guangdong["jurisdiction"])
    assert guangdong.filter(pl.col("jurisdiction") == "cn-gd")["actual"].to_list() == [1]
    below = targets.regional_target_progress(SYSTEM, as_of, jurisdiction="cn-gd", engine=engine)
    assert sorted(below["jurisdiction"]) == ["cn-gd", "cn-gd-shenzhen"]


def test_regional_target_trajectory(engine):
    insert_registry(engine)
    add_regional_targets(engine)
    line = targets.regional_target_trajectory(SYSTEM, date(2025, 6, 30), "cn", "little_giant", engine=engine)
    actual = line.filter(pl.col("kind") == "actual").select("on", "firms").rows()
    # Year ends from the first little giant (2021): F2; F2+F4; F2+F4+F7; F2 (renewed)+F4+F7; then the as-of date.
    assert actual == [(date(2021, 12, 31), 1), (date(2022, 12, 31), 2), (date(2023, 12, 31), 3),
                      (date(2024, 12, 31), 3), (date(2025, 6, 30), 3)]
    assert line.filter(pl.col("kind") == "path").select("on", "firms").rows() == [
        (date(2025, 6, 30), 3), (date(2025, 12, 31), 5)]
    assert line.filter(pl.col("kind") == "target").select("on", "firms").rows() == [(date(2025, 12, 31), 5)]
    hidden = targets.regional_target_trajectory(Principal("zj", "official", "cn-zj"), date(2025, 6, 30), "cn-gd",
                                                "little_giant", engine=engine)
    assert hidden.is_empty()  # Guangdong's targets are not Zhejiang's to see
