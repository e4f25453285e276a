"""Finished results (registry.result_store): the flags job stores the whole registry's 复核 risk and rule impact;
`review_risk` and `rule_impact` read them back narrowed to the asking principal's firms.

The expected values are the live computation's, taken with no stored result (before the job ran): the stored,
narrowed result must equal it frame for frame, for a national, a provincial and a city official. New data or
other policy files make the functions compute live again, never serve the old result.
"""

from __future__ import annotations

import shutil
from datetime import date

import polars as pl
import pytest
import sqlalchemy as sa
from builders import insert_rows, recognition_row, report_row
from impact_seed import AS_OF as IMPACT_AS_OF
from impact_seed import seed_impact_registry, uscc_of
from polars.testing import assert_frame_equal
from sqlmodel import Session

from registry.access import SYSTEM, Principal
from registry.finished import store_finished_results
from registry.impact import default_pair, rule_impact, stored_rule_impact
from registry.models import Recognition, Report
from registry.policy import get_policy
from registry.policy.loader import POLICY_DIR
from registry.queries import data_version, evaluated_data_version
from registry.result_store import RESULTS, policy_fingerprint
from registry.review_risk import review_risk, stored_review_risk
from registry.schedule import flags_job, today_in
from registry.settings import Settings
from tests.test_jobs_functions import add_firm, add_recognition
from tests.test_review_risk import AS_OF as RISK_AS_OF
from tests.test_review_risk import BJ_MANAGER
from tests.test_review_risk import seed as seed_review_risk

MONTHS = 6
GD = Principal("gd_official", "official", "cn-gd")
SHENZHEN = Principal("sz_official", "official", "440300")
GUANGZHOU = Principal("gz_official", "official", "440100")


def same_risk(stored, live) -> None:
    assert stored.due == live.due
    assert_frame_equal(stored.firms, live.firms)


def same_impact(stored, live) -> None:
    assert (stored.jurisdiction, stored.tiers) == (live.jurisdiction, live.tiers)
    assert_frame_equal(stored.firms, live.firms)
    assert_frame_equal(stored.gate_costs, live.gate_costs)
    assert stored.to_json() == live.to_json()


def stored_rows(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(RESULTS.c.kind, RESULTS.c.params, RESULTS.c.data_version).order_by(RESULTS.c.kind))]


def test_stored_review_risk_narrowed_equals_live(engine):
    seed_review_risk(engine)
    principals = (SYSTEM, BJ_MANAGER, GD, SHENZHEN)
    live = {p: review_risk(p, RISK_AS_OF, MONTHS, engine=engine) for p in principals}  # nothing stored yet
    assert all(stored_review_risk(engine, p, RISK_AS_OF, MONTHS) is None for p in principals)
    assert live[SYSTEM].due == 3 and live[BJ_MANAGER].due == 2 and live[SHENZHEN].due == 1  # the seed's a, c, d
    assert not live[SYSTEM].firms.is_empty() and not live[SHENZHEN].firms.is_empty()

    counts = store_finished_results(engine, RISK_AS_OF, MONTHS)
    assert counts["review_risk"]["due"] == 3
    for p in principals:
        stored = stored_review_risk(engine, p, RISK_AS_OF, MONTHS)
        assert stored is not None, p
        same_risk(stored, live[p])
        same_risk(review_risk(p, RISK_AS_OF, MONTHS, engine=engine), live[p])
    # Other parameters than the stored ones: computed live.
    assert stored_review_risk(engine, SYSTEM, RISK_AS_OF, MONTHS + 1) is None


def test_stored_rule_impact_narrowed_equals_live(engine):
    seed_impact_registry(engine)
    from_id, to_id = default_pair()
    asks = [(SYSTEM, None), (GD, None), (GUANGZHOU, None), (SYSTEM, "cn-zj"), (GD, "440300")]
    live = {ask: rule_impact(engine, ask[0], from_id, to_id, IMPACT_AS_OF, ask[1]) for ask in asks}
    assert live[(SYSTEM, None)].firms.height == 8  # A–H of tests/impact_seed.py
    assert live[(SYSTEM, "cn-zj")].firms.height == 1  # G
    assert 0 < live[(GUANGZHOU, None)].firms.height < live[(GD, None)].firms.height

    counts = store_finished_results(engine, IMPACT_AS_OF, MONTHS)
    assert counts["rule_impact"]["firms"] == 8
    from_policy, to_policy = get_policy(from_id), get_policy(to_id)
    for (principal, jurisdiction), expected in live.items():
        stored = stored_rule_impact(engine, principal, from_policy, to_policy, IMPACT_AS_OF, expected.jurisdiction,
                                    expected.tiers)
        assert stored is not None, (principal, jurisdiction)
        same_impact(stored, expected)
        same_impact(rule_impact(engine, principal, from_id, to_id, IMPACT_AS_OF, jurisdiction), expected)


def test_new_data_after_the_store_is_computed_live(engine):
    ids = seed_review_risk(engine)
    store_finished_results(engine, RISK_AS_OF, MONTHS)
    before = review_risk(BJ_MANAGER, RISK_AS_OF, MONTHS, engine=engine)
    assert stored_review_risk(engine, BJ_MANAGER, RISK_AS_OF, MONTHS) is not None
    with Session(engine) as s:  # a new Beijing firm due in the window, over the debt ceiling
        firm = add_firm(s, "110101", name="测试企业e")
        add_recognition(s, firm, date(2023, 7, 15))
        s.add(Report(**_report(firm.id, 800.0)))
        s.commit()
        new_uscc = firm.uscc
    assert stored_review_risk(engine, BJ_MANAGER, RISK_AS_OF, MONTHS) is None
    after = review_risk(BJ_MANAGER, RISK_AS_OF, MONTHS, engine=engine)
    assert after.due == before.due + 1
    assert new_uscc in set(after.firms["uscc"]) and ids["a"] in set(after.firms["uscc"])


def test_a_new_recognition_after_the_store_is_computed_live(engine):
    seed_impact_registry(engine)
    from_id, to_id = default_pair()
    store_finished_results(engine, IMPACT_AS_OF, MONTHS)
    assert rule_impact(engine, SYSTEM, from_id, to_id, IMPACT_AS_OF).firms.height == 8
    with engine.begin() as conn:  # L (tests/impact_seed.py: no recognition) becomes a 小巨人 holder
        insert_rows(conn, Recognition.__table__, [recognition_row(12, "little_giant", "cn", date(2026, 5, 1),
                                                                  date(2029, 4, 30), batch="6")])
    from_policy, to_policy = get_policy(from_id), get_policy(to_id)
    assert stored_rule_impact(engine, SYSTEM, from_policy, to_policy, IMPACT_AS_OF, "cn",
                              ("little_giant", "zjtx_sme")) is None
    after = rule_impact(engine, SYSTEM, from_id, to_id, IMPACT_AS_OF)
    assert after.firms.height == 9 and uscc_of("L") in set(after.firms["uscc"])


def _report(firm_id: int, liabilities: float) -> dict:
    return report_row(firm_id, "2025", revenue=10000.0, total_assets=1000.0, total_liabilities=liabilities)


def test_other_policy_files_are_not_served(engine):
    seed_review_risk(engine)
    store_finished_results(engine, RISK_AS_OF, MONTHS)
    assert stored_review_risk(engine, SYSTEM, RISK_AS_OF, MONTHS) is not None
    # A result computed from other policy files (a fingerprint not today's) is not read.
    with engine.begin() as conn:
        conn.execute(sa.update(RESULTS).values(policy_fingerprint="0" * 64))
    assert stored_review_risk(engine, SYSTEM, RISK_AS_OF, MONTHS) is None
    from_id, to_id = default_pair()
    policy = get_policy(to_id)
    assert stored_rule_impact(engine, SYSTEM, get_policy(from_id), policy, RISK_AS_OF, "cn", ("little_giant",)) \
        is None
    assert review_risk(SYSTEM, RISK_AS_OF, MONTHS, engine=engine).due == 3  # live


def test_the_fingerprint_changes_with_a_policy_file(tmp_path):
    copy = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, copy)
    assert policy_fingerprint(copy) == policy_fingerprint(POLICY_DIR)
    edited = next(copy.rglob("*.yaml"))
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert policy_fingerprint(copy) != policy_fingerprint(POLICY_DIR)


def test_the_flags_job_stores_both_and_a_second_run_replaces(engine):
    seed_review_risk(engine)
    settings = Settings()
    today, months = today_in(settings), settings.monitoring.review_risk_months
    counts = flags_job(engine, settings)
    assert set(counts["finished"]) >= {"review_risk", "rule_impact"}
    assert "error" not in counts["finished"]["review_risk"] and "error" not in counts["finished"]["rule_impact"]
    first = stored_rows(engine)
    assert [kind for kind, _, _ in first] == ["review_risk", "rule_impact"]
    assert {version for _, _, version in first} == {evaluated_data_version(engine)}
    assert stored_review_risk(engine, SYSTEM, today, months) is not None
    flags_job(engine, settings)
    assert stored_rows(engine) == first  # replaced, not accumulated (same day, same data: same key and version)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(RESULTS)).scalar_one() == 2
    # The next day's run replaces the day before's: results do not pile up.
    store_finished_results(engine, date(2026, 1, 16), months)
    assert [(kind, '"2026-01-16"' in params) for kind, params, _ in stored_rows(engine)] == \
        [("review_risk", True), ("rule_impact", True)]


def test_a_failed_store_leaves_the_flags_job_successful(engine):
    seed_review_risk(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE finished_result"))
    counts = flags_job(engine, Settings())
    assert counts["computed"] >= 1 and counts["opened"] == counts["computed"]  # the flags are stored
    assert "error" in counts["finished"]["review_risk"] and "error" in counts["finished"]["rule_impact"]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM flag")).scalar_one() == counts["opened"]


@pytest.mark.parametrize("frames", [{"a": pl.DataFrame({"x": [1, 2]}), "b": pl.DataFrame(schema={"y": pl.Date})}])
def test_pack_round_trip(frames):
    from registry.result_store import pack, unpack

    back = unpack(pack(frames, {"k": "v"}))
    assert back.meta == {"k": "v"} and list(back.frames) == list(frames)
    for name, frame in frames.items():
        assert_frame_equal(back.frames[name], frame)


def test_a_job_run_or_new_flags_after_the_store_do_not_make_it_stale(engine):
    """The inbox job records a run every 5 minutes, the flags job opens flags: neither changes what 复核 risk or
    rule impact evaluate, so the stored results keep serving (keyed by data_version, they went stale at once)."""
    from jobs.runs import run_recorded
    from registry.flag_store import store_flags

    seed_review_risk(engine)
    store_finished_results(engine, RISK_AS_OF, MONTHS)
    before = data_version(engine)
    run_recorded(engine, "ingest", lambda: {"files": 0})  # an inbox run with nothing to load
    store_flags(engine, RISK_AS_OF, Settings())  # new flags (the flags job would also store today's results)
    assert data_version(engine) != before  # the pages' key moved …
    assert stored_review_risk(engine, SYSTEM, RISK_AS_OF, MONTHS) is not None  # … the stored result still serves
