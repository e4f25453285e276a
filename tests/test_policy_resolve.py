"""Which rule set applies (registry.policy.resolve): by effective dates, purpose, supersession and jurisdiction,
tested at each boundary of the national timeline (data/sources/rules-2022-2026.md §1):

- 79号 (cn/little-giant/2021) until 63号 takes effect; 63号's day is read as 2022-06-01 (the brief gives "2022-06");
- 63号 (…/2022) for new applications until 2026-03-31, 2号 (…/2026) from 2026-04-01;
- the 2026 复核 still on the 2022 standard (工信厅企业函〔2026〕117号), to 2026-12-31;
- a province's own rule set where it exists and is in force, else the national one; a national rule set that
  replaces a province's stops it.

The rule sets are small files in a temporary folder, so the test fixes the timeline itself; a second table reads the
real data/policies at the same boundaries."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from registry.errors import UserError
from registry.policy.loader import load_policies
from registry.policy.resolve import enclosing_jurisdictions, policy_in_force

CRITERIA = {"type": "leaf", "id": "revenue", "label_zh": "营业收入", "label_en": "revenue", "indicator": "revenue",
            "op": ">=", "threshold": 0, "source": {"doc": "测试", "part": "一"}}


def write(root: Path, pid: str, tier: str, effective_from: str, effective_to: str | None = None, **extra) -> None:
    path = root / f"{pid}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"id": pid, "title_zh": pid, "title_en": pid, "issuer": "测试", "document_no": pid, "issued_on": effective_from,
           "effective_from": effective_from, "effective_to": effective_to, "jurisdiction": pid.split("/")[0],
           "tier": tier, "purpose": "new_application", "criteria": CRITERIA, **extra}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def timeline(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("policies")
    write(root, "cn/little-giant/2021", "little_giant", "2021-04-19")
    write(root, "cn/little-giant-precheck/2021", "little_giant", "2021-04-19", purpose="precheck")
    write(root, "cn/little-giant/2022", "little_giant", "2022-06-01", "2026-03-31",
          supersedes="cn/little-giant/2021",
          purposes=[{"purpose": "new_application", "effective_from": "2022-06-01", "effective_to": "2026-03-31"},
                    {"purpose": "re_review", "effective_from": "2022-06-01", "effective_to": "2026-12-31"}])
    write(root, "cn/little-giant/2026", "little_giant", "2026-04-01", supersedes="cn/little-giant/2022")
    write(root, "cn-zj/zjtx/2021", "zjtx_sme", "2021-10-25")
    write(root, "cn-gd/zjtx/2021", "zjtx_sme", "2021-03-01")
    write(root, "cn/zjtx-sme/2022", "zjtx_sme", "2022-06-01", "2026-03-31", supersedes=["cn-zj/zjtx/2021"])
    write(root, "cn-gd/zjtx-sme/2023", "zjtx_sme", "2023-01-01", supersedes="cn-gd/zjtx/2021")
    return load_policies(root)


@pytest.mark.parametrize(("as_of", "purpose", "expected"), [
    (date(2021, 4, 19), "new_application", "cn/little-giant/2021"),
    (date(2022, 5, 31), "new_application", "cn/little-giant/2021"),  # the day before 63号
    (date(2022, 6, 1), "new_application", "cn/little-giant/2022"),
    (date(2022, 5, 31), "review", "cn/little-giant/2021"),  # no rule set states 复核 yet: the standard of the day
    (date(2022, 6, 1), "review", "cn/little-giant/2022"),
    (date(2026, 3, 31), "new_application", "cn/little-giant/2022"),
    (date(2026, 4, 1), "new_application", "cn/little-giant/2026"),  # 2号 in force
    (date(2026, 4, 1), "review", "cn/little-giant/2022"),  # 117号: 2026 复核 on the 2022 standard
    (date(2026, 12, 31), "review", "cn/little-giant/2022"),
    (date(2027, 1, 1), "review", "cn/little-giant/2026"),
    (date(2026, 12, 31), "new_application", "cn/little-giant/2026"),
])
def test_little_giant_timeline(timeline, as_of, purpose, expected):
    assert policy_in_force("little_giant", "cn", as_of, purpose, policies=timeline).id == expected
    # A province without a rule set of its own is judged on the national one.
    assert policy_in_force("little_giant", "cn-zj-ningbo", as_of, purpose, policies=timeline).id == expected


@pytest.mark.parametrize(("jurisdiction", "as_of", "expected"), [
    ("cn-zj", date(2022, 5, 31), "cn-zj/zjtx/2021"),  # the province's own rules
    ("cn-zj-ningbo", date(2022, 5, 31), "cn-zj/zjtx/2021"),  # a city inherits its province's
    ("cn-zj", date(2022, 6, 1), "cn/zjtx-sme/2022"),  # replaced by the national 附件2
    ("cn-gd", date(2022, 6, 1), "cn-gd/zjtx/2021"),  # not replaced (in this test's timeline)
    ("cn-gd", date(2023, 1, 1), "cn-gd/zjtx-sme/2023"),  # the province's own newer rule set wins over national
    ("cn-bj", date(2022, 6, 1), "cn/zjtx-sme/2022"),
])
def test_jurisdiction_and_supersession(timeline, jurisdiction, as_of, expected):
    assert policy_in_force("zjtx_sme", jurisdiction, as_of, policies=timeline).id == expected


def test_no_rule_in_force_and_unknown_tier_are_clear_errors(timeline):
    with pytest.raises(UserError, match="no policy for zjtx_sme in cn-bj is in force on 2021-01-01"):
        policy_in_force("zjtx_sme", "cn-bj", date(2021, 1, 1), policies=timeline)
    with pytest.raises(UserError, match="unknown tier 'giant'"):
        policy_in_force("giant", "cn", date(2023, 1, 1), policies=timeline)
    with pytest.raises(UserError, match="expected new_application | review"):
        policy_in_force("little_giant", "cn", date(2023, 1, 1), "renewal", policies=timeline)


def test_enclosing_jurisdictions():
    assert enclosing_jurisdictions("cn-gd-shenzhen") == ["cn-gd-shenzhen", "cn-gd", "cn"]
    assert enclosing_jurisdictions("cn") == ["cn"]


@pytest.mark.parametrize(("tier", "jurisdiction", "as_of", "purpose", "expected"), [
    ("little_giant", "cn", date(2022, 5, 31), "new_application", "cn/little-giant/2021"),
    ("little_giant", "cn", date(2022, 6, 1), "new_application", "cn/little-giant/2022"),
    ("little_giant", "cn", date(2026, 3, 31), "new_application", "cn/little-giant/2022"),
    ("little_giant", "cn", date(2026, 4, 1), "new_application", "cn/little-giant/2026"),
    ("little_giant", "cn", date(2026, 4, 1), "review", "cn/little-giant/2022"),  # 117号
    ("little_giant", "cn-gd", date(2026, 12, 7), "review", "cn/little-giant/2022"),
    ("little_giant", "cn", date(2027, 1, 1), "review", "cn/little-giant/2026"),
    ("zjtx_sme", "cn-zj", date(2022, 5, 31), "new_application", "cn-zj/zjtx/2021"),  # the province's 2021 rules
    ("zjtx_sme", "cn-zj", date(2022, 6, 1), "new_application", "cn/zjtx-sme/2022"),  # replaced by 63号 附件2
    ("zjtx_sme", "cn-zj", date(2026, 4, 1), "new_application", "cn/zjtx-sme/2026"),
    ("zjtx_sme", "cn-zj", date(2026, 4, 1), "review", "cn/zjtx-sme/2022"),
    ("innovative_sme", "cn-sc", date(2022, 6, 1), "new_application", "cn/innovative-sme/2022"),
    ("innovative_sme", "cn", date(2026, 12, 7), "new_application", "cn/innovative-sme/2022"),  # still in use (C)
    ("tech_sme", "cn", date(2026, 12, 7), "new_application", "cn/tech-sme/2017"),
])
def test_the_real_national_timeline(tier, jurisdiction, as_of, purpose, expected):
    """data/policies: the rule of the day at each boundary of the brief's timeline."""
    assert policy_in_force(tier, jurisdiction, as_of, purpose).id == expected


def test_evaluate_by_tier_names_the_resolved_policy(config_env, db_url, tmp_path):
    """`zjtx evaluate --tier` picks the rule set and names it in every record and on stderr."""
    from builders import little_giant_2020, write_files
    from typer.testing import CliRunner

    from cli.main import app
    from registry.db import make_engine, upgrade
    from registry.ingest import ingest_files

    engine = make_engine(db_url)
    upgrade(engine)
    ingest_files(engine, write_files(tmp_path, little_giant_2020(1)))
    engine.dispose()
    res = CliRunner().invoke(app, ["evaluate", "--tier", "little_giant", "--as-of", "2021-05-01", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert [r["policy"] for r in json.loads(res.stdout)] == ["cn/little-giant/2021"]
    assert "→ cn/little-giant/2021" in res.stderr
    res = CliRunner().invoke(app, ["evaluate", "--tier", "little_giant", "--policy", "cn/little-giant/2021"])
    assert isinstance(res.exception, UserError) and "not both" in str(res.exception)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_screen_by_tier_resolves_the_same_way(config_env, tmp_path):
    """`zjtx screen --tier` (files, nothing stored) asks the same function: 2022-05-31 is still 79号's day."""
    from builders import little_giant_2020, write_files
    from typer.testing import CliRunner

    from cli.main import app

    files = [str(p) for p in write_files(tmp_path, little_giant_2020(1))]
    res = CliRunner().invoke(app, ["screen", *files, "--tier", "little_giant", "--as-of", "2022-05-31",
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    assert [r["policy"] for r in json.loads(res.stdout)] == ["cn/little-giant/2021"]
    res = CliRunner().invoke(app, ["screen", *files, "--tier", "little_giant", "--as-of", "2022-06-01",
                                   "--format", "json"])
    assert [r["policy"] for r in json.loads(res.stdout)] == ["cn/little-giant/2022"]
