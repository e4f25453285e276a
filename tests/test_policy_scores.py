"""Scored criteria (CONTRACT §3b): point bands, categorical points, "每满N年得1分", "每项3分，最高5分", groups
with minimums, "score ≥ N or one direct condition", and three-valued totals — on small synthetic policies.

Expected points are read off the tables of data/sources/rules-2022-2026.md (63号 附件1 and 附件2), with the
boundary convention stated there (以上/以下含本数: a value on a boundary scores in the higher-scoring band)."""

from __future__ import annotations

from datetime import date

import pytest
from builders import Firm, bundle, uscc_for

from registry.policy import evaluate, evaluation_records
from registry.policy.schema import Policy

AS_OF = date(2023, 5, 1)  # 上年 = 2022
SRC = {"doc": "工信部企业〔2022〕63号", "part": "附件1"}


def policy(criteria: dict) -> Policy:
    return Policy.model_validate({
        "id": "cn/test/1", "title_zh": "测试", "title_en": "test", "issuer": "测试", "document_no": "测试〔2022〕1号",
        "issued_on": "2022-01-01", "effective_from": "2022-01-01", "jurisdiction": "cn", "tier": "innovative_sme",
        "purpose": "new_application", "criteria": criteria, "confidence": "A",
    })


def item(id_: str, indicator: str, **rule) -> dict:
    return {"id": id_, "label_zh": id_, "label_en": id_, "indicator": {"indicator": indicator}, "source": SRC, **rule}


def score(*items: dict, **extra) -> dict:
    return {"type": "score", "id": "total", "label_zh": "得分", "label_en": "score", "items": list(items), **extra}


def leaf(id_: str, indicator: str, op: str, threshold, **extra) -> dict:
    return {"type": "leaf", "id": id_, "label_zh": id_, "label_en": id_, "indicator": indicator, "op": op,
            "threshold": threshold, "source": SRC, **extra}


def run(p: Policy, *firms: Firm) -> list[dict]:
    return evaluation_records(evaluate(p, bundle(*firms), AS_OF))


def firm(n: int = 1, **year2022) -> Firm:
    return Firm(uscc=uscc_for(n), years={2022: year2022})


def crit(record: dict, cid: str) -> dict:
    return next(c for c in record["criteria"] if c["id"] == cid)


# 63号 附件1 indicator 2: 研发费用总额占营业收入总额比重 ≥5% → 20; 3–5% → 15; 2–3% → 10; 1–2% → 5; <1% → 0.
RD_BANDS = [{"lower": 5, "points": 20}, {"lower": 3, "upper": 5, "points": 15}, {"lower": 2, "upper": 3, "points": 10},
            {"lower": 1, "upper": 2, "points": 5}, {"upper": 1, "points": 0}]


@pytest.mark.parametrize(("rd", "points"), [
    (99, 0), (100, 5), (199, 5), (200, 10), (299, 10), (300, 15), (499, 15), (500, 20), (900, 20),
])
def test_point_bands_score_a_boundary_in_the_higher_band(rd, points):
    """R&D of `rd` on revenue 10,000: rd/100 percent."""
    p = policy(score(item("rd", "rd_ratio", bands=RD_BANDS)))
    rec = run(p, firm(revenue=10000.0, rd_expense=float(rd)))[0]
    assert rec["score"] == points
    detail = crit(rec, "rd")
    assert detail["points"] == points and detail["actual"] == pytest.approx(rd / 100)
    assert f"→ {points} 分" in detail["expected"]


# 附件1 indicator 4: 资产负债率 ≤55% → 10; 55–75% → 5; >75% → 0 (lower is better: 以下含本数).
DEBT_BANDS = [{"upper": 55, "upper_inclusive": True, "points": 10},
              {"lower": 55, "lower_inclusive": False, "upper": 75, "upper_inclusive": True, "points": 5},
              {"lower": 75, "lower_inclusive": False, "points": 0}]


@pytest.mark.parametrize(("liabilities", "points"), [(5500, 10), (5501, 5), (7500, 5), (7501, 0)])
def test_lower_is_better_bands_include_the_boundary_in_the_better_band(liabilities, points):
    p = policy(score(item("debt", "debt_ratio", bands=DEBT_BANDS)))
    assert run(p, firm(total_assets=10000.0, total_liabilities=float(liabilities)))[0]["score"] == points


# 附件2 indicator 13: 研发机构 国家级 10; 省级 8; 市级 4; 市级以下 2; 未建立 0.
INSTITUTION = {"national": 10, "provincial": 8, "city": 4, "self": 2, "joint": 2, "none": 0}


@pytest.mark.parametrize(("value", "points"), [*INSTITUTION.items(), (None, None)])
def test_categorical_points(value, points):
    p = policy(score(item("inst", "rd_institution", categories=INSTITUTION)))
    f = Firm(uscc=uscc_for(1), attributes={"rd_institution": value} if value else {})
    rec = run(p, f)[0]
    assert rec["score"] == points
    if value is None:  # unknown: 0 to 10 points
        assert crit(rec, "inst")["result"] == "missing" and "0–10" in crit(rec, "inst")["expected"]
    else:
        assert crit(rec, "inst")["points"] == points and crit(rec, "inst")["actual"] == value


# 附件2 indicator 3: 从事特定细分市场年限 每满2年得1分，最高5分 (years counted to the end of 上年).
@pytest.mark.parametrize(("since", "points"), [(2022, 0), (2021, 1), (2020, 1), (2019, 2), (2016, 3), (2015, 4),
                                               (2014, 4), (2013, 5), (2000, 5)])
def test_one_point_for_each_full_n_years_up_to_a_maximum(since, points):
    p = policy(score(item("niche", "years_in_niche", per_unit=1, step=2, cap=5)))
    f = Firm(uscc=uscc_for(1), attributes={"niche_since_year": str(since)})
    # years in the niche to the end of 2022 = 2023 - since: 2022 → 1 year (0), 2021 → 2 years (1) ... 2013 → 10 (5).
    assert run(p, f)[0]["score"] == points


def quality_items() -> list[dict]:
    """附件2 indicator 6: 质量管理水平, 每项3分，最高5分."""
    def met(name: str) -> dict:
        return {"id": f"q_{name}", "label_zh": name, "label_en": name, "points": 3, "group": "quality", "source": SRC,
                "criteria": leaf(f"has_{name}", name, "==", True)}
    return [met(n) for n in ("quality_award", "quality_cert", "own_brand")]


QUALITY = {"id": "quality", "label_zh": "质量管理水平", "label_en": "quality management", "max_points": 5}


@pytest.mark.parametrize(("attrs", "points"), [
    ({"quality_award": "false", "quality_cert": "false", "own_brand": "false"}, 0),
    ({"quality_award": "true", "quality_cert": "false", "own_brand": "false"}, 3),
    ({"quality_award": "true", "quality_cert": "true", "own_brand": "false"}, 5),
    ({"quality_award": "true", "quality_cert": "true", "own_brand": "true"}, 5),
    ({"quality_award": "true", "own_brand": "false"}, None),  # 3 known, up to 5 with the unknown one
    ({"quality_award": "true", "quality_cert": "true"}, 5),  # already at the maximum: the unknown cannot add
])
def test_items_three_points_each_capped_at_five(attrs, points):
    p = policy(score(*quality_items(), groups=[QUALITY]))
    assert run(p, Firm(uscc=uscc_for(1), attributes=attrs))[0]["score"] == points


def innovative_like() -> Policy:
    """A cut-down 附件1: pass = total ≥ 60 with 创新能力 ≥ 20, 成长性 ≥ 15, 专业化 ≥ 15, or a direct condition."""
    growth = [{"lower": 15, "points": 20}, {"lower": 10, "upper": 15, "points": 15},
              {"lower": 5, "upper": 10, "points": 10}, {"lower": 0, "upper": 5, "points": 5},
              {"upper": 0, "points": 0}]
    share = [{"lower": 70, "points": 20}, {"lower": 60, "upper": 70, "points": 15},
             {"lower": 55, "upper": 60, "points": 10}, {"lower": 50, "upper": 55, "points": 5},
             {"upper": 50, "points": 0}]
    groups = [{"id": "innovation", "label_zh": "创新能力", "label_en": "innovation", "min_points": 20},
              {"id": "growth", "label_zh": "成长性", "label_en": "growth", "min_points": 15},
              {"id": "specialisation", "label_zh": "专业化", "label_en": "specialisation", "min_points": 15}]
    table = score(
        item("rd", "rd_ratio", bands=RD_BANDS, group="innovation"),
        {**item("growth", "main_revenue", bands=growth, group="growth"),
         "indicator": {"indicator": "main_revenue", "window": {"years": 1, "aggregation": "growth"}}},
        item("debt", "debt_ratio", bands=DEBT_BANDS, group="growth"),
        item("share", "main_business_share", bands=share, group="specialisation"),
        groups=groups, pass_mark=60)
    direct = {"type": "any", "id": "direct", "label_zh": "直通", "label_en": "direct", "children": [
        leaf("equity", "equity_financing", ">=", 500, window={"years": 3, "aggregation": "sum"})]}
    return policy({"type": "any", "id": "root", "label_zh": "根", "label_en": "root", "children": [table, direct]})


def strong(n: int = 1, **over) -> Firm:
    """rd 5% (20), growth 15% (20), debt 50% (10), main share 70% (20): 70 points, every group at its minimum."""
    y2021 = {"revenue": 9000.0, "main_revenue": 6000.0}
    y2022 = {"revenue": 10000.0, "main_revenue": 7000.0, "rd_expense": 500.0, "total_assets": 10000.0,
             "total_liabilities": 5000.0, **over}
    return Firm(uscc=uscc_for(n), years={2021: y2021, 2022: y2022})


def test_group_minimums_and_the_direct_condition():
    p = innovative_like()
    rec = run(p, strong())[0]
    # growth (7000 - 6000) / 6000 = 16.7% → 20.
    assert (rec["verdict"], rec["score"]) == ("eligible", 70)
    # R&D 2.99% → 10 points: total 60 reaches the pass mark but 创新能力 10 < 20.
    weak_rd = strong(rd_expense=299.0)
    rec = run(p, weak_rd)[0]
    assert rec["score"] == 60 and crit(rec, "total")["result"] == "fail"
    assert rec["verdict"] == "insufficient_data"  # the direct condition's equity figures are not reported
    with_equity = weak_rd.with_year(2022, equity_financing=500.0).with_year(2021, equity_financing=0.0)
    with_equity = with_equity.with_year(2020, equity_financing=0.0)
    assert run(p, with_equity)[0]["verdict"] == "eligible"
    no_equity = with_equity.with_year(2022, equity_financing=499.0)
    assert run(p, no_equity)[0]["verdict"] == "ineligible"


def test_three_valued_totals():
    p = innovative_like()
    direct_known_no = {2020: {"equity_financing": 0.0}, 2021: {"equity_financing": 0.0}}

    def with_no_equity(f: Firm) -> Firm:
        for y, m in direct_known_no.items():
            f = f.with_year(y, **m)
        return f.with_year(2022, equity_financing=0.0)

    # Debt unknown (0-10): the known 60 points already pass, every group at its minimum → eligible.
    f = with_no_equity(strong())
    f.years[2022].pop("total_liabilities")
    rec = run(p, f)[0]
    assert rec["verdict"] == "eligible" and rec["score"] is None
    assert crit(rec, "total")["actual"] == {"min": 60, "max": 70}
    # Main-business share unknown and R&D 1% (5): 专业化 could still reach 20, 创新能力 cannot reach 20 → ineligible.
    f = with_no_equity(strong(rd_expense=100.0))
    f.years[2022].pop("main_revenue")
    assert run(p, f)[0]["verdict"] == "ineligible"
    # Main-business share unknown, everything else strong: 50 known, up to 70 → insufficient_data.
    f = with_no_equity(strong())
    f.years[2022].pop("main_revenue")
    rec = run(p, f)[0]
    assert rec["verdict"] == "insufficient_data"
    assert crit(rec, "share")["result"] == "missing"


def test_best_of_several_items():
    """附件1 indicator 1: Ⅰ类高价值 ≥1 → 20; 自主研发Ⅰ类 ≥1 → 15; Ⅰ类 ≥1 → 10; Ⅱ类 ≥1 → 5 — the best that applies."""
    def at_least_one(name: str, pts: int) -> dict:
        return {"id": f"ip_{name}", "label_zh": name, "label_en": name, "points": pts, "group": "ip", "source": SRC,
                "criteria": leaf(f"has_{name}", name, ">=", 1)}
    p = policy(score(at_least_one("class1_ip_high_value", 20), at_least_one("class1_ip_own", 15),
                     at_least_one("class1_ip", 10), at_least_one("class2_ip", 5),
                     groups=[{"id": "ip", "label_zh": "知识产权", "label_en": "IP", "combine": "max", "max_points": 20}]))
    none = {"class1_ip_high_value": 0.0, "class1_ip_own": 0.0, "class1_ip": 0.0, "class2_ip": 0.0}
    cases = [({}, None), (none, 0), ({**none, "class2_ip": 3.0}, 5), ({**none, "class1_ip": 1.0, "class2_ip": 3.0}, 10),
             ({**none, "class1_ip": 2.0, "class1_ip_own": 1.0}, 15),
             ({**none, "class1_ip": 2.0, "class1_ip_own": 1.0, "class1_ip_high_value": 1.0}, 20),
             ({"class1_ip_high_value": 1.0}, 20)]  # the best is known: the unknown others cannot change it
    for metrics, points in cases:
        assert run(p, firm(**metrics))[0]["score"] == points, metrics


def test_manual_criteria_are_shown_and_decide_nothing():
    manual = {"type": "manual", "id": "renown", "label_zh": "知名度", "label_en": "renown", "mode": "by_hand",
              "reason_zh": "无可量化的门槛", "reason_en": "no measurable threshold", "source": SRC}
    unconfirmed = {**manual, "id": "unconfirmed", "mode": "not_evaluated", "reason_zh": "未经证实",
                   "reason_en": "not confirmed", "confidence": "U"}
    p = policy({"type": "all", "id": "root", "label_zh": "根", "label_en": "root",
                "children": [leaf("revenue", "revenue", ">=", 1000, confidence="B"), manual, unconfirmed]})
    rich, poor = firm(1, revenue=1000.0), firm(2, revenue=999.0)
    recs = run(p, rich, poor)
    assert [r["verdict"] for r in recs] == ["eligible", "ineligible"]
    assert crit(recs[0], "renown")["result"] == "by_hand" and crit(recs[0], "unconfirmed")["result"] == "not_evaluated"
    assert "no measurable threshold" in crit(recs[0], "renown")["expected"]
    # Confidence: the criterion's own code, else the policy's; a note for codes other than A.
    assert crit(recs[0], "revenue")["confidence"] == "B" and "note" in crit(recs[0], "revenue")
    assert crit(recs[0], "renown")["confidence"] == "A" and "note" not in crit(recs[0], "renown")
    # The policy's confidence is its least certain evaluated criterion (a U row is not evaluated).
    assert p.lowest_confidence() == "B"
    # Any-of: a manual alternative is not a pass.
    q = policy({"type": "any", "id": "root", "label_zh": "根", "label_en": "root",
                "children": [leaf("revenue", "revenue", ">=", 1000), manual]})
    assert [r["verdict"] for r in run(q, rich, poor)] == ["eligible", "ineligible"]


def test_dated_awards_lists_and_honours():
    """近三年 科技奖励 with a rank (附件2 Z1: 省级 & 排名前三, 国家级 & 前五), 创客中国 500强 (Z4) and honours in force (附件1
    D2): known no when the firm's rows say so, unknown when it has none."""
    award = {"type": "any", "id": "award", "label_zh": "科技奖励", "label_en": "award", "children": [
        leaf("provincial_top3", "attribute_within", "==", True,
             params={"name": "science_award", "values": ["provincial"], "years": 3, "rank": "science_award_rank",
                     "max_rank": 3}),
        leaf("national_top5", "attribute_within", "==", True,
             params={"name": "science_award", "values": ["national"], "years": 3, "rank": "science_award_rank",
                     "max_rank": 5})]}
    maker = leaf("maker", "attribute_within", "==", True,
                 params={"name": "maker_china", "values": ["top50", "top500"], "years": 3})
    honour = leaf("honour", "attribute_any", "==", True,
                  params={"name": "innovation_honour", "values": ["high_tech_enterprise", "ip_demo"]})
    p = policy({"type": "all", "id": "root", "label_zh": "根", "label_en": "root", "children": [award]})
    base = Firm(uscc=uscc_for(1))
    cases = [
        (base, "insufficient_data"),  # nothing known about awards
        (base.with_rows(("science_award", "none", date(2020, 1, 1))), "ineligible"),
        (base.with_rows(("science_award", "provincial", date(2021, 6, 1)), ("science_award_rank", "3", date(2021, 6, 1))),
         "eligible"),
        (base.with_rows(("science_award", "provincial", date(2021, 6, 1)), ("science_award_rank", "4", date(2021, 6, 1))),
         "ineligible"),
        (base.with_rows(("science_award", "national", date(2021, 6, 1)), ("science_award_rank", "5", date(2021, 6, 1))),
         "eligible"),
        # 近三年 before 2023-05-01: an award of 2020-05-01 is outside, one of 2020-05-02 inside.
        (base.with_rows(("science_award", "national", date(2020, 5, 1)), ("science_award_rank", "1", date(2020, 5, 1))),
         "ineligible"),
        (base.with_rows(("science_award", "national", date(2020, 5, 2)), ("science_award_rank", "1", date(2020, 5, 2))),
         "eligible"),
        (base.with_rows(("science_award", "national", date(2022, 5, 2))), "insufficient_data"),  # rank blank
    ]
    for f, verdict in cases:
        assert run(p, f)[0]["verdict"] == verdict, f.attribute_rows
    p = policy({"type": "all", "id": "root", "label_zh": "根", "label_en": "root", "children": [maker]})
    assert [r["verdict"] for r in run(p, base, base.but(uscc=uscc_for(2)).with_rows(("maker_china", "top500",
                                                                                    date(2022, 11, 1))),
                                       base.but(uscc=uscc_for(3)).with_rows(("maker_china", "none",
                                                                             date(2022, 11, 1))))] == [
        "insufficient_data", "eligible", "ineligible"]
    p = policy({"type": "all", "id": "root", "label_zh": "根", "label_en": "root", "children": [honour]})
    expired = base.with_rows(("innovation_honour", "high_tech_enterprise", date(2019, 12, 1), date(2022, 11, 30)))
    expired = expired.but(uscc=uscc_for(2))
    both = expired.but(uscc=uscc_for(3)).with_rows(("innovation_honour", "ip_demo", date(2022, 1, 1),
                                                     date(2024, 12, 31)))
    other = base.but(uscc=uscc_for(4)).with_rows(("innovation_honour", "ip_advantage", date(2022, 1, 1), date(2024, 12, 31)))
    assert [r["verdict"] for r in run(p, base, expired, both, other)] == [
        "insufficient_data", "insufficient_data", "eligible", "ineligible"]
