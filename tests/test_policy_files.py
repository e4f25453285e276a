"""Policy files as data: every file validates, cites real compilation lines holding its thresholds, lists
its interpretations in docs/policies.md; malformed files are refused with the file and the reason; the
lifecycle lookup other engineers rely on picks the right rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from policy_citations import COMPILATION, citation_problems

from registry.errors import UserError
from registry.policy import get_policy, lifecycle_for, load_policies
from registry.policy.engine import required_refs
from registry.policy.loader import POLICY_DIR, PolicyFileError, read_policy_file
from registry.policy.schema import Leaf, iter_nodes

REQUIRED = ("cn/little-giant/2021", "cn/little-giant-precheck/2021", "cn/key-little-giant/2021", "cn/sme-size/2011",
            "cn-gd-shenzhen/zjtx/2021", "cn-bingtuan/zjtx/2021")
FILES = sorted(POLICY_DIR.rglob("*.yaml"))
DOCS = Path(__file__).resolve().parent.parent / "docs" / "policies.md"


def test_the_six_required_policies_exist():
    assert set(REQUIRED) <= set(load_policies())


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(POLICY_DIR)))
def test_every_policy_file_validates_and_names_known_indicators(path):
    policy = read_policy_file(path)
    assert required_refs(policy)  # raises UserError on an unknown indicator
    assert all(leaf.source.lines or leaf.source.reference or leaf.source.part for leaf in policy.leaves())


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(POLICY_DIR)))
def test_rules_cited_by_part_state_their_confidence(path):
    """A rule set citing post-2021 documents by `part` (checked against the brief in policy_citations) states how
    sure its wording is (A/B/C), so users are told when it is not yet checked against the official text."""
    policy = read_policy_file(path)
    if any(n.source is not None and n.source.part for n in iter_nodes(policy.criteria)):
        assert policy.lowest_confidence() in ("A", "B", "C"), f"{policy.id}: no confidence code"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(POLICY_DIR)))
def test_cited_lines_exist_and_hold_the_quote_and_threshold(path):
    if not COMPILATION.exists():
        pytest.fail(f"the policy compilation is needed to check citations: {COMPILATION} "
                    "(set ZJTX_POLICY_COMPILATION)")
    assert citation_problems(read_policy_file(path)) == []


def test_citation_check_catches_a_wrong_threshold(tmp_path):
    """The check itself can fail: a threshold changed from 70 to 75 is no longer in the cited text."""
    policy = get_policy("cn/little-giant/2021")
    data = policy.model_dump(mode="json", exclude_none=True)
    special = data["criteria"]["children"][2]["children"][0]["children"][1]
    assert special["id"] == "debt_ratio"
    special["threshold"] = 75.0
    from registry.policy.schema import Policy

    problems = citation_problems(Policy.model_validate(data))
    assert any("debt_ratio" in p and "75" in p for p in problems)


@pytest.mark.parametrize("policy_id", sorted(load_policies()))
def test_every_interpretation_is_listed_in_the_docs(policy_id):
    docs = DOCS.read_text(encoding="utf-8")
    policy = get_policy(policy_id)
    assert f"`{policy.id}`" in docs, "run: python -m registry.policy.docs"
    missing = [i.id for i in policy.interpretations if f"`{i.id}`" not in docs]
    assert missing == [], f"interpretations of {policy_id} not in docs/policies.md: python -m registry.policy.docs"


def test_every_leaf_of_the_required_policies_cites_lines_or_reference_data():
    for pid in REQUIRED:
        for leaf in get_policy(pid).leaves():
            assert leaf.source.lines or leaf.source.reference == "data/reference/sme_size_standard.csv", leaf.id


# ---------------------------------------------------------------------------------------------------------
# Malformed files.
# ---------------------------------------------------------------------------------------------------------


def _write(tmp_path: Path, policy_id: str, data: dict) -> Path:
    path = tmp_path / f"{policy_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _valid() -> dict:
    return yaml.safe_load((POLICY_DIR / "cn-bingtuan/zjtx/2021.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(treshold=3), "treshold"),  # a typo is refused, not ignored
    (lambda d: d.update(id="cn-bingtuan/zjtx"), "policy id"),
    (lambda d: d.update(purpose="promotion"), "purpose"),
    (lambda d: d["criteria"]["children"][1].update(n=5), "at_least 5"),
    (lambda d: d["criteria"]["children"][0]["children"].append(d["criteria"]["children"][0]["children"][0]),
     "appears twice"),
    (lambda d: d["criteria"]["children"][0]["children"][3].update(op="in"), "list threshold"),
    (lambda d: d["lifecycle"]["exit_rules"][4].pop("notify_within_days"), "notify_within_days"),
    (lambda d: d["criteria"]["children"][0]["children"][3]["source"].update(lines="34314"), "L978"),
])
def test_invalid_policy_files_are_refused_with_file_and_reason(tmp_path, change, message):
    data = _valid()
    change(data)
    path = _write(tmp_path, "cn-bingtuan/zjtx/2021", data)
    with pytest.raises(PolicyFileError, match=message) as info:
        read_policy_file(path, root=tmp_path)
    assert str(path) in str(info.value)


def test_policy_id_must_mirror_its_path(tmp_path):
    path = _write(tmp_path, "cn-bingtuan/zjtx/2022", _valid())
    with pytest.raises(PolicyFileError, match="does not match path"):
        read_policy_file(path, root=tmp_path)


def test_unknown_policy_id_is_a_user_error():
    with pytest.raises(UserError, match="cn/nothing/1"):
        get_policy("cn/nothing/1")


# ---------------------------------------------------------------------------------------------------------
# lifecycle_for (interfaces C).
# ---------------------------------------------------------------------------------------------------------


def test_lifecycle_for_national_little_giant():
    lc = lifecycle_for("little_giant", "cn", date(2021, 7, 1))
    assert (lc.validity_years, lc.expiry, lc.review_at_years, lc.lapse_without_review) == (3, "anniversary", 3, True)
    assert {r.event for r in lc.exit_rules if r.kind == "event"} >= {"false_declaration", "major_accident"}


def test_lifecycle_for_bingtuan_has_the_three_month_rename_rule():
    lc = lifecycle_for("zjtx_sme", "cn-bingtuan", date(2022, 1, 1))
    rename = [r for r in lc.exit_rules if r.kind == "notification" and r.event == "rename"]
    assert rename and rename[0].notify_within_days == 90


def test_lifecycle_for_falls_back_to_national_then_default():
    # A province with no little_giant policy of its own follows the national one.
    assert lifecycle_for("little_giant", "cn-gs", date(2021, 7, 1)) == get_policy("cn/little-giant/2021").lifecycle
    default = lifecycle_for("no_such_tier", "cn-gs", date(2021, 7, 1))
    assert (default.validity_years, default.expiry, default.exit_rules) == (3, "anniversary", [])


def test_leaves_compare_like_with_like():
    """Ratios and growth rates carry % units, money 万元 (the contract's units)."""
    pct = {"rd_ratio", "debt_ratio", "main_business_share", "rd_staff_ratio"}
    for pid in REQUIRED:
        for leaf in (n for n in iter_nodes(get_policy(pid).criteria) if isinstance(n, Leaf)):
            if leaf.indicator in pct or "growth" in leaf.window.aggregation:
                assert leaf.unit == "%", (pid, leaf.id)
            if leaf.indicator in ("revenue", "equity_financing", "rd_expense") and leaf.window.aggregation in (
                    "last", "sum"):
                assert leaf.unit == "万元", (pid, leaf.id)
