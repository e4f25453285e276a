"""One function decides which rule judges a firm (registry.policy.resolve.policy_in_force): the promotion flags,
the pipeline's promotion candidates, the firm page's default rule and `zjtx evaluate --tier` name the same rule set
for the same firm and date, at each boundary of the national timeline.

Expected ids are read off the brief's timeline (data/sources/rules-2022-2026.md §1), not from the resolver:
- 63号 (…/2022) replaces 79号's 小巨人 criteria and the provincial 专精特新 rules from 2022-06 (read as 2022-06-01);
  Zhejiang's own 专精特新 rules (浙江 2021, cn-zj/zjtx/2021) judge Zhejiang firms until then;
- 2号 (…/2026) takes over new applications on 2026-04-01;
- 工信厅企业函〔2026〕117号: the 2026 小巨人 复核 is still judged on the 2022 standard.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
import pytest
import sqlalchemy as sa
from builders import Firm, little_giant_2020, uscc_for, write_files
from test_policy_national_2022_2026 import (
    _lg26,  # the brief's 2026 小巨人 reference firm (eligible on its thresholds)
)

from registry import pipeline
from registry.access import SYSTEM
from registry.lifecycle import compute_flags, firm_jurisdiction, firm_rule, flag_records, promotion_policy

HANGZHOU = "330106"  # 杭州市西湖区: Zhejiang, a province with its own 2021 专精特新 rules

# (tier held, as_of, purpose, rule expected): the firm is registered in Hangzhou.
CASES = [
    ("zjtx_sme", date(2022, 5, 31), "new_application", "cn/little-giant/2021"),  # the day before 63号
    ("zjtx_sme", date(2022, 6, 1), "new_application", "cn/little-giant/2022"),
    ("zjtx_sme", date(2026, 3, 31), "new_application", "cn/little-giant/2022"),  # the last day of 63号
    ("zjtx_sme", date(2026, 4, 1), "new_application", "cn/little-giant/2026"),  # 2号
    ("zjtx_sme", date(2026, 12, 7), "new_application", "cn/little-giant/2026"),
    ("little_giant", date(2026, 4, 1), "review", "cn/little-giant/2022"),  # 117号: 复核 on the 2022 standard
    ("little_giant", date(2026, 12, 7), "review", "cn/little-giant/2022"),
    ("innovative_sme", date(2022, 5, 31), "new_application", "cn-zj/zjtx/2021"),  # the province's own rules
    ("innovative_sme", date(2022, 6, 1), "new_application", "cn/zjtx-sme/2022"),  # 63号 附件2 replaced them
    ("innovative_sme", date(2026, 3, 31), "new_application", "cn/zjtx-sme/2022"),
    ("innovative_sme", date(2026, 4, 1), "new_application", "cn/zjtx-sme/2026"),
]
NEXT = {"innovative_sme": "zjtx_sme", "zjtx_sme": "little_giant"}


def case_id(case) -> str:
    return f"{case[0]}-{case[1]}-{case[2]}"


@pytest.mark.parametrize(("held", "as_of", "purpose", "expected"), CASES, ids=[case_id(c) for c in CASES])
def test_the_promotion_rule_and_the_firms_default_rule_are_the_rule_of_the_day(held, as_of, purpose, expected):
    jurisdiction = pl.select(firm_jurisdiction(pl.lit(HANGZHOU))).item()
    assert jurisdiction == "cn-zj"
    assert firm_rule([held], jurisdiction, as_of, purpose).id == expected
    if purpose == "new_application":
        assert promotion_policy(held, jurisdiction, as_of).id == expected  # what the promotion flags judge on


@pytest.mark.parametrize(("as_of", "expected"), [(date(2021, 8, 1), "cn/key-little-giant/2021"),
                                                 (date(2025, 12, 31), "cn/key-little-giant/2021"),
                                                 (date(2026, 1, 1), None)])
def test_key_little_giant_is_judged_on_the_national_support_period(as_of, expected):
    """财建〔2021〕2号's support period runs to 2025-12-31 (its policy file): a Zhejiang 小巨人 is judged on it, not on
    Zhejiang's open-ended 2021 推荐条件, and no rule judges the rung after the period."""
    found = promotion_policy("little_giant", "cn-zj", as_of)
    assert (found.id if found else None) == expected


def _insert_recognitions(engine: sa.Engine, rows: list[tuple[str, str, str, date, date]]) -> None:
    """(uscc, tier, jurisdiction, recognized_on, valid_until) for firms already ingested."""
    with engine.begin() as conn:
        ids = dict(conn.execute(sa.text("SELECT uscc, id FROM enterprise")).all())
        for uscc, tier, jurisdiction, on, until in rows:
            conn.execute(sa.text(
                "INSERT INTO recognition (enterprise_id, tier, jurisdiction, recognized_on, valid_until, status, "
                "created_at) VALUES (:e, :t, :j, :on, :until, 'active', :on)"),
                {"e": ids[uscc], "t": tier, "j": jurisdiction, "on": on, "until": until})


def test_firm_page_and_evaluate_by_tier_name_the_same_rule(config_env, db_url, tmp_path):
    """For each case a Hangzhou firm holding the tier since a year before: the firm page's default rule
    (registry.policy_tools.firm_default_rule) and `zjtx evaluate --tier … --jurisdiction cn-zj` name the expected
    rule set."""
    from typer.testing import CliRunner

    from cli.main import app
    from registry.db import make_engine, upgrade
    from registry.ingest import ingest_files
    from registry.policy_tools import firm_default_rule

    firms = [little_giant_2020(100 + n).but(uscc=uscc_for(100 + n, HANGZHOU), region_code=HANGZHOU)
             for n in range(len(CASES))]
    engine = make_engine(db_url)
    upgrade(engine)
    ingest_files(engine, write_files(tmp_path, *firms))
    _insert_recognitions(engine, [(f.uscc, held, "cn" if held == "little_giant" else "cn-zj",
                                   as_of - timedelta(days=365), as_of + timedelta(days=365))
                                  for f, (held, as_of, _, _) in zip(firms, CASES, strict=True)])
    for firm, (held, as_of, purpose, expected) in zip(firms, CASES, strict=True):
        assert firm_default_rule(SYSTEM, firm.uscc, as_of, purpose, engine=engine).id == expected, (held, as_of)
        tier = held if purpose == "review" else NEXT[held]
        res = CliRunner().invoke(app, ["evaluate", "--tier", tier, "--jurisdiction", "cn-zj", "--as-of",
                                       as_of.isoformat(), "--purpose", purpose, "--format", "json"])
        assert res.exit_code == 0, res.output
        assert {r["policy"] for r in json.loads(res.stdout)} == {expected}, (held, as_of, purpose)
    engine.dispose()


def _ready_2022(n: int) -> Firm:
    """79号's reference firm with its 2020 figures also for 2021, holding 专精特新 (Beijing) since 2021-06-01."""
    firm = little_giant_2020(n)
    return firm.with_year(2021, **firm.years[2020]).but(recognitions=[("zjtx_sme", "cn-bj", date(2021, 6, 1))])


def _promotions(firm: Firm, as_of: date) -> list[str]:
    from builders import bundle

    return [r["evidence"]["policy"] for r in flag_records(compute_flags(bundle(firm), as_of))
            if r["flag"] == "promotion"]


@pytest.mark.parametrize(("as_of", "expected"), [(date(2022, 5, 31), ["cn/little-giant/2021"]),
                                                 (date(2022, 6, 1), [])])
def test_promotion_flag_follows_the_2022_switch(as_of, expected):
    """A firm meeting 79号 but not judged complete under 63号 (it lacks the 2022 inputs): flagged by 79号 on its
    last day, no longer once 63号 judges."""
    assert _promotions(_ready_2022(1), as_of) == expected


@pytest.mark.parametrize(("as_of", "expected"), [(date(2026, 3, 31), []),
                                                 (date(2026, 4, 1), ["cn/little-giant/2026"])])
def test_promotion_flag_follows_the_2026_switch(as_of, expected):
    """The brief's 2026 小巨人 reference firm (Zhejiang 专精特新 since 2024): 2号 finds it eligible from its first day."""
    assert _promotions(_lg26.but(region_code=HANGZHOU), as_of) == expected


def test_pipeline_candidates_follow_the_same_switches(engine, tmp_path):
    """The pipeline's "evaluate now" counts the firms the flags flag, on each side of both boundaries."""
    from registry.ingest import ingest_files

    old, new = _ready_2022(1), _lg26.but(region_code=HANGZHOU, uscc=uscc_for(260, HANGZHOU))
    ingest_files(engine, write_files(tmp_path, old, new))
    _insert_recognitions(engine, [(old.uscc, "zjtx_sme", "cn-bj", date(2021, 6, 1), date(2024, 5, 31)),
                                  (new.uscc, "zjtx_sme", "cn-zj", date(2024, 1, 1), date(2026, 12, 31))])
    expected = {date(2022, 5, 31): 1, date(2022, 6, 1): 0, date(2026, 3, 31): 0, date(2026, 4, 1): 1}
    found = {}
    for as_of in expected:
        counts = pipeline.evaluate_promotion_candidates(SYSTEM, as_of, engine=engine)
        found[as_of] = dict(counts.select("tier", "firms").rows())["zjtx_sme"]
    assert found == expected
