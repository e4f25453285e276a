"""Checks a policy's citations against the compilation (policy-compilation-2021.txt): the cited lines
exist, a quoted phrase is on them, and each numeric threshold is written there (or an interpretation of
the policy names the criterion, saying where the number comes from).

Documents after 2021 have no compilation lines: a `{doc, part}` source must name a document the 2022-2026 brief
(data/sources/rules-2022-2026.md) lists — by its number, or by the brief's source tag such as [G-yn] — and a part."""

from __future__ import annotations

import os
import re
import unicodedata
from functools import cache
from pathlib import Path

from registry.policy.schema import Exclusion, Leaf, Policy, Source, iter_nodes
from registry.settings import PROJECT_ROOT, load_settings

# The compilation ships in the repository (data/sources/, the config default); ZJTX_POLICY_COMPILATION overrides.
COMPILATION = Path(os.environ.get("ZJTX_POLICY_COMPILATION")
                   or load_settings(PROJECT_ROOT / "config.toml").path("policy_compilation"))
# The brief on the 2022 and 2026 national rules: the documents a `part` citation may name.
BRIEF = PROJECT_ROOT / "data" / "sources" / "rules-2022-2026.md"
CN_NUMERALS = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十"}


@cache
def compilation_lines() -> list[str]:
    return COMPILATION.read_text(encoding="utf-8").splitlines()


def squash(text: str) -> str:
    """Compare text ignoring whitespace and full-width/half-width differences."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def cited_text(source: Source) -> str:
    lines = compilation_lines()
    parts = []
    for first, last in source.line_range():
        if not (1 <= first <= last <= len(lines)):
            raise AssertionError(f"{source.cite()}: lines outside the compilation (1-{len(lines)})")
        parts.append("".join(lines[first - 1:last]))
    return squash("".join(parts))


@cache
def brief_text() -> str:
    return squash(BRIEF.read_text(encoding="utf-8"))


def part_problem(source: Source) -> str | None:
    """Why a `{doc, part}` citation does not hold, or None: the part is blank, or the brief does not know the doc."""
    if not source.part or not source.part.strip():
        return f"{source.doc}: a citation without lines needs the attachment / article / indicator in `part`"
    tags = re.findall(r"\[[A-Za-z0-9-]+\]", source.doc)
    if squash(source.doc) not in brief_text() and not any(squash(t) in brief_text() for t in tags):
        return f"{source.doc!r} is not a document of {BRIEF.name}"
    return None


def number_forms(value: float, unit: str | None) -> list[str]:
    forms = [f"{value:g}"]
    if value == 0:
        forms += ["正", "positive", "增长", "growth"]  # "> 0" is how the texts say "grew" / "positive"
    if value == int(value):
        n = int(value)
        if n in CN_NUMERALS:
            forms.append(CN_NUMERALS[n])
            if n == 2:
                forms.append("二")
    if unit == "万元":
        forms.append(f"{value / 10000:g}亿")  # 1亿 = 10000万元, 0.5亿 = 5000万元
    return forms


def citation_problems(policy: Policy) -> list[str]:
    """Every problem found, as readable lines (empty when all citations hold)."""
    problems = []
    # An interpretation explains a threshold the text does not state when it names the criterion and
    # states the number (e.g. "events within 3 years", "growth > 0").
    readings: dict[str, str] = {}
    for i in policy.interpretations:
        for cid in i.applies_to:
            readings[cid] = readings.get(cid, "") + squash(i.zh + i.en)
    sources: list[tuple[str, Source]] = []
    for node in iter_nodes(policy.criteria):
        if node.source is not None:
            sources.append((node.id, node.source))
        if isinstance(node, Leaf) and node.relaxation is not None:
            sources.append((node.id, node.relaxation.source))
    for cid, src in sources:
        if not src.lines:
            if src.part is not None and (why := part_problem(src)):
                problems.append(f"{policy.id} {cid}: {why}")
            continue
        try:
            text = cited_text(src)
        except AssertionError as exc:
            problems.append(f"{policy.id} {cid}: {exc}")
            continue
        if src.quote and squash(src.quote) not in text:
            problems.append(f"{policy.id} {cid}: quote {src.quote!r} is not on {src.lines}")
    for node in iter_nodes(policy.criteria):
        numbers: list[tuple[float, str | None]] = []
        if isinstance(node, Leaf) and isinstance(node.threshold, int | float) and not isinstance(node.threshold, bool):
            numbers.append((float(node.threshold), node.unit))
        if isinstance(node, Exclusion) and node.within_years:
            numbers.append((float(node.within_years), "年"))
        if not numbers or not node.source or not node.source.lines:
            continue
        where = squash(node.source.quote) if node.source.quote else cited_text(node.source)
        for value, unit in numbers:
            forms = number_forms(value, unit)
            if not any(f in where for f in forms) and not any(f in readings.get(node.id, "") for f in forms):
                problems.append(f"{policy.id} {node.id}: threshold {value:g} is neither in the cited text "
                                f"({node.source.lines}) nor explained by an interpretation")
        if (isinstance(node, Leaf) and node.relaxation and node.relaxation.source.quote
                and f"{node.relaxation.max_percent:g}" not in squash(node.relaxation.source.quote)):
            problems.append(f"{policy.id} {node.id}: relaxation {node.relaxation.max_percent:g}% not in its quote")
    lc = policy.lifecycle
    if lc is not None:
        for src in [lc.source, *(r.source for r in lc.exit_rules), *(r.source for r in lc.reporting)]:
            if src is not None and src.part is not None and not src.lines and (why := part_problem(src)):
                problems.append(f"{policy.id} lifecycle: {why}")
            if src is not None and src.lines:
                try:
                    text = cited_text(src)
                except AssertionError as exc:
                    problems.append(f"{policy.id} lifecycle: {exc}")
                    continue
                if src.quote and squash(src.quote) not in text:
                    problems.append(f"{policy.id} lifecycle: quote {src.quote!r} is not on {src.lines}")
    for i in policy.interpretations:
        if i.source is not None and i.source.part is not None and not i.source.lines and (why := part_problem(i.source)):
            problems.append(f"{policy.id} interpretation {i.id}: {why}")
    return problems
