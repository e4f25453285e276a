"""The national rule sets after 2021 that are scored: cn/innovative-sme/2022 (63号 附件1), cn/zjtx-sme/2022 (附件2) and
cn/tech-sme/2017 (国科发政〔2017〕115号), on firms built at and around each threshold.

Every expected verdict and score below is worked out by hand from the tables of data/sources/rules-2022-2026.md
(§2.2, §2.3, §3.2), boundary values in the higher-scoring band (以上/以下含本数); the comment on each base firm
shows the sum. As of 2023-05-01: 上年 = 2022, 近2年 = 2021–2022, 近三年 = 2020–2022 (years) or 2020-05-02 on (dates)."""

from __future__ import annotations

from datetime import date

import pytest
from builders import Firm, bundle, uscc_for

from registry.policy import evaluate, evaluation_records, get_policy

AS_OF = date(2023, 5, 1)


def run(policy_id: str, f: Firm) -> dict:
    return evaluation_records(evaluate(get_policy(policy_id), bundle(f), AS_OF))[0]


def crit(record: dict, cid: str) -> dict:
    return next(c for c in record["criteria"] if c["id"] == cid)


def check(policy_id: str, f: Firm, verdict: str, score: float | None) -> dict:
    rec = run(policy_id, f)
    assert (rec["verdict"], rec["score"]) == (verdict, score), [
        (c["id"], c["result"], c.get("points"), c["actual"]) for c in rec["criteria"] if c["result"] != "pass"]
    return rec


# ------------------------------------------------------------------------------------------------------------
# 创新型中小企业 (63号 附件1): total ≥ 60 with 创新能力 ≥ 20, 成长性 ≥ 15, 专业化 ≥ 15, or a direct condition.
# ------------------------------------------------------------------------------------------------------------

INN = "cn/innovative-sme/2022"
# Direct conditions known not to hold: no award, no honour, an own R&D institution (not provincial), no equity.
NO_DIRECT = {"high_tech_enterprise": "false", "rd_institution": "self"}
NO_DIRECT_ROWS = [("science_award", "none", date(2019, 1, 1), None), ("innovation_honour", "none", date(2019, 1, 1), None)]
NO_EQUITY = {2020: {"equity_financing": 0.0}, 2021: {"equity_financing": 0.0}, 2022: {"equity_financing": 0.0}}


def inn_firm(n: int, main_2021: float, y2022: dict, attrs: dict | None = None) -> Firm:
    years = {y: dict(m) for y, m in NO_EQUITY.items()}
    years[2021]["main_revenue"] = main_2021
    years[2022].update({"employees": 100.0, **y2022})
    return Firm(uscc=uscc_for(n), years=years, attributes={**NO_DIRECT, **(attrs or {})},
                attribute_rows=list(NO_DIRECT_ROWS))


# 60 points exactly, each group at its minimum: rd 600/11000 = 5.45% → 20, no IP → 0 (创新能力 20);
# growth (7700 − 7000)/7000 = 10% → 15, debt 80% → 0 (成长性 15); field not strategic → 5, share 7700/11000 = 70% → 20
# (专业化 25). 20 + 15 + 25 = 60.
WEAK = inn_firm(1, 7000.0, {"revenue": 11000.0, "main_revenue": 7700.0, "rd_expense": 600.0, "total_assets": 10000.0,
                            "total_liabilities": 8000.0, "class1_ip_high_value": 0.0, "class1_ip_own": 0.0,
                            "class1_ip": 0.0, "class2_ip": 0.0}, {"strategic_emerging": "false"})
# 100 points: rd 5% → 20, high-value IP → 20; growth 16.7% → 20, debt 50% → 10; strategic → 10, share 70% → 20.
STRONG = inn_firm(2, 6000.0, {"revenue": 10000.0, "main_revenue": 7000.0, "rd_expense": 500.0, "total_assets": 10000.0,
                              "total_liabilities": 5000.0, "class1_ip_high_value": 1.0, "class1_ip_own": 0.0,
                              "class1_ip": 1.0, "class2_ip": 0.0}, {"strategic_emerging": "true"})

INNOVATIVE = [
    ("strong", STRONG, "eligible", 100),
    ("weak_at_60", WEAK, "eligible", 60),
    # growth 699.3 / 7000.7 = 9.99% → 10: 成长性 10 < 15 (and total 55).
    ("growth_9_99", WEAK.with_year(2021, main_revenue=7000.7), "ineligible", 55),
    # share 7700 / 11001.6 = 69.99% → 15: total 55 (R&D stays at 5.45% → 20).
    ("share_69_99", WEAK.with_year(2022, revenue=11001.6), "ineligible", 55),
    # debt exactly 55% → 10 (以下含本数): 70.
    ("debt_55", WEAK.with_year(2022, total_liabilities=5500.0), "eligible", 70),
    ("debt_55_01", WEAK.with_year(2022, total_liabilities=5501.0), "eligible", 65),
    # rd 549.9 / 11000 = 4.999% → 15: 创新能力 15 < 20 although the growth would carry the total.
    ("rd_4_999", WEAK.with_year(2022, rd_expense=549.9, total_liabilities=5500.0), "ineligible", 65),
    ("rd_4_999_class2_ip", WEAK.with_year(2022, rd_expense=549.9, total_liabilities=5500.0, class2_ip=1.0),
     "eligible", 70),
    # Direct conditions rescue a firm that fails the score.
    ("direct_provincial_rd_institution", WEAK.with_year(2021, main_revenue=7000.7).with_attr(rd_institution="provincial"),
     "eligible", 55),
    ("direct_equity_500", WEAK.with_year(2021, main_revenue=7000.7, equity_financing=200.0)
     .with_year(2022, equity_financing=300.0), "eligible", 55),
    ("direct_equity_499", WEAK.with_year(2021, main_revenue=7000.7, equity_financing=199.0)
     .with_year(2022, equity_financing=300.0), "ineligible", 55),
    ("direct_award_2021", WEAK.with_year(2021, main_revenue=7000.7)
     .with_rows(("science_award", "provincial", date(2021, 6, 1))), "eligible", 55),
    ("direct_award_2020_05_01", WEAK.with_year(2021, main_revenue=7000.7)
     .with_rows(("science_award", "national", date(2020, 5, 1))), "ineligible", 55),
    ("direct_honour_in_force", WEAK.with_year(2021, main_revenue=7000.7)
     .with_rows(("innovation_honour", "ip_demo", date(2022, 1, 1), date(2024, 12, 31))), "eligible", 55),
    ("direct_honour_expired", WEAK.with_year(2021, main_revenue=7000.7)
     .with_rows(("innovation_honour", "high_tech_enterprise", date(2019, 1, 1), date(2021, 12, 31))),
     "ineligible", 55),
    # Unknown figures: debt unknown (0–10) — the known 60 already pass; share unknown (0–20) — 专业化 5 known,
    # up to 25: 40 known, up to 60 → insufficient; rd unknown (0–20) with no IP: 创新能力 0 known, up to 20 and the
    # total 40 known, up to 60 → insufficient; rd unknown but growth below its minimum → ineligible.
    ("debt_unknown", WEAK.with_year(2022, total_liabilities=None), "eligible", None),
    ("share_unknown", WEAK.with_year(2022, main_revenue=None), "insufficient_data", None),
    ("rd_unknown", WEAK.with_year(2022, rd_expense=None), "insufficient_data", None),
    ("rd_unknown_growth_low", WEAK.with_year(2022, rd_expense=None).with_year(2021, main_revenue=7000.7),
     "ineligible", None),
    ("field_unknown", WEAK.without_attr("strategic_emerging"), "eligible", None),  # 5–10 points, 60 known
    # Common eligibility.
    ("accident_2022", WEAK.but(events=[("major_accident", date(2022, 3, 1))]), "ineligible", 60),
    ("large_firm", STRONG.with_year(2022, employees=1000.0, revenue=40000.0, main_revenue=28000.0, rd_expense=2000.0),
     "ineligible", 100),
]


@pytest.mark.parametrize(("name", "firm", "verdict", "score"), INNOVATIVE, ids=[c[0] for c in INNOVATIVE])
def test_innovative_sme_2022(name, firm, verdict, score):
    check(INN, firm, verdict, score)


def test_innovative_sme_detail_shows_bands_points_and_confidence():
    rec = run(INN, WEAK)
    rd = crit(rec, "rd_ratio")
    assert rd["points"] == 20 and rd["actual"] == pytest.approx(5.454545455) and "≥5% → 20" in rd["expected"]
    assert crit(rec, "debt_ratio")["points"] == 0 and ">75% → 0" in crit(rec, "debt_ratio")["expected"]
    assert crit(rec, "ip_class2")["confidence"] == "C" and "note" in crit(rec, "ip_class2")
    assert crit(rec, "rd_ratio")["confidence"] == "A" and "note" not in crit(rec, "rd_ratio")
    assert crit(rec, "not_prohibited_products")["result"] == "by_hand"


# ------------------------------------------------------------------------------------------------------------
# 专精特新中小企业 (63号 附件2): B1–B3, and B4 = score ≥ 60 or a direct condition. 特色化 (15) unknown unless given.
# ------------------------------------------------------------------------------------------------------------

ZJTX = "cn/zjtx-sme/2022"


def zjtx_firm(n: int, y2022: dict, main_2021: float, main_2020: float, attrs: dict) -> Firm:
    years = {2020: {"main_revenue": main_2020},
             2021: {"main_revenue": main_2021, "equity_financing": 0.0, "rd_expense": y2022["rd_expense"]},
             2022: {"employees": 100.0, "equity_financing": 0.0, **y2022}}
    return Firm(uscc=uscc_for(n), years=years, attributes=attrs,
                attribute_rows=[("science_award", "none", date(2019, 1, 1), None),
                                ("maker_china", "none", date(2019, 1, 1), None)])


# 45 known points, 特色化 unknown (0–15): share 80% → 5; growth 0%, 0% → 2; niche since 2015 = 8 years → 4; field none
# → 0; digital level 2 → 3; quality cert + brand = 6 → capped 5; net margin 5% → 4; debt 55% → 3; Ⅰ类 1 → 6;
# R&D 300万 → 6 (ratio 3% → 2, the better one counts); R&D staff 10% → 3; city institution → 4.
# 5 + 2 + 4 + 0 + 3 + 5 + 4 + 3 + 6 + 6 + 3 + 4 = 45.
Z45 = zjtx_firm(
    1, {"revenue": 10000.0, "main_revenue": 8000.0, "rd_expense": 300.0, "net_profit": 500.0, "total_assets": 10000.0,
        "total_liabilities": 5500.0, "rd_staff": 10.0, "class1_ip": 1.0, "class1_ip_own": 0.0,
        "class1_ip_high_value": 0.0, "class2_ip": 0.0}, 8000.0, 8000.0,
    {"niche_since_year": "2015", "chain_role": "none", "industry_orientation": "none", "digital_level": "2",
     "quality_award": "false", "quality_cert": "true", "own_brand": "true", "standards_led": "0",
     "standards_participated": "0", "rd_institution": "city"})
Z44 = Z45.with_attr(niche_since_year="2016")  # 7 years → 3: 44 known, at most 59
# 85 known: share 5, growth (12.5% + 11.1%)/2 → 10, niche 10 years → 5, shortboard → 5, digital 3 → 5, quality 5,
# margin 10% → 10, debt 50% → 5, high-value IP → 10, R&D 500万 → 10, staff 20% → 5, national institution → 10.
Z85 = zjtx_firm(
    2, {"revenue": 10000.0, "main_revenue": 8000.0, "rd_expense": 500.0, "net_profit": 1000.0, "total_assets": 10000.0,
        "total_liabilities": 5000.0, "rd_staff": 20.0, "class1_ip": 2.0, "class1_ip_own": 1.0,
        "class1_ip_high_value": 1.0, "class2_ip": 0.0}, 7200.0, 6400.0,
    {"niche_since_year": "2013", "chain_role": "shortboard", "industry_orientation": "none", "digital_level": "3",
     "quality_award": "true", "quality_cert": "true", "own_brand": "true", "standards_led": "1",
     "standards_participated": "0", "rd_institution": "national"})

ZJTX_SME = [
    ("z85", Z85, "eligible", None),  # 85 known ≥ 60
    ("z85_local_15", Z85.with_attr(zjtx_local_points="15"), "eligible", 100),
    ("z45_local_unknown", Z45, "insufficient_data", None),  # 45–60
    ("z45_local_15", Z45.with_attr(zjtx_local_points="15"), "eligible", 60),
    ("z45_local_14", Z45.with_attr(zjtx_local_points="14"), "ineligible", 59),
    ("z44_local_unknown", Z44, "ineligible", None),  # at most 59
    # B1: 2 years in the niche to the end of 2022 (since 2021) pass, 1 year (since 2022) fails.
    ("niche_2_years", Z85.with_attr(niche_since_year="2021"), "eligible", None),
    ("niche_1_year", Z85.with_attr(niche_since_year="2022"), "ineligible", None),
    # B2: R&D ≥ 100万 and ≥ 3%.
    ("rd_ratio_2_99", Z85.with_year(2022, rd_expense=299.0), "ineligible", None),
    ("rd_ratio_3", Z85.with_year(2022, rd_expense=300.0), "eligible", None),
    ("rd_99", Z85.with_year(2022, rd_expense=99.0, revenue=3000.0, main_revenue=2400.0, net_profit=300.0),
     "ineligible", None),
    # Z1–Z4 rescue a firm whose score cannot reach 60 (Z44).
    ("z44_provincial_award_rank_3", Z44.with_rows(("science_award", "provincial", date(2021, 6, 1)),
                                                  ("science_award_rank", "3", date(2021, 6, 1))), "eligible", None),
    ("z44_provincial_award_rank_4", Z44.with_rows(("science_award", "provincial", date(2021, 6, 1)),
                                                  ("science_award_rank", "4", date(2021, 6, 1))), "ineligible", None),
    ("z44_national_award_rank_5", Z44.with_rows(("science_award", "national", date(2021, 6, 1)),
                                                ("science_award_rank", "5", date(2021, 6, 1))), "eligible", None),
    ("z44_national_award_rank_6", Z44.with_rows(("science_award", "national", date(2021, 6, 1)),
                                                ("science_award_rank", "6", date(2021, 6, 1))), "ineligible", None),
    ("z44_equity_6000", Z44.with_year(2021, equity_financing=3000.0).with_year(2022, equity_financing=3000.0),
     "eligible", None),
    ("z44_equity_5999", Z44.with_year(2021, equity_financing=2999.0).with_year(2022, equity_financing=3000.0),
     "ineligible", None),
    ("z44_maker_500", Z44.with_rows(("maker_china", "top500", date(2022, 11, 1))), "eligible", None),
    # Z2: mean R&D of 2021–2022 ≥ 1000万. Raising R&D also raises the score: 1000万 → 10 (+4): 48 known, up to 63.
    ("z44_rd_mean_1000", Z44.with_year(2021, rd_expense=1000.0).with_year(2022, rd_expense=1000.0), "eligible", None),
    ("z44_rd_mean_999_5", Z44.with_year(2021, rd_expense=999.0).with_year(2022, rd_expense=1000.0),
     "insufficient_data", None),
]


@pytest.mark.parametrize(("name", "firm", "verdict", "score"), ZJTX_SME, ids=[c[0] for c in ZJTX_SME])
def test_zjtx_sme_2022(name, firm, verdict, score):
    check(ZJTX, firm, verdict, score)


def test_zjtx_sme_b3_revenue_or_equity():
    """B3: 营收 ≥ 1000万, or (below it) 近2年 new qualified equity ≥ 2000万."""
    small = Z85.with_year(2022, revenue=999.0)
    assert crit(run(ZJTX, small), "revenue_or_equity")["result"] == "fail"
    funded = small.with_year(2021, equity_financing=1000.0).with_year(2022, equity_financing=1000.0)
    assert crit(run(ZJTX, funded), "revenue_or_equity")["result"] == "pass"
    short = small.with_year(2021, equity_financing=999.0).with_year(2022, equity_financing=1000.0)
    assert crit(run(ZJTX, short), "revenue_or_equity")["result"] == "fail"
    assert crit(run(ZJTX, Z85.with_year(2022, revenue=1000.0)), "revenue_or_equity")["result"] == "pass"


def test_zjtx_sme_local_points_are_shown_unknown():
    rec = run(ZJTX, Z45)
    local = crit(rec, "local_points")
    assert local["result"] == "missing" and "0–15" in local["expected"]
    assert crit(rec, "score")["actual"] == {"min": 45, "max": 60}
    assert crit(rec, "score")["confidence"] == "C"


# ------------------------------------------------------------------------------------------------------------
# 科技型中小企业 (国科发政〔2017〕115号): size gates, total ≥ 60 with S&T staff points ≠ 0, or a direct condition.
# ------------------------------------------------------------------------------------------------------------

TECH = "cn/tech-sme/2017"
# 100 points: staff 30/100 = 30% → 20; R&D 300/5000 = 6% → 50; Ⅰ类 1 → 30.
T100 = Firm(uscc=uscc_for(3), years={2022: {"employees": 100.0, "tech_staff": 30.0, "revenue": 5000.0,
                                            "rd_expense": 300.0, "total_cost": 4000.0, "total_assets": 8000.0,
                                            "class1_ip": 1.0, "class2_ip": 0.0}},
            attributes={"high_tech_enterprise": "false", "rd_institution": "self"},
            attribute_rows=[("science_award", "none", date(2019, 1, 1), None),
                            ("innovation_honour", "none", date(2019, 1, 1), None)])
# 60 points: staff 20, R&D 100/5000 = 2% → 10 (R&D / costs 100/4000 = 2.5% → 0), Ⅰ类 → 30.
T60 = T100.with_year(2022, rd_expense=100.0)

TECH_SME = [
    ("t100", T100, "eligible", 100),
    ("t60", T60, "eligible", 60),
    ("rd_1_99", T60.with_year(2022, rd_expense=99.5), "ineligible", 50),
    ("rd_by_costs_10", T60.with_year(2022, rd_expense=99.5, total_cost=995.0), "eligible", 60),  # 10% of costs → 10
    # staff 9% → 0 points: the total 80 is not enough; 10% → 4.
    ("staff_9", T100.with_year(2022, tech_staff=9.0), "ineligible", 80),
    ("staff_10", T100.with_year(2022, tech_staff=10.0), "eligible", 84),
    ("staff_9_high_tech", T100.with_year(2022, tech_staff=9.0).with_attr(high_tech_enterprise="true"), "eligible", 80),
    # Ⅱ类 only: 4 → 24, 3 → 18: staff 20 + R&D 20 (3%) + 24 = 64; with 3 → 58.
    ("class2_4", T100.with_year(2022, class1_ip=0.0, class2_ip=4.0, rd_expense=150.0), "eligible", 64),
    ("class2_3", T100.with_year(2022, class1_ip=0.0, class2_ip=3.0, rd_expense=150.0), "ineligible", 58),
    # IP unknown (0–30): 70 known pass; 20 + 20 = 40 known, up to 70 → insufficient; 4 + 20 = 24, up to 54 → ineligible.
    ("ip_unknown_70", T100.with_year(2022, class1_ip=None, class2_ip=None), "eligible", None),
    ("ip_unknown_40", T100.with_year(2022, class1_ip=None, class2_ip=None, rd_expense=150.0), "insufficient_data",
     None),
    ("ip_unknown_24", T100.with_year(2022, class1_ip=None, class2_ip=None, rd_expense=150.0, tech_staff=10.0),
     "ineligible", None),
    # Size gates.
    ("employees_500", T100.with_year(2022, employees=500.0, tech_staff=150.0), "eligible", 100),
    ("employees_501", T100.with_year(2022, employees=501.0, tech_staff=151.0), "ineligible", 100),
    ("revenue_20000", T100.with_year(2022, revenue=20000.0, rd_expense=1200.0), "eligible", 100),
    ("revenue_20001", T100.with_year(2022, revenue=20001.0, rd_expense=1200.0), "ineligible", 100),
    ("assets_20001", T100.with_year(2022, total_assets=20001.0), "ineligible", 100),
    ("accident", T100.but(events=[("major_accident", date(2022, 6, 1))]), "ineligible", 100),
]


@pytest.mark.parametrize(("name", "firm", "verdict", "score"), TECH_SME, ids=[c[0] for c in TECH_SME])
def test_tech_sme_2017(name, firm, verdict, score):
    check(TECH, firm, verdict, score)


def test_tech_sme_unconfirmed_direct_condition_is_not_evaluated():
    rec = run(TECH, T100)
    led = crit(rec, "led_standards_5y")
    assert led["result"] == "not_evaluated" and led["confidence"] == "U" and "not confirmed" in led["note"]
    assert get_policy(TECH).lowest_confidence() == "C"
