"""运行监测 figures (registry.monitoring) against plain SQL and Python over a registry built here, on both engines.

The registry: 30 firms in Zhejiang (33) and 30 in Guangdong (44), little_giant or zjtx_sme, with annual reports for
2024 and 2025 — some firms report 2025 only quarterly (the annual figure is then the sum of the four quarters, as
the policies read it), some leave R&D or total assets blank. Expected values are computed from the rows inserted,
with SQL written here and Python's statistics module.
"""

from __future__ import annotations

import random
import statistics
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from builders import enterprise_row, insert_rows, recognition_row, report_row

from registry import monitoring
from registry.access import Principal
from registry.identity import make_uscc
from registry.models import Enterprise, Recognition, Report

ANALYST = Principal("analyst", "analyst", "cn")
ZJ_OFFICIAL = Principal("zj", "official", "cn-zj")
REGIONS = ("330106", "330212", "440305", "440106")
# Held on 2025-12-31 unless noted: a recognition from 2026 (not yet held) and one revoked in 2025 (held in 2024 only).
NOT_YET, REVOKED = 7, 8


def build(engine) -> dict[int, str]:
    rng = random.Random(17)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    firms, recognitions, reports = [], [], []
    uscc = {}
    for n in range(1, 61):
        region = REGIONS[(n - 1) // 15]
        uscc[n] = make_uscc(rng, region)
        firms.append(enterprise_row(uscc[n], f"监测企业{n}", region, id=n,
                                    industry_code="C3562" if n % 3 else "I6510", created_at=now, updated_at=now))
        tier = "little_giant" if n % 2 else "zjtx_sme"
        on, until, status, ended = date(2023, 7, 1), date(2026, 7, 1), "active", None
        if n % 15 == NOT_YET:
            on, until = date(2026, 1, 15), date(2029, 1, 15)
        if n % 15 == REVOKED:
            status, ended = "revoked", date(2025, 6, 30)
        recognitions.append(recognition_row(n, tier, "cn", on, until, status, id=n, ended_on=ended, created_at=now))
        for year in (2024, 2025):
            revenue = round(rng.uniform(2000, 60000), 1)
            rd = None if rng.random() < 0.2 else round(revenue * rng.uniform(0.02, 0.09), 1)
            assets = None if rng.random() < 0.2 else round(rng.uniform(5000, 80000), 1)
            liabilities = round((assets or 10000) * rng.uniform(0.2, 0.8), 1)
            metrics = {"revenue": revenue, "rd_expense": rd, "total_assets": assets, "total_liabilities": liabilities,
                       "updated_at": now}
            if year == 2025 and n % 5 == 0:  # quarterly only: four 当期 quarters
                shares = (0.2, 0.25, 0.25, 0.3)
                for q, share in enumerate(shares, start=1):
                    reports.append(report_row(n, f"2025Q{q}", **{
                        **metrics, "revenue": round(revenue * share, 1),
                        "rd_expense": None if rd is None else round(rd * share, 1)}))
            elif not (year == 2025 and n % 11 == 0):  # every 11th firm has not reported 2025
                reports.append(report_row(n, str(year), **metrics))
    with engine.begin() as conn:
        insert_rows(conn, Enterprise.__table__, firms)
        insert_rows(conn, Recognition.__table__, recognitions)
        insert_rows(conn, Report.__table__, reports)
    return uscc


# The annual revenue per firm, written independently: the annual report, else the sum of four quarterly reports.
ANNUAL_REVENUE = """
    SELECT e.uscc, e.region_code, COALESCE(
        (SELECT a.revenue FROM report a WHERE a.enterprise_id = e.id AND a.period = :y AND a.period_type = 'annual'),
        (SELECT CASE WHEN COUNT(q.revenue) = 4 THEN SUM(q.revenue) END FROM report q
         WHERE q.enterprise_id = e.id AND q.year = CAST(:y AS INTEGER) AND q.period_type = 'quarterly'
           AND q.basis = 'period')) AS revenue
    FROM enterprise e JOIN recognition r ON r.enterprise_id = e.id
    WHERE r.tier = :tier AND e.province_code = :province AND r.recognized_on <= :end
      AND (r.valid_until IS NULL OR r.valid_until >= :end) AND (r.ended_on IS NULL OR r.ended_on > :end)
"""


def expected_revenue(engine, tier: str, province: str, year: int) -> dict[str, float | None]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(ANNUAL_REVENUE), {"y": str(year), "tier": tier, "province": province,
                                                      "end": date(year, 12, 31)}).all()
    return {uscc: value for uscc, _region, value in rows}


def panel(principal=ANALYST, **kwargs):
    options = {"tiers": ("little_giant",), "period": "2025", "grain": "year", "metric": "revenue"} | kwargs
    engine = options.pop("engine")
    return monitoring.monitoring_panel(principal, engine=engine, **options)


def test_median_revenue_of_little_giants_in_one_province(engine):
    build(engine)
    expected = expected_revenue(engine, "little_giant", "33", 2025)
    values = [v for v in expected.values() if v is not None]
    assert len(expected) > len(values) > 5  # some firms of the cohort did not report: coverage below 100 %
    p = panel(engine=engine, region="33")
    head = monitoring.headline(p)
    assert head["firms"] == len(expected)
    assert head["reporting"] == len(values)
    assert head["median"] == pytest.approx(statistics.median(values))
    assert head["total"] == pytest.approx(sum(values))
    # Year on year: the 2024 cohort (the firm revoked in mid-2025 still in it) and its annual reports.
    before = [v for v in expected_revenue(engine, "little_giant", "33", 2024).values() if v is not None]
    assert head["previous_median"] == pytest.approx(statistics.median(before))
    assert head["median_yoy_pct"] == pytest.approx(
        round((statistics.median(values) - statistics.median(before)) / statistics.median(before) * 100, 1))
    # The quartiles of the box chart (linear interpolation, as statistics.quantiles 'inclusive').
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    box = monitoring.distribution(p).row(0, named=True)
    assert (box["min"], box["q1"], box["median"], box["q3"], box["max"]) == pytest.approx(
        (min(values), q1, median, q3, max(values)))


def test_breakdown_by_area_counts_coverage_and_cell_firms(engine):
    build(engine)
    p = panel(engine=engine, tiers=("little_giant", "zjtx_sme"), region="33")
    table = monitoring.breakdown(p, "area", region="33")
    assert set(table["group"]) == {"3301", "3302"}  # cities of Zhejiang
    for row in table.iter_rows(named=True):
        with engine.connect() as conn:
            rows = conn.execute(sa.text(ANNUAL_REVENUE.replace("e.province_code = :province",
                                                               "e.region_code LIKE :province")),
                                {"y": "2025", "tier": row["tier"], "province": row["group"] + "%",
                                 "end": date(2025, 12, 31)}).all()
        values = [v for *_, v in rows if v is not None]
        assert row["firms"] == len(rows)
        assert row["reporting"] == len(values)
        assert row["coverage_pct"] == pytest.approx(round(len(values) / len(rows) * 100, 1))
        assert row["median"] == pytest.approx(statistics.median(values))
        firms = monitoring.cell_firms(p, row["group"], row["tier"], "area", region="33")
        assert sorted(firms["uscc"]) == sorted(uscc for uscc, *_ in rows)
        alone = monitoring.firms_of_cell(ANALYST, group=row["group"], tier=row["tier"], by="area", period="2025",
                                         metric="revenue", region="33", engine=engine)
        assert alone.sort("uscc").equals(firms.sort("uscc"))
    assert table["name_zh"].to_list()[0] == "杭州市"
    figures = monitoring.monitoring_figures(ANALYST, tiers=("little_giant", "zjtx_sme"), period="2025", region="33",
                                            engine=engine)
    assert figures.by_area.equals(table) and figures.headline == monitoring.headline(p)
    by_industry = figures.by_industry
    assert set(by_industry["group"]) == {"C", "I"}
    cell = by_industry.filter(by_industry["group"] == "I").row(0, named=True)
    listed = monitoring.firms_of_cell(ANALYST, group="I", tier=cell["tier"], by="industry", period="2025",
                                      region="33", engine=engine)
    assert listed.height == cell["firms"] and set(listed["industry_code"]) == {"I6510"}


def test_ratio_only_over_firms_reporting_both_parts(engine):
    build(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT rp.rd_expense, rp.revenue FROM report rp JOIN enterprise e ON e.id = rp.enterprise_id
            JOIN recognition r ON r.enterprise_id = e.id
            WHERE rp.period = '2024' AND r.tier = 'zjtx_sme' AND r.recognized_on <= :end
              AND (r.ended_on IS NULL OR r.ended_on > :end)"""), {"end": date(2024, 12, 31)}).all()
    both = [(rd, rev) for rd, rev in rows if rd is not None and rev]
    assert len(both) < len(rows)  # some firms left R&D blank: they are not in the ratio
    p = panel(engine=engine, tiers=("zjtx_sme",), period="2024", metric="rd_intensity")
    head = monitoring.headline(p)
    assert head["reporting"] == len(both)
    assert head["median"] == pytest.approx(statistics.median(rd / rev * 100 for rd, rev in both))
    assert head["total"] == pytest.approx(sum(rd for rd, _ in both) / sum(rev for _, rev in both) * 100)


def test_quarterly_grain_reads_the_quarterly_reports(engine):
    build(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT rp.revenue FROM report rp JOIN recognition r ON r.enterprise_id = rp.enterprise_id
            WHERE rp.period = '2025Q3' AND rp.basis = 'period' AND r.tier = 'zjtx_sme'
              AND r.recognized_on <= :end AND (r.ended_on IS NULL OR r.ended_on > :end)"""),
                            {"end": date(2025, 9, 30)}).all()
    assert rows
    assert monitoring.available_periods(ANALYST, "quarter", engine=engine) == ["2025Q4", "2025Q3", "2025Q2",
                                                                                "2025Q1"]
    p = panel(engine=engine, tiers=("zjtx_sme",), period="2025Q3", grain="quarter")
    assert monitoring.headline(p)["median"] == pytest.approx(statistics.median(v for (v,) in rows))
    assert monitoring.headline(p)["previous_period"] == "2024Q3"


def test_an_official_sees_only_the_firms_of_the_jurisdiction(engine):
    uscc = build(engine)
    gd_firms = {uscc[n] for n in range(31, 61)}
    p = panel(ZJ_OFFICIAL, engine=engine, tiers=("little_giant", "zjtx_sme"))
    assert p.rows.height and not set(p.rows["uscc"]) & gd_firms
    assert set(monitoring.breakdown(p, "area")["group"]) == {"33"}
    # Asking for Guangdong does not widen the scope.
    assert panel(ZJ_OFFICIAL, engine=engine, region="44").rows.is_empty()
    assert monitoring.headline(panel(ZJ_OFFICIAL, engine=engine, region="44"))["firms"] == 0


def test_bad_choices_are_refused(engine):
    with pytest.raises(ValueError, match="metric"):
        panel(engine=engine, metric="profit_margin")
    with pytest.raises(ValueError, match="grain"):
        panel(engine=engine, grain="week")
    with pytest.raises(ValueError, match="tier"):
        panel(engine=engine, tiers=())


def test_periods():
    assert monitoring.shift_period("2025Q1", "quarter", -1) == "2024Q4"
    assert monitoring.shift_period("2025-01", "month", -13) == "2023-12"
    assert monitoring.year_before("2025-03", "month") == "2024-03"
    assert monitoring.period_end("2024-02") == date(2024, 2, 29)
    assert monitoring.period_end("2025Q3") == date(2025, 9, 30)
