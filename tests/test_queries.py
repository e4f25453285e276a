"""The dashboard's queries on both engines, against a hand-built registry whose answers are known by construction."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from builders import enterprise_row

from registry import queries, targets
from registry.access import SYSTEM, Principal, region_prefixes
from registry.errors import UserError
from registry.identity import make_uscc
from registry.models import Enterprise, JobRun, Recognition, RegionalTarget

AS_OF = date(2025, 6, 30)
GD = Principal("gd", "official", "cn-gd")
BJ = Principal("bj", "official", "cn-bj")

# name, region, industry; recognitions: (tier, recognized_on, valid_until, status, superseded)
FIRMS = {
    "A": ("深圳市（测试）精密机械有限公司", "440300", "C3562", [
        ("little_giant", date(2023, 7, 1), date(2026, 6, 30), "active", False),
        ("zjtx_sme", date(2022, 1, 1), date(2024, 12, 31), "active", False),  # expired, not renewed
    ]),
    "B": ("ABC Technology 有限公司", "440100", "I65", [
        ("little_giant", date(2023, 1, 1), date(2026, 1, 1), "revoked", False),
        ("innovative_sme", date(2025, 1, 1), None, "active", False),
    ]),
    "C": ("宁波海天液压有限公司", "330200", "C34", [
        ("little_giant", date(2025, 7, 1), date(2028, 6, 30), "active", False),  # not yet in force
        ("single_champion", date(2024, 1, 1), date(2026, 12, 31), "active", False),
    ]),
    "D": ("石河子兵团新材料有限公司", "659001", "C26", [
        ("innovative_sme", date(2024, 3, 1), date(2027, 2, 28), "active", False),
    ]),
    "E": ("乌鲁木齐天山光电有限公司", "650100", "C39", [
        ("innovative_sme", date(2024, 3, 1), date(2027, 2, 28), "active", False),
        ("innovative_sme", date(2024, 5, 1), date(2027, 4, 30), "active", False),  # a second, same tier
    ]),
    "F": ("青岛港湾机械有限公司", "370200", "C35", [
        ("little_giant", date(2022, 6, 30), AS_OF, "active", False),  # last valid day is today
    ]),
    "G": ("北京中关村芯片有限公司", "110108", "C39", [
        ("zjtx_sme", date(2022, 8, 16), date(2025, 8, 15), "active", False),  # 46 days left
    ]),
    "H": ("北京海淀传感有限公司", "110108", "C39", [
        ("little_giant", date(2022, 12, 1), date(2025, 11, 30), "active", False),  # 153 days left
    ]),
    "I": ("深圳市南山生物有限公司", "440300", "M73", [
        ("little_giant", date(2019, 7, 1), date(2022, 6, 30), "active", True),  # superseded by the next row
        ("little_giant", date(2022, 7, 1), date(2025, 12, 31), "active", False),
    ]),
}


@pytest.fixture
def registry_db(engine):
    rng = random.Random(1)
    usccs = {}
    with engine.begin() as conn:
        for key, (name, region, industry, recs) in FIRMS.items():
            usccs[key] = make_uscc(rng, region)
            firm_id = conn.execute(sa.insert(Enterprise.__table__).values(enterprise_row(
                usccs[key], name, region, industry_code=industry, founded_on=date(2010, 1, 1),
            ))).inserted_primary_key[0]
            previous = None
            for tier, start, end, status, superseded in reversed(recs):
                previous = conn.execute(sa.insert(Recognition.__table__).values(
                    enterprise_id=firm_id, tier=tier, jurisdiction="cn", recognized_on=start, valid_until=end,
                    status=status, superseded_by=previous if superseded else None,
                )).inserted_primary_key[0]
    return engine, usccs


def as_dict(frame, key, value):
    return dict(zip(frame[key].to_list(), frame[value].to_list(), strict=True))


def test_counts_by_tier_counts_valid_firms_once(registry_db):
    engine, _ = registry_db
    counts = queries.counts_by_tier(SYSTEM, AS_OF, engine=engine)
    # B, D, E (E twice, counted once) · G (A's has expired) · A, F (last day), H, I (renewed row) · C
    assert as_dict(counts, "tier", "firms") == {
        "innovative_sme": 3, "tech_sme": 0, "zjtx_sme": 1, "little_giant": 4, "key_little_giant": 0,
        "single_champion": 1}
    assert counts["tier"].to_list()[:4] == ["tech_sme", "innovative_sme", "zjtx_sme", "little_giant"]


def test_counts_by_tier_respects_jurisdiction(registry_db):
    engine, _ = registry_db
    gd = as_dict(queries.counts_by_tier(GD, AS_OF, engine=engine), "tier", "firms")
    assert gd["little_giant"] == 2 and gd["innovative_sme"] == 1 and gd["single_champion"] == 0
    # 兵团 (6590xx) and 新疆 are separate jurisdictions although both codes start with 65.
    bingtuan = Principal("bt", "official", "cn-bingtuan")
    xinjiang = Principal("xj", "official", "cn-xj")
    assert as_dict(queries.counts_by_tier(bingtuan, AS_OF, engine=engine), "tier", "firms")["innovative_sme"] == 1
    assert as_dict(queries.counts_by_tier(xinjiang, AS_OF, engine=engine), "tier", "firms")["innovative_sme"] == 1


def test_counts_by_province_ranked_with_names(registry_db):
    engine, _ = registry_db
    provinces = queries.counts_by_province(SYSTEM, AS_OF, engine=engine)
    assert provinces.select("province_code", "firms").rows() == [
        ("44", 3), ("11", 2), ("65", 2), ("33", 1), ("37", 1)]
    assert as_dict(provinces, "province_code", "name_zh")["44"] == "广东省"
    assert as_dict(provinces, "province_code", "name_en")["44"] == "Guangdong"
    assert as_dict(provinces, "province_code", "name_en")["65"] == "Xinjiang"  # 兵团 firms roll up to 65 too
    little = queries.counts_by_province(SYSTEM, AS_OF, tier="little_giant", engine=engine)
    assert as_dict(little, "province_code", "firms") == {"44": 2, "11": 1, "37": 1}


def test_due_counts_windows_and_exclusions(registry_db):
    engine, _ = registry_db
    due = queries.due_counts(SYSTEM, AS_OF, review_due_days=180, expiring_days=90, engine=engine)
    rows = {r["tier"]: (r["review_due"], r["expiring"], r["expired"]) for r in due.iter_rows(named=True)}
    # zjtx_sme: G due in 46 days; A's expired. little_giant: F (0 days), H (153 days), and I: its file says valid
    # to 2025-12-31, but the 小巨人 rules review 3 years after recognition ("入选满3年", 2022-07-01 → 2025-06-30,
    # today) — the same rule the flags follow. I's old row is superseded; B's revoked row and C's future row are
    # not counted.
    assert rows["zjtx_sme"] == (1, 1, 1)
    assert rows["little_giant"] == (3, 1, 0)
    bj = queries.due_counts(BJ, AS_OF, review_due_days=180, expiring_days=90, engine=engine)
    assert {r["tier"]: r["review_due"] for r in bj.iter_rows(named=True)} == {"zjtx_sme": 1, "little_giant": 1}


def test_due_recognitions_lists_states_soonest_first(registry_db):
    engine, usccs = registry_db
    listed = queries.due_recognitions(SYSTEM, AS_OF, review_due_days=180, expiring_days=90, engine=engine)
    assert listed.select("uscc", "state", "days_left").rows() == [
        (usccs["A"], "expired", -181), (usccs["F"], "expiring", 0), (usccs["G"], "expiring", 46),
        (usccs["H"], "review_due", 153), (usccs["I"], "review_due", 184)]


def test_regional_target_actuals(registry_db):
    engine, _ = registry_db
    with engine.begin() as conn:
        conn.execute(sa.insert(RegionalTarget.__table__), [
            {"jurisdiction": "cn", "tier": "little_giant", "year": 2025, "target_count": 8},
            {"jurisdiction": "cn-gd", "tier": "little_giant", "year": 2024, "target_count": 2},
            {"jurisdiction": "cn-sd", "tier": "little_giant", "year": 2024, "target_count": 3},
            {"jurisdiction": "cn-zj", "tier": "single_champion", "year": 2030, "target_count": 4},
            {"jurisdiction": "cn-bingtuan", "tier": "innovative_sme", "year": 2025, "target_count": 1},
            {"jurisdiction": "cn-xj", "tier": "innovative_sme", "year": 2025, "target_count": 2},
        ])
    # One function computes a target's actual for the overview, the targets page and the briefing.
    result = targets.regional_target_progress(SYSTEM, AS_OF, engine=engine)
    got = {(r["jurisdiction"], r["tier"]): (r["actual"], r["actual_year_ago"], r["attainment_pct"], r["state"])
           for r in result.iter_rows(named=True)}
    # Open targets on AS_OF against 2024-06-30; the 2024 ones on 2024-12-31 against 2023-12-31 (A from 2023-07-01,
    # I renewed 2022-07-01; B's is revoked). Nothing changed in the twelve months, so the open ones are behind.
    assert got == {
        ("cn", "little_giant"): (4, 4, 50.0, "behind"),
        ("cn-gd", "little_giant"): (2, 2, 100.0, "achieved"),
        ("cn-sd", "little_giant"): (1, 1, 33.3, "missed"),
        ("cn-zj", "single_champion"): (1, 1, 25.0, "behind"),
        ("cn-bingtuan", "innovative_sme"): (1, 1, 100.0, "achieved"),
        ("cn-xj", "innovative_sme"): (1, 1, 50.0, "behind"),
    }
    assert result["jurisdiction"][0] == "cn"
    # A provincial official sees their own province's targets only: not other provinces, and not the national plan
    # either, whose actual count includes firms outside their scope (issue 6: their jurisdiction and below).
    seen = set(targets.regional_target_progress(GD, AS_OF, engine=engine)["jurisdiction"].to_list())
    assert seen == {"cn-gd"}


def test_search_firms_filters(registry_db):
    engine, usccs = registry_db

    def found(principal=SYSTEM, **filters):
        frame, total = queries.search_firms(principal, engine=engine, **filters)
        assert total == frame.height
        return set(frame["uscc"].to_list())

    # Half-width brackets find a name written with full-width ones; Latin letters in any case.
    assert found(text="(测试)精密") == {usccs["A"]}
    assert found(text="abc technology") == {usccs["B"]}
    assert found(text="100%") == set()  # % is literal, not a wildcard
    assert found(uscc=usccs["C"][:12].lower()) == {usccs["C"]}
    assert found(province="11") == {usccs["G"], usccs["H"]}
    assert found(industry="M") == {usccs["I"]}
    assert found(industry="C35") == {usccs["A"], usccs["F"]}
    assert found(tier="little_giant", status="revoked") == {usccs["B"]}
    assert found(tier="single_champion") == {usccs["C"]}
    assert found(GD, text="有限公司") == {usccs["A"], usccs["B"], usccs["I"]}


def test_search_firms_pages_in_name_order(registry_db):
    engine, usccs = registry_db
    first, total = queries.search_firms(SYSTEM, limit=4, engine=engine)
    second, _ = queries.search_firms(SYSTEM, offset=4, limit=4, engine=engine)
    everything, _ = queries.search_firms(SYSTEM, limit=100, engine=engine)
    assert total == len(FIRMS) and first.height == 4
    assert first["uscc"].to_list() + second["uscc"].to_list() == everything["uscc"].to_list()[:8]
    tiers = as_dict(everything, "uscc", "tiers")
    assert tiers[usccs["C"]] == "little_giant,single_champion"
    assert tiers[usccs["B"]] == "innovative_sme"  # the revoked 小巨人 is not held
    assert queries.search_firms_all(SYSTEM, engine=engine, province="44").height == 3


def test_firm_queries_are_scoped(registry_db):
    engine, usccs = registry_db
    profile = queries.firm_profile(SYSTEM, usccs["I"].lower(), engine=engine)
    assert profile["name"] == "深圳市南山生物有限公司" and profile["region_code"] == "440300"
    recs = queries.firm_recognitions(SYSTEM, usccs["I"], engine=engine)
    assert recs["recognized_on"].to_list() == [date(2019, 7, 1), date(2022, 7, 1)]
    assert recs["superseded_by"][0] == recs["id"][1]
    assert queries.firm_profile(BJ, usccs["I"], engine=engine) is None
    assert queries.firm_profile(SYSTEM, "91440300000000000X", engine=engine) is None
    hidden = queries.firm_recognitions(BJ, usccs["I"], engine=engine)
    assert hidden.is_empty() and hidden.columns == list(queries.RECOGNITION_COLUMNS)
    assert queries.firm_reports(SYSTEM, usccs["I"], engine=engine).is_empty()


def test_data_version_changes_with_data_and_job_runs_have_their_own_key(registry_db):
    engine, _ = registry_db
    before, jobs_before = queries.dashboard_versions(engine)
    assert queries.dashboard_versions(engine) == (before, jobs_before)
    assert queries.data_version(engine) == before
    with engine.begin() as conn:  # the inbox job, with nothing to load, records a run every 5 minutes
        conn.execute(sa.insert(JobRun.__table__).values(
            job="flags", status="success", counts={}, started_at=datetime.now(UTC), finished_at=datetime.now(UTC)))
    # The pages' key stays (they stay warm); the sidebar's freshness, keyed by job runs too, sees the run.
    assert queries.data_version(engine) == before
    assert queries.dashboard_versions(engine)[1] != jobs_before
    assert queries.data_freshness(SYSTEM, engine=engine)["job"]["job"] == "flags"
    with engine.begin() as conn:
        conn.execute(sa.delete(Recognition.__table__).where(Recognition.__table__.c.superseded_by.is_not(None)))
        conn.execute(sa.delete(Recognition.__table__))
        conn.execute(sa.delete(Enterprise.__table__).where(Enterprise.__table__.c.region_code == "110108"))
    assert queries.data_version(engine) != before


def test_unknown_jurisdiction_is_an_error():
    with pytest.raises(UserError, match="cn-zz"):
        region_prefixes("cn-zz")


def test_counts_by_area_drill_down_from_province_to_city_to_county(registry_db):
    engine, _ = registry_db
    # 广东: A and I in 深圳 (4403), B in 广州 (4401); GB/T 2260 names.
    cities = queries.counts_by_area(SYSTEM, AS_OF, "44", engine=engine)
    assert cities.select("code", "name_zh", "firms").rows() == [("4403", "深圳市", 2), ("4401", "广州市", 1)]
    assert cities["name_en"].to_list() == ["深圳市 (4403)", "广州市 (4401)"]
    little = queries.counts_by_area(SYSTEM, AS_OF, "44", tier="little_giant", engine=engine)
    assert as_dict(little, "code", "firms") == {"4403": 2}
    # 北京: G and H both registered in 海淀区 110108.
    assert queries.counts_by_area(SYSTEM, AS_OF, "1101", engine=engine).select("code", "name_zh", "firms").rows() == [
        ("110108", "海淀区", 2)]
    # Scoped: a Guangdong official sees nothing of 北京, a Beijing official nothing of 广东.
    assert queries.counts_by_area(GD, AS_OF, "11", engine=engine).is_empty()
    assert queries.counts_by_area(BJ, AS_OF, "44", engine=engine).is_empty()
    assert as_dict(queries.counts_by_area(GD, AS_OF, "44", engine=engine), "code", "firms") == {"4403": 2, "4401": 1}
    with pytest.raises(ValueError):
        queries.counts_by_area(SYSTEM, AS_OF, "440", engine=engine)
