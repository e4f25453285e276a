"""The analytics chart functions: a frame in, the figure's traces asserted (values, signs, labels, colours)."""

from __future__ import annotations

from datetime import date

import polars as pl

from dashboard import analytics_charts as ac


def test_funnel_chart_shows_each_rung_in_ladder_order():
    funnel = pl.DataFrame({"tier": ["innovative_sme", "zjtx_sme", "little_giant", "single_champion"],
                           "firms": [1200, 300, 40, 3]})
    fig = ac.funnel_chart(funnel, "zh")
    (trace,) = fig.data
    assert trace.type == "funnel"
    assert list(trace.y) == ["创新型中小企业", "专精特新中小企业", "专精特新“小巨人”", "制造业单项冠军"]
    assert list(trace.x) == [1200, 300, 40, 3]
    assert "percent previous" in trace.textinfo
    assert ac.funnel_chart(funnel, "en").data[0].y[2] == "Little giant"


def test_flows_chart_stacks_outflows_below_zero_and_leaves_out_undated_rows():
    flows = pl.DataFrame({
        "year": [2023, 2023, 2024, 2024, 2024, None],
        "tier": ["zjtx_sme", "little_giant", "zjtx_sme", "zjtx_sme", "little_giant", "single_champion"],
        "flow": ["new", "new", "revocation", "renewal", "expiry", "revocation"],
        "firms": [5, 2, 3, 4, 1, 9],
    }, schema_overrides={"year": pl.Int64})
    fig = ac.flows_chart(flows, "zh")
    traces = {trace.name: trace for trace in fig.data}
    assert set(traces) == {"新认定", "复核续期", "撤销", "到期"}  # no promotion row: no promotion trace
    assert list(traces["新认定"].x) == ["2023", "2024"]
    assert list(traces["新认定"].y) == [7, 0]  # both tiers of 2023 summed
    assert list(traces["撤销"].y) == [0, -3]  # the undated revocation (9) is not in any year
    assert list(traces["撤销"].customdata) == [0, 3]  # the hover shows the count, not the sign
    assert list(traces["到期"].y) == [0, -1]
    assert fig.layout.barmode == "relative"


def test_cohort_chart_stacks_outcome_shares_with_counts():
    cohorts = pl.DataFrame({
        "cohort": [2021] * 4 + [2022] * 4,
        "outcome": ["renewed", "revoked", "expired", "pending"] * 2,
        "recognitions": [6, 2, 2, 0, 0, 0, 0, 5],
        "share_pct": [60.0, 20.0, 20.0, 0.0, 0.0, 0.0, 0.0, 100.0],
    })
    fig = ac.cohort_chart(cohorts, "en")
    bars = {trace.name: trace for trace in fig.data if trace.type == "bar"}
    assert list(bars) == ["renewed", "revoked", "expired", "pending"]
    assert list(bars["renewed"].y) == [60.0, 0.0]
    assert list(bars["renewed"].customdata) == [6, 0]
    assert list(bars["pending"].y) == [0.0, 100.0]
    totals = next(trace for trace in fig.data if trace.type == "scatter")
    assert list(totals.text) == ["10", "5"]
    assert fig.layout.barmode == "stack"


def test_status_chart_has_a_bar_per_status_present():
    counts = pl.DataFrame({"indicator": ["rd_ratio", "debt_ratio"], "not_due": [0, 0], "no_data": [1, 0],
                           "achieved": [3, 1], "on_track": [0, 0], "behind": [2, 4]})
    fig = ac.status_chart(counts, "zh")
    traces = {trace.name: trace for trace in fig.data}
    assert list(traces) == ["已达成", "落后", "无数据"]  # in STATUS_COLOURS order, zero columns left out
    assert list(traces["已达成"].y) == ["研发经费支出占营业收入比重", "资产负债率"]
    assert list(traces["落后"].x) == [2, 4]
    assert traces["落后"].marker.color == ac.STATUS_COLOURS["behind"]


def attainment_rows() -> pl.DataFrame:
    return pl.DataFrame({
        "indicator": ["rd_ratio", "rd_ratio", "rd_ratio", "debt_ratio", "debt_ratio"],
        "attainment_pct": [125.0, 40.0, None, 80.0, 100.0],
        "status": ["achieved", "behind", "no_data", "behind", "achieved"],
    })


def test_attainment_box_and_histogram_leave_out_missing_values():
    box = ac.attainment_box(attainment_rows(), "en")
    assert [trace.name for trace in box.data] == ["R&D expense / revenue", "Debt ratio"]
    rd = box.data[0]  # 125 and 40: quartiles interpolated as plotly does, whiskers at the data
    assert (rd.q1, rd.median, rd.q3, rd.mean) == ((61.25,), (82.5,), (103.75,), (82.5,))
    assert (rd.lowerfence, rd.upperfence) == ((40.0,), (125.0,))
    histogram = ac.attainment_histogram(attainment_rows(), "zh", "全部")
    bars = {trace.name: (list(trace.x), list(trace.y)) for trace in histogram.data}
    # bins of 10 points, drawn at their centres: 125 → [120, 130), 100 → [100, 110)
    assert bars == {"已达成": ([105.0, 125.0], [1, 1]), "落后": ([45.0, 85.0], [1, 1])}
    assert histogram.layout.title.text == "全部"


def test_attainment_charts_send_statistics_not_every_firm():
    n = 99_900  # 0, 1, ..., 299 each 333 times
    many = pl.DataFrame({"indicator": ["rd_ratio"] * n, "attainment_pct": [float(i % 300) for i in range(n)],
                         "status": ["achieved" if i % 300 >= 100 else "behind" for i in range(n)]})
    (box,) = ac.attainment_box(many, "zh").data
    assert box.median == (149.5,) and box.lowerfence == (0.0,) and box.upperfence == (299.0,)
    assert box.x is None and box.y == ("研发经费支出占营业收入比重",)
    histogram = ac.attainment_histogram(many, "zh", "全部")
    assert sum(len(trace.x) for trace in histogram.data) == 30  # 30 bins, not 100,000 values
    assert sum(sum(trace.y) for trace in histogram.data) == n


def test_firm_targets_chart_colours_by_status_and_names_missing_values():
    fig = ac.firm_targets_chart(attainment_rows(), "zh")
    (trace,) = fig.data
    assert list(trace.x) == [125.0, 40.0, 0, 80.0, 100.0]
    assert list(trace.text) == ["125%", "40%", "无数据", "80%", "100%"]
    assert list(trace.marker.color) == [ac.STATUS_COLOURS[s] for s in attainment_rows()["status"]]


def test_trajectory_chart_draws_actual_path_and_targets():
    line = pl.DataFrame({
        "on": [date(2023, 12, 31), date(2024, 12, 31), date(2025, 6, 30), date(2025, 6, 30), date(2025, 12, 31),
               date(2025, 12, 31)],
        "kind": ["actual", "actual", "actual", "path", "path", "target"],
        "firms": [2, 3, 3, 3, 5, 5],
    })
    fig = ac.trajectory_chart(line, "en", "cn · Little giant")
    traces = {trace.name: trace for trace in fig.data}
    assert list(traces) == ["Actual", "Path to the target", "Target"]
    assert list(traces["Actual"].y) == [2, 3, 3]
    assert list(traces["Path to the target"].x) == ["2025-06-30", "2025-12-31"]
    assert traces["Path to the target"].line.dash == "dash"
    assert list(traces["Target"].y) == [5]
    only_actual = ac.trajectory_chart(line.filter(pl.col("kind") == "actual"), "zh", "t")
    assert [trace.name for trace in only_actual.data] == ["实际"]
