"""Regional policies of the north/east part (notes-beijing, notes-provinces-a, notes-provinces-b): every
file loads, its citations hold, and each policy admits a hand-built qualifying firm and rejects variants
that move exactly one figure just across a threshold (the failing criterion is named, so a case proves
that threshold, not merely that something failed).

Every case is a small Bundle of tests/builders.py firms — no database, no mocks.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from registry.policy.loader import POLICY_DIR, read_policy_file
from registry.policy.resolve import lifecycle_for

sys.path.insert(0, str(Path(__file__).parent))
from builders import Firm, check_case, grown, result_of, with_attr, with_event, with_year, with_years  # noqa: E402
from policy_citations import citation_problems  # noqa: E402

NORTH_JURISDICTIONS = (
    "cn-bj", "cn-tj", "cn-he", "cn-sx", "cn-nm", "cn-ln", "cn-jl", "cn-hl", "cn-sh", "cn-js", "cn-zj",
    "cn-ah", "cn-fj", "cn-jx",
)
NORTH_FILES = sorted(p for j in NORTH_JURISDICTIONS for p in (POLICY_DIR / j).rglob("*.yaml"))

USCC = "91110000MA0000001X"


def region_firm(**fields) -> Firm:
    """A firm of these cases: the module's one USCC, founded 2008-03-01 and listed nowhere unless told."""
    return Firm(**{"uscc": USCC, "founded_on": date(2008, 3, 1), "listing_board": "none", **fields})


FULL_ATTRIBUTES = {
    "niche_since_year": "2008", "rd_institution": "self", "info_system": "true", "own_brand": "true",
    "quality_cert": "ISO9001", "product_standard": "national", "foreign_cert": "false",
    "standards_led": "1", "standards_participated": "0", "high_tech_enterprise": "true",
    "industry_orientation": "four_bases", "listing_plan": "none",
}


def debt_at(firm: Firm, year: int, percent: float) -> Firm:
    """The firm with its debt ratio in `year` set to `percent`."""
    return with_year(firm, year, total_liabilities=firm.years[year]["total_assets"] * percent / 100)


# ---------------------------------------------------------------------------------------------------------
# Every file of this part loads, validates and cites the compilation correctly.
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NORTH_FILES, ids=lambda p: str(p.relative_to(POLICY_DIR)))
def test_policy_file_loads_and_cites(path: Path) -> None:
    policy = read_policy_file(path)
    assert policy.jurisdiction in NORTH_JURISDICTIONS
    assert policy.leaves(), "a policy without evaluable criteria gives verdicts that mean nothing"
    assert citation_problems(policy) == []


# ---------------------------------------------------------------------------------------------------------
# Cases: (policy id, as_of, qualifying firm, [(variant name, failing firm, criterion that must fail)]).
# ---------------------------------------------------------------------------------------------------------

CASES: list[tuple[str, date, Firm, list[tuple[str, Firm, str]]]] = []


def case(policy_id: str, as_of: date, firm: Firm, *variants: tuple[str, Firm, str]) -> None:
    CASES.append((policy_id, as_of, firm, list(variants)))


# --- Beijing ----------------------------------------------------------------------------------------------

# 北京市专精特新中小企业: two years old, revenue exactly 1500, main business exactly 50%.
_bj_zjtx = region_firm(region_code="110108", founded_on=date(2019, 3, 1), years=grown(2020, 1500.0, main=50.0, profit=5.0))
case("cn-bj/zjtx/2021", date(2021, 6, 1), _bj_zjtx,
     ("revenue_1499", with_year(_bj_zjtx, 2020, revenue=1499.0, main_revenue=749.5), "business"),
     ("main_share_49_9", with_year(_bj_zjtx, 2020, main_revenue=1500.0 * 0.499), "main_business_share"),
     ("operating_1_year", replace(_bj_zjtx, founded_on=date(2019, 6, 2)), "operating_years"),
     ("dishonesty_2019", with_event(_bj_zjtx, "serious_dishonesty", date(2019, 1, 1)), "no_violation_3y"))
# Revenue under 1500 but two years' net profit of 600 together also qualify.
_bj_zjtx_profit = with_years(_bj_zjtx, grown(2020, 1000.0, main=50.0, profit=31.5, growth=0.0))
case("cn-bj/zjtx/2021", date(2021, 6, 1), _bj_zjtx_profit,
     ("profit_599", with_year(_bj_zjtx_profit, 2020, net_profit=284.0), "net_profit_2y_600"))

# 北京市专精特新“小巨人”: class (2) firm sitting on every threshold.
_bj_lg = region_firm(region_code="110108", years=grown(2020, 5000.0, growth=5.0, rd=6.0, main=70.0, debt=70.0, rank=3.0,
                                                invention=2.0, utility=0.0),
              attributes={**FULL_ATTRIBUTES, "niche_since_year": "2018"})
case("cn-bj/little-giant/2021", date(2021, 5, 1), _bj_lg,
     ("rank_4", with_year(_bj_lg, 2020, province_rank=4.0), "province_rank"),
     ("rd_5_9", with_years(_bj_lg, grown(2020, 5000.0, growth=5.0, rd=5.9, main=70.0, debt=70.0, rank=3.0,
                                        invention=2.0, utility=0.0)), "classes"),
     ("debt_70_1", debt_at(_bj_lg, 2020, 70.1), "debt_ratio"),
     ("one_invention_patent", with_year(_bj_lg, 2020, invention_patents=1.0), "patents"),
     ("niche_2_years", with_attr(_bj_lg, niche_since_year="2019"), "years_in_niche"),
     ("single_champion", replace(_bj_lg, recognitions=[("single_champion", "cn", date(2020, 12, 1))]),
      "not_single_champion"))
case("cn-bj/little-giant/2021-b2", date(2021, 11, 25), _bj_lg,
     ("rank_4", with_year(_bj_lg, 2020, province_rank=4.0), "province_rank"),
     ("growth_4_9", with_years(_bj_lg, grown(2020, 5000.0, growth=4.9, rd=6.0, main=70.0, debt=70.0, rank=3.0,
                                            invention=2.0, utility=0.0, profit=0.0)), "growth"))

# 北京市第一批重点“小巨人”: a national Little Giant with R&D at exactly 4% in each of two years.
_bj_klg = region_firm(region_code="110108", years=grown(2020, 8000.0, rd=4.0, main=70.0, invention=0.0),
               attributes=dict(FULL_ATTRIBUTES), recognitions=[("little_giant", "cn", date(2020, 12, 1))])
case("cn-bj/key-little-giant/2021", date(2021, 3, 10), _bj_klg,
     ("rd_2019_3_9", with_year(_bj_klg, 2019, rd_expense=_bj_klg.years[2019]["revenue"] * 0.039), "rd_ratio_each"),
     ("main_share_69_9", with_year(_bj_klg, 2020, main_revenue=8000.0 * 0.699), "main_business_share"),
     ("listed_star", replace(_bj_klg, listing_board="star"), "not_listed"),
     ("not_little_giant", replace(_bj_klg, recognitions=[]), "is_little_giant"),
     ("none_of_three", with_attr(_bj_klg, rd_institution="none", standards_led="0"), "innovation_one_of_three"))

# --- Tianjin ----------------------------------------------------------------------------------------------

# 种子企业: revenue 300 with 10% growth, then 4 of the optional items exactly (R&D > 3% each year, R&D
# staff 10%, 1 invention patent, quality certification); nothing else optional is met.
_tj_seed = region_firm(region_code="120104", founded_on=date(2016, 5, 1),
                years=grown(2020, 300.0, growth=10.0, rd=3.1, rd_staff=10.0, main=50.0, debt=70.0, invention=1.0,
                            utility=0.0),
                attributes={"quality_cert": "ISO9001", "own_brand": "false", "rd_institution": "none",
                            "product_standard": "none", "foreign_cert": "false", "standards_led": "0",
                            "standards_participated": "0"})
case("cn-tj/seed/2021", date(2021, 3, 1), _tj_seed,
     ("revenue_299", with_years(_tj_seed, {y: {**m, "revenue": m["revenue"] * 299 / 300,
                                               "main_revenue": m["main_revenue"] * 299 / 300}
                                           for y, m in _tj_seed.years.items()}), "revenue_and_growth"),
     ("growth_9_9", with_years(_tj_seed, grown(2020, 300.0, growth=9.9, rd=3.1, rd_staff=10.0, main=50.0, debt=70.0,
                                               invention=1.0, utility=0.0)), "revenue_and_growth"),
     ("main_share_49_9", with_year(_tj_seed, 2020, main_revenue=300.0 * 0.499), "main_business_share"),
     ("debt_70_1", debt_at(_tj_seed, 2020, 70.1), "debt_ratio"),
     ("rd_exactly_3", with_year(_tj_seed, 2019, rd_expense=_tj_seed.years[2019]["revenue"] * 0.03), "optional"),
     ("rd_staff_9_5", with_year(_tj_seed, 2020, rd_staff=19.0), "optional"),
     ("outside_tianjin", replace(_tj_seed, region_code="130102"), "registered_in_tianjin"),
     ("already_tj_zjtx", replace(_tj_seed, recognitions=[("zjtx_sme", "cn-tj", date(2020, 1, 10))]),
      "not_already_recognised"),
     ("accident_2020", with_event(_tj_seed, "major_accident", date(2020, 6, 1)), "no_accident_since_2019"))

# The one-year-old firm of option ③: revenue 500, no growth test.
_tj_seed_young = region_firm(region_code="120104", founded_on=date(2019, 11, 1),
                      years={2020: grown(2020, 500.0, rd=3.1, rd_staff=10.0, main=50.0, debt=70.0,
                                         invention=1.0, utility=0.0)[2020],
                             2019: grown(2020, 500.0, rd=3.1, rd_staff=10.0, main=50.0, debt=70.0,
                                         invention=1.0, utility=0.0)[2019]},
                      attributes=dict(_tj_seed.attributes))
case("cn-tj/seed/2021-b2", date(2021, 9, 1), _tj_seed_young,
     ("revenue_499", with_year(_tj_seed_young, 2020, revenue=499.0, main_revenue=499.0 * 0.5), "revenue_and_growth"),
     ("quality_cert_missing", with_attr(_tj_seed_young, quality_cert="false"), "optional"))

# 天津市专精特新中小企业 (2021 guide): 4 of 6 innovation items exactly.
_tj_zjtx = region_firm(region_code="120116", founded_on=date(2015, 1, 1),
                years=grown(2020, 1000.0, growth=5.0, rd=3.1, rd_staff=10.0, main=70.0, debt=70.0, invention=1.0),
                attributes={**FULL_ATTRIBUTES, "niche_since_year": "2019", "product_standard": "none",
                            "standards_led": "0"})
case("cn-tj/zjtx/2021", date(2021, 12, 15), _tj_zjtx,
     ("revenue_999", with_year(_tj_zjtx, 2020, revenue=999.0, main_revenue=999.0 * 0.7), "revenue_1000"),
     ("growth_4_9", with_years(_tj_zjtx, grown(2020, 1000.0, growth=4.9, rd=3.1, rd_staff=10.0, main=70.0, debt=70.0,
                                               invention=1.0, profit=0.0)), "growth_5"),
     ("niche_since_2020", with_attr(_tj_zjtx, niche_since_year="2020"), "years_in_niche"),
     ("main_share_69_9", with_year(_tj_zjtx, 2020, main_revenue=699.0), "main_business_share"),
     ("three_innovation_items", with_attr(_tj_zjtx, rd_institution="none"), "innovation"),
     ("no_brand", with_attr(_tj_zjtx, own_brand="false"), "own_brand"))

# --- Hebei ------------------------------------------------------------------------------------------------

_he_pool = region_firm(region_code="130102", founded_on=date(2019, 3, 1), years=grown(2020, 500.0, growth=1.0))
case("cn-he/zjtx-pool/2021", date(2021, 3, 10), _he_pool,
     ("revenue_499", with_year(_he_pool, 2020, revenue=499.0, main_revenue=499.0 * 0.9), "revenue_500"),
     ("main_revenue_flat", with_year(_he_pool, 2020, main_revenue=_he_pool.years[2019]["main_revenue"]),
      "main_revenue_growth"),
     ("operating_1_year", replace(_he_pool, founded_on=date(2019, 3, 11)), "operating_years"),
     ("accident_2019", with_event(_he_pool, "major_accident", date(2019, 4, 1)), "no_accident_3y"))

# 省级专精特新中小企业: in the pool, revenue 1000 in both years, only the 新颖化 special condition met.
_he_zjtx = region_firm(region_code="130102", years=grown(2020, 1100.0, growth=9.0, product=50.0, rd=1.0, invention=0.0,
                                                  utility=0.0),
                attributes={**FULL_ATTRIBUTES, "quality_cert": "false"},
                recognitions=[("he_zjtx_pool", "cn-he", date(2020, 6, 1))])
case("cn-he/zjtx/2021", date(2021, 5, 1), _he_zjtx,
     ("revenue_2019_999", with_year(_he_zjtx, 2019, revenue=999.0, main_revenue=1009.0 / 1.09 * 0.9),
      "revenue_each_1000"),
     ("no_special", with_attr(_he_zjtx, info_system="false"), "special"),
     ("not_in_pool", replace(_he_zjtx, recognitions=[], attributes={**_he_zjtx.attributes,
                                                                     "industry_orientation": "none"}),
      "pool_or_fast_track"),
     ("no_rd_institution", with_attr(_he_zjtx, rd_institution="none"), "rd_institution"))

# Fast track (art. 8): a priority-field firm not in the pool, one year old.
case("cn-he/zjtx/2021", date(2021, 5, 1), replace(_he_zjtx, recognitions=[], founded_on=date(2020, 4, 1)),
     ("operating_11_months", replace(_he_zjtx, recognitions=[], founded_on=date(2020, 6, 1)), "pool_or_fast_track"))

_he_demo = region_firm(region_code="130202", years=grown(2020, 5000.0, growth=8.0, main=60.0, rd=3.0, debt=80.0, rank=5.0,
                                                  invention=1.0, utility=0.0),
                attributes=dict(FULL_ATTRIBUTES), recognitions=[("zjtx_sme", "cn-he", date(2019, 7, 1))])
case("cn-he/zjtx-demo/2021", date(2021, 5, 10), _he_demo,
     ("revenue_4999", with_year(_he_demo, 2020, revenue=4999.0, main_revenue=4999.0 * 0.6), "revenue_5000"),
     ("debt_80_1", debt_at(_he_demo, 2020, 80.1), "debt_ratio"),
     ("rank_6", with_year(_he_demo, 2020, province_rank=6.0), "province_rank"),
     ("rd_2_9", with_years(_he_demo, grown(2020, 5000.0, growth=8.0, main=60.0, rd=2.9, debt=80.0, rank=5.0,
                                          invention=1.0, utility=0.0)), "rd_ratio"),
     ("no_zjtx_no_pool", replace(_he_demo, recognitions=[]), "scope"))

_he_demo_b4 = replace(_he_demo, recognitions=[("he_zjtx_pool", "cn-he", date(2021, 3, 1))])
case("cn-he/zjtx-demo/2021-b4", date(2021, 10, 1), _he_demo_b4,
     ("pool_not_priority", with_attr(_he_demo_b4, industry_orientation="shortboard"), "scope"),
     ("debt_80_1", debt_at(_he_demo_b4, 2020, 80.1), "debt_ratio"),
     ("accident_2019", with_event(_he_demo_b4, "major_accident", date(2019, 1, 5)), "no_accident_3y"))

# --- Shanxi -----------------------------------------------------------------------------------------------

_sx_lg = region_firm(region_code="140105", years=grown(2020, 10000.0, growth=5.0, rd=3.0, rd_staff=15.0, main=70.0, debt=70.0,
                                                invention=2.0, utility=0.0),
              attributes={**FULL_ATTRIBUTES, "niche_since_year": "2018"})
case("cn-sx/little-giant/2021", date(2021, 5, 1), _sx_lg,
     ("revenue_9999", with_year(_sx_lg, 2020, revenue=9999.0, main_revenue=9999.0 * 0.7), "revenue_10000"),
     ("rd_staff_14_5", with_year(_sx_lg, 2020, rd_staff=29.0), "rd_staff_ratio"),
     ("one_patent_no_standard", with_attr(with_year(_sx_lg, 2020, invention_patents=1.0), standards_led="0"),
      "patents"),
     ("accident_2020", with_event(_sx_lg, "major_accident", date(2020, 1, 2)), "no_accident_2y"),
     ("no_brand", with_attr(_sx_lg, own_brand="false"), "own_brand"))
# A standard counts as an invention patent: one of each makes the two the text asks for.
case("cn-sx/little-giant/2021", date(2021, 5, 1), with_year(_sx_lg, 2020, invention_patents=1.0),
     ("no_standard", with_attr(with_year(_sx_lg, 2020, invention_patents=1.0), standards_led="0"), "patents"))

# 专项资金项目: the growth threshold follows the revenue band.
_sx_award = region_firm(region_code="140105", founded_on=date(2015, 1, 1),
                 years=grown(2020, 4000.0, growth=10.0, rd=3.1, product=50.0, debt=69.9, invention=0.0, utility=1.0),
                 attributes=dict(FULL_ATTRIBUTES))
case("cn-sx/zjtx-award/2021", date(2021, 5, 1), _sx_award,
     ("growth_9_9_under_5000", with_years(_sx_award, grown(2020, 4000.0, growth=7.9, rd=3.1, product=50.0, debt=69.9,
                                                           invention=0.0, utility=1.0)), "growth_by_band"),
     ("debt_exactly_70", debt_at(_sx_award, 2020, 70.0), "debt_ratio"),
     ("rd_exactly_3", with_year(_sx_award, 2020, rd_expense=40.0 * 3), "rd_ratio_over_3"),
     ("loss", with_year(_sx_award, 2020, net_profit=-1.0), "profit_positive"),
     ("revenue_999", with_years(_sx_award, grown(2020, 999.0, growth=10.0, rd=3.1, product=50.0, debt=69.9,
                                                 invention=0.0, utility=1.0)), "revenue_1000"))
_sx_award_mid = with_years(_sx_award, grown(2020, 6000.0, growth=8.0, rd=3.1, product=50.0, debt=69.9, invention=0.0,
                                            utility=1.0))
case("cn-sx/zjtx-award/2021", date(2021, 5, 1), _sx_award_mid,
     ("growth_5_9_middle_band", with_years(_sx_award, grown(2020, 6000.0, growth=5.9, rd=3.1, product=50.0, debt=69.9,
                                                            invention=0.0, utility=1.0)), "growth_by_band"))

# --- Liaoning ---------------------------------------------------------------------------------------------

# The only special class met: main business grew in each of two years and is exactly 60% of revenue.
_ln_product = region_firm(region_code="210102", founded_on=date(2018, 1, 1),
                   years=grown(2020, 1000.0, growth=1.0, main=60.0, invention=0.0, utility=0.0),
                   attributes={**FULL_ATTRIBUTES, "quality_cert": "false"})
case("cn-ln/zjtx-product/2021", date(2021, 6, 1), _ln_product,
     ("revenue_999", with_year(_ln_product, 2020, revenue=999.0, main_revenue=600.0), "revenue_1000"),
     ("flat_2020", with_year(_ln_product, 2020, revenue=_ln_product.years[2019]["revenue"],
                             main_revenue=_ln_product.years[2019]["main_revenue"]), "special"),
     ("main_share_59_9", with_year(_ln_product, 2020, main_revenue=599.0), "special"))

_ln_zjtx = region_firm(region_code="210202", years=grown(2020, 1500.0, rd=1.0, debt=70.0, rd_staff=10.0, invention=1.0,
                                                  utility=0.0),
                attributes={**FULL_ATTRIBUTES, "own_brand": "false", "niche_since_year": "2020"},
                recognitions=[("ln_zjtx_product", "cn-ln", date(2019, 9, 1))])
case("cn-ln/zjtx/2021", date(2021, 6, 1), _ln_zjtx,
     ("debt_2019_70_1", debt_at(_ln_zjtx, 2019, 70.1), "debt_ratio_each"),
     ("rd_0_9", with_years(_ln_zjtx, grown(2020, 1500.0, rd=0.9, debt=70.0, rd_staff=10.0, invention=1.0, utility=0.0)),
      "rd_ratio"),
     ("rd_staff_9_5", with_year(_ln_zjtx, 2020, rd_staff=19.0), "special"),
     ("no_product_title", replace(_ln_zjtx, recognitions=[]), "holds_product"),
     ("dishonesty_2019", with_event(_ln_zjtx, "serious_dishonesty", date(2019, 1, 1)), "no_violation_3y"))

_ln_lg = region_firm(region_code="210102", years=grown(2020, 2000.0, growth=3.0, rd=2.0, debt=70.0, main=60.0, rank=15.0),
              attributes={**FULL_ATTRIBUTES, "own_brand": "false", "rd_institution": "none", "standards_led": "0"},
              recognitions=[("zjtx_sme", "cn-ln", date(2019, 9, 1))])
_ln_lg.years[2020].update(invention_patents=0.0, utility_patents=0.0)  # the innovative class fails; specialised passes
case("cn-ln/little-giant/2021", date(2021, 6, 1), _ln_lg,
     ("rank_16", with_year(_ln_lg, 2020, province_rank=16.0), "special"),
     ("growth_2_9", with_years(_ln_lg, {y: {**m, "invention_patents": 0.0, "utility_patents": 0.0} for y, m in
                                        grown(2020, 2000.0, growth=2.9, rd=2.0, debt=70.0, main=60.0, rank=15.0).items()}),
      "special"),
     ("revenue_1999", with_year(_ln_lg, 2020, revenue=1999.0, main_revenue=1199.4), "revenue_2000"),
     ("not_zjtx", replace(_ln_lg, recognitions=[("zjtx_sme", "cn-ln", date(2018, 5, 1))]), "holds_zjtx"))

# --- Jilin ------------------------------------------------------------------------------------------------

_jl = region_firm(region_code="220102", founded_on=date(2020, 1, 1), years=grown(2020, 1000.0, rd=1.5, main=50.0, invention=1.0),
           attributes={**FULL_ATTRIBUTES, "rd_institution": "none", "standards_led": "0"})
case("cn-jl/zjtx/2021", date(2021, 7, 10), _jl,
     ("revenue_999", with_year(_jl, 2020, revenue=999.0, main_revenue=500.0), "revenue_1000"),
     ("rd_1_4", with_years(_jl, grown(2020, 1000.0, rd=1.4, main=50.0, invention=1.0)), "rd_ratio"),
     ("no_patent_institution_or_standard", with_year(_jl, 2020, invention_patents=0.0), "one_of_three"),
     ("founded_11_months_ago", replace(_jl, founded_on=date(2020, 8, 11)), "founded_1_year"),
     ("software_firm", replace(_jl, industry_code="I6510"), "industrial"))

# --- Shanghai ---------------------------------------------------------------------------------------------

# 上海市专精特新企业: only the 新颖化 class is met (equity financing just over 2000 in two years).
_sh = region_firm(region_code="310115", years=grown(2020, 1000.0, growth=2.0, rd=3.0, main=60.0, equity=1000.5,
                                            invention=0.0, utility=0.0),
           attributes={**FULL_ATTRIBUTES, "own_brand": "false"})
case("cn-sh/zjtx/2021", date(2021, 8, 1), _sh,
     ("equity_exactly_2000", with_year(_sh, 2020, equity_financing=999.5), "special"),
     ("rd_2_9", with_years(_sh, grown(2020, 1000.0, growth=2.0, rd=2.9, main=60.0, equity=1000.5, invention=0.0,
                                      utility=0.0)), "rd_ratio"),
     ("operating_2_years", replace(_sh, founded_on=date(2018, 8, 2)), "operating_years"),
     ("tax_violation_2020", with_event(_sh, "tax_violation", date(2020, 3, 1)), "no_tax_violation_3y"))

_sh_seed = region_firm(region_code="310115", years=grown(2020, 3000.0, growth=20.0, rd=6.0, rd_staff=10.0, main=100.0),
                attributes=dict(FULL_ATTRIBUTES))
case("cn-sh/tech-little-giant-seed/2021", date(2021, 10, 1), _sh_seed,
     ("main_revenue_10001", with_years(_sh_seed, grown(2020, 10001.0, growth=20.0, rd=6.0, rd_staff=10.0, main=100.0)),
      "main_revenue_max"),
     ("cagr_19_9", with_years(_sh_seed, grown(2020, 3000.0, growth=19.9, rd=6.0, rd_staff=10.0, main=100.0,
                                             profit=0.0)), "growth_or_equity"),
     ("rd_5_9", with_years(_sh_seed, grown(2020, 3000.0, growth=20.0, rd=5.9, rd_staff=10.0, main=100.0)),
      "rd_ratio_3y"),
     ("not_high_tech", with_attr(_sh_seed, high_tech_enterprise="false"), "high_tech_enterprise"),
     ("listed_star", replace(_sh_seed, listing_board="star"), "not_listed"))

_sh_lg = region_firm(region_code="310115", years=grown(2020, 10000.0, growth=0.0, rd=5.0, rd_staff=20.0, main=100.0,
                                                equity=2667.0),
              attributes=dict(FULL_ATTRIBUTES))
case("cn-sh/tech-little-giant/2021", date(2021, 10, 1), _sh_lg,
     ("equity_8000_not_over", with_year(_sh_lg, 2020, equity_financing=2666.0), "growth_or_equity"),
     ("rd_staff_19_5", with_year(_sh_lg, 2020, rd_staff=39.0), "rd_staff_ratio"),
     ("no_rd_institution", with_attr(_sh_lg, rd_institution="none"), "rd_institution"))

# --- Jiangsu ----------------------------------------------------------------------------------------------

_js_pool = region_firm(region_code="320102", years=grown(2020, 2000.0, growth=5.0, product=40.0, invention=1.0, utility=1.0))
case("cn-js/qianqi-pool/2021", date(2021, 9, 20), _js_pool,
     ("outside_jiangsu", replace(_js_pool, region_code="330102"), "registered_in_jiangsu"),
     ("no_patents", with_year(_js_pool, 2020, invention_patents=0.0, utility_patents=0.0, design_patents=0.0,
                              software_copyrights=0.0), "class"))

_js_lg = region_firm(region_code="320102", years=grown(2020, 5000.0, growth=8.0, rd=3.0, main=100.0, profit=5.0),
              attributes=dict(FULL_ATTRIBUTES), recognitions=[("js_qianqi_pool", "cn-js", date(2021, 10, 1))])
case("cn-js/little-giant/2021", date(2021, 10, 30), _js_lg,
     ("main_revenue_4999", with_year(_js_lg, 2020, revenue=4999.0, main_revenue=4999.0), "size"),
     ("cagr_7_9", with_years(_js_lg, grown(2020, 5000.0, growth=7.9, rd=3.0, main=100.0, profit=5.0)),
      "revenue_cagr_3y"),
     ("rd_2018_low", with_year(_js_lg, 2018, rd_expense=_js_lg.years[2018]["revenue"] * 0.0299 - 1.0),
      "rd_ratio_mean_3y"),
     ("not_in_pool", replace(_js_lg, recognitions=[]), "in_pool"))
# Main-business revenue under 50 million, but net profit of 4 million or more.
case("cn-js/little-giant/2021", date(2021, 10, 30),
     with_years(_js_lg, grown(2020, 4000.0, growth=8.0, rd=3.0, main=100.0, profit=10.0)),
     ("profit_399", with_year(with_years(_js_lg, grown(2020, 4000.0, growth=8.0, rd=3.0, main=100.0, profit=10.0)),
                              2020, net_profit=399.0), "size"))

# The product's sales, 54% of revenue, are 60% of main-business revenue (90% of revenue).
_js_product = region_firm(region_code="320102", years=grown(2020, 3000.0, product=54.0, invention=1.0, utility=0.0,
                                                     software=1.0),
                   recognitions=[("js_qianqi_pool", "cn-js", date(2021, 10, 1))])
case("cn-js/zjtx-product/2021", date(2021, 10, 30), _js_product,
     ("product_59_9", with_year(_js_product, 2020, main_product_revenue=2700.0 * 0.599), "product_share"),
     ("one_patent_only", with_year(_js_product, 2020, software_copyrights=0.0), "two_patents"))

# --- Zhejiang ---------------------------------------------------------------------------------------------

_zj = region_firm(region_code="330106", years=grown(2020, 3000.0, growth=5.0, rd=3.0, main=70.0, invention=1.0, profit=0.0),
           attributes={**FULL_ATTRIBUTES, "niche_since_year": "2018"})
case("cn-zj/zjtx/2021", date(2021, 11, 1), _zj,
     ("growth_4_9", with_years(_zj, grown(2020, 3000.0, growth=4.9, rd=3.0, main=70.0, invention=1.0, profit=0.0)),
      "growth"),
     ("rd_2019_2_9", with_year(_zj, 2019, rd_expense=_zj.years[2019]["revenue"] * 0.029), "rd_ratio_each"),
     ("no_standard", with_attr(_zj, standards_led="0", standards_participated="0"), "standards"),
     ("little_giant", replace(_zj, recognitions=[("little_giant", "cn", date(2020, 12, 1))]), "not_higher_tier"),
     ("accident_2019", with_event(_zj, "major_accident", date(2019, 6, 1)), "no_major_accident_3y"))

# 隐形冠军: ten years old, revenue growing each year, net profit growth exactly 10%.
_zj_hc = region_firm(region_code="330106", founded_on=date(2006, 1, 1),
              years=grown(2020, 20000.0, growth=10.0, rd=4.0, main=70.0, debt=70.0, invention=3.0, profit=8.0),
              attributes={**FULL_ATTRIBUTES, "niche_since_year": "2011", "rd_institution": "provincial"})
case("cn-zj/hidden-champion/2021", date(2021, 11, 1), _zj_hc,
     ("revenue_over_2_billion", with_years(_zj_hc, grown(2020, 200001.0, growth=10.0, rd=4.0, main=70.0, debt=70.0,
                                                         invention=3.0, profit=8.0)), "revenue_max"),
     ("niche_9_years", with_attr(_zj_hc, niche_since_year="2012"), "years_in_niche"),
     ("profit_growth_9_9", with_years(_zj_hc, {y: {**m, "net_profit": 1600.0 / 1.099 ** (2020 - y)} for y, m in
                                               _zj_hc.years.items()}), "net_profit_growth"),
     ("revenue_flat_2019", with_year(_zj_hc, 2019, revenue=_zj_hc.years[2018]["revenue"]), "revenue_growing"),
     ("single_champion", replace(_zj_hc, recognitions=[("single_champion", "cn", date(2019, 1, 1))]),
      "not_single_champion"))

# --- Anhui, Fujian, Jiangxi -------------------------------------------------------------------------------

_ah = region_firm(region_code="340104", founded_on=date(2019, 11, 1), years=grown(2020, 3000.0, rd=2.0, product=60.0, rank=5.0))
case("cn-ah/zjtx/2021", date(2021, 11, 20), _ah,
     ("rank_6", with_year(_ah, 2020, province_rank=6.0), "province_rank"),
     ("product_59_9", with_year(_ah, 2020, main_product_revenue=3000.0 * 0.599), "main_product_share"),
     ("rd_1_9", with_year(_ah, 2020, rd_expense=3000.0 * 0.019), "rd_ratio"),
     ("operating_1_year", replace(_ah, founded_on=date(2019, 11, 21)), "operating_years"),
     ("dishonesty_2015", with_event(_ah, "serious_dishonesty", date(2015, 1, 1)), "no_serious_dishonesty"))

# Fujian: no growth at all passes in 2021 (growth waived), but the firm must stay profitable.
_fj = region_firm(region_code="350102", years=grown(2020, 5000.0, growth=0.0, rd=3.1, rd_staff=10.0, product=60.0, rank=3.0,
                                             invention=1.0),
           attributes={**FULL_ATTRIBUTES, "niche_since_year": "2018"})
case("cn-fj/zjtx/2021", date(2021, 6, 1), _fj,
     ("loss_2019", with_year(_fj, 2019, net_profit=-1.0), "profitable"),
     ("rd_exactly_3", with_years(_fj, grown(2020, 5000.0, growth=0.0, rd=3.0, rd_staff=10.0, product=60.0, rank=3.0,
                                            invention=1.0)), "rd_ratio"),
     ("rank_4", with_year(_fj, 2020, province_rank=4.0), "province_rank"),
     ("revenue_4999", with_year(_fj, 2020, revenue=4999.0, main_product_revenue=3000.0), "revenue_5000"))

_jx = region_firm(region_code="360102", years=grown(2020, 500.0, rd=3.0, rd_staff=10.0, product=50.0, debt=70.0, invention=1.0),
           attributes=dict(FULL_ATTRIBUTES), recognitions=[("zjtx_sme", "cn-jx", date(2019, 10, 1))])
case("cn-jx/specialised-little-giant/2020", date(2021, 10, 15), _jx,
     ("not_jx_zjtx", replace(_jx, recognitions=[("zjtx_sme", "cn-jx", date(2018, 9, 1))]), "holds_jx_zjtx"),
     ("revenue_499", with_year(_jx, 2020, revenue=499.0, main_product_revenue=250.0), "revenue_500"),
     ("debt_70_1", debt_at(_jx, 2020, 70.1), "debt_ratio"),
     ("no_brand", with_attr(_jx, own_brand="false"), "own_brand"))

# --- Regional versions of the 重点“小巨人” conditions ---------------------------------------------------

_klg = region_firm(region_code="120104", years=grown(2020, 8000.0, growth=-2.0, rd=4.0, main=70.0),
            attributes=dict(FULL_ATTRIBUTES), recognitions=[("little_giant", "cn", date(2020, 12, 1))])
# Tianjin: growth waived in both 2021 batches (this firm shrinks), R&D 4% in each year.
case("cn-tj/key-little-giant/2021", date(2021, 3, 5), _klg,
     ("rd_2019_3_9", with_year(_klg, 2019, rd_expense=_klg.years[2019]["revenue"] * 0.039), "rd_ratio"),
     ("listed_main", replace(_klg, listing_board="main"), "not_listed"),
     ("main_share_69_9", with_year(_klg, 2020, main_revenue=8000.0 * 0.699), "main_business_share"))
# Jiangsu: R&D is the mean of the two yearly ratios (3.9% and 4.1% pass), and growth is required.
_js_klg = with_year(with_year(replace(_klg, region_code="320102",
                                      years=grown(2020, 8000.0, growth=3.0, rd=4.0, main=70.0)),
                              2019, rd_expense=8000.0 / 1.03 * 0.039), 2020, rd_expense=8000.0 * 0.041)
case("cn-js/key-little-giant/2021", date(2021, 3, 8), _js_klg,
     ("rd_mean_3_95", with_year(_js_klg, 2020, rd_expense=8000.0 * 0.040), "rd_ratio"),
     ("shrinking_no_listing_plan", with_years(_js_klg, {y: {**m, "rd_expense": m["revenue"] * 0.05} for y, m in
                                                          grown(2020, 8000.0, growth=-1.0, main=70.0).items()}),
      "growth_or_listing"))
# Zhejiang second batch: growth required, R&D 4% each year, no major accident in three years.
_zj_klg = replace(_klg, region_code="330106", years=grown(2020, 8000.0, growth=3.0, rd=4.0, main=70.0))
case("cn-zj/key-little-giant/2021-b2", date(2021, 7, 25), _zj_klg,
     ("accident_2019", with_event(_zj_klg, "major_accident", date(2019, 8, 1)), "no_major_accident_3y"),
     ("shrinking_reform_only", with_attr(with_years(_zj_klg, grown(2020, 8000.0, growth=-1.0, rd=4.0, main=70.0)),
                                         listing_plan="reform"), "growth_or_listing"))


@pytest.mark.parametrize("policy_id, as_of, firm, variants", CASES, ids=[c[0] for c in CASES])
def test_qualifying_firm_and_boundaries(policy_id: str, as_of: date, firm: Firm,
                                        variants: list[tuple[str, Firm, str]]) -> None:
    check_case(policy_id, as_of, firm, variants)


# ---------------------------------------------------------------------------------------------------------
# Lifecycles as the texts state them.
# ---------------------------------------------------------------------------------------------------------


def test_beijing_second_little_giant_call_drops_the_single_champion_clause() -> None:
    champion = replace(_bj_lg, recognitions=[("single_champion", "cn", date(2020, 12, 1))])
    assert result_of("cn-bj/little-giant/2021-b2", date(2021, 11, 25), champion)[0] == "eligible"


def test_beijing_sme_excludes_an_accident_at_any_time() -> None:
    old_accident = with_event(_bj_zjtx, "major_accident", date(2012, 5, 1))
    verdict, results, _, _ = result_of("cn-bj/zjtx/2021", date(2021, 6, 1), old_accident)
    assert (verdict, results["no_accident_ever"]) == ("ineligible", "fail")


def test_beijing_sme_is_reviewed_yearly_with_a_three_year_ban() -> None:
    lc = lifecycle_for("zjtx_sme", "cn-bj", date(2021, 6, 1))
    assert (lc.validity_years, lc.review_at_years) == (3, 1)
    assert {(r.event, r.ban_years) for r in lc.exit_rules} == {("false_declaration", 3), ("tax_violation", 3)}


def test_liaoning_titles_lapse_unless_re_applied_and_firms_report_monthly() -> None:
    for tier in ("ln_zjtx_product", "zjtx_sme", "ln_little_giant"):
        lc = lifecycle_for(tier, "cn-ln", date(2021, 6, 1))
        assert (lc.validity_years, lc.lapse_without_review) == (3, True), tier
        assert [(r.frequency, r.due_day) for r in lc.reporting] == [("monthly", 10)], tier
        assert {r.ban_years for r in lc.exit_rules if r.kind == "event"} == {3}, tier


def test_fujian_growth_test_is_waived_in_2021_only() -> None:
    shrinking = with_years(_fj, grown(2020, 5000.0, growth=-5.0, rd=3.1, rd_staff=10.0, product=60.0, rank=3.0,
                                      invention=1.0))
    verdict, results, _, _ = result_of("cn-fj/zjtx/2021", date(2021, 6, 1), shrinking)
    assert (verdict, results["growth"]) == ("eligible", "waived")
    # The last day the 2021 rule is in force (63号 replaced it on 2022-06-01): an as-of year of 2022, no waiver.
    verdict, results, _, _ = result_of("cn-fj/zjtx/2021", date(2022, 5, 31),
                                       with_years(_fj, grown(2021, 5000.0, growth=-5.0, rd=3.1, rd_staff=10.0,
                                                             product=60.0, rank=3.0, invention=1.0)))
    assert (verdict, results["growth"]) == ("ineligible", "fail")


def test_zhejiang_hidden_champion_scores_the_computable_objective_items() -> None:
    # R&D 4% each year → 2 + 4 = 6; provincial R&D centre → 10; founded 2006 → 1 + 0.2 × 15 = 4 (bonus).
    verdict, _, _, score = result_of("cn-zj/hidden-champion/2021", date(2021, 11, 1), _zj_hc)
    assert verdict == "eligible"
    assert score == pytest.approx(6.0 + 10.0 + 4.0)
    # A municipal-or-own R&D centre earns none of the 10 institution points; 9% R&D is capped at 10 points.
    strong_rd = with_attr(with_years(_zj_hc, grown(2020, 20000.0, growth=10.0, rd=9.0, main=70.0, debt=70.0,
                                                   invention=3.0, profit=8.0)), rd_institution="self")
    assert result_of("cn-zj/hidden-champion/2021", date(2021, 11, 1), strong_rd)[3] == pytest.approx(10.0 + 4.0)


def test_tianjin_seed_pool_is_reviewed_yearly_with_a_two_year_ban() -> None:
    lc = lifecycle_for("tj_seed", "cn-tj", date(2021, 4, 1))
    assert (lc.validity_years, lc.review_at_years, lc.lapse_without_review) == (1, 1, True)
    assert [(r.event, r.ban_years) for r in lc.exit_rules] == [("false_declaration", 2)]


def test_hebei_sme_reports_half_yearly_and_annually_and_must_notify_renames_within_a_month() -> None:
    lc = lifecycle_for("zjtx_sme", "cn-he", date(2021, 6, 1))
    assert {(r.frequency, r.due_month) for r in lc.reporting} == {("half_yearly", None), ("annual", 5)}
    notices = {r.event: r.notify_within_days for r in lc.exit_rules if r.kind == "notification"}
    assert notices == {"rename": 31, "restructure": 31}
