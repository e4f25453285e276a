"""The engine on small synthetic policies: each combinator's three-valued logic, scores, bands, reference
lookups, relaxations, waivers, prerequisites, and the indicators derived from reports, attributes and events."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from builders import Firm, bundle, uscc_for

from registry.policy import evaluate, evaluation_records
from registry.policy.bundle import Bundle
from registry.policy.indicators import annual_figures, derive_indicators
from registry.policy.schema import IndicatorRef, Policy, Window

AS_OF = date(2021, 5, 1)
SRC = {"doc": "测试文件", "lines": "L1"}


def flag(i: str) -> dict:
    """A leaf: attribute x<i> is true."""
    return {"type": "leaf", "id": f"x{i}", "label_zh": f"x{i}", "label_en": f"x{i}",
            "indicator": "attribute", "params": {"name": f"x{i}", "type": "bool"}, "op": "==", "threshold": True,
            "source": SRC}


def policy(criteria: dict, **extra) -> Policy:
    return Policy.model_validate({
        "id": "cn/test/1", "title_zh": "测试", "title_en": "test", "issuer": "测试", "document_no": "测试〔2021〕1号",
        "issued_on": "2020-01-01", "effective_from": "2020-01-01", "jurisdiction": "cn", "tier": "zjtx_sme",
        "purpose": "new_application", "criteria": criteria, **extra,
    })


def node(kind: str, *children: dict, **extra) -> dict:
    return {"type": kind, "id": extra.pop("id", "root"), "label_zh": "根", "label_en": "root",
            "children": list(children), **extra}


def firm_with(values: dict[str, str | None], n: int = 1) -> Firm:
    return Firm(uscc=uscc_for(n), attributes={f"x{k}": v for k, v in values.items() if v is not None})


def run(p: Policy, *firms: Firm, as_of: date = AS_OF, **kw) -> list[dict]:
    return evaluation_records(evaluate(p, bundle(*firms), as_of, **kw))


VALUE = {"pass": "true", "fail": "false", "missing": None}
VERDICT = {"pass": "eligible", "fail": "ineligible", "missing": "insufficient_data"}


@pytest.mark.parametrize(("a", "b", "all_", "any_"), [
    ("pass", "pass", "pass", "pass"),
    ("pass", "fail", "fail", "pass"),
    ("fail", "missing", "fail", "missing"),  # fail dominates missing in all
    ("pass", "missing", "missing", "pass"),  # pass dominates missing in any
    ("missing", "missing", "missing", "missing"),
    ("fail", "fail", "fail", "fail"),
])
def test_all_and_any_are_three_valued(a, b, all_, any_):
    firm = firm_with({"1": VALUE[a], "2": VALUE[b]})
    assert run(policy(node("all", flag("1"), flag("2"))), firm)[0]["verdict"] == VERDICT[all_]
    assert run(policy(node("any", flag("1"), flag("2"))), firm)[0]["verdict"] == VERDICT[any_]


@pytest.mark.parametrize(("results", "expected"), [
    (["pass", "pass", "fail", "fail"], "pass"),
    (["pass", "missing", "fail", "fail"], "missing"),  # one more pass could still come
    (["pass", "fail", "fail", "fail"], "fail"),
    (["missing", "missing", "fail", "fail"], "missing"),
    (["pass", "pass", "missing", "missing"], "pass"),
])
def test_at_least_counts_passes_against_passes_plus_missing(results, expected):
    p = policy(node("at_least", *(flag(str(i)) for i in range(4)), n=2))
    firm = firm_with({str(i): VALUE[r] for i, r in enumerate(results)})
    assert run(p, firm)[0]["verdict"] == VERDICT[expected]


def classes_policy() -> Policy:
    return policy({"type": "exactly_one", "id": "root", "label_zh": "类", "label_en": "classes", "classes": [
        {"name": "a", "label_zh": "a", "label_en": "a", "criteria": flag("a")},
        {"name": "b", "label_zh": "b", "label_en": "b", "criteria": flag("b")},
    ]})


@pytest.mark.parametrize(("a", "b", "verdict", "cls"), [
    ("pass", "fail", "eligible", "a"),
    ("fail", "pass", "eligible", "b"),
    ("pass", "pass", "ineligible", None),  # exactly one
    ("fail", "fail", "ineligible", None),
    ("pass", "missing", "insufficient_data", None),  # b could pass too
    ("fail", "missing", "insufficient_data", None),
])
def test_exactly_one_reports_the_class(a, b, verdict, cls):
    firm = Firm(uscc=uscc_for(1), attributes={k: v for k, v in (("xa", VALUE[a]), ("xb", VALUE[b])) if v})
    r = run(classes_policy(), firm)[0]
    assert (r["verdict"], r["class"]) == (verdict, cls)


def score_policy(pass_mark: float | None) -> Policy:
    items = [
        {"id": "cert", "label_zh": "认证", "label_en": "cert", "criteria": flag("1"), "points": 10, "source": SRC},
        # Zhejiang-style 2 + N points for an R&D ratio of N%, capped at 10
        {"id": "rd", "label_zh": "研发", "label_en": "R&D", "indicator": {"indicator": "rd_ratio"},
         "base": 2, "per_unit": 1, "cap": 10, "source": SRC},
        {"id": "extra", "label_zh": "加分", "label_en": "bonus", "criteria": flag("2"), "points": 8, "bonus": True,
         "source": SRC},
    ]
    return policy({"type": "score", "id": "root", "label_zh": "分", "label_en": "score", "items": items,
                   "bonus_cap": 5, "pass_mark": pass_mark})


def test_score_points_caps_bonus_and_pass_mark():
    firm = Firm(uscc=uscc_for(1), attributes={"x1": "true", "x2": "true"},
                years={2020: {"revenue": 1000.0, "rd_expense": 50.0}})  # R&D 5% → 7 points
    r = run(score_policy(22), firm)[0]
    assert r["score"] == 10 + 7 + 5 and r["verdict"] == "eligible"  # bonus 8 capped at 5
    capped = firm.with_year(2020, rd_expense=200.0)  # 20% → 22, capped at 10
    assert run(score_policy(None), capped)[0]["score"] == 25
    assert run(score_policy(23), firm)[0]["verdict"] == "ineligible"
    # With the R&D ratio unknown the score is open (10..20 + 5): below, within and above the pass mark.
    unknown = Firm(uscc=uscc_for(2), attributes={"x1": "true", "x2": "true"})
    assert [run(score_policy(m), unknown)[0]["verdict"] for m in (15, 20, 26)] == [
        "eligible", "insufficient_data", "ineligible"]
    assert run(score_policy(15), unknown)[0]["score"] is None
    # Without a pass mark a score informs and does not decide.
    assert run(score_policy(None), unknown)[0]["verdict"] == "eligible"


def band_policy() -> Policy:
    # Ningbo-style: R&D ratio ≥ 2.5% for revenue ≥ 10000, ≥ 3.5% for 5000-10000, no band below 5000.
    leaf = {"type": "leaf", "id": "rd", "label_zh": "研发", "label_en": "R&D", "indicator": "rd_ratio", "op": ">=",
            "unit": "%", "source": SRC,
            "threshold": {"band_by": {"indicator": "revenue"}, "bands": [
                {"lower": 10000, "threshold": 2.5, "label": "≥1亿"},
                {"lower": 5000, "upper": 10000, "threshold": 3.5, "label": "5000万-1亿"},
            ]}}
    return policy(node("all", leaf))


@pytest.mark.parametrize(("revenue", "rd", "verdict"), [
    (10000.0, 250.0, "eligible"),  # 2.5% in the upper band
    (9999.0, 300.0, "ineligible"),  # 3.0% < 3.5% in the middle band
    (5000.0, 175.0, "eligible"),  # 3.5% exactly, lower bound inclusive
    (4999.0, 500.0, "ineligible"),  # no band applies
    (None, 500.0, "insufficient_data"),  # band unknown
])
def test_band_table_threshold_depends_on_revenue(revenue, rd, verdict):
    firm = Firm(uscc=uscc_for(1), years={2020: {"revenue": revenue, "rd_expense": rd}})
    assert run(band_policy(), firm)[0]["verdict"] == verdict


def test_reference_lookup_threshold_from_a_yearly_series():
    leaf = {"type": "leaf", "id": "growth", "label_zh": "增长", "label_en": "growth", "indicator": "revenue",
            "window": {"years": 1, "aggregation": "growth"}, "op": ">=", "unit": "%", "source": SRC,
            "threshold": {"reference": "gdp", "year_offset": -1, "factor": 1.5}}
    refs = {"gdp": {"label_zh": "GDP增速", "label_en": "GDP growth", "unit": "%", "values": {2019: 7.9, 2020: 5.7},
                    "source": SRC}}
    p = policy(node("all", leaf), references=refs)
    firm = Firm(uscc=uscc_for(1), years={2019: {"revenue": 1000.0}, 2020: {"revenue": 1085.5}})  # 8.55%
    assert run(p, firm)[0]["verdict"] == "eligible"  # 1.5 × 5.7 = 8.55
    assert run(p, firm.with_year(2020, revenue=1085.0))[0]["verdict"] == "ineligible"
    # No reference value for 2021 → the criterion cannot be decided for anyone.
    later = Firm(uscc=uscc_for(1), years={2020: {"revenue": 1000.0}, 2021: {"revenue": 2000.0}})
    assert run(p, later, as_of=date(2022, 5, 1))[0]["verdict"] == "insufficient_data"


def test_waiver_by_as_of_year_and_prerequisite():
    waived = flag("1") | {"waivers": [{"as_of_years": [2021], "reason_zh": "疫情", "reason_en": "COVID",
                                       "source": SRC}]}
    prereq = {"type": "prerequisite", "id": "holds", "label_zh": "持有", "label_en": "holds",
              "tiers": ["zjtx_sme"], "jurisdictions": ["cn-zj"], "source": SRC}
    p = policy(node("all", waived, prereq))
    firm = firm_with({"1": "false"}).but(recognitions=[("zjtx_sme", "cn-zj", date(2020, 1, 1))])
    r = run(p, firm)[0]
    assert r["verdict"] == "eligible" and r["criteria"][0]["result"] == "waived"
    assert run(p, firm, as_of=date(2022, 5, 1))[0]["verdict"] == "ineligible"
    other = firm.but(recognitions=[("zjtx_sme", "cn-js", date(2020, 1, 1))])
    assert run(p, other)[0]["verdict"] == "ineligible"


def test_revoked_recognition_counts_until_its_end_date():
    prereq = {"type": "prerequisite", "id": "holds", "label_zh": "持有", "label_en": "holds",
              "tiers": ["little_giant"], "source": SRC}
    p = policy(node("all", prereq))
    b = bundle(Firm(uscc=uscc_for(1)))
    recs = pl.DataFrame({"uscc": [uscc_for(1)], "tier": ["little_giant"], "jurisdiction": ["cn"],
                         "recognized_on": [date(2019, 7, 1)], "status": ["revoked"], "ended_on": [date(2021, 1, 1)]})
    b = Bundle.of(enterprises=b.enterprises, recognitions=recs)
    assert evaluate(p, b, date(2020, 6, 1))["verdict"][0] == "eligible"
    assert evaluate(p, b, date(2021, 2, 1))["verdict"][0] == "ineligible"


# ---------------------------------------------------------------------------------------------------------
# Indicators.
# ---------------------------------------------------------------------------------------------------------


def test_annual_figures_from_complete_sub_annual_reports():
    u_month, u_quarter, u_ytd, u_gap, u_both = (uscc_for(i) for i in range(1, 6))
    rows = []
    for m in range(1, 13):
        rows.append({"uscc": u_month, "period": f"2020-{m:02d}", "revenue": 100.0, "employees": 10.0 + m})
        if m != 7:
            rows.append({"uscc": u_gap, "period": f"2020-{m:02d}", "revenue": 100.0, "employees": 10.0})
    for q in range(1, 5):
        rows.append({"uscc": u_quarter, "period": f"2020Q{q}", "revenue": 300.0, "employees": 20.0 + q})
        rows.append({"uscc": u_both, "period": f"2020Q{q}", "revenue": 300.0, "employees": 1.0})
    rows.append({"uscc": u_ytd, "period": "2020-12", "basis": "ytd", "revenue": 1250.0, "employees": 30.0})
    rows.append({"uscc": u_ytd, "period": "2020-11", "basis": "ytd", "revenue": 1100.0, "employees": 29.0})
    rows.append({"uscc": u_both, "period": "2020", "revenue": 999.0, "employees": 5.0})
    reports = Bundle.of(reports=pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("basis").fill_null("period"))).reports
    fig = {r["uscc"]: r for r in annual_figures(reports, [2020], ["revenue", "employees"]).iter_rows(named=True)}
    assert (fig[u_month]["revenue"], fig[u_month]["employees"]) == (1200.0, 22.0)  # flows summed, stock at Dec
    assert (fig[u_quarter]["revenue"], fig[u_quarter]["employees"]) == (1200.0, 24.0)
    assert (fig[u_ytd]["revenue"], fig[u_ytd]["employees"]) == (1250.0, 30.0)  # the December ytd report
    assert fig[u_gap]["revenue"] is None and fig[u_gap]["employees"] is None  # July missing: not a full year
    assert fig[u_both]["revenue"] == 999.0  # an annual report wins over sub-annual ones


def test_windows_each_pooled_mean_and_compound_growth():
    firm = Firm(uscc=uscc_for(1), years={
        2018: {"revenue": 100.0, "rd_expense": 1.0}, 2019: {"revenue": 200.0, "rd_expense": 10.0},
        2020: {"revenue": 200.0, "rd_expense": 2.0}})
    refs = [IndicatorRef(indicator="rd_ratio", window=Window(years=2, aggregation=a)) for a in ("pooled", "each")]
    refs += [IndicatorRef(indicator="revenue", window=Window(years=2, aggregation=a))
             for a in ("mean_growth", "compound_growth", "sum", "each_growth")]
    row = derive_indicators(bundle(firm), refs, AS_OF).row(0, named=True)
    assert row["rd_ratio@pooled2y"] == 3.0  # 12 / 400
    assert (row["rd_ratio@each2y#1"], row["rd_ratio@each2y#2"]) == (1.0, 5.0)  # 2020, 2019
    assert row["revenue@mean_growth2y"] == 50.0  # (100% + 0%) / 2
    assert row["revenue@compound_growth2y"] == pytest.approx(41.421356, abs=1e-6)  # √2 − 1
    assert row["revenue@sum2y"] == 400.0
    assert (row["revenue@each_growth2y#1"], row["revenue@each_growth2y#2"]) == (0.0, 100.0)  # 逐年增长


def test_each_year_window_needs_every_year():
    leaf = {"type": "leaf", "id": "rd", "label_zh": "研发", "label_en": "R&D", "indicator": "rd_ratio",
            "window": {"years": 2, "aggregation": "each"}, "op": ">=", "threshold": 3.0, "source": SRC}
    p = policy(node("all", leaf))
    both = Firm(uscc=uscc_for(1), years={2019: {"revenue": 100.0, "rd_expense": 3.0},
                                         2020: {"revenue": 100.0, "rd_expense": 4.0}})
    r = run(p, both)[0]
    assert r["verdict"] == "eligible" and r["criteria"][0]["actual"] == [4.0, 3.0]
    assert run(p, both.with_year(2019, rd_expense=2.9))[0]["verdict"] == "ineligible"
    assert run(p, both.with_year(2019, rd_expense=None))[0]["verdict"] == "insufficient_data"
    # One failing year decides even when the other is unknown.
    assert run(p, both.with_year(2019, rd_expense=None).with_year(2020, rd_expense=1.0))[0]["verdict"] == "ineligible"


def test_any_year_growth_window_needs_one_year():
    # 近2年中至少有一年增长率达到5%: last year over the year before, or the year before over the one before that.
    leaf = {"type": "leaf", "id": "g", "label_zh": "增长", "label_en": "growth", "indicator": "revenue",
            "window": {"years": 2, "aggregation": "any_growth"}, "op": ">=", "threshold": 5.0, "source": SRC}
    p = policy(node("all", leaf))
    earlier = Firm(uscc=uscc_for(1), years={2018: {"revenue": 100.0}, 2019: {"revenue": 106.0},
                                            2020: {"revenue": 109.18}})  # +6% then +3%
    r = run(p, earlier)[0]
    assert r["verdict"] == "eligible" and r["criteria"][0]["actual"] == [3.0, 6.0]
    assert run(p, earlier.with_year(2019, revenue=104.0).with_year(2020, revenue=107.12))[0]["verdict"] == "ineligible"
    # A year that passes decides even when the other is unknown; a failing year with the other unknown does not.
    assert run(p, earlier.with_year(2020, revenue=None))[0]["verdict"] == "eligible"
    assert run(p, earlier.with_year(2018, revenue=None))[0]["verdict"] == "insufficient_data"


def test_starts_with_matches_industry_sections():
    # 工业 = GB/T 4754 sections B, C, D: a code is judged by its section letter, whatever its depth.
    leaf = {"type": "leaf", "id": "ind", "label_zh": "工业", "label_en": "industrial", "indicator": "industry_code",
            "op": "starts_with", "threshold": ["B", "C", "D"], "source": SRC}
    p = policy(node("all", leaf))
    verdicts = [run(p, Firm(uscc=uscc_for(1), industry_code=code))[0] for code in ("C3562", "D44", "I6510")]
    assert [v["verdict"] for v in verdicts] == ["eligible", "eligible", "ineligible"]
    assert verdicts[0]["criteria"][0]["expected"] == "以…开头 / starts with {B, C, D}"
    assert run(p, Firm(uscc=uscc_for(1), industry_code=None))[0]["verdict"] == "insufficient_data"


def test_attributes_in_force_and_events_in_window():
    u = uscc_for(1)
    attrs = pl.DataFrame({"uscc": [u, u, u], "attribute": ["quality_cert"] * 3, "value": ["true", "false", "true"],
                          "effective_on": [date(2015, 1, 1), date(2019, 1, 1), date(2022, 1, 1)],
                          "expires_on": [None, date(2021, 4, 30), None]})
    events = pl.DataFrame({"uscc": [u, u], "event": ["major_accident", "listing"],
                           "occurred_on": [date(2018, 5, 2), date(2020, 3, 1)], "detail": [None, "star"]})
    b = Bundle.of(enterprises=pl.DataFrame({"uscc": [u], "listing_board": ["none"]}), attributes=attrs, events=events)
    refs = [IndicatorRef(indicator="quality_cert"), IndicatorRef(indicator="listing_board"),
            IndicatorRef(indicator="events_within", params={"events": ["major_accident"], "years": 3})]
    key = refs[2].key()

    def at(d: date) -> dict:
        return derive_indicators(b, refs, d).row(0, named=True)

    # 2021-04-30: the "false" row is the latest in force; 2021-05-01: it has expired, the 2015 "true" remains.
    assert at(date(2021, 4, 30))["quality_cert"] is False
    assert at(date(2021, 5, 1))["quality_cert"] is True
    assert at(date(2021, 5, 1))[key] == 1 and at(date(2021, 5, 2))[key] == 0
    assert at(date(2020, 2, 1))["listing_board"] == "none" and at(date(2020, 3, 1))["listing_board"] == "star"


def test_one_polars_plan_scales_without_python_loops():
    """10,000 firms evaluate in one call; the result keeps the input order and has one row per firm."""
    n = 10_000
    ids = [f"F{i:07d}" for i in range(n)]
    ent = pl.DataFrame({"uscc": ids, "founded_on": [date(2010, 1, 1)] * n, "industry_code": ["C3562"] * n})
    rep = pl.DataFrame({"uscc": ids * 3, "period": ["2018"] * n + ["2019"] * n + ["2020"] * n,
                        "revenue": [float(i % 20000) for i in range(3 * n)],
                        "rd_expense": [float(i % 700) for i in range(3 * n)]})
    p = band_policy()
    out = evaluate(p, Bundle.of(enterprises=ent, reports=rep), AS_OF)
    assert out["uscc"].to_list() == ids
    assert set(out["verdict"].unique()) <= {"eligible", "ineligible", "insufficient_data"}


def test_exclusion_without_a_window_counts_any_earlier_event():
    excl = {"type": "exclusion", "id": "never_false", "label_zh": "从未虚假申报", "label_en": "never false",
            "events": ["false_declaration"], "source": SRC}
    p = policy(node("all", excl))
    firm = Firm(uscc=uscc_for(1), events=[("false_declaration", date(2001, 1, 1))])
    assert run(p, firm)[0]["verdict"] == "ineligible"  # twenty years earlier still counts
    later = firm.but(events=[("false_declaration", date(2021, 5, 2))])
    assert run(p, later)[0]["verdict"] == "eligible"  # not known yet on the as-of date
