"""The citation check the policy tests share: `zjtx policies check` (registry/policy/check.py) run on one policy,
its failures as readable lines. The compilation is the repository's (data/sources/, the config default);
ZJTX_POLICY_COMPILATION overrides.

Documents after 2021 have no compilation lines: a `{doc, part}` source must name a document the 2022-2026 brief
(data/sources/rules-2022-2026.md) lists — by its number, or by the brief's source tag such as [G-yn] — and a part."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from registry.policy.check import FAIL, check_policy, squash
from registry.policy.schema import Leaf, Policy, Source, iter_nodes
from registry.settings import PROJECT_ROOT, load_settings

COMPILATION = Path(os.environ.get("ZJTX_POLICY_COMPILATION")
                   or load_settings(PROJECT_ROOT / "config.toml").path("policy_compilation"))
# The brief on the 2022 and 2026 national rules: the documents a `part` citation may name.
BRIEF = PROJECT_ROOT / "data" / "sources" / "rules-2022-2026.md"


@cache
def compilation_lines() -> tuple[str, ...]:
    return tuple(COMPILATION.read_text(encoding="utf-8").splitlines())


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


def _sources(policy: Policy) -> Iterator[tuple[str, Source]]:
    for node in iter_nodes(policy.criteria):
        if node.source is not None:
            yield node.id, node.source
        if isinstance(node, Leaf) and node.relaxation is not None:
            yield node.id, node.relaxation.source
    lc = policy.lifecycle
    if lc is not None:
        for src in [lc.source, *(r.source for r in lc.exit_rules), *(r.source for r in lc.reporting)]:
            if src is not None:
                yield "lifecycle", src
    for i in policy.interpretations:
        if i.source is not None:
            yield f"interpretation {i.id}", i.source


def citation_problems(policy: Policy) -> list[str]:
    """Every failed check of the policy (quote, number and unit, direction, window, any/all; a part citation's
    document and part), empty when it holds."""
    problems = [f"{policy.id} {f.criterion} [{f.check}]: {f.reason}"
                for f in check_policy(policy, lines=compilation_lines()) if f.outcome == FAIL]
    for where, src in _sources(policy):
        if not src.lines and src.part is not None and (why := part_problem(src)):
            problems.append(f"{policy.id} {where}: {why}")
    return problems
