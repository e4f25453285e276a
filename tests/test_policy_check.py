"""`zjtx policies check`: the policy files agree with the compilation lines they cite — quote, number and unit,
direction, window, any/all — and the check fails when a copy of a real policy is changed in any of the ways a
careless edit would change it (issue 14). The real data/policies must pass with zero failures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from registry.policy.check import FAIL, check_directory
from registry.policy.loader import POLICY_DIR, policy_path


def test_the_repository_policies_pass_with_zero_failures() -> None:
    report = check_directory(POLICY_DIR)
    assert [(f.file, f.criterion, f.check, f.reason) for f in report.failures()] == []
    counts = report.counts()
    assert counts["checked"] > 3000 and counts["passed"] > counts["person"] > 0
    # Every finding left for a person says why.
    assert all(f.reason for f in report.for_a_person())


def _node(tree: dict, node_id: str) -> dict:
    """The criterion `node_id` in a policy file's criteria tree (as loaded from YAML)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if node.get("id") == node_id:
            return node
        stack += node.get("children", []) + [c["criteria"] for c in node.get("classes", [])]
        stack += [i["criteria"] for i in node.get("items", []) if "criteria" in i]
    raise KeyError(node_id)


def _mutated_copy(tmp_path: Path, policy_id: str, change) -> Path:
    """A data/policies tree in tmp_path holding one real policy file, changed by `change(data)`."""
    data = yaml.safe_load(policy_path(policy_id).read_text(encoding="utf-8"))
    change(data)
    target = policy_path(policy_id, tmp_path)
    target.parent.mkdir(parents=True)
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return tmp_path


def _set(policy_node: str, **fields):
    def change(data: dict) -> None:
        _node(data["criteria"], policy_node).update(fields)
    return change


def _validity(years: int):
    def change(data: dict) -> None:
        data["lifecycle"]["validity_years"] = years
    return change


def _recite(node_id: str, lines: str):
    def change(data: dict) -> None:
        _node(data["criteria"], node_id)["source"]["lines"] = lines
    return change


LG, KLG = "cn/little-giant/2021", "cn/key-little-giant/2021"
MUTATIONS = [
    # (name, policy, change, criterion the failure must name, check that fails)
    ("le_to_ge", LG, _set("debt_ratio", op=">="), "debt_ratio", "direction"),  # 不高于 70%
    ("70_to_7", LG, _set("main_business_share", threshold=7.0), "main_business_share", "number"),
    ("class_a_revenue_10000_to_1", LG, _set("class_a_revenue", threshold=1), "class_a_revenue", "number"),
    ("pooled_to_last_year", KLG, _set("rd_ratio", window={"years": 1, "aggregation": "last"}), "rd_ratio", "window"),
    ("any_to_all", KLG, _set("innovation_one_of_three", type="all"), "innovation_one_of_three", "combine"),
    ("validity_3_to_5_years", LG, _validity(5), "lifecycle", "number"),
    # L1031 is the date line "2021年 4月 19日" of the same notice.
    ("recited_to_a_date_line", LG, _recite("main_business_share", "L1031"), "main_business_share", "quote"),
]


@pytest.mark.parametrize("name, policy_id, change, criterion, check", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_each_careless_edit_of_a_policy_fails_the_check(tmp_path, name, policy_id, change, criterion, check) -> None:
    unchanged = check_directory(_mutated_copy(tmp_path / "before", policy_id, lambda data: None))
    assert unchanged.failures() == []
    report = check_directory(_mutated_copy(tmp_path / "after", policy_id, change))
    failed = {(f.criterion, f.check) for f in report.findings if f.outcome == FAIL}
    assert (criterion, check) in failed, failed


def test_policies_without_compilation_lines_are_counted_not_checked(tmp_path) -> None:
    def drop_lines(data: dict) -> None:
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                if "doc" in item and "lines" in item:
                    del item["lines"]
                    item.pop("quote", None)
                    item["reference"] = "2022 text, not in the compilation"
                stack += list(item.values())
            elif isinstance(item, list):
                stack += item
    report = check_directory(_mutated_copy(tmp_path, KLG, drop_lines))
    assert (report.without_compilation_text, report.findings) == ([KLG], [])


def test_the_command_prints_a_summary_and_exits_1_on_a_failure(tmp_path) -> None:
    tree = _mutated_copy(tmp_path, LG, _set("debt_ratio", op=">="))
    env = dict(os.environ)
    res = subprocess.run([sys.executable, "-m", "cli.main", "policies", "check", "--dir", str(tree)],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 1, res.stderr
    assert "不符 failed 1" in res.stdout
    assert "cn/little-giant/2021.yaml · debt_ratio · 方向 direction" in res.stdout
    ok = subprocess.run([sys.executable, "-m", "cli.main", "policies", "check", "--policy", KLG],
                        capture_output=True, text=True, env=env, timeout=300)
    assert ok.returncode == 0 and "不符 failed 0" in ok.stdout, ok.stdout + ok.stderr
