"""The two shortcuts that make evaluation affordable at a million firms must not change a single verdict:

- the annual figures computed once per run (`with_annual_figures`, used by `zjtx flags` for its ≈ 20 promotion
  policies, the size class and the anomalies) against computing them from the reports for each policy;
- `load_bundle` reading only the report columns and attributes a policy needs (`zjtx evaluate`) against
  reading everything.

Checked on a demo registry (annual, quarterly and monthly reports, attributes, events) for every policy in force.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from registry.demo import build_demo
from registry.errors import UserError
from registry.models import REPORT_METRICS
from registry.policy.bundle import load_bundle
from registry.policy.engine import evaluate, required_refs
from registry.policy.indicators import annual_figures, bundle_annual, data_needs, with_annual_figures
from registry.policy.loader import load_policies

AS_OF = date(2026, 3, 15)


@pytest.fixture
def registry(engine):
    build_demo(engine, firms=600, seed=5, as_of=AS_OF)
    return engine, load_bundle(engine)


def verdicts(policy, bundle, on) -> pl.DataFrame:
    return evaluate(policy, bundle, on, detail=True).sort("uscc")


def policies_in_force(on: date):
    return [p for p in load_policies().values() if p.in_force(on)]


@pytest.mark.parametrize("on", [AS_OF, date(2025, 6, 30)])
def test_annual_figures_computed_once_give_the_same_verdicts_as_from_the_reports(registry, on):
    _, bundle = registry
    once = with_annual_figures(bundle)
    assert bundle.reports["period_type"].n_unique() == 3  # annual, quarterly and monthly reports are all there
    half = bundle.enterprises["uscc"].sort().gather_every(2)
    checked = 0
    for policy in policies_in_force(on):
        try:
            expected = verdicts(policy, bundle, on)
        except UserError:  # the policy cannot judge this date (a batch window)
            continue
        assert verdicts(policy, once, on).equals(expected), policy.id
        # A flags run evaluates each policy over a subset: the subset carries the figures, not the reports.
        subset = once.only(half)
        assert subset.reports.is_empty()
        assert verdicts(policy, subset, on).equals(verdicts(policy, bundle.only(half), on)), policy.id
        checked += 1
    assert checked >= 10


def test_the_annual_figures_of_a_run_match_those_computed_for_a_few_years_and_metrics(registry):
    _, bundle = registry
    once = with_annual_figures(bundle)
    key = ["uscc", "year"]
    for years, metrics in (([2024, 2025], ["revenue", "rd_expense"]), ([2025], ["employees", "total_assets"])):
        direct = annual_figures(bundle.reports, years, metrics).sort(key)
        assert not direct.is_empty()
        assert_frame_equal(bundle_annual(once, years, metrics).sort(key), direct, check_exact=True)


def test_load_bundle_reads_only_what_the_policy_needs_and_the_verdicts_stay_the_same(registry):
    engine, full = registry
    policy = load_policies()["cn/little-giant/2021"]
    on = date(2022, 5, 31)  # its last day: 63号 (cn/little-giant/2022) replaced it on 2022-06-01
    needs = data_needs(required_refs(policy), on)
    assert {"revenue", "rd_expense"} <= needs.metrics < set(REPORT_METRICS)
    assert needs.years == {2019, 2020, 2021}  # 上年 and the two years before it (growth over two years)

    columns_only = load_bundle(engine, metrics=needs.metrics, attributes=needs.attributes)
    unread = sorted(set(REPORT_METRICS) - needs.metrics)
    assert columns_only.reports.height == full.reports.height
    assert all(columns_only.reports[m].null_count() == columns_only.reports.height for m in unread)
    assert set(columns_only.attributes["attribute"].unique()) <= needs.attributes
    assert columns_only.attributes.height < full.attributes.height
    assert verdicts(policy, columns_only, on).equals(verdicts(policy, full, on))


@pytest.mark.parametrize("on", [AS_OF, date(2025, 6, 30)])
def test_load_bundle_skips_sub_annual_reports_an_annual_report_makes_redundant(registry, on):
    engine, full = registry
    # In force on both dates, and every metric it reads is in the demo's annual reports (the 2022 little giant rule
    # also reads Ⅰ类 IP and market share, which the demo leaves blank, so no annual report would make sub-annual
    # ones redundant).
    policy = load_policies()["cn/sme-size/2011"]
    needs = data_needs(required_refs(policy), on)
    lean = load_bundle(engine, metrics=needs.metrics, years=needs.years, attributes=needs.attributes)
    assert set(lean.reports["year"].unique()) <= needs.years
    assert lean.reports.height < full.reports.filter(pl.col("year").is_in(list(needs.years))).height
    key = ["uscc", "year"]
    assert_frame_equal(annual_figures(lean.reports, needs.years, needs.metrics).sort(key),
                       annual_figures(full.reports, needs.years, needs.metrics).sort(key), check_exact=True)
    assert verdicts(policy, lean, on).equals(verdicts(policy, full, on))


def test_sums_of_monthly_reports_are_the_same_decimal_figure_on_every_run():
    # 0.1 twelve times is 1.2000000000000002 in binary floating point, in an order that varies between runs:
    # a flag's evidence must not change from one recomputation to the next.
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    reports = pl.DataFrame({"uscc": ["A"] * 12, "period": months, "period_type": ["monthly"] * 12,
                            "year": [2025] * 12, "basis": ["period"] * 12, "revenue": [0.1] * 12,
                            "rd_expense": [1104.49 / 12] * 12})
    figures = annual_figures(reports, [2025], ["revenue", "rd_expense"])
    assert figures.rows() == [("A", 2025, 1.2, 1104.49)]


# Seven firms, 2025, metrics revenue (a flow), employees (a stock) and market_share (a stock no sub-annual report
# carries): each takes its figure from a different source. Expected values are worked out by hand from
# annual_figures' definition (annual report, then year-end 本年累计, then 12 months / 4 quarters).
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
QUARTERS = [f"2025Q{q}" for q in range(1, 5)]
SOURCES = {
    "alone": [("2025", "period", {"revenue": 100.0, "employees": 10.0})],  # annual only, market_share blank
    "months": [("2025", "period", {"employees": 20.0})]  # revenue from the 12 months: 1 + … + 12
              + [(p, "period", {"revenue": float(k)}) for k, p in enumerate(MONTHS, start=1)],
    "quarters": [("2025", "period", {"revenue": 50.0})]  # employees: the Q4 stock; the quarters' revenue unused
                + [(p, "period", {"revenue": 1000.0, "employees": float(k)}) for k, p in enumerate(QUARTERS, 1)],
    "complete": [("2025", "period", {"revenue": 5.0, "employees": 6.0, "market_share": 1.5})]
                + [(p, "period", {"revenue": 9.0}) for p in MONTHS],
    "blank_share": [("2025", "period", {"revenue": 7.0, "employees": 8.0})]  # settled: no sub-annual share
                   + [(p, "period", {"revenue": 2.0, "employees": 3.0}) for p in QUARTERS],
    "ytd_q4": [(p, "ytd", {"revenue": 10.0 * k, "employees": 9.0}) for k, p in enumerate(QUARTERS, 1)],
    "ytd_dec": [("2025", "period", {"employees": None}), ("2025-12", "ytd", {"revenue": 33.0})],
}
EXPECTED = {"alone": (100.0, 10.0, None), "months": (78.0, 20.0, None), "quarters": (50.0, 4.0, None),
            "complete": (5.0, 6.0, 1.5), "blank_share": (7.0, 8.0, None), "ytd_q4": (40.0, 9.0, None),
            "ytd_dec": (33.0, None, None)}
SETTLED = {"complete", "blank_share"}  # firms whose sub-annual rows cannot change a figure


def test_the_sub_annual_rows_left_unread_change_no_annual_figure(engine):
    from builders import enterprise_row, insert_rows, report_row

    from registry.models import Enterprise, Report

    metrics, years = ["revenue", "employees", "market_share"], [2025]
    with engine.begin() as conn:
        for n, (name, rows) in enumerate(SOURCES.items(), start=1):
            insert_rows(conn, Enterprise.__table__, [enterprise_row(f"UNIT{n:014d}", name, "110108", id=n)])
            insert_rows(conn, Report.__table__, [report_row(n, period, basis, **values)
                                                 for period, basis, values in rows])
    lean = load_bundle(engine, metrics=metrics, years=years)
    full = load_bundle(engine)
    names = dict(zip(full.enterprises["uscc"], full.enterprises["name"], strict=True))
    key = ["uscc", "year"]
    figures = annual_figures(lean.reports, years, metrics).sort(key)
    assert {names[u]: tuple(v) for u, *v in figures.select("uscc", *metrics).iter_rows()} == EXPECTED
    assert_frame_equal(figures, annual_figures(full.reports, years, metrics).sort(key), check_exact=True)
    sub_annual = lean.reports.filter(pl.col("period_type") != "annual")
    kept = {names[u] for u in sub_annual["uscc"]}
    # PostgreSQL leaves out the rows of both settled firms; SQLite (in polars) those of the complete annual report.
    assert kept == set(SOURCES) - {"alone"} - (SETTLED if engine.dialect.name == "postgresql" else {"complete"})


def test_the_2026_rule_reads_fewer_report_rows_and_gives_the_same_figures_and_verdicts(registry):
    # cn/little-giant/2026 reads 国际市场占有率 and Ⅰ类知识产权, which no sub-annual report of the demo carries and many
    # annual reports leave blank: before, such a firm-year's quarterly and monthly rows were all sent.
    engine, full = registry
    policy = load_policies()["cn/little-giant/2026"]
    on = date(2026, 4, 1)
    needs = data_needs(required_refs(policy), on)
    lean = load_bundle(engine, metrics=needs.metrics, years=needs.years, attributes=needs.attributes)
    in_years = full.reports.filter(pl.col("year").is_in(list(needs.years)))
    complete = (in_years.filter(pl.col("period_type") == "annual", *[pl.col(m).is_not_null() for m in needs.metrics])
                .select("uscc", "year").unique())
    before_rows = in_years.filter(pl.col("period_type") == "annual").height + in_years.filter(
        pl.col("period_type") != "annual").join(complete, on=["uscc", "year"], how="anti").height  # the former rule
    if engine.dialect.name == "postgresql":
        assert lean.reports.height < before_rows
    else:  # SQLite keeps its rule (bundle._without_covered_sub_annual)
        assert lean.reports.height == before_rows
    key = ["uscc", "year"]
    assert_frame_equal(annual_figures(lean.reports, needs.years, needs.metrics).sort(key),
                       annual_figures(full.reports, needs.years, needs.metrics).sort(key), check_exact=True)
    assert verdicts(policy, lean, on).equals(verdicts(policy, full, on))


@pytest.mark.parametrize("firm_ids", [[5, 1, 9, 2], [3], [7, 2_000_000_000]], ids=["dense", "one", "sparse"])
def test_child_rows_get_their_firms_uscc_as_an_inner_join_would(firm_ids):
    """load_bundle gives each child row its firm's USCC by looking the id up in an array (bundle._with_uscc): the
    same rows, order and values as the inner join it replaced — rows of firms not read are dropped, a null id
    too, and ids too sparse for an array take the join."""
    from registry.policy.bundle import _with_uscc

    firms = pl.DataFrame({"enterprise_id": firm_ids, "uscc": [f"9144{i:014d}" for i in firm_ids]})
    ids = [9, 1, None, 4, 2, 9, 7, 3, 1, *[i for i in firm_ids if i > 1_000_000]]
    children = pl.DataFrame({"enterprise_id": ids, "year": list(range(2016, 2016 + len(ids)))})
    expected = children.join(firms, on="enterprise_id", how="inner", maintain_order="left")
    assert expected.height >= 1
    assert _with_uscc(children, firms).equals(expected)
    assert _with_uscc(children.clear(), firms).equals(expected.clear())
