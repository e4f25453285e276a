"""Readings of the 2021 compilation mended after an independent re-reading (issue 14): each test sits at the
threshold or boundary the compilation line states (quoted in the test), so it fails on the earlier reading.

Cases are small Bundles of tests/builders.py firms (as the north-region tests build them) — no database, no mocks.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from builders import Firm, grown, result_of, with_attr, with_year  # noqa: E402
from test_policy_regions_north import (  # noqa: E402
    FULL_ATTRIBUTES,
    _tj_seed,  # the seed firm of the region tests: revenue 300 growing 10%, 4 optional items
    region_firm,
)

# --- Sichuan 重点“小巨人” 第二批 ------------------------------------------------------------------------------
# L26021 "上年主营业务收入增长（不作为第二批申报条件）"; L25989 "第三批已推荐至工业和信息化部的 199家企业";
# L25991 "不含已申报成功第一批重点“小巨人”的企业".

_sc_klg = region_firm(region_code="510107",
               years=grown(2020, 8000.0, growth=-3.0, rd=4.0, main=70.0, invention=2.0),
               attributes={**FULL_ATTRIBUTES, "listing_plan": "none"},
               recognitions=[("little_giant", "cn", date(2020, 12, 1))])
SC_BATCH2 = date(2021, 7, 10)


def test_sichuan_key_little_giant_batch2_does_not_require_growth() -> None:
    verdict, results, _, _ = result_of("cn-sc/key-little-giant/2021-b2", SC_BATCH2, _sc_klg)
    assert verdict == "eligible", results
    assert results["growth_or_listing"] == "waived"
    # The national template still requires growth in its batch 2: the Sichuan call is what waives it.
    verdict, results, _, _ = result_of("cn/key-little-giant/2021", SC_BATCH2, _sc_klg)
    assert (verdict, results["growth_or_listing"]) == ("ineligible", "fail")


def test_sichuan_key_little_giant_batch2_admits_third_batch_recommended_firms_only() -> None:
    recommended = with_attr(replace(_sc_klg, recognitions=[]), little_giant_batch3_recommended="true")
    verdict, results, _, _ = result_of("cn-sc/key-little-giant/2021-b2", SC_BATCH2, recommended)
    assert verdict == "eligible", results
    neither = with_attr(replace(_sc_klg, recognitions=[]), little_giant_batch3_recommended="false")
    verdict, results, _, _ = result_of("cn-sc/key-little-giant/2021-b2", SC_BATCH2, neither)
    assert (verdict, results["applicant"]) == ("ineligible", "fail")
    batch1 = replace(_sc_klg, recognitions=[*_sc_klg.recognitions, ("key_little_giant", "cn", date(2021, 4, 1))])
    verdict, results, _, _ = result_of("cn-sc/key-little-giant/2021-b2", SC_BATCH2, batch1)
    assert (verdict, results["not_key_little_giant_batch1"]) == ("ineligible", "fail")
    # Main business exactly 70% passes, 69.9% fails (L26009 "70%以上").
    low = with_year(_sc_klg, 2020, main_revenue=8000.0 * 0.699)
    verdict, results, _, _ = result_of("cn-sc/key-little-giant/2021-b2", SC_BATCH2, low)
    assert (verdict, results["main_business_share"]) == ("ineligible", "fail")


# --- Sichuan 专精特新 2021 call: L26204-26206 "“十三五”期间已评定的省级“专精特新”中小企业、高成长型中小企业、行业
# “小巨人”企业或已获得国家级专精特新“小巨人”称号的企业不再申报".

_sc = region_firm(region_code="513200", years=grown(2020, 1000.0, growth=2.0, rd=1.5, rd_staff=10.0, debt=80.0,
                                             product=60.0),
           attributes={"niche_since_year": "2018", "quality_cert": "false", "rd_institution": "none"})
SC_CALL = date(2021, 9, 1)


def test_sichuan_excludes_firms_already_titled_in_the_13th_five_year_plan() -> None:
    assert result_of("cn-sc/zjtx/2021", SC_CALL, _sc)[0] == "eligible"
    # A 2016 title has expired by 2021 and still counts; a 2015 one (12th FYP) does not.
    for tier, granted, excluded in [("zjtx_sme", date(2016, 12, 1), True), ("sc_high_growth_sme", date(2020, 6, 1), True),
                                    ("zjtx_sme", date(2015, 12, 1), False)]:
        firm = replace(_sc, recognitions=[(tier, "cn-sc", granted)])
        verdict, results, _, _ = result_of("cn-sc/zjtx/2021", SC_CALL, firm)
        assert (results["no_13th_fyp_provincial_title"] == "fail") is excluded, (tier, granted, results)
    giant = replace(_sc, recognitions=[("little_giant", "cn", date(2021, 7, 1))])
    verdict, results, _, _ = result_of("cn-sc/zjtx/2021", SC_CALL, giant)
    assert (verdict, results["not_national_little_giant"]) == ("ineligible", "fail")


# --- Xinjiang: L31018-31020 "2019年、2020年认定的自治区“专精特新”中小企业不得重复申报"; the 2018 cohort re-applies.

_xj = with_attr(region_firm(region_code="650102", years=grown(2020, 1000.0, growth=5.0, product=50.0, rd=1.0),
                     attributes=dict(FULL_ATTRIBUTES)), quality_cert="false")
XJ_CALL = date(2021, 9, 1)


def test_xinjiang_firms_recognised_in_2019_or_2020_may_not_apply_again() -> None:
    for granted, excluded in [(date(2018, 12, 31), False), (date(2019, 1, 1), True), (date(2020, 12, 31), True)]:
        firm = replace(_xj, recognitions=[("zjtx_sme", "cn-xj", granted)])
        verdict, results, _, _ = result_of("cn-xj/zjtx/2021", XJ_CALL, firm)
        assert (verdict == "ineligible" and results["not_recognised_2019_2020"] == "fail") is excluded, (granted, results)


# --- Shanghai 专精特新: the basic conditions L15667-15675 contain no size test (300号), so a firm of large size
# that meets them is not turned away.

_sh_large = region_firm(region_code="310115", years=grown(2020, 40000.0, growth=2.0, rd=3.0, main=60.0, equity=1000.5,
                                                  invention=0.0, utility=0.0, employees=1000.0),
                 attributes={**FULL_ATTRIBUTES, "own_brand": "false"})


def test_shanghai_zjtx_has_no_size_condition() -> None:
    verdict, results, _, _ = result_of("cn-sh/zjtx/2021", date(2021, 8, 1), _sh_large)
    assert "sme" not in results
    assert verdict == "eligible", {k: v for k, v in results.items() if v != "pass"}


# --- Shenzhen 精细化 (L33908-33916, "A；B；C，或D；或E") and 特色化 (L33924-33928, "A；B；或C；或D"): semicolons join
# required items, 或 offers an alternative to the item before it (the stricter reading; the any-of reading is recorded
# in the policy's interpretations).

_sz = region_firm(region_code="440305", founded_on=date(2015, 1, 1),
           years=grown(2020, 1000.0, growth=15.0, rd=3.0, main=90.0, invention=0.0, utility=0.0),
           attributes={"niche_since_year": "2020", "quality_cert": "true", "info_system": "false",
                       "product_standard": "none", "foreign_cert": "false", "own_brand": "false",
                       "standards_led": "0", "standards_participated": "0", "rd_institution": "none",
                       "satisfaction_or_traceability": "false"})
SZ_CALL = date(2021, 9, 1)


def test_shenzhen_refinement_needs_certification_and_management_and_one_alternative() -> None:
    verdict, results, _, _ = result_of("cn-gd-shenzhen/zjtx/2021", SZ_CALL, _sz)
    assert (verdict, results["refined"], results["info_system"]) == ("ineligible", "fail", "fail"), results
    managed = with_attr(_sz, info_system="true")
    verdict, results, _, _ = result_of("cn-gd-shenzhen/zjtx/2021", SZ_CALL, managed)
    assert (verdict, results["refined_standard_or_cert"]) == ("ineligible", "fail"), results
    certified = with_attr(managed, foreign_cert="true")
    verdict, results, _, _ = result_of("cn-gd-shenzhen/zjtx/2021", SZ_CALL, certified)
    assert (verdict, results["refined"]) == ("eligible", "pass"), results


def test_shenzhen_distinctiveness_needs_a_brand_and_its_standing() -> None:
    branded = with_attr(_sz, quality_cert="false", own_brand="true", brand_strategy="false", famous_brand="false",
                        brand_honour="false")
    verdict, results, _, _ = result_of("cn-gd-shenzhen/zjtx/2021", SZ_CALL, branded)
    assert (verdict, results["distinctive"]) == ("ineligible", "fail"), results
    famous = with_attr(branded, famous_brand="true")
    verdict, results, _, _ = result_of("cn-gd-shenzhen/zjtx/2021", SZ_CALL, famous)
    assert (verdict, results["distinctive"]) == ("eligible", "pass"), results


# --- Zhejiang 隐形冠军: L17019 "其中制造业企业有效发明专利至少 1项以上" — manufacturers (section C) only.

_zj_hc = region_firm(region_code="330106", founded_on=date(2006, 1, 1),
              years=grown(2020, 20000.0, growth=10.0, rd=4.0, main=70.0, debt=70.0, invention=0.0, utility=5.0,
                          profit=8.0),
              attributes={**FULL_ATTRIBUTES, "niche_since_year": "2011", "rd_institution": "provincial"})
ZJ_HC = date(2021, 11, 1)


def test_zhejiang_hidden_champion_manufacturer_needs_an_invention_patent() -> None:
    verdict, results, _, _ = result_of("cn-zj/hidden-champion/2021", ZJ_HC, _zj_hc)  # C3562, 5 utility patents
    assert (verdict, results["manufacturer_invention_patent"]) == ("ineligible", "fail"), results
    one = with_year(_zj_hc, 2020, invention_patents=1.0)
    assert result_of("cn-zj/hidden-champion/2021", ZJ_HC, one)[0] == "eligible"
    software = replace(_zj_hc, industry_code="I6510")
    verdict, results, _, _ = result_of("cn-zj/hidden-champion/2021", ZJ_HC, software)
    assert (verdict, results["manufacturer_invention_patent"]) == ("eligible", "pass"), results


# --- Tianjin 专精特新: L9937-9939 "且属于制造业、信息传输、软件和信息技术服务业、科学研究和技术服务业的中小企业".

_tj = region_firm(region_code="120116", founded_on=date(2015, 1, 1),
           years=grown(2020, 1000.0, growth=5.0, rd=3.1, rd_staff=10.0, main=70.0, debt=70.0, invention=1.0),
           attributes={**FULL_ATTRIBUTES, "niche_since_year": "2019", "product_standard": "none", "standards_led": "0"})


def test_tianjin_zjtx_industry_scope_is_c_i_m() -> None:
    for code, inside in [("C3562", True), ("I6510", True), ("M7320", True), ("F5171", False), ("E4813", False)]:
        verdict, results, _, _ = result_of("cn-tj/zjtx/2021", date(2021, 12, 15), replace(_tj, industry_code=code))
        assert (verdict == "eligible", results["industry_scope"] == "pass") == (inside, inside), (code, results)


# Seed firms: batch 1 L8471-8473 "的工业中小企业" (sections B, C, D); batch 2 L9517-9519 "的制造业、信息传输、软件和信息
# 技术服务业、科学研究和技术服务业的中小企业" (C, I, M).


def test_tianjin_seed_industry_scope_by_batch() -> None:
    for policy_id, as_of, codes in [("cn-tj/seed/2021", date(2021, 3, 1),
                                     {"B0610": True, "C3562": True, "D4411": True, "I6510": False, "M7320": False}),
                                    ("cn-tj/seed/2021-b2", date(2021, 9, 1),
                                     {"C3562": True, "I6510": True, "M7320": True, "B0610": False, "F5171": False})]:
        for code, inside in codes.items():
            verdict, results, _, _ = result_of(policy_id, as_of, replace(_tj_seed, industry_code=code))
            assert (verdict == "eligible", results["industry_scope"]) == (inside, "pass" if inside else "fail"), \
                (policy_id, code, results)


# --- Shanghai 科技小巨人: L15855-15857 "制造类不低于 10%，软件或科技服务类不低于 30%" (培育企业) and L15875-15877
# "制造类不低于 20%，软件或科技服务类不低于 50%" (小巨人企业).

_sh_seed = region_firm(region_code="310115", years=grown(2020, 3000.0, growth=20.0, rd=6.0, rd_staff=30.0, main=100.0),
                attributes=dict(FULL_ATTRIBUTES))
_sh_lg = region_firm(region_code="310115", years=grown(2020, 10000.0, growth=0.0, rd=5.0, rd_staff=50.0, main=100.0,
                                                equity=2667.0),
              attributes=dict(FULL_ATTRIBUTES))


def test_shanghai_tech_little_giant_rd_staff_share_by_industry() -> None:
    for policy_id, firm, manufacturing, services in [("cn-sh/tech-little-giant-seed/2021", _sh_seed, 10.0, 30.0),
                                                     ("cn-sh/tech-little-giant/2021", _sh_lg, 20.0, 50.0)]:
        staff = firm.years[2020]["employees"]
        software = replace(firm, industry_code="I6510")
        assert result_of(policy_id, date(2021, 10, 1), software)[0] == "eligible"
        short = with_year(software, 2020, rd_staff=staff * (services - 0.5) / 100)
        verdict, results, _, _ = result_of(policy_id, date(2021, 10, 1), short)
        assert (verdict, results["rd_staff_ratio"]) == ("ineligible", "fail"), (policy_id, results)
        # The same share is ample for a manufacturer, whose floor is lower.
        maker = with_year(firm, 2020, rd_staff=staff * manufacturing / 100)
        assert result_of(policy_id, date(2021, 10, 1), maker)[0] == "eligible", policy_id


# --- Jiangsu: "近3年" is the three years before as_of in both the pool (L16330-16332 "近 3 年企业营业收入平均增长率
# 5%以上") and the little giant (L16384-16386 "近 3 年营业收入年均复合增长率 8%以上"): two growth rates, three years' figures.

def _js_pool_with_rates(*rates: float) -> Firm:
    """Revenue 2000 in 2020, grown by `rates` (oldest first) from the earlier years."""
    revenue = {2020: 2000.0}
    for k, rate in enumerate(reversed(rates)):
        revenue[2019 - k] = revenue[2020 - k] / (1 + rate / 100)
    years = grown(2020, 2000.0, growth=5.0, product=40.0, invention=1.0, utility=1.0, n=len(revenue))
    for y, v in revenue.items():
        years[y].update(revenue=v, main_revenue=v * 0.9, main_product_revenue=v * 0.4)
    return region_firm(region_code="320102", years=years)


def test_jiangsu_pool_growth_is_the_mean_of_two_yearly_rates() -> None:
    # A fall three years back is outside "近3年": 2018→2019 +5%, 2019→2020 +5% passes, whatever 2017→2018 was.
    verdict, results, _, _ = result_of("cn-js/qianqi-pool/2021", date(2021, 9, 20), _js_pool_with_rates(-20.0, 5.0, 5.0))
    assert results["revenue_growth_3y"] == "pass", results
    verdict, results, _, _ = result_of("cn-js/qianqi-pool/2021", date(2021, 9, 20), _js_pool_with_rates(-20.0, 4.0, 5.8))
    assert results["revenue_growth_3y"] == "fail", results


# --- Zhejiang 重点“小巨人” 第一批 (浙经信企业〔2021〕39号): L16570-16572 "近三年内无重大安全生产、质量、环保事故发生，无欠薪，
# 无被有关部门列入联合惩戒对象的不良信用记录"; L16566 growth "不作为第一批申报条件".

_zj_klg = region_firm(region_code="330106", years=grown(2020, 8000.0, growth=-2.0, rd=4.0, main=70.0, invention=2.0),
               attributes={**FULL_ATTRIBUTES, "listing_plan": "none"},
               recognitions=[("little_giant", "cn", date(2020, 12, 1))])
ZJ_B1 = date(2021, 3, 20)


def test_zhejiang_key_little_giant_batch1_excludes_accidents_and_joint_punishment_within_three_years() -> None:
    verdict, results, _, _ = result_of("cn-zj/key-little-giant/2021-b1", ZJ_B1, _zj_klg)
    assert (verdict, results["growth_or_listing"]) == ("eligible", "waived"), results
    for event, criterion in (("major_accident", "no_major_accident_3y"), ("serious_dishonesty", "no_bad_credit_3y")):
        inside = replace(_zj_klg, events=[(event, date(2018, 3, 21))])
        verdict, results, _, _ = result_of("cn-zj/key-little-giant/2021-b1", ZJ_B1, inside)
        assert (verdict, results[criterion]) == ("ineligible", "fail"), (event, results)
        outside = replace(_zj_klg, events=[(event, date(2018, 3, 20))])
        assert result_of("cn-zj/key-little-giant/2021-b1", ZJ_B1, outside)[0] == "eligible", event


# --- Zone floors: Sichuan L26403-26407 (成都平原 2000 / 川南、川东北、攀西 1500 / 川西北 1000 万元) and Guangdong
# L22930-22934 (珠三角核心区 3000 / 东西两翼、北部生态发展区 2000 万元), by the prefecture code of the firm's region.


def test_sichuan_revenue_floor_by_economic_zone() -> None:
    for region, floor in [("510104", 2000.0), ("510603", 2000.0), ("511502", 1500.0), ("513401", 1500.0),
                          ("513200", 1000.0)]:
        at_floor = replace(_sc, region_code=region, years=grown(2020, floor, growth=2.0, rd=1.5, rd_staff=10.0,
                                                                debt=80.0, product=60.0))
        verdict, results, _, _ = result_of("cn-sc/zjtx/2021", SC_CALL, at_floor)
        assert verdict == "eligible", (region, {k: v for k, v in results.items() if v != "pass"})
        below = with_year(at_floor, 2020, revenue=floor - 1)
        verdict, results, _, _ = result_of("cn-sc/zjtx/2021", SC_CALL, below)
        assert (verdict, results["revenue_by_zone"]) == ("ineligible", "fail"), region


_gd = region_firm(region_code="440106", years=grown(2020, 3000.0, growth=15.0, rd=3.0, main=75.0, invention=0.0, utility=0.0,
                                             assets=100.0),
           attributes={"niche_since_year": "2019", "quality_cert": "false", "own_brand": "false",
                       "rd_institution": "none", "standards_led": "0", "standards_participated": "0"})


def test_guangdong_assets_and_revenue_floors_by_zone() -> None:
    as_of = date(2021, 4, 1)
    assert result_of("cn-gd/zjtx/2021", as_of, _gd)[0] == "eligible"  # Guangzhou: 3000 / 3000
    short = with_year(_gd, 2020, revenue=2999.0)
    verdict, results, _, _ = result_of("cn-gd/zjtx/2021", as_of, short)
    assert (verdict, results["revenue_by_zone"]) == ("ineligible", "fail")
    thin = with_year(_gd, 2020, total_assets=2999.0, total_liabilities=1000.0)
    verdict, results, _, _ = result_of("cn-gd/zjtx/2021", as_of, thin)
    assert (verdict, results["total_assets_by_zone"]) == ("ineligible", "fail")
    # The same figures are ample in Meizhou (northern ecological zone, 2000).
    assert result_of("cn-gd/zjtx/2021", as_of, replace(short, region_code="441402"))[0] == "eligible"
