"""The firm page's choice of rule sets and the meaning of a verdict's class (issue 12 item 8), from the policy files."""

from __future__ import annotations

from datetime import date

from registry.policy import get_policy, load_policies
from registry.policy.applicable import class_meaning, policies_for_region, policy_title

DAY = date(2026, 12, 7)


def test_a_firm_gets_its_own_jurisdictions_and_the_national_rules_in_force():
    policies = load_policies()
    # 330212 is 宁波 鄞州: national, 浙江 and 宁波 rule sets apply; 北京's and 广东's do not.
    own = {"cn", "cn-zj", "cn-zj-ningbo"}
    expected = {pid for pid, p in policies.items() if p.jurisdiction in own and p.in_force(DAY)}
    offered = [p.id for p in policies_for_region("330212", DAY)]
    assert set(offered) == expected and len(offered) == len(expected)
    assert any(pid.startswith("cn-zj-ningbo/") for pid in offered)
    assert not any(pid.startswith(("cn-bj/", "cn-gd")) for pid in offered)
    # Nearest first: the city's rules before the province's before the nation's.
    depth = [len(policies[pid].jurisdiction.split("-")) for pid in offered]
    assert depth == sorted(depth, reverse=True)
    # No region code on file: the national rules only.
    assert {p.jurisdiction for p in policies_for_region(None, DAY)} == {"cn"}


def test_a_policy_is_named_by_title_and_document():
    policy = get_policy("cn/sme-size/2011")
    assert policy_title(policy) == "中小企业划型标准规定（工信部联企业〔2011〕300号）"


def test_the_class_of_a_verdict_is_said_in_words():
    # 工信厅企业函〔2021〕79号: 分类条件 a/b/c, class a = 营业收入1亿元及以上.
    assert class_meaning(get_policy("cn/little-giant/2021"), "a") == "分类条件（a、b、c 三选一）：a类：营业收入1亿元及以上"
    assert "revenue 100 million yuan" in class_meaning(get_policy("cn/little-giant/2021"), "a", "en")
    assert class_meaning(get_policy("cn/sme-size/2011"), "micro") == "企业规模：微型企业"
    assert class_meaning(get_policy("cn/little-giant/2021"), "z") is None
    assert class_meaning(get_policy("cn/little-giant/2021"), None) is None
