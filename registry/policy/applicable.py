"""What a firm page offers to evaluate, and what a verdict's class means.

`policies_for_region`: the rule sets that can judge a firm registered at a region code on a day — those of its own
jurisdictions (city, province; 石河子 → 兵团) and the national ones, in force that day — nearest jurisdiction
first. Another province's rules never apply to the firm. (Which one of them is *the* rule set for a tier is
registry/policy/resolve.py's choice; this is the list to choose from.)

`class_meaning`: a verdict's `class` in words — the option of an exactly-one criterion it stands for (79号: "a" is
"（1）营业收入1亿元及以上" among "经济指标（以下3项须符合1项）"), or the size class of a classification rule.
"""

from __future__ import annotations

from datetime import date

from registry.policy.loader import load_policies
from registry.policy.schema import ExactlyOne, Policy, iter_nodes
from registry.reference import jurisdiction_of_region

# Values of the size classification (工信部联企业〔2011〕300号 / 2026 标准): sme_size_class.
SIZE_CLASSES = {"large": ("大型", "large"), "medium": ("中型", "medium"), "small": ("小型", "small"),
                "micro": ("微型", "micro")}


def policies_for_region(region_code: str | None, as_of: date, policies: dict[str, Policy] | None = None) -> list[Policy]:
    """Rule sets in force on as_of from the firm's jurisdictions and the nation, nearest first, then by tier
    and newest first."""
    try:
        chain = jurisdiction_of_region(region_code) if region_code is not None else ["cn"]  # national first
    except ValueError:  # no valid region code on file: only the national rules are known to apply
        chain = ["cn"]
    policies = policies if policies is not None else load_policies()
    found = [p for p in policies.values() if p.jurisdiction in chain and p.in_force(as_of)]
    return sorted(found, key=lambda p: (-chain.index(p.jurisdiction), p.tier or "", -p.effective_from.toordinal(),
                                        p.id))


def policy_title(policy: Policy, lang: str = "zh") -> str:
    """A policy as a person names it: its title and document number (the id is for machines)."""
    title = policy.title_en if lang == "en" else policy.title_zh
    return f"{title}（{policy.document_no}）" if lang != "en" else f"{title} ({policy.document_no})"


def class_meaning(policy: Policy, class_name: str | None, lang: str = "zh") -> str | None:
    """The class of a verdict in words, or None when the rule set has no such class."""
    if class_name is None:
        return None
    if policy.class_indicator == "sme_size_class":
        zh, en = SIZE_CLASSES.get(class_name, (class_name, class_name))
        return f"企业规模：{zh}企业" if lang != "en" else f"enterprise size: {en}"
    for node in iter_nodes(policy.criteria):
        if isinstance(node, ExactlyOne):
            for option in node.classes:
                if option.name == class_name:
                    if lang == "en":
                        return f"{node.label_en}: {option.label_en}"
                    return f"{node.label_zh}：{option.label_zh}"
    return None
