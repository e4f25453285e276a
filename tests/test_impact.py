"""The impact of a rule change (registry.impact.rule_impact, `zjtx impact`) on a registry built here.

Every expected count is read off the firm table in tests/impact_seed.py by hand (which firm passes which
threshold), not from the engine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest
from impact_seed import AS_OF, POLICIES, seed_impact_registry, uscc_of

from registry.access import SYSTEM, PermissionDenied, Principal
from registry.impact import rule_impact

OLD, NEW = "cn/impact-old/2022", "cn/impact-new/2026"
GD = Principal("gd_official", "official", "cn-gd")


@pytest.fixture
def registry(engine):
    seed_impact_registry(engine)
    return engine


def by_key(frame, column: str) -> dict[str, str]:
    back = {uscc_of(k): k for k in "ABCDEFGHIJKL"}
    return {back[u]: v for u, v in zip(frame["uscc"], frame[column], strict=True)}


def test_national_impact_counts(registry):
    result = rule_impact(registry, SYSTEM, OLD, NEW, AS_OF, policies=POLICIES)
    # Holders of 小巨人 and candidates (专精特新) in force on the day; I (创新型), J (revoked), K (expired), L (none) out.
    assert sorted(by_key(result.firms, "uscc")) == list("ABCDEFGH")
    assert by_key(result.firms, "impact_role") == {"A": "holder", "B": "holder", "C": "candidate", "D": "candidate",
                                            "E": "holder", "F": "candidate", "G": "holder", "H": "holder"}
    counts = {r["rule_set"]: r for r in result.counts().iter_rows(named=True)}
    assert (counts["from"]["eligible"], counts["from"]["ineligible"], counts["from"]["insufficient_data"]) == (6, 2, 0)
    assert (counts["to"]["eligible"], counts["to"]["ineligible"], counts["to"]["insufficient_data"]) == (3, 4, 1)
    assert result.comparisons() == {"both": 2, "old_only": 4, "new_only": 1, "neither": 1}
    assert by_key(result.firms, "comparison") == {"A": "both", "B": "old_only", "C": "old_only", "D": "new_only",
                                               "E": "neither", "F": "old_only", "G": "old_only", "H": "both"}
    cross = {(r["verdict_from"], r["verdict_to"]): r["firms"] for r in result.crosstab().iter_rows(named=True)}
    assert cross[("eligible", "eligible")] == 2 and cross[("eligible", "ineligible")] == 3
    assert cross[("eligible", "insufficient_data")] == 1 and cross[("ineligible", "eligible")] == 1
    assert sum(cross.values()) == 8


def test_gate_costs_count_only_decisive_failures_of_firms_passing_the_old_rules(registry):
    result = rule_impact(registry, SYSTEM, OLD, NEW, AS_OF, policies=POLICIES)
    gates = {r["criterion"]: (r["firms_failing"], r["missing_data"]) for r in result.gate_costs.iter_rows(named=True)}
    # 主营 90 %: B (85 %) and G (80 %); E fails it too but did not pass the old rules.
    assert gates["main_share"] == (2, 0)
    assert gates["revenue"] == (1, 0)  # C (4000)
    # C's unknown share is rescued by its patents; F knows neither.
    assert gates["share"] == (0, 1) and gates["patents"] == (0, 1)
    assert result.gate_costs["criterion"][0] == "main_share"  # the most costly first
    lost = result.review_pass_new_fail()
    assert sorted(by_key(lost, "uscc")) == ["B", "C", "G"]
    assert by_key(lost, "failed_to") == {"B": "main_share", "C": "revenue", "G": "main_share"}


def test_a_provincial_official_sees_the_province_only(registry):
    result = rule_impact(registry, GD, OLD, NEW, AS_OF, policies=POLICIES)
    assert result.jurisdiction == "cn-gd"
    assert sorted(by_key(result.firms, "uscc")) == list("ABCDEFH")  # G is in Zhejiang
    gates = {r["criterion"]: r["firms_failing"] for r in result.gate_costs.iter_rows(named=True)}
    assert gates["main_share"] == 1
    narrowed = rule_impact(registry, SYSTEM, OLD, NEW, AS_OF, "cn-zj", policies=POLICIES)
    assert sorted(by_key(narrowed.firms, "uscc")) == ["G"]
    with pytest.raises(PermissionDenied):
        rule_impact(registry, GD, OLD, NEW, AS_OF, "cn-zj", policies=POLICIES)


def test_no_firms_gives_zero_counts(registry):
    result = rule_impact(registry, SYSTEM, OLD, NEW, AS_OF, "cn-bj", policies=POLICIES)
    assert result.firms.is_empty()
    assert result.comparisons() == {"both": 0, "old_only": 0, "new_only": 0, "neither": 0}
    assert set(result.gate_costs["firms_failing"].to_list()) == {0}
    json.dumps(result.to_json())


def test_cli_json_equals_the_function(registry, config_env, tmp_path):
    from registry.impact import default_pair

    from_id, to_id = default_pair()
    expected = rule_impact(registry, SYSTEM, from_id, to_id, AS_OF).to_json()
    cli = [sys.executable, "-m", "cli.main", "impact", "--as-of", AS_OF.isoformat()]
    done = subprocess.run([*cli, "--format", "json"], capture_output=True, text=True, env=os.environ, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(json.dumps(expected))
    assert expected["from"]["policy"] == from_id and expected["to"]["policy"] == to_id
    assert expected["firms_evaluated"] == 8

    xlsx = tmp_path / "impact.xlsx"
    done = subprocess.run([*cli, "--from", from_id, "--to", to_id, "--format", "xlsx", "--output", str(xlsx)],
                          capture_output=True, text=True, env=os.environ, check=False)
    assert done.returncode == 0, done.stderr
    from openpyxl import load_workbook

    sheets = load_workbook(xlsx, read_only=True).sheetnames
    assert sheets[0] == "汇总 summary" and "企业 firms" in sheets

    done = subprocess.run([*cli, "--from", from_id, "--to", "cn/no-such/2026"], capture_output=True, text=True,
                          env=os.environ, check=False)
    assert done.returncode == 1 and "cn/no-such/2026" in done.stderr


def test_the_real_2022_and_2026_little_giant_rules(engine):
    """Two 专精特新 candidates in Guangdong judged by 63号 附件3 and 2号 附件2 on 2026-06-01, alike but for the main
    business share: at 95 % both rules admit the firm; at 85 % it passes 2022's 70 % and fails 2026's 90 %."""
    from builders import Firm, store_firms, uscc_for

    def figures(main: float) -> dict[int, dict[str, float]]:
        # Revenue 8,000 万 growing 5 % a year (band b of 2022: R&D ≥ 6 % in each year; 2026: ≥ 5,000 万), R&D 8 %
        # (2024 + 2025 ≈ 1,250 万 ≥ 1,200 万), debt 60 %, 4 class-I IP rights, market share 12 %.
        out = {}
        for k, year in enumerate(range(2025, 2021, -1)):
            rev = 8000.0 / 1.05 ** k
            out[year] = {"revenue": rev, "main_revenue": rev * main / 100, "main_product_revenue": rev * 0.8,
                         "rd_expense": rev * 0.08, "net_profit": rev * 0.1, "total_assets": 2 * rev,
                         "total_liabilities": 2 * rev * 0.6, "employees": 200.0, "rd_staff": 40.0,
                         "equity_financing": 0.0, "class1_ip": 4.0, "market_share": 12.0}
        return out

    attributes = {"niche_since_year": "2020", "info_system": "true", "quality_cert": "ISO9001", "own_brand": "true",
                  "rd_institution": "self", "chain_role": "shortboard", "industry_orientation": "four_bases"}
    rows = [("science_award", "none", date(2019, 1, 1), None), ("maker_china", "none", date(2019, 1, 1), None),
            ("quality_score", "65", date(2026, 3, 1), None)]
    both = Firm(uscc=uscc_for(95), region_code="440300", years=figures(95.0), attributes=attributes,
                attribute_rows=rows, recognitions=[("zjtx_sme", "cn-gd", date(2024, 1, 1))])
    lost = both.but(uscc=uscc_for(85), years=figures(85.0))
    store_firms(engine, both, lost)

    result = rule_impact(engine, SYSTEM, "cn/little-giant/2022", "cn/little-giant/2026", date(2026, 6, 1))
    verdicts = {u: (f, t) for u, f, t in result.firms.select("uscc", "verdict_from", "verdict_to").iter_rows()}
    assert verdicts == {both.uscc: ("eligible", "eligible"), lost.uscc: ("eligible", "ineligible")}
    assert result.comparisons() == {"both": 1, "old_only": 1, "new_only": 0, "neither": 0}
    gates = {r["criterion"]: r["firms_failing"] for r in result.gate_costs.iter_rows(named=True)}
    assert gates["main_business_share"] == 1 and sum(gates.values()) == 1
    assert result.review_pass_new_fail()["failed_to"].to_list() == ["main_business_share"]
