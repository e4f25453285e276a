"""Peers on the firm page (registry.peers.firm_peers) on a registry built for the test: the group, its widening
when too small, percentile, median and the trend against the peers' median change — values by hand."""

from __future__ import annotations

from datetime import date

from builders import report_row
from sqlmodel import Session

from registry.access import Principal
from registry.models import Report
from registry.peers import firm_peers
from tests.test_jobs_functions import add_firm, add_recognition

AS_OF = date(2026, 3, 1)
NATIONAL = Principal("an", "analyst", "cn")


def seed(engine) -> dict[str, str]:
    """Little giants in Beijing: x (C3911), p1, p2 (C39xx), s (C1310: same section, other division); g in Guangdong
    (C3911). Revenue 2024 → 2025."""
    plan = {"x": ("110101", "C3911", 100.0, 200.0), "p1": ("110102", "C3920", 200.0, 100.0),
            "p2": ("110105", "C3911", 300.0, 300.0), "s": ("110101", "C1310", 200.0, 400.0),
            "g": ("440305", "C3911", 100.0, 900.0)}
    usccs = {}
    with Session(engine) as s:
        for key, (region, industry, before, last) in plan.items():
            firm = add_firm(s, region, name=f"同行测试{key}")
            firm.industry_code = industry
            add_recognition(s, firm, date(2024, 7, 15))
            for year, revenue in ((2024, before), (2025, last)):
                s.add(Report(**report_row(firm.id, str(year), revenue=revenue)))
            usccs[key] = firm.uscc
        s.commit()
    return usccs


def revenue_row(frame):
    return frame.filter(frame["metric"] == "revenue").row(0, named=True)


def test_peer_group_percentile_and_trend(engine):
    ids = seed(engine)
    # min 3: x, p1, p2 share division C39 in Beijing → 100, 200, 300; x = 200.
    row = revenue_row(firm_peers(NATIONAL, ids["x"], AS_OF, engine=engine, min_group=3))
    assert (row["group"], row["peers"], row["value"], row["peer_median"]) == ("division_province", 3, 200.0, 200.0)
    assert row["percentile"] == 66.7
    assert row["change_pct"] == 100.0  # 100 → 200
    assert row["peer_median_change_pct"] == -25.0  # p1 −50 %, p2 0 % → median −25 %
    # min 4: widen to section C in Beijing (s joins): 100, 200, 300, 400 → x at 50 %, median 250.
    row = revenue_row(firm_peers(NATIONAL, ids["x"], AS_OF, engine=engine, min_group=4))
    assert (row["group"], row["peers"], row["peer_median"], row["percentile"]) == ("section_province", 4, 250.0, 50.0)
    assert row["peer_median_change_pct"] == 0.0  # −50, 0, +100
    # min 5: no Beijing group is big enough; the same division nationally has x, p1, p2, g = 4 → the section nationally.
    row = revenue_row(firm_peers(NATIONAL, ids["x"], AS_OF, engine=engine, min_group=5))
    assert (row["group"], row["peers"]) == ("section_national", 5)


def test_peers_are_scoped(engine):
    ids = seed(engine)
    assert firm_peers(Principal("gd", "official", "cn-gd"), ids["x"], AS_OF, engine=engine).is_empty()
    row = revenue_row(firm_peers(Principal("bj", "official", "cn-bj"), ids["x"], AS_OF, engine=engine, min_group=5))
    assert (row["group"], row["peers"]) == ("tier_national", 4)  # only Beijing's firms, whatever the group says
