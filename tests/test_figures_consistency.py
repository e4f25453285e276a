"""One number per fact: 待复核 / 即将到期 / 已到期 are the same on the overview (queries), in the stored flags, in
`zjtx flags --format json` and in the briefing — for firms under policies with different 复核 rules — and a past
month's briefing does not change when a later decision is recorded.

The expected firms come from the policy texts, not from the code:
- 深圳市专精特新 2021 (cn-gd-shenzhen/zjtx/2021): "有效期：三年", no 复核 during it → never 待复核 before expiry;
- 北京市专精特新 2021 (cn-bj/zjtx/2021): "称号有效期为三年，每年复评" → a review every year from recognition;
- 小巨人 (工信厅企业函〔2021〕79号): "有效期为 3年", reviewed at the end of it.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date

import polars as pl
import pytest
import sqlalchemy as sa
from builders import enterprise_row, recognition_row

from registry import queries
from registry.access import SYSTEM, Principal
from registry.briefing import build_briefing
from registry.identity import make_uscc
from registry.models import Enterprise, Recognition
from registry.review import record_decision
from registry.settings import get_settings

AS_OF = date(2024, 11, 30)  # the end of November: the briefing month
WINDOWS = {"review_due_days": 180, "expiring_days": 90}

# key: (region, tier, jurisdiction, recognized_on, valid_until)
FIRMS = {
    # Shenzhen: valid 109 more days, no review rule → neither 待复核 nor 即将到期 (the old "valid_until − 180
    # days for every tier" counted both of these as due).
    "sz1": ("440300", "zjtx_sme", "cn-gd-shenzhen", date(2022, 3, 20), date(2025, 3, 19)),
    "sz2": ("440305", "zjtx_sme", "cn-gd-shenzhen", date(2022, 3, 20), date(2025, 3, 19)),
    # Beijing: yearly 复评, next on the eve of the 2nd anniversary, 2025-01-31 (62 days) → 待复核, although its
    # validity runs to 2026-01-31 (the old definition missed it).
    "bj1": ("110108", "zjtx_sme", "cn-bj", date(2023, 2, 1), date(2026, 1, 31)),
    # 小巨人: the 3-year review is on 2025-03-31, 121 days away → 待复核, not yet 即将到期.
    "lg1": ("440300", "little_giant", "cn", date(2022, 4, 1), date(2025, 3, 31)),
    # 小巨人 ending today → 待复核 and 即将到期.
    "lg2": ("110108", "little_giant", "cn", date(2021, 12, 1), date(2024, 11, 30)),
    # 小巨人 expired in June, not renewed → 已到期.
    "lg3": ("110108", "little_giant", "cn", date(2021, 7, 1), date(2024, 6, 30)),
}
EXPECTED = {"review_due": {"bj1", "lg1", "lg2"}, "expiring": {"lg2"}, "expired": {"lg3"}}


@pytest.fixture
def registry(engine, config_env):
    rng = random.Random(12)
    usccs, recognition_ids = {}, {}
    with engine.begin() as conn:
        for key, (region, tier, jurisdiction, start, end) in FIRMS.items():
            usccs[key] = make_uscc(rng, region)
            name = f"测试企业{key}有限公司"
            firm_id = conn.execute(sa.insert(Enterprise.__table__).values(enterprise_row(
                usccs[key], name, region, industry_code="C35", founded_on=date(2010, 1, 1),
            ))).inserted_primary_key[0]
            recognition_ids[key] = conn.execute(sa.insert(Recognition.__table__).values(
                recognition_row(firm_id, tier, jurisdiction, start, end))).inserted_primary_key[0]
    return engine, usccs, recognition_ids


def _keys(usccs: dict[str, str], found) -> set[str]:
    by_uscc = {u: k for k, u in usccs.items()}
    return {by_uscc[u] for u in found}


def _headline(briefing) -> dict[str, int]:
    return dict(briefing.headline.select("item_en", "value").iter_rows())


def test_every_place_gives_the_same_number(registry, db_url):
    from registry.flag_store import store_flags

    engine, usccs, _ = registry
    expected = {state: {usccs[k] for k in keys} for state, keys in EXPECTED.items()}

    # The lifecycle states themselves (the one definition).
    states = queries.recognition_states(SYSTEM, AS_OF, **WINDOWS, engine=engine)
    for state, firms in expected.items():
        assert set(states.filter(pl.col(state))["uscc"]) == firms, (state, _keys(usccs, states.filter(pl.col(state))["uscc"]))

    # The overview: counts and the list behind them.
    counts = queries.due_counts(SYSTEM, AS_OF, **WINDOWS, engine=engine)
    for state, firms in expected.items():
        assert counts[state].sum() == len(firms), state
    listed = queries.due_recognitions(SYSTEM, AS_OF, **WINDOWS, engine=engine)
    assert set(listed["uscc"]) == set().union(*expected.values())
    assert dict(listed.select("uscc", "state").iter_rows())[usccs["lg2"]] == "expiring"  # the most pressing

    # The flags the job stores (what the review queue and the overview's flag boxes read).
    store_flags(engine, AS_OF, get_settings())
    stored = queries.open_flags_by_kind(SYSTEM, engine=engine)
    for state, firms in expected.items():
        assert stored.filter(pl.col("kind") == state)["firms"].sum() == len(firms), state

    # The CLI, in a subprocess as a user runs it.
    env = {**os.environ, "ZJTX_DATABASE_URL": db_url}
    run = subprocess.run([sys.executable, "-m", "cli.main", "flags", "--as-of", AS_OF.isoformat(),
                          "--format", "json"], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    cli = json.loads(run.stdout)
    for state, firms in expected.items():
        assert {f["uscc"] for f in cli if f["flag"] == state} == firms, state

    # The briefing of November.
    headline = _headline(build_briefing("cn", AS_OF, engine=engine))
    assert headline["due for review"] == len(expected["review_due"])
    assert headline["expiring"] == len(expected["expiring"])
    assert headline["expired, not renewed"] == len(expected["expired"])

    # A provincial official sees the same definition on their own firms (Guangdong: only lg1 is due).
    gd = queries.due_counts(Principal("gd", "official", "cn-gd"), AS_OF, **WINDOWS, engine=engine)
    assert (gd["review_due"].sum(), gd["expiring"].sum(), gd["expired"].sum()) == (1, 0, 0)


def test_a_past_briefing_does_not_change_when_a_later_decision_is_recorded(registry):
    from registry.flag_store import store_flags

    engine, _, recognition_ids = registry
    store_flags(engine, AS_OF, get_settings())
    before = build_briefing("cn", AS_OF, engine=engine)

    # December: the expired 小巨人 is renewed and the one due today is revoked; the flags job runs again.
    admin = Principal("admin", "admin", "cn")
    record_decision(admin, recognition_ids["lg3"], "renew", "复核通过", renewed_on=date(2024, 12, 10),
                    on=date(2024, 12, 10), renew_expired=True, engine=engine)
    record_decision(admin, recognition_ids["lg2"], "revoke", "不再符合条件", on=date(2024, 12, 12), engine=engine)
    store_flags(engine, date(2024, 12, 15), get_settings())

    after = build_briefing("cn", AS_OF, engine=engine)
    assert _headline(after) == _headline(before)
    assert _headline(before)["expired, not renewed"] == 1
    assert after.pipeline.equals(before.pipeline)
    # The open flags next to November's figures are those open at the end of November, not today's.
    assert after.review.filter(pl.col("item_en").str.starts_with("open flags")).equals(
        before.review.filter(pl.col("item_en").str.starts_with("open flags")))
    # Today the picture has moved on: the renewal and the revocation show.
    december = _headline(build_briefing("cn", date(2024, 12, 31), engine=engine))
    assert december["expired, not renewed"] == 0
