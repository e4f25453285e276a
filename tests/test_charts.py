"""Chart functions: frame in, figure out — trace types, values, labels and titles as the user reads them."""

from __future__ import annotations

from datetime import date

import polars as pl

from dashboard import charts

REPORT_SCHEMA = {"period": pl.String, "period_type": pl.String, "year": pl.Int64, "period_end": pl.Date,
                 "basis": pl.String, "revenue": pl.Float64, "rd_expense": pl.Float64, "total_assets": pl.Float64,
                 "total_liabilities": pl.Float64}


def reports(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=REPORT_SCHEMA, orient="row")


def test_tier_bar_labels_values_and_title():
    counts = pl.DataFrame({"tier": ["innovative_sme", "little_giant", "gx_seed"], "firms": [120, 30, 4]})
    fig = charts.tier_bar(counts, "zh")
    (bar,) = fig.data
    assert bar.type == "bar"
    assert list(bar.x) == ["创新型中小企业", "专精特新“小巨人”", "gx_seed"]  # an unlabelled regional tier keeps its code
    assert list(bar.y) == [120, 30, 4]
    assert fig.layout.title.text == "有效认定企业（按称号）"
    assert charts.tier_bar(counts, "en").data[0].x[1] == "Little giant"


def test_province_bar_is_ranked_horizontal():
    counts = pl.DataFrame({"province_code": ["44", "33"], "name_zh": ["广东省", "浙江省"],
                           "name_en": ["Guangdong", "Zhejiang"], "firms": [9, 5]})
    fig = charts.province_bar(counts, "en")
    (bar,) = fig.data
    assert bar.orientation == "h"
    assert list(bar.y) == ["Guangdong", "Zhejiang"] and list(bar.x) == [9, 5]
    assert fig.layout.yaxis.autorange == "reversed"  # the largest province on top
    assert fig.layout.title.text == "By province"


def test_flags_bar_stacks_severities():
    flags = pl.DataFrame({"kind": ["exit", "expiring", "expiring"], "severity": ["critical", "warning", "info"],
                          "firms": [1, 2, 3], "flags": [1, 2, 3]})
    fig = charts.flags_bar(flags, "zh")
    assert fig.layout.barmode == "stack"
    by_name = {trace.name: list(trace.y) for trace in fig.data}
    assert by_name == {"严重": [1, 0], "警告": [0, 2], "提示": [0, 3]}
    assert list(fig.data[0].x) == ["触发退出条件", "即将到期"]


def test_attainment_bar_overlays_actual_on_target():
    targets = pl.DataFrame({"jurisdiction": ["cn"], "name_zh": ["全国"], "name_en": ["China (national)"],
                            "tier": ["little_giant"], "year": [2025], "target_count": [10000], "actual": [4762],
                            "attainment_pct": [47.6]})
    fig = charts.attainment_bar(targets, "zh")
    target, actual = fig.data
    assert list(target.x) == [10000] and list(actual.x) == [4762]
    assert list(actual.text) == ["47.6%"]
    assert list(actual.y) == ["全国 · 专精特新“小巨人” · 2025"]


def test_recognition_timeline_bars_and_supersession():
    recognitions = pl.DataFrame({
        "id": [1, 2, 3], "tier": ["little_giant", "little_giant", "zjtx_sme"], "jurisdiction": ["cn", "cn", "cn-gd"],
        "batch": ["3", "3", "1"],
        "recognized_on": [date(2021, 7, 1), date(2024, 7, 1), date(2020, 1, 1)],
        "valid_until": [date(2024, 6, 30), date(2027, 6, 30), date(2022, 12, 31)],
        "status": ["superseded", "active", "revoked"], "document_no": [None, "复核", None],
        "superseded_by": [2, None, None], "ended_on": [None, None, date(2021, 6, 30)], "end_reason": [None] * 3,
    })
    fig = charts.recognition_timeline(recognitions, "zh", as_of=date(2025, 1, 1))
    traces = {trace.name: trace for trace in fig.data}
    assert set(traces) == {"已被复核替代", "有效", "已撤销"}
    superseded, active, revoked = traces["已被复核替代"], traces["有效"], traces["已撤销"]
    assert all(trace.type == "bar" and trace.orientation == "h" for trace in fig.data)
    assert list(superseded.base) == ["2021-07-01"]
    assert list(superseded.x) == [(date(2024, 7, 1) - date(2021, 7, 1)).days * 86_400_000]
    assert superseded.marker.pattern.shape == "/" and active.marker.pattern.shape == ""
    assert "#2" in superseded.hovertext[0]
    assert list(superseded.y) == list(active.y) == ["专精特新“小巨人” · cn"]  # renewal continues the same row
    # Revoked early: the bar stops at ended_on, not at valid_until.
    assert list(revoked.x) == [(date(2021, 7, 1) - date(2020, 1, 1)).days * 86_400_000]
    assert fig.layout.xaxis.type == "date"


def test_annual_indicators_prefers_annual_then_ytd_then_complete_sub_annual():
    rows = [
        ("2022", "annual", 2022, date(2022, 12, 31), "period", 1000.0, 50.0, 2000.0, 800.0),
        # 2022 also has a December ytd report: the annual report wins.
        ("2022-12", "monthly", 2022, date(2022, 12, 31), "ytd", 999.0, 1.0, 2000.0, 800.0),
        # 2023: only a December ytd report.
        ("2023-12", "monthly", 2023, date(2023, 12, 31), "ytd", 1200.0, 60.0, 3000.0, 1500.0),
        # 2024: four quarters; flows summed, stocks at year end.
        *[(f"2024Q{q}", "quarterly", 2024, date(2024, 3 * q, 28), "period", 300.0, 24.0, 1000.0 * q, 100.0 * q)
          for q in range(1, 5)],
        # 2025: three quarters only — not a whole year, so no annual figure.
        *[(f"2025Q{q}", "quarterly", 2025, date(2025, 3 * q, 28), "period", 300.0, 20.0, 1.0, 1.0)
          for q in range(1, 4)],
    ]
    result = charts.annual_indicators(reports(rows))
    assert result["year"].to_list() == [2022, 2023, 2024]
    assert result["revenue"].to_list() == [1000.0, 1200.0, 1200.0]
    assert result["rd_ratio"].to_list() == [5.0, 5.0, 8.0]
    assert result["debt_ratio"].to_list() == [40.0, 50.0, 10.0]


def test_annual_indicators_keeps_not_reported_as_missing():
    rows = [("2023", "annual", 2023, date(2023, 12, 31), "period", 0.0, None, None, None)]
    result = charts.annual_indicators(reports(rows))
    assert result["rd_ratio"].to_list() == [None]  # no revenue base and no R&D figure: a gap, not 0%
    fig = charts.ratio_chart(result, "zh")
    assert [trace.type for trace in fig.data] == ["scatter", "scatter"]
    assert list(fig.data[0].y) == [None]


def test_monthly_revenue_derives_months_from_ytd():
    rows = [
        ("2024-01", "monthly", 2024, date(2024, 1, 31), "ytd", 100.0, None, None, None),
        ("2024-02", "monthly", 2024, date(2024, 2, 29), "ytd", 250.0, None, None, None),
        ("2024-04", "monthly", 2024, date(2024, 4, 30), "ytd", 500.0, None, None, None),  # March missing
        ("2024-05", "monthly", 2024, date(2024, 5, 31), "period", 90.0, None, None, None),
    ]
    months = charts.monthly_revenue(reports(rows))
    assert months.select("period", "revenue").rows() == [
        ("2024-01", 100.0), ("2024-02", 150.0), ("2024-04", None), ("2024-05", 90.0)]
    fig = charts.monthly_revenue_chart(months, "en")
    assert list(fig.data[0].x) == ["2024-01", "2024-02", "2024-04", "2024-05"]
    assert fig.layout.title.text == "Monthly revenue"
