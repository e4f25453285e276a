"""`zjtx policies list | show | check`: the policies as data, with their criteria tree and citations, and the check
of each file against the compilation lines it cites."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from registry.errors import UserError

if TYPE_CHECKING:  # the policy files and their schema load when a command runs, not for `zjtx --help`
    from registry.policy.check import CheckReport
    from registry.policy.schema import Node, Policy

PURPOSE = {"new_application": ("认定/申报", "new application"), "re_review": ("复核", "re-review"),
           "precheck": ("初核", "pre-check"),
           "support": ("扶持", "support"), "classification": ("划型", "classification")}

app = typer.Typer(help="Policies as data: list, show and check. 政策（数据化）：列表、详情与核对。", no_args_is_help=True)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="policies")


@app.command("list")
def list_policies(
    output_format: str = typer.Option("table", "--format", help="table | json"),
) -> None:
    """Every policy file: id, title, document, dates, jurisdiction, tier, purpose. 全部政策。"""
    from registry.export import json_text
    from registry.policy.loader import load_policies
    from registry.policy.schema import CONFIDENCE_NOTES

    policies = sorted(load_policies().values(), key=lambda p: p.id)
    if output_format == "json":
        typer.echo(json_text([_summary(p) for p in policies]))
        return
    if output_format != "table":
        raise UserError(f"--format {output_format!r}: 只支持 / expected table | json")
    console = Console()
    unchecked = sum(p.lowest_confidence() not in (None, "A") for p in policies)
    console.print(f"[bold]政策 policies[/]: {len(policies)} 项，其中 {unchecked} 项含待核对条件 "
                  f"({unchecked} with unchecked criteria); 文号与条件见 zjtx policies show <编号 id>")
    # Ids are what a user copies: never cut (folded at worst); titles and tier names wrap instead.
    table = Table(box=box.SIMPLE_HEAD)
    # The id line is never cut; the title under it folds at the column's width.
    longest_id = max((len(p.id) for p in policies), default=10)
    table.add_column("编号 id / 名称 title", no_wrap=True, overflow="fold",
                     max_width=max(longest_id, console.width - 30))
    table.add_column("有效期", no_wrap=True)
    table.add_column("可信度", no_wrap=True)
    for p in policies:
        purpose = "" if p.purpose == "new_application" else f"［{PURPOSE[p.purpose][0]}］"
        table.add_row(f"[bold]{p.id}[/]\n{purpose}{p.title_zh}", f"{p.effective_from}\n至 {p.effective_to or '—'}",
                      _confidence_cell(p))
    console.print(table)
    if any(p.lowest_confidence() not in (None, "A") for p in policies):
        Console().print("可信度 confidence: " + "; ".join(f"{code} {zh} / {en}"
                                                         for code, (zh, en) in CONFIDENCE_NOTES.items()))


def _confidence_cell(p: Policy) -> str:
    """The least certain code of the policy's criteria (— when it states none); not-A codes are flagged."""
    code = p.lowest_confidence()
    if code is None:
        return "—"
    return code if code == "A" else f"{code} 待核对"


def _summary(p: Policy) -> dict[str, Any]:
    return {"id": p.id, "title_zh": p.title_zh, "title_en": p.title_en, "document_no": p.document_no,
            "issuer": p.issuer, "issued_on": p.issued_on.isoformat(),
            "effective_from": p.effective_from.isoformat(),
            "effective_to": p.effective_to.isoformat() if p.effective_to else None,
            "jurisdiction": p.jurisdiction, "tier": p.tier, "purpose": p.purpose, "supersedes": p.supersedes,
            "purposes": [w.model_dump(mode="json", exclude_none=True) for w in p.purposes],
            "confidence": p.lowest_confidence()}


@app.command("show")
def show_policy(
    policy_id: str = typer.Argument(..., help="Policy id, e.g. cn/little-giant/2021."),
    lang: str = typer.Option("zh", "--lang", help="zh (default) | en"),
    output_format: str = typer.Option("text", "--format", help="text | json (the validated policy file)"),
) -> None:
    """The criteria tree of one policy with citations, lifecycle and interpretations. 政策条件树及出处。"""
    from registry.policy.loader import get_policy

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
        console.print(f"{'supersedes' if en else '替代'} {', '.join(policy.superseded_ids())}")
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


def _node_line(node: Node, en: bool) -> str:
    from registry.policy.describe import node_text

    label = node.label_en if en else node.label_zh
    src = f" [dim]— {node.source.cite()}[/]" if node.source else ""
    waived = ""
    if node.waivers:
        waived = " [cyan](" + "; ".join(
            f"{'waived for batch' if en else '豁免批次'} {','.join(w.batches or [])}{','.join(map(str, w.as_of_years or []))}"
            for w in node.waivers) + ")[/]"
    code = getattr(node, "confidence", None)
    conf = f" [yellow]({'confidence' if en else '可信度'} {code})[/]" if code and code != "A" else ""
    return f"{label}  [bold]{node_text(node, 'en' if en else 'zh')}[/]{waived}{conf}{src}"


def _grow(tree: Tree, node: Node, en: bool) -> None:
    from registry.policy.schema import ExactlyOne, children_of

    if isinstance(node, ExactlyOne):
        for opt in node.classes:
            branch = tree.add(f"[magenta]{opt.name}[/] {_node_line(opt.criteria, en)}")
            _grow(branch, opt.criteria, en)
        return
    for child in children_of(node):
        _grow(tree.add(_node_line(child, en)), child, en)


CHECK_NAMES = {"quote": "引文", "number": "数值", "direction": "方向", "window": "年度口径", "combine": "组合"}


@app.command("check")
def check(
    policy_id: str = typer.Option(None, "--policy", help="Only this policy id (default: every policy)."),
    directory: Path = typer.Option(None, "--dir", help="A data/policies tree to check instead of the repository's."),
    output_format: str = typer.Option("text", "--format", help="text | json"),
) -> None:
    """Check each policy against its compilation lines: quote, number and unit, direction, window, any/all.
    核对政策文件与汇编原文：引文、数值与单位、方向、年度口径、“或/且”。Exit 1 when a check fails."""
    from registry.export import json_text
    from registry.policy.check import check_directory, check_policies
    from registry.policy.loader import POLICY_DIR, get_policy, policy_path

    if output_format not in ("text", "json"):
        raise UserError(f"--format {output_format!r}: 只支持 / expected text | json")
    try:
        if directory is not None:
            report = check_directory(directory)
        elif policy_id is not None:
            report = check_policies({policy_id: (get_policy(policy_id), str(policy_path(policy_id).relative_to(
                POLICY_DIR)))})
        else:
            report = check_directory(POLICY_DIR)
    except FileNotFoundError as exc:
        raise UserError(f"汇编原文缺失 / {exc}") from exc
    if output_format == "json":
        typer.echo(json_text(report.as_dict()))
    else:
        _print_report(report)
    if report.failures():
        raise typer.Exit(1)


def _print_report(report: CheckReport) -> None:
    c = report.counts()
    console = Console()
    console.print(f"[bold]政策核对 Policy check[/]: {c['policies']} 个政策 policies, "
                  f"{c['no_compilation_text']} 个无汇编原文 no compilation text (not checked)")
    console.print(f"核对 checked {c['checked']} · 通过 passed {c['passed']} · "
                  f"待人工 for a person {c['person']} · [red]不符 failed {c['failed']}[/]")
    for title, findings in (("[red]不符 Failures[/]", report.failures()), ("待人工确认 For a person", report.for_a_person())):
        if findings:
            console.print(f"\n[bold]{title}[/] ({len(findings)})")
            for f in findings:
                console.print(f"  {f.file or f.policy} · {f.criterion} · {CHECK_NAMES.get(f.check, f.check)} {f.check}: "
                              f"{f.reason}", soft_wrap=True, markup=False, highlight=False)
    if report.without_compilation_text:
        console.print("无汇编原文 No compilation text: " + ", ".join(report.without_compilation_text))
