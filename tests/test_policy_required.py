"""The six policies CONTRACT §3 requires, on hand-built firms at their boundaries.

Each firm starts from a case that meets every criterion; a test moves one figure onto its threshold
(which must still pass: 以上 / 不低于 are inclusive) or just across it (which must fail), and checks the
named criterion as well as the verdict — so a test proves that threshold, not merely "something failed".
"""

from __future__ import annotations

from datetime import date

import pytest
from builders import Firm, bundle, little_giant_2020, uscc_for

from registry.errors import UserError
from registry.policy import evaluate, evaluation_records, get_policy

AS_OF = date(2021, 5, 1)  # 上年 = 2020, 近2年 = 2019-2020 (the third batch of 79号)


def judge(policy_id: str, firm: Firm, as_of: date = AS_OF, **kw) -> tuple[str, str | None, dict[str, str]]:
    records = evaluation_records(evaluate(get_policy(policy_id), bundle(firm), as_of, **kw))
    assert len(records) == 1
    r = records[0]
    return r["verdict"], r["class"], {c["id"]: c["result"] for c in r["criteria"]}


# ---------------------------------------------------------------------------------------------------------
# cn/little-giant/2021 — 工信厅企业函〔2021〕79号
# ---------------------------------------------------------------------------------------------------------

LG = "cn/little-giant/2021"


def test_little_giant_baseline_firm_is_eligible_in_class_a():
    verdict, cls, results = judge(LG, little_giant_2020())
    assert (verdict, cls) == ("eligible", "a")
    assert results["class_a_rd_ratio"] == "pass" and results["class_b"] == "fail"


def test_little_giant_rd_ratio_exactly_3_percent_passes_and_just_below_fails():
    # pooled over 2019-2020: (330 + 360) / (11000 + 12000) = 3.0%
    on_boundary = little_giant_2020().with_year(2019, rd_expense=330.0).with_year(2020, rd_expense=360.0)
    assert judge(LG, on_boundary)[:2] == ("eligible", "a")
    below = on_boundary.with_year(2020, rd_expense=359.9)
    verdict, cls, results = judge(LG, below)
    assert results["class_a_rd_ratio"] == "fail" and results["classes"] == "fail"
    assert (verdict, cls) == ("ineligible", None)


def test_little_giant_revenue_exactly_one_yi_is_class_a_and_just_below_is_class_b():
    firm = little_giant_2020().with_year(2020, revenue=10000.0)
    assert judge(LG, firm)[:2] == ("eligible", "a")
    # 9999.99 万元 falls in band b, which needs 6% R&D: 4.38% fails ...
    below = firm.with_year(2020, revenue=9999.99)
    verdict, _, results = judge(LG, below)
    assert results["class_a_revenue"] == "fail" and results["class_b_rd_ratio"] == "fail"
    assert verdict == "ineligible"
    # ... and 6% R&D over 2019-2020 makes it class b: (660 + 600) / (11000 + 9999.99) ≥ 6%
    assert judge(LG, below.with_year(2019, rd_expense=660.0).with_year(2020, rd_expense=600.0))[:2] == (
        "eligible", "b")


def test_little_giant_debt_ratio_exactly_70_percent_passes():
    firm = little_giant_2020().with_year(2020, total_liabilities=14000.0)  # 14000 / 20000 = 70%
    assert judge(LG, firm)[0] == "eligible"
    verdict, _, results = judge(LG, firm.with_year(2020, total_liabilities=14000.2))
    assert results["debt_ratio"] == "fail" and verdict == "ineligible"


def test_little_giant_main_business_share_exactly_70_percent_passes():
    firm = little_giant_2020().with_year(2020, main_revenue=8400.0)  # 8400 / 12000 = 70%
    verdict, _, results = judge(LG, firm)
    assert results["main_business_share"] == "pass" and verdict == "eligible"
    verdict, _, results = judge(LG, firm.with_year(2020, main_revenue=8399.9))
    assert results["main_business_share"] == "fail" and verdict == "ineligible"


def test_little_giant_mean_growth_exactly_5_percent_passes_on_main_revenue_alone():
    # main revenue 8000 → 8400 → 8820: +5%, +5%; net profit flat, so only main revenue can carry growth.
    firm = (little_giant_2020().with_year(2018, main_revenue=8000.0, net_profit=1000.0)
            .with_year(2019, main_revenue=8400.0, net_profit=1000.0)
            .with_year(2020, main_revenue=8820.0, net_profit=1000.0))
    verdict, _, results = judge(LG, firm)
    assert results["main_revenue_growth"] == "pass" and results["net_profit_growth"] == "fail"
    assert verdict == "eligible"
    verdict, _, results = judge(LG, firm.with_year(2020, main_revenue=8819.0))
    assert results["growth"] == "fail" and verdict == "ineligible"


def test_little_giant_growth_from_a_loss_is_not_computable_and_counts_as_not_met():
    firm = (little_giant_2020().with_year(2018, net_profit=-100.0)
            .with_year(2018, main_revenue=9000.0).with_year(2019, main_revenue=8900.0))
    records = evaluation_records(evaluate(get_policy(LG), bundle(firm), AS_OF))
    crit = {c["id"]: c for c in records[0]["criteria"]}
    assert crit["net_profit_growth"]["result"] == "fail"
    assert crit["net_profit_growth"]["actual"] == "n/a"


def test_little_giant_fail_dominates_missing():
    firm = little_giant_2020().without_attr("own_brand")
    verdict, _, results = judge(LG, firm)
    assert results["own_brand"] == "missing" and verdict == "insufficient_data"
    verdict, _, results = judge(LG, firm.with_year(2020, total_liabilities=15000.0))
    assert results["own_brand"] == "missing" and results["debt_ratio"] == "fail"
    assert verdict == "ineligible"


def test_little_giant_missing_year_of_reports_makes_growth_missing_not_failed():
    firm = little_giant_2020()
    del firm.years[2018]
    verdict, _, results = judge(LG, firm)
    assert results["main_revenue_growth"] == "missing" and results["growth"] == "missing"
    assert verdict == "insufficient_data"


def test_little_giant_operating_years_counted_to_the_as_of_date():
    assert judge(LG, little_giant_2020().but(founded_on=date(2018, 5, 1)))[0] == "eligible"
    verdict, _, results = judge(LG, little_giant_2020().but(founded_on=date(2018, 5, 2)))
    assert results["operating_years"] == "fail" and verdict == "ineligible"


def test_little_giant_accident_within_three_years_excludes():
    assert judge(LG, little_giant_2020().but(events=[("major_accident", date(2018, 5, 2))]))[0] == "ineligible"
    assert judge(LG, little_giant_2020().but(events=[("major_accident", date(2018, 4, 30))]))[0] == "eligible"
    # Events after the as-of date are not known yet on that date.
    assert judge(LG, little_giant_2020().but(events=[("tax_violation", date(2021, 5, 2))]))[0] == "eligible"


def test_little_giant_large_enterprise_is_not_an_sme():
    firm = little_giant_2020().with_year(2020, employees=1000.0, revenue=40000.0, main_revenue=32000.0,
                                         rd_expense=1500.0)
    verdict, _, results = judge(LG, firm)
    assert results["sme_status"] == "fail" and verdict == "ineligible"


def test_little_giant_single_champion_is_not_recommended():
    firm = little_giant_2020().but(recognitions=[("single_champion", "cn", date(2020, 1, 10))])
    verdict, _, results = judge(LG, firm)
    assert results["not_single_champion"] == "fail" and verdict == "ineligible"


def test_little_giant_patent_sum_passes_on_known_parts_when_one_is_blank():
    firm = little_giant_2020().with_year(2020, invention_patents=1.0, utility_patents=5.0, design_patents=None,
                                         software_copyrights=None)
    verdict, _, results = judge(LG, firm)
    assert results["other_ip"] == "pass" and verdict == "eligible"
    short = firm.with_year(2020, utility_patents=4.0)
    verdict, _, results = judge(LG, short)
    assert results["other_ip"] == "missing" and verdict == "insufficient_data"


# ---------------------------------------------------------------------------------------------------------
# cn/little-giant-precheck/2021 — 初核: class + 6 必备
# ---------------------------------------------------------------------------------------------------------

PC = "cn/little-giant-precheck/2021"


def test_precheck_leaves_out_growth_that_the_full_criteria_require():
    shrinking = (little_giant_2020().with_year(2018, main_revenue=9700.0, net_profit=1000.0)
                 .with_year(2019, main_revenue=9800.0, net_profit=1000.0)
                 .with_year(2020, main_revenue=9600.0, net_profit=1000.0))
    assert judge(LG, shrinking)[0] == "ineligible"
    assert judge(PC, shrinking)[:2] == ("eligible", "a")


def test_precheck_each_required_indicator_is_needed():
    verdict, _, results = judge(PC, little_giant_2020().with_year(2020, province_rank=4.0))
    assert results["province_rank"] == "fail" and verdict == "ineligible"
    verdict, _, results = judge(PC, little_giant_2020().but(events=[("major_accident", date(2020, 1, 1))]))
    assert results["no_major_accident"] == "fail" and verdict == "ineligible"


def test_precheck_class_c_at_its_boundaries():
    c = little_giant_2020().but(uscc=uscc_for(7))
    c = (c.with_year(2019, revenue=3000.0, main_revenue=2800.0, rd_expense=1500.0, equity_financing=3000.0)
         .with_year(2020, revenue=4999.99, main_revenue=4000.0, rd_expense=1500.0, equity_financing=5000.0,
                    employees=100.0, rd_staff=50.0)
         .with_attr(key_tech_breakthrough="true"))
    verdict, cls, results = judge(PC, c)  # 8000 equity, 3000 R&D, 50% R&D staff, all exactly on threshold
    assert results["class_c"] == "pass" and (verdict, cls) == ("eligible", "c")
    assert judge(PC, c.with_year(2020, revenue=5000.0))[2]["class_c_revenue"] == "fail"
    assert judge(PC, c.with_year(2020, rd_staff=49.0))[:2] == ("ineligible", None)
    verdict, cls, results = judge(PC, c.without_attr("key_tech_breakthrough"))
    assert results["class_c_breakthrough"] == "missing" and (verdict, cls) == ("insufficient_data", None)


# ---------------------------------------------------------------------------------------------------------
# cn/key-little-giant/2021 — 财建〔2021〕2号
# ---------------------------------------------------------------------------------------------------------

KLG = "cn/key-little-giant/2021"


def key_candidate() -> Firm:
    """A recognised little giant whose main revenue fell in 2020 and which has no listing plan."""
    return (little_giant_2020()
            .with_year(2020, main_revenue=8700.0)
            .with_attr(industry_orientation="four_bases", listing_plan="none", standards_led="1")
            .but(recognitions=[("little_giant", "cn", date(2019, 7, 1))], listing_board="neeq"))


def test_key_little_giant_growth_is_waived_for_batch_1_only():
    verdict, _, results = judge(KLG, key_candidate(), date(2021, 3, 1))
    assert results["main_revenue_growth"] == "waived" and verdict == "eligible"
    verdict, _, results = judge(KLG, key_candidate(), date(2021, 5, 1))
    assert results["main_revenue_growth"] == "fail" and results["growth_or_listing"] == "fail"
    assert verdict == "ineligible"
    # The batch can also be given explicitly.
    assert judge(KLG, key_candidate(), date(2021, 5, 1), batch="1")[0] == "eligible"
    # A listing plan is the other way to meet 成长性.
    assert judge(KLG, key_candidate().with_attr(listing_plan="tutoring"), date(2021, 5, 1))[0] == "eligible"


def test_key_little_giant_rd_ratio_exactly_4_percent_and_listing_exclusion():
    firm = key_candidate().with_year(2019, rd_expense=440.0).with_year(2020, rd_expense=480.0)  # 920/23000 = 4%
    assert judge(KLG, firm, date(2021, 3, 1))[0] == "eligible"
    verdict, _, results = judge(KLG, firm.with_year(2020, rd_expense=479.9), date(2021, 3, 1))
    assert results["rd_ratio"] == "fail" and verdict == "ineligible"
    verdict, _, results = judge(KLG, firm.but(listing_board="star"), date(2021, 3, 1))
    assert results["not_listed"] == "fail" and verdict == "ineligible"


def test_key_little_giant_needs_a_little_giant_recognition_in_force():
    verdict, _, results = judge(KLG, key_candidate().but(recognitions=[]), date(2021, 3, 1))
    assert results["is_little_giant"] == "fail" and verdict == "ineligible"
    expired = key_candidate().but(recognitions=[("little_giant", "cn", date(2017, 7, 1))])
    assert judge(KLG, expired, date(2021, 3, 1))[2]["is_little_giant"] == "fail"


def test_key_little_giant_outside_its_effective_range_is_refused():
    with pytest.raises(UserError, match="2026-01-01"):
        evaluate(get_policy(KLG), bundle(key_candidate()), date(2026, 1, 1))


# ---------------------------------------------------------------------------------------------------------
# cn/sme-size/2011 — 工信部联企业〔2011〕300号
# ---------------------------------------------------------------------------------------------------------

SME = "cn/sme-size/2011"


@pytest.mark.parametrize(("industry", "employees", "revenue", "expected"), [
    ("C3562", 1000, 40000, ("ineligible", "large")),  # both limits reached: large
    ("C3562", 999, 40000, ("eligible", "medium")),  # 1000人以下 (strict) or 40000万元以下
    ("C3562", 1000, 39999.99, ("eligible", "medium")),
    ("C3562", 300, 2000, ("eligible", "medium")),  # 及以上: inclusive
    ("C3562", 300, 1999.99, ("eligible", "small")),
    ("C3562", 20, 300, ("eligible", "small")),
    ("C3562", 19, 300, ("eligible", "micro")),
    ("C3562", None, 299, ("eligible", "micro")),  # revenue alone decides
    ("C3562", None, 5000, ("insufficient_data", None)),  # medium or small depends on employees
    ("I6510", 10, 50, ("eligible", "small")),  # 软件和信息技术服务业
    ("I6510", 10, 49, ("eligible", "micro")),
    ("F5211", 50, 500, ("eligible", "medium")),  # 零售业
    ("G5910", 20, 200, ("eligible", "small")),  # 591 装卸搬运 → transport row, not warehousing
    ("J6620", 10, 100, ("insufficient_data", None)),  # 金融业: not covered by the standard
])
def test_sme_size_class_by_industry(industry, employees, revenue, expected):
    firm = Firm(uscc=uscc_for(3), industry_code=industry, years={2020: {"employees": employees, "revenue": revenue}})
    assert judge(SME, firm)[:2] == expected


# ---------------------------------------------------------------------------------------------------------
# cn-gd-shenzhen/zjtx/2021 — 深圳 2021 遴选 (items 3 and 4 relaxed up to 50% for priority firms)
# ---------------------------------------------------------------------------------------------------------

SZ = "cn-gd-shenzhen/zjtx/2021"
SZ_AS_OF = date(2021, 9, 1)


def shenzhen_firm() -> Firm:
    return Firm(
        uscc=uscc_for(11, "440305"), region_code="440305", founded_on=date(2019, 9, 1),
        years={2019: {"revenue": 1000.0, "main_revenue": 800.0, "rd_expense": 30.0},
               2020: {"revenue": 1150.0, "main_revenue": 805.0, "rd_expense": 34.5, "employees": 40.0}},
        attributes={"niche_since_year": "2019"},
    )


def test_shenzhen_boundaries_growth_15_rd_3_share_70_niche_2_years():
    # growth (1150 - 1000) / 1000 = 15%; R&D 64.5 / 2150 = 3%; main share 805 / 1150 = 70%; niche 2021 - 2019 = 2
    verdict, _, results = judge(SZ, shenzhen_firm(), SZ_AS_OF)
    assert results["revenue_growth"] == "pass" and results["specialised"] == "pass"
    assert verdict == "eligible"
    verdict, _, results = judge(SZ, shenzhen_firm().with_year(2020, rd_expense=34.4), SZ_AS_OF)
    assert results["rd_ratio"] == "fail" and verdict == "ineligible"


def test_shenzhen_relaxation_halves_revenue_and_growth_thresholds_for_the_declared_group():
    small = (shenzhen_firm().with_year(2019, revenue=465.0, main_revenue=400.0, rd_expense=14.0)
             .with_year(2020, revenue=500.0, main_revenue=400.0, rd_expense=15.0))  # growth 7.53%
    verdict, _, results = judge(SZ, small, SZ_AS_OF)
    assert results["revenue"] == "fail" and results["revenue_growth"] == "fail" and verdict == "ineligible"
    member = small.with_attr(relaxation_group="shenzhen_priority")
    verdict, _, results = judge(SZ, member, SZ_AS_OF)
    assert results["revenue"] == "pass" and results["revenue_growth"] == "pass" and verdict == "eligible"
    records = evaluation_records(evaluate(get_policy(SZ), bundle(member), SZ_AS_OF))
    expected = {c["id"]: c["expected"] for c in records[0]["criteria"]}
    assert expected["revenue"].startswith("≥ 500") and "放宽" in expected["revenue"]
    # The relaxed threshold is a boundary too: 499.99 is below half of 1000.
    verdict, _, results = judge(SZ, member.with_year(2020, revenue=499.99), SZ_AS_OF)
    assert results["revenue"] == "fail"
    # The R&D ratio is not relaxed.
    assert judge(SZ, member.with_year(2020, rd_expense=10.0), SZ_AS_OF)[2]["rd_ratio"] == "fail"


def test_shenzhen_firms_outside_shenzhen_and_firms_meeting_no_class():
    verdict, _, results = judge(SZ, shenzhen_firm().but(region_code="110108"), SZ_AS_OF)
    assert results["registered_in_shenzhen"] == "fail" and verdict == "ineligible"
    no_class = shenzhen_firm().with_attr(niche_since_year="2020", quality_cert="false", info_system="false",
                                         product_standard="none", foreign_cert="false", own_brand="false",
                                         standards_led="0", standards_participated="0", rd_institution="none")
    no_class = no_class.with_year(2020, invention_patents=0.0, utility_patents=0.0, software_copyrights=0.0)
    verdict, _, results = judge(SZ, no_class, SZ_AS_OF)
    assert results["evaluation_classes"] == "fail" and verdict == "ineligible"
    unknown = shenzhen_firm().with_attr(niche_since_year="2020")
    assert judge(SZ, unknown, SZ_AS_OF)[0] == "insufficient_data"


# ---------------------------------------------------------------------------------------------------------
# cn-bingtuan/zjtx/2021 — 兵工信企业〔2021〕36号: basics + any 2 of 4 + restrictions
# ---------------------------------------------------------------------------------------------------------

BT = "cn-bingtuan/zjtx/2021"
BT_AS_OF = date(2021, 11, 1)


def bingtuan_firm() -> Firm:
    return Firm(
        uscc=uscc_for(21, "659001"), region_code="659001", founded_on=date(2019, 11, 1),
        years={2018: {"main_revenue": 1000.0}, 2019: {"main_revenue": 1100.0},
               2020: {"revenue": 2016.67, "main_revenue": 1210.0, "total_assets": 1000.0,
                      "total_liabilities": 700.0, "employees": 60.0, "rd_expense": 50.0,
                      "invention_patents": 1.0, "utility_patents": 0.0, "design_patents": 0.0,
                      "software_copyrights": 0.0}},
        attributes={"quality_cert": "true"},
    )


def test_bingtuan_two_of_four_special_conditions():
    # main share 1210 / 2016.67 = 59.99% fails; quality_cert passes; 1 IP fails; R&D 2.48% fails → 1 of 4
    verdict, _, results = judge(BT, bingtuan_firm(), BT_AS_OF)
    assert results["special"] == "fail" and verdict == "ineligible"
    # 60% exactly (1210 / 2016.666..) is not reachable in 万元 cents, so use 1210 / 2016.5 ≥ 60% → 2 of 4
    two = bingtuan_firm().with_year(2020, revenue=2016.5)
    verdict, _, results = judge(BT, two, BT_AS_OF)
    assert results["main_business_share"] == "pass" and results["special"] == "pass" and verdict == "eligible"
    # One pass and one unknown could still make two: insufficient data, not a refusal.
    unknown = bingtuan_firm().without_attr("quality_cert").with_year(2020, revenue=2016.5)
    verdict, _, results = judge(BT, unknown, BT_AS_OF)
    assert results["special"] == "missing" and verdict == "insufficient_data"


def test_bingtuan_basic_boundaries_growth_10_debt_70_and_location():
    two = bingtuan_firm().with_year(2020, revenue=2016.5)  # growth 10% and 10%, debt 70%, revenue ≥ 1000
    assert judge(BT, two, BT_AS_OF)[2]["main_revenue_growth"] == "pass"
    assert judge(BT, two.with_year(2020, main_revenue=1209.0), BT_AS_OF)[2]["main_revenue_growth"] == "fail"
    assert judge(BT, two.with_year(2020, total_liabilities=701.0), BT_AS_OF)[2]["debt_ratio"] == "fail"
    verdict, _, results = judge(BT, two.but(region_code="650102"), BT_AS_OF)  # 乌鲁木齐: Xinjiang, not 兵团
    assert results["registered_in_bingtuan"] == "fail" and verdict == "ineligible"


def test_bingtuan_restriction_abnormal_operation_list():
    two = bingtuan_firm().with_year(2020, revenue=2016.5)
    verdict, _, results = judge(BT, two.but(events=[("abnormal_operation", date(2020, 6, 1))]), BT_AS_OF)
    assert results["not_abnormal"] == "fail" and verdict == "ineligible"


def test_precheck_item_6_counts_tax_and_dishonesty_records_within_three_years():
    """L1445-1447 "三年内未发生过重大安全、质量、环境污染事故等违法记录": the stricter reading of 等违法记录."""
    for event in ("tax_violation", "serious_dishonesty"):
        verdict, _, results = judge(PC, little_giant_2020().but(events=[(event, date(2018, 5, 2))]))
        assert (verdict, results["no_major_accident"]) == ("ineligible", "fail"), event
        verdict, _, results = judge(PC, little_giant_2020().but(events=[(event, date(2018, 5, 1))]))
        assert results["no_major_accident"] == "pass", event
