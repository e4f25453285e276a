"""The national rules after 2021 (data/sources/rules-2022-2026.md, "the brief"): cn/little-giant/2022 (63号 附件3),
cn/zjtx-sme/2026 (2号 附件1), cn/little-giant/2026 (2号 附件2) and cn/single-champion/2023 (138号).

Each policy admits a hand-built firm sitting on the thresholds of the brief's A- and B-rows, and rejects variants that
move exactly one figure just across one threshold; the failing criterion is named, so each case proves that threshold.
Expected verdicts come from the brief's tables (the figure and its 以上/不低于/超过 reading), not from the engine.
The effective dates (63号 replacing 79号 and the provincial 2021 rules on 2022-06-01; 2号 from 2026-04-01) are checked
against the brief's timeline (§1).
"""

from __future__ import annotations

from datetime import date

import pytest
from builders import Firm, bundle, uscc_for
from policy_citations import citation_problems

from registry.errors import UserError
from registry.policy import get_policy, load_policies
from registry.policy.engine import evaluate
from registry.policy.schema import Manual, iter_nodes

NEW = ("cn/little-giant/2022", "cn/zjtx-sme/2026", "cn/little-giant/2026", "cn/single-champion/2023")


def judge(policy_id: str, as_of: date, firm: Firm) -> tuple[str, dict[str, str], str | None]:
    """Verdict, {criterion id: result} and class of one firm."""
    row = evaluate(get_policy(policy_id), bundle(firm), as_of).row(0, named=True)
    return row["verdict"], {c["id"]: c["result"] for c in row["criteria"]}, row["class"]


def years(last: int, revenue: float, *, growth: float = 5.0, main: float = 100.0, rd: float = 5.0,
          debt: float = 50.0, n: int = 4, **stocks: float) -> dict[int, dict[str, float]]:
    """`n` years of annual figures ending `last`: revenue growing `growth`% a year up to `revenue` (main business
    `main`% of it, so main revenue grows alike), R&D `rd`% of revenue, liabilities `debt`% of assets. `stocks` are
    year-end figures set in every year (class1_ip=2, market_share=10 ...)."""
    base = {"employees": 200.0, "rd_staff": 40.0, "equity_financing": 0.0, "class1_ip": 4.0, "market_share": 12.0,
            **stocks}
    out = {}
    for k in range(n):
        rev = revenue / (1 + growth / 100) ** k
        out[last - k] = {"revenue": rev, "main_revenue": rev * main / 100, "main_product_revenue": rev * 0.8,
                         "rd_expense": rev * rd / 100, "net_profit": rev * 0.1, "total_assets": 2 * rev,
                         "total_liabilities": 2 * rev * debt / 100, **base}
    return out


# "No award, not on the Maker China lists": known facts, so that an alternative that is not met fails rather than
# leaving the verdict open (a firm with no row at all for an award is unknown, CONTRACT §3b).
NO_AWARDS = [("science_award", "none", date(2019, 1, 1), None), ("maker_china", "none", date(2019, 1, 1), None)]


# ---------------------------------------------------------------------------------------------------------
# Every new file loads, cites its document and part, and carries a confidence for every criterion.
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy_id", NEW)
def test_new_policy_cites_document_and_part_with_a_confidence_code(policy_id):
    policy = get_policy(policy_id)
    assert citation_problems(policy) == []
    codes = policy.criterion_confidence()
    for node in iter_nodes(policy.criteria):
        assert node.source is not None and node.source.part, (policy_id, node.id)
        assert node.source.lines is None  # no compilation lines for documents after 2021
        assert codes[node.id] in ("A", "B", "C", "U"), (policy_id, node.id)
        # A row the brief marks U is never evaluated: it is a manual criterion saying why.
        if codes[node.id] == "U":
            assert isinstance(node, Manual) and node.mode == "not_evaluated", (policy_id, node.id)


def test_confidence_codes_follow_the_brief():
    # 63号 小巨人: 专/精/特/新 A, 链/品 and the lead-product definition B.
    lg22 = get_policy("cn/little-giant/2022").criterion_confidence()
    assert {lg22[i] for i in ("years_in_niche", "main_business_share", "debt_ratio", "market_share", "own_brand",
                              "band_a_rd_ratio", "class1_ip", "maker_china_top50")} == {"A"}
    assert (lg22["lian"], lg22["pin"], lg22["main_product_share"], lg22["national_science_award"]) == ("B",) * 4
    assert lg22["niche_years_relaxation"] == "U"
    # 2号: every row B; the re-review reading of the quality score C; 138号: relaxation for 专精特新 firms C.
    for pid in ("cn/zjtx-sme/2026", "cn/little-giant/2026"):
        codes = get_policy(pid).criterion_confidence()
        assert codes["quality_score_this_year"] == "B" and codes["quality_score_two_years"] == "C", pid
    sc = get_policy("cn/single-champion/2023").criterion_confidence()
    assert (sc["years_in_field"], sc["global_rank"], sc["main_revenue_mean"], sc["main_revenue_mean_relaxed"]) == (
        "B", "B", "B", "C")
    assert sc["not_abnormal_or_dishonest"] == "A"


# ---------------------------------------------------------------------------------------------------------
# Effective dates and supersession (brief §1): 63号 from June 2022, 2号 from 2026-04-01.
# ---------------------------------------------------------------------------------------------------------


def test_the_2021_national_and_provincial_rules_end_when_63hao_takes_over():
    policies = load_policies()
    provincial = [p for p in policies.values()
                  if p.tier == "zjtx_sme" and p.jurisdiction != "cn" and p.purpose == "new_application"]
    assert len(provincial) >= 20
    for p in [policies["cn/little-giant/2021"], policies["cn/little-giant-precheck/2021"], *provincial]:
        assert p.effective_to is not None and p.effective_to <= date(2022, 5, 31), p.id
        assert p.in_force(p.effective_to) and not p.in_force(date(2022, 6, 1)), p.id
    assert policies["cn/little-giant/2022"].supersedes == "cn/little-giant/2021"
    assert policies["cn/little-giant/2026"].supersedes == "cn/little-giant/2022"


def test_evaluating_a_superseded_rule_after_its_end_is_refused():
    firm = Firm(uscc=uscc_for(1), years=years(2021, 12000.0))
    with pytest.raises(UserError, match="cn/little-giant/2021"):
        evaluate(get_policy("cn/little-giant/2021"), bundle(firm), date(2022, 6, 1))
    with pytest.raises(UserError, match="cn/little-giant/2022"):
        evaluate(get_policy("cn/little-giant/2022"), bundle(firm), date(2022, 5, 31))
    with pytest.raises(UserError, match="cn/little-giant/2026"):
        evaluate(get_policy("cn/little-giant/2026"), bundle(firm), date(2026, 3, 31))
    with pytest.raises(UserError, match="cn/zjtx-sme/2026"):
        evaluate(get_policy("cn/zjtx-sme/2026"), bundle(firm), date(2026, 3, 31))


# ---------------------------------------------------------------------------------------------------------
# cn/little-giant/2022 — 63号 附件3 (brief §2.1, §2.4), as of 2023-06-01: 上年 2022, 近2年 2021-2022.
# ---------------------------------------------------------------------------------------------------------

LG22_AS_OF = date(2023, 6, 1)
LG22_ATTRIBUTES = {"niche_since_year": "2020", "info_system": "true", "quality_cert": "ISO9001", "foreign_cert": "false",
                   "own_brand": "true", "rd_institution": "self", "chain_role": "shortboard",
                   "industry_orientation": "four_bases"}


def _lg22_years(revenue: float = 10000.0, *, growth: float = 5.0, rd: float = 3.0, **stocks: float):
    # Main business exactly 70% of revenue, debt exactly 70%, market share exactly 10%, 2 class-I IP rights.
    figures = {"class1_ip": 2.0, "market_share": 10.0, **stocks}
    return years(2022, revenue, growth=growth, main=70.0, rd=rd, debt=70.0, **figures)


# Band a (revenue exactly 1亿) on every threshold: 3 years in the niche, 70% main business, 5% growth, 70% debt,
# 10% share, R&D exactly 3% in each year, 2 class-I IP rights.
_lg22 = Firm(uscc=uscc_for(22), years=_lg22_years(), attributes=dict(LG22_ATTRIBUTES), attribute_rows=list(NO_AWARDS))


def test_little_giant_2022_reference_firm_is_eligible_in_band_a():
    verdict, results, klass = judge("cn/little-giant/2022", LG22_AS_OF, _lg22)
    assert (verdict, klass) == ("eligible", "a")
    assert results["xin_general"] == "pass"


LG22_FAILS = [
    ("niche_2_years", _lg22.with_attr(niche_since_year="2021"), "years_in_niche"),
    ("main_share_69_9", _lg22.with_year(2022, main_revenue=10000.0 * 0.699), "main_business_share"),
    ("growth_4_9", _lg22.but(years=_lg22_years(growth=4.9)), "main_revenue_growth"),
    ("no_info_system", _lg22.with_attr(info_system="false"), "info_system"),
    ("no_certification", _lg22.with_attr(quality_cert="false"), "certification"),
    ("debt_70_1", _lg22.with_year(2022, total_liabilities=20000.0 * 0.701), "debt_ratio"),
    ("share_9_9", _lg22.with_year(2022, market_share=9.9), "market_share"),
    ("no_brand", _lg22.with_attr(own_brand="false"), "own_brand"),
    # R&D 2.9% in 2021 fails "近2年均不低于3%" even with 3.5% in 2022 (79号's pooled ratio would pass).
    ("rd_2021_2_9", _lg22.with_year(2021, rd_expense=_lg22.years[2021]["revenue"] * 0.029)
     .with_year(2022, rd_expense=350.0), "band_a_rd_ratio"),
    ("no_rd_institution", _lg22.with_attr(rd_institution="none"), "rd_institution"),
    ("one_class1_ip", _lg22.with_year(2022, class1_ip=1.0), "class1_ip"),
    ("no_chain_role", _lg22.with_attr(chain_role="none"), "lian"),
    ("field_not_listed", _lg22.with_attr(industry_orientation="leader_collaboration"), "pin"),
    ("lead_products_50", _lg22.with_year(2022, main_product_revenue=5000.0), "main_product_share"),
    ("large_enterprise", _lg22.with_year(2022, employees=1000.0, revenue=40000.0, main_revenue=28000.0,
                                         rd_expense=1200.0, main_product_revenue=32000.0), "sme_status"),
    ("accident_2021", _lg22.but(events=[("major_accident", date(2021, 3, 1))]), "no_major_accident"),
    ("abnormal_2022", _lg22.but(events=[("abnormal_operation", date(2022, 9, 1))]), "not_abnormal_or_dishonest"),
    ("tax_2022", _lg22.but(events=[("tax_violation", date(2022, 9, 1))]), "no_tax_violation"),
    ("single_champion", _lg22.but(recognitions=[("single_champion", "cn", date(2022, 1, 1))]), "not_single_champion"),
]


@pytest.mark.parametrize(("name", "firm", "criterion"), LG22_FAILS, ids=[c[0] for c in LG22_FAILS])
def test_little_giant_2022_one_threshold_crossed_fails_that_criterion(name, firm, criterion):
    verdict, results, _ = judge("cn/little-giant/2022", LG22_AS_OF, firm)
    assert verdict == "ineligible"
    assert results[criterion] == "fail"


def test_little_giant_2022_product_certified_abroad_meets_the_certification_criterion():
    verdict, results, _ = judge("cn/little-giant/2022", LG22_AS_OF,
                                _lg22.with_attr(quality_cert="false", foreign_cert="true"))
    assert (verdict, results["certification"]) == ("eligible", "pass")


def test_little_giant_2022_lead_products_just_over_half_of_revenue():
    verdict, results, _ = judge("cn/little-giant/2022", LG22_AS_OF, _lg22.with_year(2022, main_product_revenue=5001.0))
    assert (verdict, results["main_product_share"]) == ("eligible", "pass")


@pytest.mark.parametrize(("revenue", "rd", "band", "verdict"), [
    (9999.0, 3.0, None, "ineligible"),   # just under 1亿: band b, which asks 6%
    (9999.0, 6.0, "b", "eligible"),
    (5000.0, 6.0, "b", "eligible"),      # 5000万 is band b (以下 excludes it from band c)
    (5000.0, 5.9, None, "ineligible"),
])
def test_little_giant_2022_rd_bands_follow_last_years_revenue(revenue, rd, band, verdict):
    firm = _lg22.but(years=_lg22_years(revenue, rd=rd))
    got, results, klass = judge("cn/little-giant/2022", LG22_AS_OF, firm)
    assert (got, klass) == (verdict, band)
    if verdict == "ineligible":
        assert results["rd_by_revenue"] == "fail"


# Band c: revenue under 5000万 with exactly 8000万 new equity and 3000万 R&D over 2 years, half the staff in R&D.
_lg22_c = (_lg22.but(years=_lg22_years(4000.0, equity_financing=4000.0))
           .with_year(2021, rd_expense=1500.0).with_year(2022, rd_expense=1500.0, rd_staff=100.0))


@pytest.mark.parametrize(("name", "firm", "criterion"), [
    ("on_the_thresholds", _lg22_c, None),
    ("equity_7999", _lg22_c.with_year(2022, equity_financing=3999.0), "band_c_equity_financing"),
    ("rd_2999", _lg22_c.with_year(2022, rd_expense=1499.0), "band_c_rd_expense"),
    ("rd_staff_49_5", _lg22_c.with_year(2022, rd_staff=99.0), "band_c_rd_staff_ratio"),
])
def test_little_giant_2022_band_c(name, firm, criterion):
    verdict, results, klass = judge("cn/little-giant/2022", LG22_AS_OF, firm)
    if criterion is None:
        assert (verdict, klass) == ("eligible", "c")
    else:
        assert (verdict, results[criterion], results["rd_by_revenue"]) == ("ineligible", "fail", "fail")


# 创新直通: a firm failing the general conditions (one class-I IP right) passes 新 with one direct condition.
_lg22_weak = _lg22.with_year(2022, class1_ip=1.0)


@pytest.mark.parametrize(("name", "dated", "verdict"), [
    ("national_award_rank_3", [("science_award", "national", date(2021, 5, 1), None),
                               ("science_award_rank", "3", date(2021, 5, 1), None)], "eligible"),
    ("national_award_rank_4", [("science_award", "national", date(2021, 5, 1), None),
                               ("science_award_rank", "4", date(2021, 5, 1), None)], "ineligible"),
    ("provincial_award_rank_1", [("science_award", "provincial", date(2021, 5, 1), None),
                                 ("science_award_rank", "1", date(2021, 5, 1), None)], "ineligible"),
    ("award_3_years_and_a_day", [("science_award", "national", date(2020, 6, 1), None),
                                 ("science_award_rank", "1", date(2020, 6, 1), None)], "ineligible"),
    ("award_just_within_3_years", [("science_award", "national", date(2020, 6, 2), None),
                                   ("science_award_rank", "1", date(2020, 6, 2), None)], "eligible"),
    ("maker_china_top50", [("maker_china", "top50", date(2022, 11, 1), None)], "eligible"),
    ("maker_china_top500", [("maker_china", "top500", date(2022, 11, 1), None)], "ineligible"),
])
def test_little_giant_2022_direct_innovation_conditions(name, dated, verdict):
    firm = _lg22_weak.but(attribute_rows=[*NO_AWARDS, *dated])
    got, results, _ = judge("cn/little-giant/2022", LG22_AS_OF, firm)
    assert results["xin_general"] == "fail"
    assert (got, results["xin"]) == (verdict, "pass" if verdict == "eligible" else "fail")


def test_little_giant_2022_manual_criteria_never_decide_the_verdict():
    policy = get_policy("cn/little-giant/2022")
    manual = {n.id for n in iter_nodes(policy.criteria) if isinstance(n, Manual)}
    assert {"reputation", "products_not_restricted", "class1_ip_applied", "no_group_overlap",
            "niche_years_relaxation"} <= manual
    verdict, results, _ = judge("cn/little-giant/2022", LG22_AS_OF, _lg22)
    assert verdict == "eligible"
    assert all(results[m] not in ("pass", "fail") for m in manual)


# ---------------------------------------------------------------------------------------------------------
# cn/zjtx-sme/2026 — 2号 附件1 (brief §3.3), as of 2026-06-01: 上年 2025, 近2年 2024-2025.
# ---------------------------------------------------------------------------------------------------------

ZS26_AS_OF = date(2026, 6, 1)


def _zs26_years(revenue: float = 1500.0, **stocks: float):
    # Main business exactly 80%, debt exactly 80%, R&D exactly 100万 in 2025 (6.7%), 1 class-I IP right.
    figures = years(2025, revenue, main=80.0, debt=80.0, class1_ip=1.0, **stocks)
    figures[2024]["rd_expense"] = figures[2025]["rd_expense"] = 100.0
    return figures


_zs26 = Firm(uscc=uscc_for(26), years=_zs26_years(),
             attributes={"niche_since_year": "2023", "rd_institution": "self"},
             attribute_rows=[*NO_AWARDS, ("quality_score", "50", date(2026, 3, 1), None)],
             recognitions=[("innovative_sme", "cn-bj", date(2024, 5, 1))])


def test_zjtx_sme_2026_reference_firm_is_eligible():
    assert judge("cn/zjtx-sme/2026", ZS26_AS_OF, _zs26)[0] == "eligible"


ZS26_FAILS = [
    ("no_tier1_title", _zs26.but(recognitions=[]), "tech_or_innovative"),
    ("tier1_expired", _zs26.but(recognitions=[("innovative_sme", "cn-bj", date(2023, 5, 1))]), "tech_or_innovative"),
    ("niche_2_years", _zs26.with_attr(niche_since_year="2024"), "years_in_niche"),
    ("revenue_1499", _zs26.with_year(2025, revenue=1499.0, main_revenue=1499.0 * 0.8,
                                     main_product_revenue=1499.0 * 0.8), "revenue_or_financing"),
    ("main_share_79_9", _zs26.with_year(2025, main_revenue=1500.0 * 0.799), "main_business_share"),
    ("debt_80_1", _zs26.with_year(2025, total_liabilities=3000.0 * 0.801), "debt_ratio"),
    ("rd_2024_99_9", _zs26.with_year(2024, rd_expense=99.9), "rd_expense_each"),
    ("rd_ratio_2024_2_9", _zs26.with_year(2024, revenue=3450.0, main_revenue=3450.0 * 0.8,
                                          rd_expense=100.0), "rd_ratio_each"),
    ("no_class1_ip", _zs26.with_year(2025, class1_ip=0.0), "ip_or_exemption"),
    ("score_49_9", _zs26.but(attribute_rows=[*NO_AWARDS, ("quality_score", "49.9", date(2026, 3, 1), None)]),
     "quality_score"),
    ("lead_products_50", _zs26.with_year(2025, main_product_revenue=750.0), "main_product_share"),
    ("dishonest_2025", _zs26.but(events=[("serious_dishonesty", date(2025, 2, 1))]), "not_abnormal_or_dishonest"),
]


@pytest.mark.parametrize(("name", "firm", "criterion"), ZS26_FAILS, ids=[c[0] for c in ZS26_FAILS])
def test_zjtx_sme_2026_one_threshold_crossed_fails_that_criterion(name, firm, criterion):
    verdict, results, _ = judge("cn/zjtx-sme/2026", ZS26_AS_OF, firm)
    assert verdict == "ineligible"
    assert results[criterion] == "fail"


@pytest.mark.parametrize(("name", "firm"), [
    ("tech_sme_title", _zs26.but(recognitions=[("tech_sme", "cn", date(2026, 1, 10))])),
    ("equity_2000_over_2_years", _zs26.with_year(2025, revenue=1000.0, main_revenue=800.0, main_product_revenue=800.0,
                                                 rd_expense=100.0, total_assets=3000.0, total_liabilities=2400.0,
                                                 equity_financing=1200.0).with_year(2024, equity_financing=800.0)),
    ("ip_exempt_by_provincial_rd_institution", _zs26.with_year(2025, class1_ip=0.0)
     .with_attr(rd_institution="provincial")),
    ("ip_exempt_by_provincial_award_rank_3", _zs26.with_year(2025, class1_ip=0.0)
     .with_rows(("science_award", "provincial", date(2024, 1, 1)), ("science_award_rank", "3", date(2024, 1, 1)))),
    # At re-review the title itself stands in for the tier-1 title (interpretation zs26_tier1).
    ("review_firm_without_a_tier1_title", _zs26.but(recognitions=[("zjtx_sme", "cn-bj", date(2023, 7, 1))])),
    # 复核 (C): a holder whose latest score is 45 but whose score a year before was 52.
    ("review_firm_score_of_last_year", _zs26.but(recognitions=[("innovative_sme", "cn-bj", date(2024, 5, 1)),
                                                               ("zjtx_sme", "cn-bj", date(2023, 7, 1))],
                                                 attribute_rows=[("quality_score", "52", date(2025, 3, 1), None),
                                                                 ("quality_score", "45", date(2026, 3, 1), None)])),
])
def test_zjtx_sme_2026_alternatives_that_meet_a_criterion(name, firm):
    assert judge("cn/zjtx-sme/2026", ZS26_AS_OF, firm)[0] == "eligible"


def test_zjtx_sme_2026_without_a_score_this_year_the_verdict_waits_for_it():
    # 本年度得分: a score given more than a year before the as-of date is not this year's; the platform has not
    # scored the firm yet, so the verdict is open, not a fail.
    stale = _zs26.but(attribute_rows=[*NO_AWARDS, ("quality_score", "70", date(2025, 5, 31), None)])
    verdict, results, _ = judge("cn/zjtx-sme/2026", ZS26_AS_OF, stale)
    assert (verdict, results["quality_score"]) == ("insufficient_data", "missing")


def test_zjtx_sme_2026_alternatives_just_short():
    equity = _zs26.with_year(2025, revenue=1000.0, main_revenue=800.0, main_product_revenue=800.0, rd_expense=100.0,
                             total_assets=3000.0, total_liabilities=2400.0, equity_financing=1199.0
                             ).with_year(2024, equity_financing=800.0)
    assert judge("cn/zjtx-sme/2026", ZS26_AS_OF, equity)[1]["revenue_or_financing"] == "fail"
    city_lab = _zs26.with_year(2025, class1_ip=0.0).with_attr(rd_institution="city")
    assert judge("cn/zjtx-sme/2026", ZS26_AS_OF, city_lab)[1]["ip_or_exemption"] == "fail"
    # The same two scores without the title: not a re-review, so the latest (45) decides.
    newcomer = _zs26.but(attribute_rows=[("quality_score", "52", date(2025, 3, 1), None),
                                         ("quality_score", "45", date(2026, 3, 1), None)])
    assert judge("cn/zjtx-sme/2026", ZS26_AS_OF, newcomer)[1]["quality_score"] == "fail"


# ---------------------------------------------------------------------------------------------------------
# cn/little-giant/2026 — 2号 附件2 (brief §3.4), as of 2026-06-01.
# ---------------------------------------------------------------------------------------------------------

LG26_AS_OF = date(2026, 6, 1)


def _lg26_years(*, growth: float = 5.0, **stocks: float):
    # Revenue exactly 5000万 with exactly 5% compound growth, main business exactly 90%, debt exactly 75%,
    # R&D 600万 in each of 2024-2025 (1200 together, ≥ 3% each year), 4 class-I IP rights, share exactly 10%.
    figures = years(2025, 5000.0, growth=growth, main=90.0, rd=12.0, debt=75.0,
                    **{"class1_ip": 4.0, "market_share": 10.0, **stocks})
    figures[2024]["rd_expense"] = 600.0
    return figures


_lg26 = Firm(uscc=uscc_for(260), years=_lg26_years(),
             attributes={"niche_since_year": "2023", "industry_orientation": "four_bases", "chain_role": "shortboard"},
             attribute_rows=[*NO_AWARDS, ("quality_score", "60", date(2026, 3, 1), None)],
             recognitions=[("zjtx_sme", "cn-zj", date(2024, 1, 1))])


def test_little_giant_2026_reference_firm_is_eligible():
    assert judge("cn/little-giant/2026", LG26_AS_OF, _lg26)[0] == "eligible"


LG26_FAILS = [
    ("no_zjtx_title", _lg26.but(recognitions=[]), "holds_zjtx_sme"),
    ("zjtx_title_expired", _lg26.but(recognitions=[("zjtx_sme", "cn-zj", date(2023, 1, 1))]), "holds_zjtx_sme"),
    ("niche_2_years", _lg26.with_attr(niche_since_year="2024"), "years_in_niche"),
    ("revenue_4999", _lg26.with_year(2025, revenue=4999.0, main_revenue=4999.0 * 0.9,
                                     main_product_revenue=4000.0), "revenue"),
    ("main_share_89_9", _lg26.with_year(2025, main_revenue=5000.0 * 0.899), "main_business_share"),
    ("growth_4_9", _lg26.but(years=_lg26_years(growth=4.9)), "revenue_compound_growth"),
    ("debt_75_1", _lg26.with_year(2025, total_liabilities=10000.0 * 0.751), "debt_ratio"),
    ("rd_1199", _lg26.with_year(2024, rd_expense=599.0), "rd_expense_2y"),
    ("rd_ratio_2024_2_9", _lg26.with_year(2024, revenue=20000.0, main_revenue=18000.0, rd_expense=580.0)
     .with_year(2025, rd_expense=620.0), "rd_ratio_each"),
    ("three_class1_ip", _lg26.with_year(2025, class1_ip=3.0), "ip_or_award"),
    ("no_market_position", _lg26.with_year(2025, market_share=9.9, intl_market_share=9.9, national_rank=4.0),
     "market_position"),
    ("no_product_field", _lg26.with_attr(industry_orientation="none", strategic_emerging="false"), "product_field"),
    ("no_chain_role", _lg26.with_attr(chain_role="none"), "chain_role"),
    ("score_59_9", _lg26.but(attribute_rows=[*NO_AWARDS, ("quality_score", "59.9", date(2026, 3, 1), None)]),
     "quality_score"),
    ("lead_products_50", _lg26.with_year(2025, main_product_revenue=2500.0), "main_product_share"),
    ("single_champion", _lg26.but(recognitions=[("zjtx_sme", "cn-zj", date(2024, 1, 1)),
                                                ("single_champion", "cn", date(2025, 1, 1))]), "not_single_champion"),
]


@pytest.mark.parametrize(("name", "firm", "criterion"), LG26_FAILS, ids=[c[0] for c in LG26_FAILS])
def test_little_giant_2026_one_threshold_crossed_fails_that_criterion(name, firm, criterion):
    verdict, results, _ = judge("cn/little-giant/2026", LG26_AS_OF, firm)
    assert verdict == "ineligible"
    assert results[criterion] == "fail"


_holder = [("zjtx_sme", "cn-zj", date(2024, 1, 1)), ("little_giant", "cn", date(2023, 9, 1))]


@pytest.mark.parametrize(("name", "firm"), [
    ("international_share_10", _lg26.with_year(2025, market_share=9.9, intl_market_share=10.0)),
    ("domestic_rank_3", _lg26.with_year(2025, market_share=9.9, national_rank=3.0)),
    ("ip_exempt_by_national_award", _lg26.with_year(2025, class1_ip=3.0)
     .with_rows(("science_award", "national", date(2024, 1, 1)), ("science_award_rank", "3", date(2024, 1, 1)))),
    ("strategic_emerging_product", _lg26.with_attr(industry_orientation="none", strategic_emerging="true")),
    # At re-review the little giant title stands in for the 专精特新 one (interpretation lg26_ladder).
    ("review_firm_whose_zjtx_title_expired", _lg26.but(recognitions=[("zjtx_sme", "cn-zj", date(2023, 1, 1)),
                                                                     ("little_giant", "cn", date(2023, 9, 1))])),
    # 复核企业不考查增长率: a holder whose revenue shrank.
    ("review_firm_without_growth", _lg26.but(years=_lg26_years(growth=-3.0), recognitions=list(_holder))),
    # 复核 (C): a holder with 58 this year and 61 the year before.
    ("review_firm_score_of_last_year", _lg26.but(recognitions=list(_holder),
                                                 attribute_rows=[("quality_score", "61", date(2025, 4, 1), None),
                                                                 ("quality_score", "58", date(2026, 3, 1), None)])),
])
def test_little_giant_2026_alternatives_that_meet_a_criterion(name, firm):
    assert judge("cn/little-giant/2026", LG26_AS_OF, firm)[0] == "eligible"


def test_little_giant_2026_raised_the_2022_thresholds():
    """A firm at the 2022 thresholds (70% main business, 2 class-I IP rights) that 63号 admits fails 2号."""
    old_style = _lg26.with_year(2025, main_revenue=5000.0 * 0.7, class1_ip=2.0)
    verdict, results, _ = judge("cn/little-giant/2026", LG26_AS_OF, old_style)
    assert verdict == "ineligible"
    assert (results["main_business_share"], results["ip_or_award"]) == ("fail", "fail")


# ---------------------------------------------------------------------------------------------------------
# cn/single-champion/2023 — 138号 (brief §4), as of 2024-06-01: 近3年 = 2021-2023.
# ---------------------------------------------------------------------------------------------------------

SC_AS_OF = date(2024, 6, 1)


def _sc_years(mean: float):
    # Main business revenue 2021-2023 of mean-2000, mean, mean+2000: the 3-year mean is exactly `mean`.
    figures = years(2023, 50000.0, n=3, employees=2000.0)
    for year, main in zip((2021, 2022, 2023), (mean - 2000.0, mean, mean + 2000.0), strict=True):
        figures[year]["main_revenue"] = main
    return figures


_sc = Firm(uscc=uscc_for(23), years=_sc_years(40000.0), attributes={"niche_since_year": "2014", "global_rank": "3"})


def test_single_champion_reference_firm_is_eligible_though_not_an_sme():
    assert judge("cn/single-champion/2023", SC_AS_OF, _sc)[0] == "eligible"


SC_FAILS = [
    ("field_9_years", _sc.with_attr(niche_since_year="2015"), "years_in_field"),
    ("global_rank_4", _sc.with_attr(global_rank="4"), "global_rank"),
    ("mean_main_revenue_39999", _sc.but(years=_sc_years(39999.0)), "main_revenue"),
    ("data_falsified_2023", _sc.but(events=[("false_declaration", date(2023, 2, 1))]), "no_tax_evasion_or_fraud"),
    ("accident_2022", _sc.but(events=[("major_accident", date(2022, 2, 1))]), "no_major_accident"),
]


@pytest.mark.parametrize(("name", "firm", "criterion"), SC_FAILS, ids=[c[0] for c in SC_FAILS])
def test_single_champion_one_threshold_crossed_fails_that_criterion(name, firm, criterion):
    verdict, results, _ = judge("cn/single-champion/2023", SC_AS_OF, firm)
    assert verdict == "ineligible"
    assert results[criterion] == "fail"


def test_single_champion_global_rank_blank_is_missing_data():
    verdict, results, _ = judge("cn/single-champion/2023", SC_AS_OF, _sc.without_attr("global_rank"))
    assert (verdict, results["global_rank"]) == ("insufficient_data", "missing")


@pytest.mark.parametrize(("mean", "held", "verdict"), [
    (20000.0, "little_giant", "eligible"),      # relaxation to 2亿 for 省级以上专精特新 (C)
    (20000.0, "zjtx_sme", "eligible"),
    (19999.0, "little_giant", "ineligible"),
    (20000.0, None, "ineligible"),
])
def test_single_champion_revenue_relaxation_for_zjtx_firms(mean, held, verdict):
    firm = _sc.but(years=_sc_years(mean), recognitions=[(held, "cn", date(2022, 9, 1))] if held else [])
    got, results, _ = judge("cn/single-champion/2023", SC_AS_OF, firm)
    assert got == verdict
    assert results["main_revenue"] == ("pass" if verdict == "eligible" else "fail")


def test_part_citation_check_catches_a_document_the_brief_does_not_name():
    """The citation check itself can fail: a `{doc, part}` source naming an unknown document, or no part."""
    from registry.policy.schema import Policy

    data = get_policy("cn/little-giant/2022").model_dump(mode="json", exclude_none=True)
    zhuan = data["criteria"]["children"][1]
    assert zhuan["id"] == "zhuan"
    zhuan["children"][0]["source"]["doc"] = "工信部企业〔2099〕1号"
    zhuan["children"][2]["source"]["part"] = " "
    problems = citation_problems(Policy.model_validate(data))
    assert any("years_in_niche" in p and "2099" in p for p in problems)
    assert any("main_business_share" in p or "niche_years_relaxation" in p for p in problems)


def test_global_rank_is_read_from_an_attributes_file_by_its_chinese_name(tmp_path):
    """The single champion's world rank (an attribute, self-certified with the application) ingests under its
    Chinese name; a rank of 0 is refused."""
    from fixtures.ingest_data import write_csv

    from registry.ingest import read_data_file

    firm = uscc_for(23)
    parsed = read_data_file(write_csv(tmp_path / "a.csv", ["uscc", "属性", "值", "生效日期"],
                                      [[firm, "主导产品全球细分市场排名", "3", "2024-01-01"],
                                       [firm, "global_rank", "0", "2024-01-01"]]))
    assert parsed.frame.select("attribute", "value").rows() == [("global_rank", "3")]
    assert [r.row for r in parsed.rejections] == [2]


@pytest.mark.parametrize(("tier", "jurisdiction", "as_of", "purpose", "expected"), [
    ("little_giant", "cn", date(2022, 5, 31), "new_application", "cn/little-giant/2021"),
    ("little_giant", "cn", date(2022, 6, 1), "new_application", "cn/little-giant/2022"),
    ("little_giant", "cn-gd", date(2026, 3, 31), "new_application", "cn/little-giant/2022"),
    ("little_giant", "cn-gd", date(2026, 4, 1), "new_application", "cn/little-giant/2026"),
    ("little_giant", "cn", date(2026, 6, 1), "review", "cn/little-giant/2022"),  # 117号
    ("little_giant", "cn", date(2027, 1, 1), "review", "cn/little-giant/2026"),
    ("zjtx_sme", "cn-zj", date(2022, 5, 31), "new_application", "cn-zj/zjtx/2021"),
    ("zjtx_sme", "cn-gd", date(2026, 4, 1), "new_application", "cn/zjtx-sme/2026"),
    ("single_champion", "cn-js", date(2024, 6, 1), "new_application", "cn/single-champion/2023"),
])
def test_the_real_files_resolve_to_the_rule_of_the_day(tier, jurisdiction, as_of, purpose, expected):
    from registry.policy.resolve import policy_in_force

    assert policy_in_force(tier, jurisdiction, as_of, purpose).id == expected


def test_no_provincial_2021_rule_is_picked_after_63hao():
    from registry.policy.resolve import policies_in_force

    for province in ("cn-zj", "cn-gd", "cn-sc", "cn-qh", "cn-fj-xiamen", "cn-bingtuan"):
        picked = [p.id for p in policies_in_force("zjtx_sme", province, date(2022, 6, 1))]
        assert not [pid for pid in picked if not pid.startswith("cn/")], (province, picked)
