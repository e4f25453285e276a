"""标签 The one catalogue of display names for the registry's codes: code → (中文, English).

Tiers (the national ones, the regional tiers the policy files declare, and the regional tiers the demo's targets
use), jurisdictions (data/reference/jurisdictions.csv), target indicators (registry/targets.py), flags, severities,
statuses, review decisions, roles, attribute names and values, criteria results and verdicts, and the codes the
analyses produce (registry/label_codes.py). The dashboard (dashboard/i18n.py), the CLI, the briefing
and the reminders read their names here, so a tier or a flag reads the same everywhere.

`label(kind, code, lang)` is the lookup; an unknown code reads as itself (never as "None").
"""

from __future__ import annotations

from functools import cache

from registry.label_codes import FIXED, NATIONAL_TIERS, UNDECLARED_REGIONAL_TIERS, Pair


@cache
def tier_labels() -> dict[str, Pair]:
    """Every tier: the national ones, then the regional tiers the policy files declare (a national code keeps its
    national name: Shenzhen's file re-declares zjtx_sme for its own rules), then the undeclared regional ones."""
    from registry.policy.loader import load_policies

    tiers = dict(NATIONAL_TIERS)
    for policy in load_policies().values():
        declared = policy.declares_tier
        if declared is not None and declared.code not in tiers:
            tiers[declared.code] = (declared.name_zh, declared.name_en)
    for code, pair in UNDECLARED_REGIONAL_TIERS.items():
        tiers.setdefault(code, pair)
    return tiers


@cache
def jurisdiction_labels() -> dict[str, Pair]:
    from registry.reference import jurisdictions

    return {row["id"]: (row["name_zh"], row["name_en"]) for row in jurisdictions().iter_rows(named=True)}


@cache
def target_indicator_labels() -> dict[str, Pair]:
    """The indicators of the firms' 目标表, named where they are defined (registry/targets.py)."""
    from registry.targets import TARGET_INDICATORS

    return {key: (spec.label_zh, spec.label_en) for key, spec in TARGET_INDICATORS.items()}


# The kinds whose names are read from data files or other modules (the rest are fixed: registry/label_codes.py).
_READ = {"tier": tier_labels, "jurisdiction": jurisdiction_labels, "target_indicator": target_indicator_labels}


def catalogue() -> dict[str, dict[str, Pair]]:
    """Every kind of code with its names (a new dict; callers may extend it)."""
    kinds = {**{kind: read() for kind, read in _READ.items()}, **FIXED}
    return {kind: dict(pairs) for kind, pairs in kinds.items()}


def labels(kind: str) -> dict[str, Pair]:
    read = _READ.get(kind)
    return read() if read is not None else FIXED.get(kind, {})


def label(kind: str, code: object, lang: str = "zh") -> str:
    """The name of `code` in `lang` ("zh" or "en"); the code itself when it has none, "" for a missing code."""
    if code is None:
        return ""
    pair = labels(kind).get(str(code))
    if pair is None:
        return str(code)
    return pair[1] if lang == "en" else pair[0]


def zh(kind: str) -> dict[str, str]:
    """code → Chinese name, for polars `replace_strict(..., default=...)` and plain lookups."""
    return {code: pair[0] for code, pair in labels(kind).items()}


def bilingual(kind: str, code: object) -> str:
    """"待复核 review_due": the Chinese name then the code a user types (CLI)."""
    name = label(kind, code)
    return name if name == str(code) else f"{name} {code}"
