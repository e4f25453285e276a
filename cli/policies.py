"""`zjtx policies list | show`: the policies as data, with their criteria tree and citations."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from registry.errors import UserError
from registry.policy.describe import node_text
from registry.policy.loader import get_policy, load_policies
from registry.policy.schema import ExactlyOne, Policy, children_of

PURPOSE = {"new_application": ("认定/申报", "new application"), "re_review": ("复核", "re-review"),
           "support": ("扶持", "support"), "classification": ("划型", "classification")}

app = typer.Typer(help="Policies as data: list and show. 政策（数据化）：列表与详情。", no_args_is_help=True)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="policies")


@app.command("list")
def list_policies(
    output_format: str = typer.Option("table", "--format", help="table | json"),
) -> None:
    """Every policy file: id, title, document, dates, jurisdiction, tier, purpose. 全部政策。"""
    policies = sorted(load_policies().values(), key=lambda p: p.id)
    if output_format == "json":
        typer.echo(json.dumps([_summary(p) for p in policies], ensure_ascii=False))
        return
    if output_format != "table":
        raise UserError(f"--format {output_format!r}: 只支持 / expected table | json")
    table = Table("编号 id", "名称 title", "文号 document", "有效期 effective", "称号 tier", "用途 purpose")
    for p in policies:
        table.add_row(p.id, p.title_zh, p.document_no, f"{p.effective_from} – {p.effective_to or ''}",
                      p.tier or "", PURPOSE[p.purpose][0] + " " + p.purpose)
    Console().print(table)


def _summary(p: Policy) -> dict:
    return {"id": p.id, "title_zh": p.title_zh, "title_en": p.title_en, "document_no": p.document_no,
            "issuer": p.issuer, "issued_on": p.issued_on.isoformat(),
            "effective_from": p.effective_from.isoformat(),
            "effective_to": p.effective_to.isoformat() if p.effective_to else None,
            "jurisdiction": p.jurisdiction, "tier": p.tier, "purpose": p.purpose, "supersedes": p.supersedes}


@app.command("show")
def show_policy(
    policy_id: str = typer.Argument(..., help="Policy id, e.g. cn/little-giant/2021."),
    lang: str = typer.Option("zh", "--lang", help="zh (default) | en"),
    output_format: str = typer.Option("text", "--format", help="text | json (the validated policy file)"),
) -> None:
    """The criteria tree of one policy with citations, lifecycle and interpretations. 政策条件树及出处。"""
    if lang not in ("zh", "en"):
        raise UserError(f"--lang {lang!r}: 只支持 / expected zh | en")
    policy = get_policy(policy_id)
    if output_format == "json":
        typer.echo(policy.model_dump_json(exclude_none=True))
        return
    if output_format != "text":
        raise UserError(f"--format {output_format!r}: 只支持 / expected text | json")
    en = lang == "en"
    console = Console()
    title = policy.title_en if en else policy.title_zh
    console.print(f"[bold]{title}[/]  {policy.id}")
    console.print(f"{policy.document_no} · {policy.issuer} · "
                  f"{'issued' if en else '发布'} {policy.issued_on} · "
                  f"{'effective' if en else '有效期'} {policy.effective_from} – {policy.effective_to or '—'} · "
                  f"{policy.jurisdiction} · {policy.tier or '—'} · {PURPOSE[policy.purpose][1 if en else 0]}")
    if policy.supersedes:
        console.print(f"{'supersedes' if en else '替代'} {policy.supersedes}")
    tree = Tree(_node_line(policy.criteria, en))
    _grow(tree, policy.criteria, en)
    console.print(tree)
    if policy.lifecycle:
        lc = policy.lifecycle
        console.print(f"[bold]{'Lifecycle' if en else '有效期与退出'}[/]: "
                      f"{'valid' if en else '有效期'} {lc.validity_years} {'years' if en else '年'} ({lc.expiry}), "
                      f"{'review at' if en else '复核'} {lc.review_at_years or '—'}, "
                      f"lapse_without_review={lc.lapse_without_review}")
        for r in lc.exit_rules:
            console.print(f"  · {r.label_en if en else r.label_zh} [{r.severity}] — {r.source.cite()}")
        for o in lc.reporting:
            console.print(f"  · {'report' if en else '报送'} {o.frequency}: {o.what} — {o.source.cite()}")
    if policy.interpretations:
        console.print(f"[bold]{'Interpretations' if en else '解释与取舍'}[/]")
        for i in policy.interpretations:
            console.print(f"  · [{i.id}] {i.en if en else i.zh}")


def _node_line(node, en: bool) -> str:
    label = node.label_en if en else node.label_zh
    src = f" [dim]— {node.source.cite()}[/]" if node.source else ""
    waived = ""
    if node.waivers:
        waived = " [cyan](" + "; ".join(
            f"{'waived for batch' if en else '豁免批次'} {','.join(w.batches or [])}{','.join(map(str, w.as_of_years or []))}"
            for w in node.waivers) + ")[/]"
    return f"{label}  [bold]{node_text(node, 'en' if en else 'zh')}[/]{waived}{src}"


def _grow(tree: Tree, node, en: bool) -> None:
    if isinstance(node, ExactlyOne):
        for opt in node.classes:
            branch = tree.add(f"[magenta]{opt.name}[/] {_node_line(opt.criteria, en)}")
            _grow(branch, opt.criteria, en)
        return
    for child in children_of(node):
        _grow(tree.add(_node_line(child, en)), child, en)
