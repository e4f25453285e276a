"""Properties of the evaluation that must hold for any data (hypothesis):

- raising a higher-is-better figure (R&D spending, patents) or improving a lower-is-better one (liabilities,
  provincial rank) never turns an eligible firm ineligible;
- a firm evaluated alone gets exactly its row of a batch evaluation (no firm's data leaks into another's).
"""

from __future__ import annotations

from datetime import date

from builders import Firm, bundle, little_giant_2020, uscc_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.policy import evaluate, evaluation_records, get_policy

AS_OF = {"cn/little-giant/2021": date(2021, 5, 1), "cn/little-giant-precheck/2021": date(2021, 5, 1),
         "cn-bingtuan/zjtx/2021": date(2021, 11, 1)}
RANK = {"ineligible": 0, "insufficient_data": 1, "eligible": 2}
POLICIES = tuple(AS_OF)

money = st.one_of(st.none(), st.floats(min_value=0, max_value=30000, allow_nan=False).map(lambda x: round(x, 2)))
count = st.one_of(st.none(), st.integers(min_value=0, max_value=12).map(float))


@st.composite
def firms(draw, n: int = 1) -> Firm:
    """A little-giant-like firm with every figure drawn at random (blank allowed), near the thresholds."""
    base = little_giant_2020(n)
    years = {}
    for y in (2018, 2019, 2020):
        revenue = draw(st.one_of(st.none(), st.floats(min_value=1000, max_value=20000).map(lambda x: round(x, 2))))
        years[y] = {
            "revenue": revenue,
            "main_revenue": None if revenue is None else round(revenue * draw(st.floats(0.5, 1.0)), 2),
            "net_profit": draw(st.one_of(st.none(), st.floats(-500, 2000).map(lambda x: round(x, 2)))),
            "rd_expense": None if revenue is None else round(revenue * draw(st.floats(0, 0.1)), 2),
        }
    years[2020].update({
        "total_assets": 20000.0, "total_liabilities": draw(money), "employees": 250.0, "rd_staff": 40.0,
        "invention_patents": draw(count), "utility_patents": draw(count), "design_patents": draw(count),
        "software_copyrights": draw(count),
        "province_rank": draw(st.one_of(st.none(), st.integers(1, 6).map(float))),
        "equity_financing": 0.0,
    })
    years[2019]["equity_financing"] = 0.0
    attrs = dict(base.attributes)
    for name in ("own_brand", "quality_cert", "info_system"):
        choice = draw(st.sampled_from(["true", "false", None]))
        if choice is None:
            attrs.pop(name)
        else:
            attrs[name] = choice
    return base.but(years=years, attributes=attrs, region_code=draw(st.sampled_from(["110108", "659001"])),
                    founded_on=draw(st.sampled_from([date(2012, 3, 1), date(2019, 3, 1)])))


def improved(firm: Firm, data) -> Firm:
    """The same firm with some higher-is-better figures raised and lower-is-better ones lowered."""
    f = firm
    for y in (2019, 2020):
        rd = f.years[y].get("rd_expense")
        if rd is not None:
            f = f.with_year(y, rd_expense=round(rd + data.draw(st.floats(0, 500)), 2))
    for metric in ("invention_patents", "utility_patents", "software_copyrights"):
        v = f.years[2020].get(metric)
        if v is not None:
            f = f.with_year(2020, **{metric: v + data.draw(st.integers(0, 5))})
    liabilities = f.years[2020].get("total_liabilities")
    if liabilities is not None:
        f = f.with_year(2020, total_liabilities=round(liabilities * data.draw(st.floats(0, 1)), 2))
    rank = f.years[2020].get("province_rank")
    if rank is not None:
        f = f.with_year(2020, province_rank=max(1.0, rank - data.draw(st.integers(0, 3))))
    return f


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(firm=firms(), policy_id=st.sampled_from(POLICIES), data=st.data())
def test_improving_a_figure_never_turns_eligible_into_ineligible(firm, policy_id, data):
    policy = get_policy(policy_id)
    before = evaluate(policy, bundle(firm), AS_OF[policy_id])["verdict"][0]
    after = evaluate(policy, bundle(improved(firm, data)), AS_OF[policy_id])["verdict"][0]
    # Improvements only turn fails into passes, so the verdict can only move up this order.
    assert RANK[after] >= RANK[before], (before, after)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(firms(), min_size=2, max_size=5), policy_id=st.sampled_from(POLICIES))
def test_a_firm_alone_gets_its_row_of_the_batch(batch, policy_id):
    batch = [f.but(uscc=uscc_for(i + 100)) for i, f in enumerate(batch)]
    policy = get_policy(policy_id)
    together = {r["uscc"]: r for r in evaluation_records(evaluate(policy, bundle(*batch), AS_OF[policy_id]))}
    assert list(together) == [f.uscc for f in batch]
    for f in batch:
        alone = evaluation_records(evaluate(policy, bundle(f), AS_OF[policy_id]))
        assert alone == [together[f.uscc]]
