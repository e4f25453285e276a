"""registry.pipeline on SQLite and PostgreSQL, against the hand-made registry of tests/analytics_registry.py.

Each expected figure is worked out by hand from the dates in that file (the reasoning is in the comments).
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from analytics_registry import insert_flags, insert_registry
from builders import enterprise_row, insert_rows, little_giant_2020, recognition_row, report_row, uscc_for

from registry import pipeline
from registry.access import SYSTEM, Principal

AS_OF = date(2025, 6, 30)
GUANGDONG = Principal("gd", "official", "cn-gd")
ZHEJIANG = Principal("zj", "official", "cn-zj")


@pytest.fixture
def registry(engine):
    return engine, insert_registry(engine)


def funnel(frame: pl.DataFrame) -> dict[str, int]:
    return dict(frame.select("tier", "firms").rows())


def test_funnel_counts_firms_holding_each_rung(registry):
    engine, _ = registry
    result = pipeline.tier_funnel(SYSTEM, AS_OF, engine=engine)
    # innovative: F1's renewal row and F8 (F1's first row ended on 2025-03-10, F3 was revoked, F6 withdrawn);
    # zjtx: F1 only (F2's closed as expired in 2023, F4's lapsed in 2022); little giant: F2 (renewal), F4, F7;
    # champion: F5's revocation has no date, so it never counts.
    assert funnel(result) == {"innovative_sme": 2, "zjtx_sme": 1, "little_giant": 3, "single_champion": 0}
    assert result["tier"].to_list() == list(pipeline.LADDER)
    # zjtx / innovative = 1/2; little giant / zjtx = 3/1; champion / little giant = 0/3.
    assert result["ratio_pct"].to_list() == [None, 50.0, 300.0, 0.0]


def test_funnel_on_past_dates_reads_the_history(registry):
    engine, _ = registry
    # 2024-01-01: F1's first innovative row and F3 (not yet revoked); F2's first little-giant row, F4, F7.
    assert funnel(pipeline.tier_funnel(SYSTEM, date(2024, 1, 1), engine=engine)) == {
        "innovative_sme": 2, "zjtx_sme": 1, "little_giant": 3, "single_champion": 0}
    # 2024-08-01: F2's first row ended on 2024-07-19 and its renewal came on 2024-08-23: only F4 and F7.
    assert funnel(pipeline.tier_funnel(SYSTEM, date(2024, 8, 1), engine=engine))["little_giant"] == 2


def test_funnel_filters_region_industry_and_scope(registry):
    engine, _ = registry
    guangdong = {"innovative_sme": 2, "zjtx_sme": 1, "little_giant": 1, "single_champion": 0}  # F1, F8; F1; F2
    assert funnel(pipeline.tier_funnel(SYSTEM, AS_OF, region="44", engine=engine)) == guangdong
    assert funnel(pipeline.tier_funnel(GUANGDONG, AS_OF, engine=engine)) == guangdong
    # Shenzhen (4403): F1 and F8; Guangzhou's F2 is out.
    assert funnel(pipeline.tier_funnel(SYSTEM, AS_OF, region="4403", engine=engine))["little_giant"] == 0
    # Section I: only F3, revoked.
    assert set(funnel(pipeline.tier_funnel(SYSTEM, AS_OF, industry="I", engine=engine)).values()) == {0}
    # A Zhejiang official asking for Guangdong sees nothing: the scope and the filter both apply.
    assert set(funnel(pipeline.tier_funnel(ZHEJIANG, AS_OF, region="44", engine=engine)).values()) == {0}


def test_funnel_by_area_goes_one_level_down(registry):
    engine, _ = registry
    provinces = pipeline.funnel_by_area(SYSTEM, AS_OF, engine=engine)
    assert provinces.select("area_code", "name_zh", *pipeline.LADDER).rows() == [
        ("44", "广东省", 2, 1, 1, 0),
        ("37", "山东省", 0, 0, 1, 0),
        ("65", "新疆维吾尔自治区", 0, 0, 1, 0),
    ]
    cities = pipeline.funnel_by_area(SYSTEM, AS_OF, region="44", engine=engine)
    assert cities.select("area_code", "name_zh", *pipeline.LADDER).rows() == [
        ("4403", "深圳市", 2, 1, 0, 0),
        ("4401", "广州市", 0, 0, 1, 0),
    ]
    counties = pipeline.funnel_by_area(SYSTEM, AS_OF, region="4403", engine=engine)
    assert counties["area_code"].to_list() == ["440305"]


def test_funnel_by_area_starts_below_the_users_own_area(registry):
    engine, _ = registry
    # A Guangdong official without a region chosen: Guangdong's cities (not one row for the province), the same
    # rows as a national user drilling into 44; within Shenzhen, its district.
    national_view = pipeline.funnel_by_area(SYSTEM, AS_OF, region="44", engine=engine)
    own = pipeline.funnel_by_area(GUANGDONG, AS_OF, engine=engine)
    assert own.select("area_code", *pipeline.LADDER).rows() == [("4403", 2, 1, 0, 0), ("4401", 0, 0, 1, 0)]
    assert own.equals(national_view)
    assert pipeline.funnel_by_area(GUANGDONG, AS_OF, region="4403", engine=engine)["area_code"].to_list() == [
        "440305"]
    # Zhejiang's only firm (F3) was revoked in 2024: no row holds a rung there on AS_OF.
    assert pipeline.funnel_by_area(ZHEJIANG, AS_OF, engine=engine).is_empty()


def test_flows_by_year(registry):
    engine, _ = registry
    flows = pipeline.tier_flows(SYSTEM, AS_OF, engine=engine)
    assert sorted(flows.rows(), key=lambda r: (r[0] is None, r)) == sorted([
        (2019, "zjtx_sme", "new", 1),  # F4
        (2020, "zjtx_sme", "new", 1),  # F2
        (2021, "little_giant", "promotion", 1),  # F2 held zjtx_sme on 2021-07-19
        (2021, "single_champion", "new", 1),  # F5: recognised, revoked later without a date
        (2022, "innovative_sme", "new", 1),  # F1
        (2022, "little_giant", "new", 1),  # F4: its zjtx_sme had lapsed on 2022-05-01
        (2022, "zjtx_sme", "expiry", 1),  # F4: valid_until 2022-05-01 passed, never renewed
        (2023, "innovative_sme", "new", 1),  # F3
        (2023, "zjtx_sme", "promotion", 1),  # F1 held innovative_sme on 2023-05-01
        (2023, "zjtx_sme", "expiry", 1),  # F2: closed as expired on 2023-06-01
        (2023, "little_giant", "new", 1),  # F7
        (2024, "innovative_sme", "revocation", 1),  # F3 on 2024-09-30
        (2024, "little_giant", "renewal", 1),  # F2 on 2024-08-23
        (2025, "innovative_sme", "new", 1),  # F8 (F6 was withdrawn: never happened)
        (2025, "innovative_sme", "renewal", 1),  # F1 on 2025-03-10
    ], key=lambda r: (r[0] is None, r)) + [(None, "single_champion", "revocation", 1)]  # F5: no date


def test_flows_follow_the_as_of_date_and_tier(registry):
    engine, _ = registry
    earlier = pipeline.tier_flows(SYSTEM, date(2024, 8, 31), engine=engine)
    # F3's revocation (2024-09-30) and everything in 2025 had not happened yet.
    assert earlier.filter(pl.col("flow") == "revocation")["year"].to_list() == [None]
    assert earlier["year"].max() == 2024
    giants = pipeline.tier_flows(SYSTEM, AS_OF, tier="little_giant", engine=engine)
    assert giants.select("year", "flow", "firms").rows() == [
        (2021, "promotion", 1), (2022, "new", 1), (2023, "new", 1), (2024, "renewal", 1)]
    assert pipeline.tier_flows(ZHEJIANG, AS_OF, engine=engine).select("year", "tier", "flow").rows() == [
        (2023, "innovative_sme", "new"), (2024, "innovative_sme", "revocation")]


def outcomes(frame: pl.DataFrame) -> dict[int, dict[str, int]]:
    return {cohort: dict(frame.filter(pl.col("cohort") == cohort).select("outcome", "recognitions").rows())
            for cohort in frame["cohort"].unique().sort().to_list()}


def test_review_cohorts(registry):
    engine, _ = registry
    giants = pipeline.review_cohorts(SYSTEM, AS_OF, "little_giant", engine=engine)
    # F2 (2021) renewed on 2024-08-23; F4 (2022, valid to 2025-08-05) and F7 (2023) are pending.
    assert outcomes(giants) == {
        2021: {"renewed": 1, "revoked": 0, "expired": 0, "pending": 0},
        2022: {"renewed": 0, "revoked": 0, "expired": 0, "pending": 1},
        2023: {"renewed": 0, "revoked": 0, "expired": 0, "pending": 1},
    }
    assert giants.filter(pl.col("cohort") == 2021)["share_pct"].to_list() == [100.0, 0.0, 0.0, 0.0]
    # On 2024-08-01 F2's validity had ended and its renewal was three weeks away: expired then.
    assert outcomes(pipeline.review_cohorts(SYSTEM, date(2024, 8, 1), "little_giant", engine=engine))[2021] == {
        "renewed": 0, "revoked": 0, "expired": 1, "pending": 0}
    zjtx = outcomes(pipeline.review_cohorts(SYSTEM, AS_OF, "zjtx_sme", engine=engine))
    assert {year: [k for k, v in row.items() if v] for year, row in zjtx.items()} == {
        2019: ["expired"], 2020: ["expired"], 2023: ["pending"]}  # F4 lapsed, F2 closed, F1 valid
    innovative = outcomes(pipeline.review_cohorts(SYSTEM, AS_OF, "innovative_sme", engine=engine))
    # F1 renewed; F3 revoked; F8 pending (its 2025 row); F6 withdrawn is not a cohort member.
    assert innovative == {2022: {"renewed": 1, "revoked": 0, "expired": 0, "pending": 0},
                          2023: {"renewed": 0, "revoked": 1, "expired": 0, "pending": 0},
                          2025: {"renewed": 0, "revoked": 0, "expired": 0, "pending": 1}}
    assert pipeline.review_cohorts(ZHEJIANG, AS_OF, "little_giant", engine=engine).is_empty()


def test_promotion_candidates_and_open_flags(registry):
    engine, _ = registry
    assert pipeline.last_flags_run(engine=engine) is None
    insert_flags(engine)
    assert pipeline.last_flags_run(engine=engine) is not None
    candidates = pipeline.promotion_candidates(SYSTEM, engine=engine)
    # Open promotion flags: F1 holding innovative_sme, F4 holding little_giant (F1's zjtx_sme one is resolved).
    assert candidates.rows() == [("innovative_sme", "zjtx_sme", 1), ("zjtx_sme", "little_giant", 0),
                                 ("little_giant", "key_little_giant", 1)]
    assert pipeline.promotion_candidates(GUANGDONG, engine=engine)["firms"].to_list() == [1, 0, 0]
    assert pipeline.promotion_candidates(ZHEJIANG, engine=engine)["firms"].to_list() == [0, 0, 0]
    open_flags = dict(pipeline.open_flag_firms(SYSTEM, engine=engine).rows())
    # F2's two review_due flags are one firm; F1 and F4 have open promotion flags.
    assert open_flags == {"expiring": 0, "review_due": 1, "expired": 0, "exit": 0, "promotion": 2,
                          "missing_report": 0, "anomaly": 0}
    assert dict(pipeline.open_flag_firms(SYSTEM, region="4403", engine=engine).rows())["promotion"] == 1


def test_areas_for_the_region_filter(registry):
    engine, _ = registry
    counties = pipeline.counties_in(SYSTEM, "4403", engine=engine)
    assert counties.select("area_code", "firms").rows() == [("440305", 4)]  # F1, F5, F6, F8
    assert counties["name_zh"].to_list() == ["南山区"]  # GB/T 2260 county names (data/reference/counties.csv)
    shenzhen_official = Principal("sz", "official", "cn-gd-shenzhen")
    assert pipeline.cities_in(shenzhen_official, "44")["area_code"].to_list() == ["4403"]
    assert "4401" in pipeline.cities_in(GUANGDONG, "44")["area_code"].to_list()
    assert pipeline.area_level(None) == 2 and pipeline.area_level("44") == 4 and pipeline.area_level("4403") == 6


def test_evaluating_promotion_candidates_without_flags(engine):
    """Two provincial 专精特新 firms, one meeting every criterion of cn/little-giant/2021 on 2021-05-01 (the
    policy tests' reference firm), one with R&D spending far below the thresholds: one candidate."""
    from registry.models import Attribute, Enterprise, Recognition, Report

    good = little_giant_2020(1)
    weak = little_giant_2020(2).with_year(2020, rd_expense=10.0).with_year(2019, rd_expense=10.0)
    weak.uscc = uscc_for(2)
    with engine.begin() as conn:
        for n, firm in enumerate((good, weak), start=1):
            insert_rows(conn, Enterprise.__table__, [enterprise_row(
                firm.uscc, f"企业{n}", firm.region_code, id=n, industry_code=firm.industry_code,
                founded_on=firm.founded_on)])
            insert_rows(conn, Recognition.__table__, [
                recognition_row(n, "zjtx_sme", "cn-bj", date(2020, 3, 1), date(2023, 3, 1))])
            insert_rows(conn, Report.__table__, [report_row(n, str(year), **metrics)
                                                 for year, metrics in firm.years.items()])
            insert_rows(conn, Attribute.__table__, [
                {"enterprise_id": n, "attribute": name, "value": value, "effective_on": date(2000, 1, 1)}
                for name, value in firm.attributes.items()])
    result = pipeline.evaluate_promotion_candidates(SYSTEM, date(2021, 5, 1), engine=engine)
    by_tier = {row["tier"]: row for row in result.iter_rows(named=True)}
    assert by_tier["zjtx_sme"]["evaluated"] == 2
    assert by_tier["zjtx_sme"]["firms"] == 1
    assert by_tier["innovative_sme"]["evaluated"] == 0


def test_evaluate_now_finds_the_firms_the_promotion_flags_find(engine):
    """The pipeline's "evaluate now" and the flags job share registry.lifecycle.promotion_verdicts: on a demo
    registry they count the same firms per tier held."""
    from registry.demo import build_demo
    from registry.lifecycle import compute_flags
    from registry.policy.bundle import load_bundle

    # Judged on 2022-05-01, the last spring of the 2021 rules (79号 and the provincial 专精特新 rules, which the
    # demo's figures fill; the demo reports the four years before its date): the 2022 and 2026 national rules that
    # replaced them read inputs (Ⅰ类 IP, chain role, quality score) the demo registry does not carry, so a later date
    # finds no candidate to compare.
    build_demo(engine, firms=800, seed=3, as_of=date(2023, 1, 1))
    as_of = date(2022, 5, 1)
    flags = compute_flags(load_bundle(engine), as_of)
    from_flags = dict(flags.filter(pl.col("flag") == "promotion").group_by("tier")
                      .agg(pl.col("uscc").n_unique()).rows())
    now = pipeline.evaluate_promotion_candidates(SYSTEM, as_of, engine=engine)
    from_pipeline = {tier: firms for tier, firms in now.select("tier", "firms").rows() if firms}
    assert from_flags and from_pipeline == from_flags
