"""One label catalogue (registry/labels.py): every code the registry stores or the policy files name has a Chinese
and an English name, and no other module keeps its own tier or flag names."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from registry import labels
from registry.ingest.vocab import ATTRIBUTES, TIER_ALIASES
from registry.models import FLAG_KINDS, RECOGNITION_STATUSES, TIERS
from registry.policy.engine import RESULTS
from registry.review import DECISIONS

ROOT = Path(__file__).resolve().parent.parent


def _policy_tier_codes() -> set[str]:
    """Tier codes read straight from the YAML files (`tier:` and `declares_tier.code`), not via the loader."""
    codes = set()
    for path in (ROOT / "data" / "policies").rglob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if doc.get("tier"):
            codes.add(doc["tier"])
        if doc.get("declares_tier"):
            codes.add(doc["declares_tier"]["code"])
    return codes


def _both(kind: str, code: str) -> None:
    assert code in labels.labels(kind), (kind, code)  # an unknown code would read as itself
    zh, en = labels.label(kind, code, "zh"), labels.label(kind, code, "en")
    assert zh.strip() and en.strip(), (kind, code)
    assert re.search(r"[\u4e00-\u9fff]", zh), (kind, code, zh)  # the Chinese name is Chinese


def test_every_tier_of_the_policies_and_the_vocabulary_has_both_names():
    codes = _policy_tier_codes() | set(TIERS) | set(TIER_ALIASES.values())
    assert {"bj_little_giant", "he_zjtx_pool", "tj_seed"} <= codes  # the regional tiers officials saw as ids
    for code in codes:
        _both("tier", code)


def test_regional_names_come_from_the_policy_declaration():
    doc = yaml.safe_load((ROOT / "data/policies/cn-tj").joinpath(
        next(p.relative_to(ROOT / "data/policies/cn-tj") for p in (ROOT / "data/policies/cn-tj").rglob("*.yaml")
             if "tj_seed" in p.read_text(encoding="utf-8"))).read_text(encoding="utf-8"))
    assert labels.label("tier", "tj_seed") == doc["declares_tier"]["name_zh"]
    assert labels.label("tier", "tj_seed", "en") == doc["declares_tier"]["name_en"]
    # A national code keeps its national name although Shenzhen's file re-declares it for its own rules.
    assert labels.label("tier", "zjtx_sme") == "专精特新中小企业"


def test_every_stored_code_has_both_names():
    for kind, codes in (("flag", FLAG_KINDS), ("status", RECOGNITION_STATUSES), ("decision", DECISIONS),
                        ("role", ("admin", "manager", "official", "analyst")), ("result", RESULTS),
                        ("attribute", [a for a in ATTRIBUTES])):
        for code in codes:
            _both(kind, code)
    for _, vocabulary in ATTRIBUTES.values():
        if isinstance(vocabulary, dict):
            for code in set(vocabulary.values()) - {"1", "2", "3", "4"}:  # digital levels are numbers
                _both("attribute_value", code)


def test_every_jurisdiction_of_the_reference_data_has_both_names():
    rows = (ROOT / "data/reference/jurisdictions.csv").read_text(encoding="utf-8").splitlines()[1:]
    for row in rows:
        jid, name_zh, name_en = row.split(",")[:3]
        assert labels.label("jurisdiction", jid) == name_zh
        assert labels.label("jurisdiction", jid, "en") == name_en


def test_unknown_and_missing_codes():
    assert labels.label("tier", "gx_nothing") == "gx_nothing"
    assert labels.label("tier", None) == ""
    assert labels.bilingual("flag", "review_due") == "待复核 review_due"


def test_no_other_module_defines_tier_or_flag_names():
    """A dict literal that maps a tier or flag code to a Chinese name belongs in registry/labels.py only."""
    pattern = re.compile(r"[\"'](little_giant|key_little_giant|review_due|missing_report|single_champion)[\"']\s*:"
                         r"\s*\(?\s*[\"'][^\"']*(小巨人|冠军|复核|报送)")
    offenders = []
    for folder in ("registry", "dashboard", "jobs", "cli"):
        for path in (ROOT / folder).rglob("*.py"):
            if path in (ROOT / "registry" / "labels.py", ROOT / "registry" / "label_codes.py"):
                continue
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
