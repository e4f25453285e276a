"""Generates the policy-by-policy part of docs/policies.md (coverage table and every interpretation) from
the policy files, so the documentation cannot drift from the data.

    python -m registry.policy.docs          # rewrite the generated section in docs/policies.md
    python -m registry.policy.docs --check  # exit 1 when the section is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from registry.policy.loader import load_policies
from registry.policy.schema import Exclusion, Leaf, Policy, Prerequisite, iter_nodes

DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "policies.md"
BEGIN = "<!-- generated:policies:begin (python -m registry.policy.docs) -->"
END = "<!-- generated:policies:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def coverage_table(policies: list[Policy]) -> str:
    lines = ["| 政策 policy | 文件 document | 用途 purpose | 条件 criteria (leaves / exclusions / prerequisites) "
             "| 解释 interpretations | 生命周期 lifecycle | 可信度 confidence |",
             "|---|---|---|---|---|---|---|"]
    for p in policies:
        nodes = list(iter_nodes(p.criteria))
        leaves = sum(isinstance(n, Leaf) for n in nodes)
        excl = sum(isinstance(n, Exclusion) for n in nodes)
        pre = sum(isinstance(n, Prerequisite) for n in nodes)
        lc = p.lifecycle
        life = (f"{lc.validity_years}y {lc.expiry}, review {lc.review_at_years or '—'}, "
                f"{len(lc.exit_rules)} exit rules, {len(lc.reporting)} reporting" if lc else "—")
        lines.append(f"| `{p.id}` | {_cell(p.document_no)} | {p.purpose} | {leaves} / {excl} / {pre} "
                     f"| {len(p.interpretations)} | {life} | {p.lowest_confidence() or '—'} |")
    return "\n".join(lines)


def interpretations(policies: list[Policy]) -> str:
    out = []
    for p in policies:
        out.append(f"### `{p.id}` — {p.title_zh}\n")
        out.append(f"{p.document_no} · {p.issuer} · {p.effective_from} – {p.effective_to or '—'}\n")
        if not p.interpretations:
            out.append("(无 none)\n")
        for i in p.interpretations:
            applies = f" (→ {', '.join(i.applies_to)})" if i.applies_to else ""
            src = f" [{i.source.cite()}]" if i.source else ""
            out.append(f"- `{i.id}`{applies}{src}\n  - {i.zh}\n  - {i.en}")
        out.append("")
    return "\n".join(out)


def render(policies: list[Policy] | None = None) -> str:
    policies = sorted((policies or list(load_policies().values())), key=lambda p: p.id)
    return "\n".join([BEGIN, "", "## 覆盖情况 Coverage", "", coverage_table(policies), "",
                      "## 解释与取舍 Interpretations (every policy, every reading)", "", interpretations(policies),
                      END])


def updated(text: str, section: str) -> str:
    if BEGIN not in text or END not in text:
        return text.rstrip() + "\n\n" + section + "\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + section + tail


def main(argv: list[str]) -> int:
    text = DOCS.read_text(encoding="utf-8")
    new = updated(text, render())
    if "--check" in argv:
        if new != text:
            print(f"{DOCS} is out of date: run python -m registry.policy.docs", file=sys.stderr)
            return 1
        return 0
    DOCS.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
