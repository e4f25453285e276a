"""Regional policies of the south/west part (notes-provinces-c/d/e): each file loads, and each policy
admits a hand-built qualifying firm and rejects one that misses a threshold at its boundary.

Every case is a small Bundle built directly (no database): one firm whose figures sit just on the
qualifying side of each threshold, and variants that move exactly one figure just across it. The
expected failing criterion is named, so a case proves that threshold, not merely "something failed".
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path

import pytest

from registry.lifecycle import compute_flags, flag_records
from registry.policy.engine import evaluate
from registry.policy.loader import POLICY_DIR, get_policy, read_policy_file
from registry.policy.resolve import lifecycle_for

sys.path.insert(0, str(Path(__file__).parent))
from builders import Firm, bundle, check_case, grown, result_of, with_attr, with_event, with_year, with_years  # noqa: E402

SOUTH_JURISDICTIONS = (
    "cn-sd", "cn-sd-qingdao", "cn-ha", "cn-hb", "cn-hn", "cn-gd", "cn-gx", "cn-hi", "cn-cq", "cn-sc", "cn-gz",
    "cn-yn", "cn-xz", "cn-sn", "cn-gs", "cn-qh", "cn-nx", "cn-xj", "cn-fj-xiamen", "cn-zj-ningbo",
)
# Shenzhen and the Bingtuan are the policy engineer's files, not this part's.
SOUTH_FILES = sorted(p for j in SOUTH_JURISDICTIONS for p in (POLICY_DIR / j).rglob("*.yaml"))

USCC = "91650100MA0000001X"


def region_firm(**fields) -> Firm:
    """A firm of these cases: the module's one USCC, founded 2010-03-01 and listed nowhere unless told."""
    return Firm(**{"uscc": USCC, "founded_on": date(2010, 3, 1), "listing_board": "none", **fields})


# The cases of this part report taxes paid (5 % of revenue unless told).
grown = partial(grown, tax=5.0)


FULL_ATTRIBUTES = {
    "niche_since_year": "2010", "rd_institution": "self", "info_system": "true", "own_brand": "true",
    "quality_cert": "ISO9001", "product_standard": "national", "foreign_cert": "false",
    "standards_led": "1", "standards_participated": "0", "high_tech_enterprise": "true",
}


# ---------------------------------------------------------------------------------------------------------
# Every file of this part loads and validates.
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SOUTH_FILES, ids=lambda p: str(p.relative_to(POLICY_DIR)))
def test_policy_file_loads(path: Path) -> None:
    policy = read_policy_file(path)
    assert policy.jurisdiction in SOUTH_JURISDICTIONS
    assert policy.leaves(), "a policy without evaluable criteria gives verdicts that mean nothing"


# ---------------------------------------------------------------------------------------------------------
# Cases: (policy id, as_of, qualifying firm, [(variant name, failing firm, criterion that must fail)]).
# ---------------------------------------------------------------------------------------------------------

CASES: list[tuple[str, date, Firm, list[tuple[str, Firm, str]]]] = []


def case(policy_id: str, as_of: date, firm: Firm, *variants: tuple[str, Firm, str]) -> None:
    CASES.append((policy_id, as_of, firm, list(variants)))


# Xinjiang 自治区专精特新中小企业: basics + at least one of four special conditions.
_xj = region_firm(region_code="650102", years=grown(2020, 1000.0, growth=5.0), attributes=dict(FULL_ATTRIBUTES))
_xj_one_special = with_attr(with_years(_xj, grown(2020, 1000.0, growth=5.0, product=50.0, rd=1.0)),
                            quality_cert="false")
case("cn-xj/zjtx/2021", date(2021, 9, 1), _xj_one_special,
     ("revenue_999", with_year(_xj_one_special, 2020, revenue=999.0, main_revenue=999.0 * 0.9), "revenue_1000"),
     ("growth_below_5", with_years(_xj_one_special, grown(2020, 1000.0, growth=4.9, product=50.0, rd=1.0)),
      "special"),
     ("outside_xinjiang", replace(_xj_one_special, region_code="659001"), "registered_in_xinjiang"),
     ("accident_2y_ago", with_event(_xj_one_special, "major_accident", date(2019, 9, 2)), "no_accident_3y"))

# Xinjiang 自治区专精特新“小巨人”: needs a valid 自治区专精特新 recognition.
_xjlg = region_firm(region_code="650102", years=grown(2020, 5000.0, growth=10.0, rd=3.0, rd_staff=15.0, main=70.0,
                                               debt=70.0, rank=5.0, invention=2.0),
             attributes=dict(FULL_ATTRIBUTES), recognitions=[("zjtx_sme", "cn-xj", date(2019, 10, 1))])
case("cn-xj/little-giant/2021", date(2021, 3, 15), _xjlg,
     ("revenue_4999", with_year(_xjlg, 2020, revenue=4999.0), "revenue_5000"),
     ("debt_70_1", with_year(_xjlg, 2020, total_liabilities=_xjlg.years[2020]["total_assets"] * 0.701),
      "debt_ratio_70"),
     ("rank_6", with_year(_xjlg, 2020, province_rank=6.0), "region_rank_5"),
     ("rd_staff_14", with_year(_xjlg, 2020, rd_staff=29.0), "rd_staff_15"),
     ("no_prerequisite", replace(_xjlg, recognitions=[]), "holds_xj_zjtx"),
     ("niche_2_years", with_attr(_xjlg, niche_since_year="2019"), "niche_3_years"))

# Hubei provincial 小巨人, February 2021 call: revenue >= 8000, rank top 5 in Hubei, R&D >= 3%, staff >= 10%.
_hb = region_firm(region_code="420100", years=grown(2020, 8000.0, rd=3.0, rd_staff=10.0, main=70.0, rank=5.0,
                                             invention=0.0, utility=5.0),
           attributes=dict(FULL_ATTRIBUTES))
case("cn-hb/little-giant/2021", date(2021, 3, 1), _hb,
     ("revenue_7999", with_year(_hb, 2020, revenue=7999.0), "revenue_8000"),
     ("rd_2_9", with_years(_hb, grown(2020, 8000.0, rd=2.9, rd_staff=10.0, main=70.0, rank=5.0, invention=0.0,
                                      utility=5.0)), "rd_ratio_3"),
     ("utility_4", with_year(_hb, 2020, utility_patents=4.0), "patents"),
     ("national_little_giant", replace(_hb, recognitions=[("little_giant", "cn", date(2020, 12, 1))]),
      "not_national_little_giant_or_champion"),
     ("no_foreign_cert_or_standard", with_attr(_hb, product_standard="none"), "standard_or_foreign_cert"))

# Hubei provincial 小巨人, rolling call from September 2021: class a (>= 5000, R&D >= 2.5%) or class b.
_hb9 = region_firm(region_code="420100", years=grown(2020, 5000.0, growth=5.0, rd=2.5, debt=80.0, invention=1.0,
                                              utility=0.0), attributes=dict(FULL_ATTRIBUTES))
_hb9_b = with_years(_hb9, grown(2020, 4000.0, growth=5.0, rd=40.0, debt=80.0, rd_staff=50.0, equity=4000.0))
case("cn-hb/little-giant/2021-09", date(2021, 10, 1), _hb9,
     ("growth_4_9", with_years(_hb9, grown(2020, 5000.0, growth=4.9, rd=2.5, debt=80.0, invention=1.0,
                                           utility=0.0)), "growth_5_one_year"),
     ("debt_80_1", with_year(_hb9, 2020, total_liabilities=_hb9.years[2020]["total_assets"] * 0.801), "debt_ratio_80"),
     ("revenue_4999_no_class_b", with_year(_hb9, 2020, revenue=4999.0, main_revenue=4999 * 0.9,
                                           net_profit=4999 * 0.1), "classes"),
     ("single_champion", replace(_hb9, recognitions=[("single_champion", "cn", date(2020, 1, 1))]),
      "not_single_champion"))
case("cn-hb/little-giant/2021-09", date(2021, 10, 1), with_attr(_hb9_b, key_tech_breakthrough="true"),
     ("no_breakthrough", with_attr(_hb9_b, key_tech_breakthrough="false"), "classes"),
     ("equity_below_8000", with_year(with_attr(_hb9_b, key_tech_breakthrough="true"), 2020, equity_financing=3999.0),
      "classes"))

# Hubei 培育库: direct entry for Little Giants, else basics + entry conditions.
_hbp = region_firm(region_code="420100", years=grown(2020, 3000 / 0.9, rd=2.0, invention=0.0, utility=1.0, software=1.0),
            attributes=dict(FULL_ATTRIBUTES))
case("cn-hb/zjtx-pool/2021", date(2021, 10, 1), _hbp,
     ("main_revenue_2999", with_year(_hbp, 2020, main_revenue=2999.0), "main_revenue_3000"),
     ("revenue_fell", with_year(_hbp, 2020, main_revenue=_hbp.years[2019]["main_revenue"] * 0.99), "steady_growth"),
     ("one_ip", with_year(_hbp, 2020, software_copyrights=0.0), "ip_2"),
     ("accident_within_2y", with_event(_hbp, "major_accident", date(2020, 1, 5)), "no_accident_2y"))
case("cn-hb/zjtx-pool/2021", date(2021, 10, 1),
     region_firm(region_code="420100", recognitions=[("hb_little_giant", "cn-hb", date(2021, 5, 1))]))

# Hunan provincial 小巨人: manufacturing (>= 3000, CAGR >= 10%) vs software/IT (>= 2000, CAGR >= 15%).
_hn = region_firm(region_code="430100", years=grown(2020, 3000 / 0.9, growth=10.0, rd=3.0, rd_staff=15.0, rank=10.0,
                                             invention=2.0), attributes=dict(FULL_ATTRIBUTES))
_hn_sw = region_firm(region_code="430100", industry_code="I6513",
              years=grown(2020, 2000 / 0.9, growth=15.0, rd=3.0, rd_staff=15.0, rank=10.0, invention=2.0),
              attributes=dict(FULL_ATTRIBUTES))
case("cn-hn/little-giant/2021", date(2021, 3, 1), _hn,
     ("growth_9_9", with_years(_hn, grown(2020, 3000 / 0.9, growth=9.9, rd=3.0, rd_staff=15.0, rank=10.0,
                                          invention=2.0)), "revenue_and_growth"),
     ("rank_11", with_year(_hn, 2020, province_rank=11.0), "province_rank_10"),
     ("one_invention", with_year(_hn, 2020, invention_patents=1.0), "invention_2"),
     ("false_declaration_1y", with_event(_hn, "false_declaration", date(2020, 6, 1)), "no_false_declaration_2y"),
     # A manufacturer cannot use the software thresholds.
     ("mfg_at_software_thresholds", replace(_hn_sw, industry_code="C3562"), "revenue_and_growth"))
case("cn-hn/little-giant/2021", date(2021, 3, 1), _hn_sw,
     ("sw_growth_14_9", with_years(_hn_sw, grown(2020, 2000 / 0.9, growth=14.9, rd=3.0, rd_staff=15.0, rank=10.0,
                                                invention=2.0)), "revenue_and_growth"))

# Guangdong 专精特新 2021: assets and revenue >= 2000, mean growth >= 15%, R&D >= 3%, one evaluation class;
# thresholds 3-4 lowered by 20% for firms marked as priority fields.
_gd_years = grown(2020, 2000.0, growth=15.0, rd=3.0, main=75.0, assets=100.0, invention=0.0, utility=0.0)
_gd = region_firm(region_code="445100", years=_gd_years,
           attributes={"niche_since_year": "2019", "quality_cert": "false", "own_brand": "false",
                       "rd_institution": "none", "standards_led": "0", "standards_participated": "0"})
_gd_priority = with_attr(with_years(_gd, grown(2020, 1600.0, growth=12.0, rd=3.0, main=75.0, invention=0.0,
                                               utility=0.0)), relaxation_group="gd_priority")
case("cn-gd/zjtx/2021", date(2021, 4, 1), _gd,
     ("revenue_1999", with_year(_gd, 2020, revenue=1999.0), "revenue_2000"),
     ("assets_1999", with_year(_gd, 2020, total_assets=1999.0, total_liabilities=999.0), "total_assets_2000"),
     ("growth_14_9", with_years(_gd, grown(2020, 2000.0, growth=14.9, rd=3.0, main=75.0, invention=0.0,
                                          utility=0.0)), "growth_and_profit"),
     ("loss", with_year(_gd, 2020, net_profit=-1.0), "profit_positive"),
     ("main_share_74", with_year(_gd, 2020, revenue=1500 / 0.74), "evaluation_classes"))
case("cn-gd/zjtx/2021", date(2021, 4, 1), _gd_priority,
     ("not_priority", with_attr(_gd_priority, relaxation_group="none"), "revenue_2000"),
     ("below_relaxed_revenue", with_year(_gd_priority, 2020, revenue=1599.0), "revenue_2000"))

# Guangxi 自治区专精特新: city-level recognition first; 2 of the (4 evaluable) growth items.
_gx_years = grown(2020, 2000.0, rd=3.0, rd_staff=8.0, main=70.0, rank=10.0, invention=2.0)
_gx_years[2020].update(net_profit=_gx_years[2019]["net_profit"], taxes_paid=_gx_years[2019]["taxes_paid"])
_gx = region_firm(region_code="450100", years=_gx_years, attributes=dict(FULL_ATTRIBUTES),
           recognitions=[("gx_city_zjtx", "cn-gx", date(2020, 6, 1))])
case("cn-gx/zjtx/2021", date(2021, 4, 1), _gx,
     ("only_one_item_grew", with_year(_gx, 2020, rd_expense=_gx.years[2019]["rd_expense"]), "high_growth"),
     ("no_city_recognition", replace(_gx, recognitions=[]), "city_level_zjtx"),
     ("rd_staff_7_9", with_year(_gx, 2020, rd_staff=15.8), "rd_staff_8"),
     ("niche_1_year", with_attr(_gx, niche_since_year="2020"), "niche_2_years"))

# Hainan 省级专精特新: main revenue >= 1000 growing, one special condition; or revenue >= 1000 + high-tech.
_hi_attrs = {"product_standard": "none", "foreign_cert": "false", "industry_orientation": "none",
             "high_tech_enterprise": "false"}
_hi = region_firm(region_code="460100", years=grown(2020, 1000 / 0.9, growth=3.0, product=50.0, rd=1.0, invention=0.0,
                                             utility=0.0), attributes=_hi_attrs)
_hi_bypass = region_firm(region_code="460100", founded_on=date(2020, 1, 1), years={2020: {"revenue": 1000.0, "employees": 50.0, "total_assets": 800.0}},
                  attributes={**_hi_attrs, "high_tech_enterprise": "true"})
case("cn-hi/zjtx/2021", date(2021, 8, 1), _hi,
     ("main_revenue_999", with_year(_hi, 2020, main_revenue=999.0), "standard_or_bypass"),
     ("no_special", with_year(_hi, 2020, main_product_revenue=1000 / 0.9 * 0.49), "c3_special"),
     ("revenue_fell", with_year(_hi, 2020, main_revenue=_hi.years[2019]["main_revenue"]), "standard_or_bypass"),
     ("accident_3y", with_event(_hi, "major_accident", date(2018, 8, 2)), "no_accident_3y"))
case("cn-hi/zjtx/2021", date(2021, 8, 1), _hi_bypass,
     ("bypass_revenue_999", with_year(_hi_bypass, 2020, revenue=999.0), "standard_or_bypass"))

# Sichuan 专精特新 (143号): revenue >= 1000 growing, debt <= 80%, R&D >= 1.5%, staff >= 10%, one of Art. 5.
_sc = region_firm(region_code="513200", years=grown(2020, 1000.0, growth=2.0, rd=1.5, rd_staff=10.0, debt=80.0,
                                             product=60.0),
           attributes={"niche_since_year": "2018", "quality_cert": "false", "rd_institution": "none"})
case("cn-sc/zjtx/2021", date(2021, 9, 1), _sc,
     ("revenue_999", with_year(_sc, 2020, revenue=999.0), "revenue_1000"),
     ("debt_80_1", with_year(_sc, 2020, total_liabilities=_sc.years[2020]["total_assets"] * 0.801), "debt_ratio_80"),
     ("rd_1_4", with_years(_sc, grown(2020, 1000.0, growth=2.0, rd=1.4, rd_staff=10.0, debt=80.0, product=60.0)),
      "rd_ratio_1_5"),
     ("niche_2_years", with_attr(_sc, niche_since_year="2019"), "art5_standards"),
     ("accident_2y", with_event(_sc, "major_accident", date(2019, 9, 2)), "no_accident_2y"))

# Guizhou 专精特新 2021: eight required conditions (ethnic-craft firms from 1000万).
_gz = region_firm(region_code="520100", years=grown(2020, 2000.0, rd=2.0, main=70.0, invention=0.0, utility=3.0),
           attributes={"quality_cert": "false", "product_standard": "industry", "foreign_cert": "false"})
_gz_craft = replace(_gz, industry_code="C2439",
                    years=grown(2020, 1000.0, rd=2.0, main=70.0, invention=1.0, utility=0.0))
case("cn-gz/zjtx/2021", date(2021, 7, 1), _gz,
     ("revenue_1999", with_year(_gz, 2020, revenue=1999.0), "revenue"),
     ("utility_2", with_year(_gz, 2020, utility_patents=2.0), "patents"),
     ("no_standard", with_attr(_gz, product_standard="none"), "cert_or_standard"),
     ("accident", with_event(_gz, "major_accident", date(2020, 1, 1)), "no_accident_3y"))
case("cn-gz/zjtx/2021", date(2021, 7, 1), _gz_craft,
     ("craft_999", with_year(_gz_craft, 2020, revenue=999.0), "revenue"),
     ("not_craft_industry", replace(_gz_craft, industry_code="C3562"), "revenue"))

# Yunnan 省级小巨人 and 成长: required gates; the factor score is informative (1 point per factor met).
_yn = region_firm(region_code="530100", founded_on=date(2018, 1, 1), years=grown(2020, 3000.0),
           attributes={**FULL_ATTRIBUTES, "niche_since_year": "2018"})
_yn_info = replace(_yn, industry_code="I6513", founded_on=date(2019, 1, 1),
                   attributes={**FULL_ATTRIBUTES, "niche_since_year": "2019"})
case("cn-yn/little-giant/2021", date(2021, 9, 20), _yn,
     ("revenue_2999", with_year(_yn, 2020, revenue=2999.0), "revenue"),
     ("niche_2_years_not_information", with_attr(_yn, niche_since_year="2019"), "years"),
     ("dishonest_2y", with_event(_yn, "serious_dishonesty", date(2020, 1, 1)), "no_dishonesty_2y"))
case("cn-yn/little-giant/2021", date(2021, 9, 20), _yn_info)
case("cn-yn/little-giant/2021", date(2021, 9, 20),
     region_firm(region_code="530100", recognitions=[("little_giant", "cn", date(2020, 11, 1))]))
case("cn-yn/growth/2021", date(2021, 9, 20), with_years(_yn, grown(2020, 500.0)),
     ("revenue_499", with_years(_yn, grown(2020, 499.0)), "revenue_500"),
     ("outside_yunnan", replace(_yn, region_code="520100", years=grown(2020, 500.0)),
      "registered_in_yunnan"))

# Tibet 自治区专精特新 (藏经信发〔2020〕58号): two common conditions + any one special condition.
_xz = region_firm(region_code="540100", years=grown(2020, 1000 / 0.9, growth=10.0, debt=50.0, rd=1.0, product=50.0,
                                             employees=25.0, rd_staff=20.0),
           attributes={"rd_institution": "self", "niche_since_year": "2015", "quality_cert": "true",
                       "own_brand": "true"})
case("cn-xz/zjtx/2020", date(2021, 5, 20), _xz,
     ("debt_50_1", with_year(_xz, 2020, total_liabilities=_xz.years[2020]["total_assets"] * 0.501), "debt_ratio_50"),
     ("rd_staff_4", with_year(_xz, 2020, rd_staff=4.0), "rd_staff_5"),
     ("growth_9_9", with_years(_xz, grown(2020, 1000 / 0.9, growth=9.9, debt=50.0, rd=1.0, product=50.0,
                                          employees=25.0, rd_staff=20.0)), "growth_10"),
     ("no_special", with_attr(_xz, quality_cert="false"), "special"))

# Qinghai: revised measures from 2021-09-01 (basics + one special) and the 4th-batch call under the 2018 rules.
# R&D 2.7% and lead product 63% of revenue are 3% and 70% of main-business revenue (90% of revenue).
_qh = region_firm(region_code="630100", years=grown(2020, 1000.0, growth=1.0, debt=70.0, rd=2.7, product=63.0,
                                             invention=0.0, utility=0.0, software=0.0),
           attributes={"quality_cert": "true", "info_system": "false", "rd_institution": "none"})
case("cn-qh/zjtx/2021", date(2021, 10, 1), _qh,
     ("revenue_999", with_year(_qh, 2020, revenue=999.0), "revenue_1000"),
     ("shrank_last_year", with_years(_qh, grown(2020, 1000.0, growth=-1.0, debt=70.0, rd=2.7, product=63.0,
                                                invention=0.0, utility=0.0, software=0.0)), "growth"),
     ("no_quality_cert", with_attr(_qh, quality_cert="false"), "quality_cert"),
     ("product_69_9", with_year(_qh, 2020, main_product_revenue=900.0 * 0.699), "special"),
     ("wholesale_firm", replace(_qh, industry_code="F5179"), "industrial"))
_qh4 = region_firm(region_code="630100", years=grown(2020, 1000.0, growth=10.0, product=50.0, invention=0.0, utility=0.0,
                                              software=1.0))
case("cn-qh/zjtx/2021-b4", date(2021, 5, 10), _qh4,
     ("growth_9_9", with_years(_qh4, grown(2020, 1000.0, growth=9.9, product=50.0, invention=0.0, utility=0.0,
                                           software=1.0)), "main_revenue_growth_10"),
     ("loss_2019", with_year(_qh4, 2019, net_profit=-1.0), "profitable_2_years"))

# Ningxia: 专精特新中小企业 → 示范企业 → 小巨人 (each needs the tier below) and the reserve pool.
_nx = region_firm(region_code="640100", years=grown(2020, 1000.0, growth=5.0, rd=0.5), attributes=dict(FULL_ATTRIBUTES))
case("cn-nx/zjtx/2021", date(2021, 6, 1), _nx,
     ("growth_4_9", with_years(_nx, grown(2020, 1000.0, growth=4.9, rd=0.5)), "growth_5"),
     ("no_rd", with_years(_nx, grown(2020, 1000.0, growth=5.0, rd=0.0)), "has_rd_spend"),
     ("young", replace(_nx, founded_on=date(2018, 7, 1)), "operating_3_years"))
_nx_demo = region_firm(region_code="640100", years=grown(2020, 1000.0, growth=8.0, product=50.0, invention=0.0, utility=2.0,
                                                  software=1.0),
                attributes={"rd_institution": "none", "quality_cert": "false", "standards_led": "0",
                            "standards_participated": "0"},
                recognitions=[("zjtx_sme", "cn-nx", date(2020, 6, 1))])
case("cn-nx/zjtx-demo/2021", date(2021, 6, 1), _nx_demo,
     ("growth_7_9", with_years(_nx_demo, grown(2020, 1000.0, growth=7.9, product=50.0, invention=0.0, utility=2.0,
                                               software=1.0)), "growth_8"),
     ("two_ip_only", with_year(_nx_demo, 2020, software_copyrights=0.0), "one_of_four"),
     ("loss_2019", with_year(_nx_demo, 2019, net_profit=-5.0), "profitable_2_years"),
     ("not_recognised", replace(_nx_demo, recognitions=[]), "holds_nx_zjtx"))
_nx_lg = region_firm(region_code="640100", years=grown(2020, 10000.0, growth=10.0, debt=60.0, rank=3.0, rd=3.0,
                                                rd_staff=15.0, invention=0.0, utility=0.0),
              attributes={**FULL_ATTRIBUTES, "standards_led": "0", "own_brand": "true"},
              recognitions=[("nx_zjtx_demo", "cn-nx", date(2020, 6, 1))])
case("cn-nx/little-giant/2021", date(2021, 6, 1), _nx_lg,
     ("revenue_9999", with_year(_nx_lg, 2020, revenue=9999.0), "revenue_10000"),
     ("rank_4", with_year(_nx_lg, 2020, province_rank=4.0), "region_rank_3"),
     ("no_info_system", with_attr(_nx_lg, info_system="false"), "ip_and_systems"),
     ("debt_60_1", with_year(_nx_lg, 2020, total_liabilities=_nx_lg.years[2020]["total_assets"] * 0.601),
      "debt_ratio_60"))
_nxp = region_firm(region_code="640100", founded_on=date(2018, 1, 1),
            years=grown(2020, 1000 / 0.9, growth=5.0, main=70.0, rd=2.0, invention=0.0, utility=1.0, software=1.0),
            attributes={"niche_since_year": "2019", "own_brand": "true", "quality_cert": "true"})
case("cn-nx/zjtx-pool/2021", date(2021, 10, 15), _nxp,
     ("fell_in_2019", with_year(_nxp, 2019, revenue=_nxp.years[2018]["revenue"] * 0.99,
                                net_profit=_nxp.years[2018]["net_profit"] * 0.99), "growth"),
     ("one_ip", with_year(_nxp, 2020, software_copyrights=0.0), "patents"),
     ("already_recognised", replace(_nxp, recognitions=[("zjtx_sme", "cn-nx", date(2020, 6, 1))]),
      "not_already_recognised"))

# Xiamen 专精特新 (2021): growth >= 1.5 × Xiamen GDP growth — 8.55% last year or 10.2% on the 2-year mean.
_xm = region_firm(region_code="350206", years=grown(2020, 1000.0, growth=8.55, invention=0.0, utility=1.0, design=4.0),
           attributes={"niche_since_year": "2018"})
case("cn-fj-xiamen/zjtx/2021", date(2021, 10, 1), _xm,
     ("growth_8_5", with_years(_xm, grown(2020, 1000.0, growth=8.5, invention=0.0, utility=1.0, design=4.0)),
      "growth_vs_gdp"),
     ("design_only", with_year(_xm, 2020, utility_patents=0.0, design_patents=5.0), "art5_core_competitiveness"),
     ("already_recognised", replace(_xm, recognitions=[("zjtx_sme", "cn-fj-xiamen", date(2021, 9, 20))]),
      "not_currently_recognised"))
_xm_mean = with_years(_xm, {2020: {**_xm.years[2020], "revenue": 1000.0}, 2019: {**_xm.years[2019], "revenue": 940.0},
                            2018: {**_xm.years[2018], "revenue": 940.0 / 1.1402}})
case("cn-fj-xiamen/zjtx/2021", date(2021, 10, 1), _xm_mean,
     ("mean_below_10_2", with_year(_xm_mean, 2018, revenue=940.0 / 1.14), "growth_vs_gdp"))

# Qingdao pools (2021): hidden champion, Little Giant, gazelle (growth rate by revenue band).
_qd_hc = region_firm(region_code="370212", years=grown(2020, 1000 / 0.9 * 1.05, growth=10.0, debt=64.9, rank=3.0, rd=2.0,
                                                invention=0.0, utility=1.0),
              attributes={"niche_since_year": "2019"})
case("cn-sd-qingdao/hidden-champion-pool/2021", date(2021, 3, 1), _qd_hc,
     ("debt_65", with_years(_qd_hc, grown(2020, 1000 / 0.9 * 1.05, growth=10.0, debt=65.0, rank=3.0, rd=2.0,
                                          invention=0.0, utility=1.0)), "mean_debt_ratio_below_65"),
     ("rank_4", with_year(_qd_hc, 2020, province_rank=4.0), "province_rank_3"),
     ("mean_main_revenue_below_1000", with_years(_qd_hc, grown(2020, 1000 / 0.9, growth=10.0, debt=64.9, rank=3.0,
                                                               rd=2.0, invention=0.0, utility=1.0)),
      "main_revenue_mean_1000"))
_qd_lg = region_firm(region_code="370212", years=grown(2020, 5000 / 0.9, growth=5.0, rank=5.0, rd=2.0, rd_staff=10.0,
                                                invention=1.0, utility=0.0),
              attributes=dict(FULL_ATTRIBUTES), recognitions=[("zjtx_sme", "cn-sd-qingdao", date(2020, 5, 1))])
case("cn-sd-qingdao/little-giant-pool/2021", date(2021, 3, 1), _qd_lg,
     ("main_revenue_4999", with_year(_qd_lg, 2020, main_revenue=4999.0), "champion_or_conditions"),
     ("not_qingdao_zjtx", replace(_qd_lg, recognitions=[("zjtx_sme", "cn-sd", date(2020, 5, 1))]),
      "qingdao_zjtx"))
case("cn-sd-qingdao/little-giant-pool/2021", date(2021, 3, 1),
     region_firm(region_code="370212", recognitions=[("zjtx_sme", "cn-sd-qingdao", date(2020, 5, 1)),
                                              ("qd_hidden_champion", "cn-sd-qingdao", date(2020, 5, 1))]))

# Chongqing 市级专精特新 (2021 standard): pool member, revenue >= 1000, 2-year compound growth >= 6%, one class.
_cq = region_firm(region_code="500112", years=grown(2020, 1000.0, growth=6.0, product=50.0, rd=1.0),
           attributes={"quality_cert": "false"}, recognitions=[("cq_zjtx_pool", "cn-cq", date(2020, 9, 1))])
case("cn-cq/zjtx/2021", date(2021, 12, 15), _cq,
     ("growth_5_9", with_years(_cq, grown(2020, 1000.0, growth=5.9, product=50.0, rd=1.0)), "revenue_growth_6"),
     ("not_in_pool", replace(_cq, recognitions=[]), "in_cultivation_pool"),
     ("product_49", with_year(_cq, 2020, main_product_revenue=490.0), "classes"))

# Ningbo 培育库 (2021-2022): R&D in each of 2019 and 2020 >= 3.5% (50-100 million) or 2.5% (>= 100 million).
_nb = region_firm(region_code="330203", years=grown(2020, 5000.0, rd=3.5, main=70.0, invention=0.0, utility=3.0),
           attributes=dict(FULL_ATTRIBUTES))
case("cn-zj-ningbo/zjtx-pool/2021", date(2021, 8, 20), _nb,
     ("rd_2019_3_4", with_year(_nb, 2019, rd_expense=_nb.years[2019]["revenue"] * 0.034), "rd_ratio_each_year_by_band"),
     ("revenue_4999", with_years(_nb, grown(2020, 4999.0, rd=3.5, main=70.0, invention=0.0, utility=3.0)),
      "rd_ratio_each_year_by_band"),
     ("national_little_giant", replace(_nb, recognitions=[("little_giant", "cn", date(2020, 12, 1))]),
      "not_national_titles"))
case("cn-zj-ningbo/zjtx-pool/2021", date(2021, 8, 20),
     with_years(_nb, grown(2020, 10000.0, rd=2.5, main=70.0, invention=0.0, utility=3.0)),
     ("rd_2_4", with_years(_nb, grown(2020, 10000.0, rd=2.4, main=70.0, invention=0.0, utility=3.0)),
      "rd_ratio_each_year_by_band"))

# Shandong 2021: only the call's stated conditions (revenue growth >= 5%, not a single champion) are encoded.
_sd = region_firm(region_code="370102", years=grown(2020, 3000.0, growth=5.0))
case("cn-sd/zjtx/2021", date(2021, 5, 10), _sd,
     ("growth_4_9", with_years(_sd, grown(2020, 3000.0, growth=4.9)), "revenue_growth_5"),
     ("single_champion", replace(_sd, recognitions=[("single_champion", "cn-sd", date(2020, 1, 1))]),
      "not_single_champion"))

# Qingdao district pools 2021: revenue >= 200万, 2 years operating.
_qdp = region_firm(region_code="370212", founded_on=date(2019, 1, 1), years={2020: {"revenue": 200.0, "employees": 30.0,
                                                                             "total_assets": 300.0}})
case("cn-sd-qingdao/zjtx-pool/2021", date(2021, 3, 1), _qdp,
     ("revenue_199", with_year(_qdp, 2020, revenue=199.0), "revenue_200"),
     ("founded_2019_03", replace(_qdp, founded_on=date(2019, 3, 2)), "operating_2_years"))


def _gazelle(revenue: float, cagr: float, rd: float = 3.0) -> Firm:
    return region_firm(region_code="370212", years=grown(2020, revenue, growth=cagr, rd=rd, invention=1.0))


@pytest.mark.parametrize("revenue, cagr_needed, rd_needed", [
    (1000.0, 20.0, 3.0), (1999.0, 20.0, 3.0), (2000.0, 15.0, 3.0), (9999.0, 15.0, 3.0), (10000.0, 10.0, 2.0),
    (39999.0, 10.0, 2.0), (40000.0, 5.0, 2.0),
])
def test_qingdao_gazelle_growth_and_rd_by_revenue_band(revenue: float, cagr_needed: float, rd_needed: float) -> None:
    as_of = date(2021, 3, 1)
    assert result_of("cn-sd-qingdao/gazelle-pool/2021", as_of, _gazelle(revenue, cagr_needed, rd_needed))[0] == \
        "eligible"
    slow = result_of("cn-sd-qingdao/gazelle-pool/2021", as_of, _gazelle(revenue, cagr_needed - 0.1, rd_needed))
    low_rd = result_of("cn-sd-qingdao/gazelle-pool/2021", as_of, _gazelle(revenue, cagr_needed, rd_needed - 0.1))
    assert (slow[0], slow[1]["growth"]) == ("ineligible", "fail")
    assert (low_rd[0], low_rd[1]["rd_intensity_by_band"]) == ("ineligible", "fail")


def test_qingdao_gazelle_below_the_lowest_band_and_listed_firms_are_out() -> None:
    as_of = date(2021, 3, 1)
    small = result_of("cn-sd-qingdao/gazelle-pool/2021", as_of, _gazelle(999.0, 50.0))
    listed = result_of("cn-sd-qingdao/gazelle-pool/2021", as_of,
                       Firm(**{**_gazelle(5000.0, 20.0).__dict__, "listing_board": "chinext"}))
    assert (small[0], small[1]["growth"]) == ("ineligible", "fail")
    assert (listed[0], listed[1]["not_listed"]) == ("ineligible", "fail")


def test_xiamen_growth_threshold_needs_the_year_in_the_reference_series() -> None:
    # In 2022 the thresholds need Xiamen's 2021 GDP growth, not in the compilation: missing, not a guess. (The
    # last as-of date of the rule is 2022-05-31: 63号 replaced the 2021 专精特新 rules on 2022-06-01.)
    firm = replace(_xm, years=grown(2021, 1000.0, growth=30.0, invention=1.0))
    verdict, results, _, _ = result_of("cn-fj-xiamen/zjtx/2021", date(2022, 5, 31), firm)
    assert (verdict, results["growth_last_year"], results["growth_two_years"]) == (
        "insufficient_data", "missing", "missing")


def test_ningxia_firm_grown_large_gets_an_exit_flag() -> None:
    # 第十七条: a recognised firm that grows into a large enterprise loses the title automatically.
    recognised = region_firm(region_code="640100", years=grown(2022, 1000.0),
                      recognitions=[("zjtx_sme", "cn-nx", date(2021, 6, 1))])
    large = with_year(recognised, 2022, employees=1200.0, revenue=50000.0)
    as_of = date(2023, 3, 1)
    exits = [r["evidence"]["reason"] for r in flag_records(compute_flags(bundle(large), as_of, promotions=False))
             if r["flag"] == "exit"]
    still_sme = [r for r in flag_records(compute_flags(bundle(recognised), as_of, promotions=False))
                 if r["flag"] == "exit"]
    assert exits == ["grew_into_large_enterprise"]
    assert still_sme == []


def test_xinjiang_recognition_expires_on_31_december_three_years_on() -> None:
    # 2018 cohort valid to 2021-12-31 (L31016): a 2021-10-20 recognition runs to 2024-12-31, expired the next day.
    firm = region_firm(region_code="650102", recognitions=[("zjtx_sme", "cn-xj", date(2021, 10, 20))])

    def flags_on(day: date) -> list[str]:
        return [r["flag"] for r in flag_records(compute_flags(bundle(firm), day, promotions=False))]

    assert "expired" not in flags_on(date(2024, 12, 31))
    assert "expired" in flags_on(date(2025, 1, 1))


def test_yunnan_factor_score_counts_met_factors_without_deciding_the_verdict() -> None:
    # Ten evaluable factors; the base firm meets all of them. Missing three (debt, brand, foreign cert) lowers
    # the score to 7 but the verdict stays eligible: the official points table is not in the compilation.
    df = evaluate(get_policy("cn-yn/little-giant/2021"), bundle(_yn), date(2021, 9, 20))
    weaker = with_attr(with_year(_yn, 2020, total_liabilities=_yn.years[2020]["total_assets"] * 0.8),
                       own_brand="false", foreign_cert="false")
    df_weaker = evaluate(get_policy("cn-yn/little-giant/2021"), bundle(weaker), date(2021, 9, 20))
    assert (df["verdict"][0], df["score"][0]) == ("eligible", 9.0)
    assert (df_weaker["verdict"][0], df_weaker["score"][0]) == ("eligible", 7.0)


@pytest.mark.parametrize("policy_id, as_of, firm, variants", CASES, ids=[c[0] for c in CASES])
def test_qualifying_firm_and_boundaries(policy_id: str, as_of: date, firm: Firm,
                                        variants: list[tuple[str, Firm, str]]) -> None:
    check_case(policy_id, as_of, firm, variants)


def test_exclusion_without_time_limit_counts_any_earlier_event() -> None:
    # 琼工信规〔2021〕1号 (五)3: on a dishonesty list — the text sets no period, so a 2015 listing still excludes.
    verdict, results, _, _ = result_of("cn-hi/zjtx/2021", date(2021, 8, 1),
                                       with_event(_hi, "serious_dishonesty", date(2015, 1, 1)))
    assert (verdict, results["no_dishonesty_list"]) == ("ineligible", "fail")


def test_lifecycle_follows_the_policy_in_force_on_the_recognition_date() -> None:
    # Qinghai: the 4th batch (2018 measures) lapses without 复核 material; the revised measures from 2021-09-01
    # only cancel on a failed 复核. Hubei's provincial 小巨人 keep the 3-year re-application rule in both calls.
    assert lifecycle_for("zjtx_sme", "cn-qh", date(2021, 6, 30)).lapse_without_review is True
    assert lifecycle_for("zjtx_sme", "cn-qh", date(2021, 10, 1)).lapse_without_review is False
    assert lifecycle_for("hb_little_giant", "cn-hb", date(2021, 5, 1)).validity_years == 3
    assert lifecycle_for("zjtx_sme", "cn-xj", date(2021, 10, 1)).expiry == "year_end"
    # Hainan's monthly reports and missed-report exit apply to its provincial tier.
    hainan = lifecycle_for("zjtx_sme", "cn-hi", date(2021, 10, 1))
    assert [r.frequency for r in hainan.reporting] == ["monthly"]
    assert [(r.kind, r.max_missing) for r in hainan.exit_rules] == [("missing_reports", 2)]


def test_qinghai_shares_are_over_main_business_revenue() -> None:
    # Main business is 80% of revenue: R&D of 2.4% of revenue is 3% of main-business revenue and the lead product's
    # 56% is 70% — both met (dividing by revenue, as the engine did before, failed this firm on both).
    firm = region_firm(region_code="630100", years=grown(2020, 1000.0, growth=1.0, main=80.0, rd=2.4, product=56.0,
                                                  rd_staff=0.0, debt=70.0, invention=0.0, utility=0.0, software=0.0),
                attributes={"quality_cert": "true", "info_system": "false", "rd_institution": "none"})
    verdict, results, _, _ = result_of("cn-qh/zjtx/2021", date(2021, 10, 1), firm)
    assert (verdict, results["rd_ratio_3"], results["s1_main_product_share_70"]) == ("eligible", "pass", "pass")
    below = with_year(firm, 2020, rd_expense=800.0 * 0.0299, main_product_revenue=800.0 * 0.699)
    verdict, results, _, _ = result_of("cn-qh/zjtx/2021", date(2021, 10, 1), below)
    assert (verdict, results["rd_ratio_3"], results["s1_main_product_share_70"]) == ("ineligible", "fail", "fail")


def test_hainan_rd_share_is_pooled_over_two_years_of_main_business_revenue() -> None:
    # R&D 1.8% of revenue over two years is 2% of main-business revenue (90%): the innovation condition is met.
    firm = with_years(_hi, grown(2020, 1000 / 0.9, growth=3.0, product=40.0, rd=1.8, invention=0.0, utility=0.0))
    verdict, results, _, _ = result_of("cn-hi/zjtx/2021", date(2021, 8, 1), firm)
    assert (verdict, results["s4_rd_ratio_2"]) == ("eligible", "pass")
    verdict, results, _, _ = result_of("cn-hi/zjtx/2021", date(2021, 8, 1), with_year(firm, 2020, rd_expense=1.0))
    assert (verdict, results["s4_rd_ratio_2"]) == ("ineligible", "fail")


def test_hubei_growth_in_either_of_the_last_two_years_counts() -> None:
    # Main-business revenue +6% in 2019 and +1% in 2020, net profit flat: the earlier year's growth qualifies.
    years = grown(2020, 5000.0, growth=1.0, rd=2.5, debt=80.0, invention=1.0, utility=0.0)
    years[2018] = {**years[2018], **{k: v / 1.06 * 1.01 for k, v in years[2018].items()
                                      if k in ("revenue", "main_revenue")}}
    firm = with_years(_hb9, years)
    verdict, results, _, _ = result_of("cn-hb/little-giant/2021-09", date(2021, 10, 1), firm)
    assert (verdict, results["main_revenue_growth_5"]) == ("eligible", "pass")
    assert results["profit_growth_5"] == "fail"
