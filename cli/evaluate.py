"""`zjtx evaluate` (firms in the database) and `zjtx screen` (firms in data files, nothing stored):
verdicts of a policy as of a date, as a table for people or as JSON / CSV / Excel (CONTRACT §4)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from cli.output import OutputFile, check_format, emit
from registry.errors import UserError
from registry.labels import label
from registry.labels import zh as zh_names

if TYPE_CHECKING:  # the registry's evaluation stack loads when a command runs, not for `zjtx --help`
    import polars as pl

    from registry.policy.bundle import Bundle
    from registry.policy.schema import Node, Policy

VERDICT_ZH = zh_names("verdict")  # the label catalogue (registry/labels.py)
VERDICT_STYLE = {"eligible": "green", "ineligible": "red", "insufficient_data": "yellow"}

# Options `evaluate` and `screen` share (AsOf also flags, impact and review-risk).
AsOf = Annotated[str | None, typer.Option("--as-of", help="Date YYYY-MM-DD (default: today, Asia/Shanghai).")]
Tier = Annotated[str | None, typer.Option(
    "--tier", help="Tier code: the policy in force for it is chosen (e.g. little_giant).")]
Jurisdiction = Annotated[str | None, typer.Option("--jurisdiction", help="With --tier: jurisdiction id (default cn).")]
Purpose = Annotated[str | None, typer.Option("--purpose", help="With --tier: new_application (default) | review.")]
Format = Annotated[str, typer.Option("--format", help="table | json | csv | xlsx")]
Lang = Annotated[str, typer.Option("--lang", help="Criterion labels: zh | en")]
Batch = Annotated[str | None, typer.Option(
    "--batch", help="Batch for batch waivers (default: from the as-of date).")]
Limit = Annotated[int, typer.Option("--limit", min=0, help="Table: firms shown (0 = all). Files and JSON have all.")]


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)
    app.command("screen")(screen_command)


def parse_as_of(value: str | None) -> date:
    """--as-of: a date YYYY-MM-DD, or "today" where the officials are (not where the server clock is)."""
    if value is None:
        from registry.schedule import today_in
        from registry.settings import get_settings

        return today_in(get_settings())
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--as-of {value!r}: 日期格式应为 YYYY-MM-DD / expected a date like 2021-06-30") from None


def resolve_policy(policy_id: str | None, tier: str | None, jurisdiction: str | None, purpose: str | None,
                   on: date) -> Policy:
    """--policy ID as given, or the policy in force for --tier / --jurisdiction / --purpose on the date
    (registry.policy.resolve, the one place that decides which rule applies); says on stderr which it chose."""
    if policy_id and (tier or jurisdiction or purpose):
        raise UserError("--policy 与 --tier/--jurisdiction/--purpose 只能二选一 / give --policy or --tier, not both")
    from registry.policy.loader import get_policy
    from registry.policy.resolve import policy_in_force

    if policy_id:
        return get_policy(policy_id)
    if not tier:
        raise UserError("需要 --policy 或 --tier / give --policy ID or --tier TIER")
    policy = policy_in_force(tier, jurisdiction or "cn", on, purpose or "new_application")
    typer.echo(f"zjtx: {tier} @ {jurisdiction or 'cn'}, {on}, {purpose or 'new_application'} → {policy.id} "
               f"({policy.document_no})", err=True)
    return policy


def evaluate_command(
    policy_id: str = typer.Option(None, "--policy", help="Policy id, e.g. cn/little-giant/2021 (zjtx policies list)."),
    tier: Tier = None,
    jurisdiction: Jurisdiction = None,
    purpose: Purpose = None,
    as_of: AsOf = None,
    usccs: list[str] = typer.Option(None, "--uscc", help="Only these firms (repeat the option)."),
    output_format: Format = "table",
    output: OutputFile = None,
    lang: Lang = "zh",
    batch: Batch = None,
    limit: Limit = 50,
) -> None:
    """Evaluate firms in the database against a policy. 按政策评估登记库中的企业（符合 / 不符合 / 数据不足）。"""
    from registry.db import get_engine
    from registry.policy.bundle import load_bundle
    from registry.policy.engine import check_as_of, evaluate, required_refs
    from registry.policy.indicators import data_needs

    output_format = check_format(output_format, output, lang)
    on = parse_as_of(as_of)
    policy = resolve_policy(policy_id, tier, jurisdiction, purpose, on)
    check_as_of(policy, on)
    wanted = [u.strip().upper() for u in usccs] if usccs else None
    # Only the report columns and attributes this policy reads: at a million firms they are most of the read.
    needs = data_needs(required_refs(policy), on)
    bundle = load_bundle(get_engine(), wanted, metrics=needs.metrics, years=needs.years, attributes=needs.attributes)
    if wanted:
        found = set(bundle.enterprises["uscc"].to_list())
        unknown = [u for u in dict.fromkeys(wanted) if u not in found]
        if unknown:
            raise UserError(f"登记库中没有这些企业 / not in the database: {', '.join(unknown)}")
    result = evaluate(policy, bundle, on, batch=batch, lang=lang)
    _emit(result, policy, bundle, output_format, output, lang, limit)


def screen_command(
    files: list[Path] = typer.Argument(..., help="Data files: enterprises + reports + attributes + events."),
    policy_id: str = typer.Option(None, "--policy", help="Policy id, e.g. cn/little-giant-precheck/2021."),
    tier: Tier = None,
    jurisdiction: Jurisdiction = None,
    purpose: Purpose = None,
    as_of: AsOf = None,
    output_format: Format = "table",
    output: OutputFile = None,
    lang: Lang = "zh",
    batch: Batch = None,
    limit: Limit = 50,
) -> None:
    """Pre-screen (初核) firms in data files against a policy; nothing is stored. 初核预筛：不入库。"""
    from registry.policy.engine import check_as_of, evaluate
    from registry.screening import read_files

    output_format = check_format(output_format, output, lang)
    on = parse_as_of(as_of)
    policy = resolve_policy(policy_id, tier, jurisdiction, purpose, on)
    check_as_of(policy, on)
    for f in files:
        if not f.is_file():
            raise UserError(f"{f}: 文件不存在 / file not found")
    bundle, parsed = read_files(files)
    if not any(p.kind == "enterprises" for p in parsed):
        raise UserError("初核需要企业名录文件 / screen needs an enterprises file (uscc, name, region_code, "
                        "industry_code, founded_on)")
    for p in parsed:
        # Rejected rows are left out of the screening; say so on stderr so that JSON output stays clean.
        for rej in p.rejections[:20]:
            typer.echo(f"zjtx: warning: {p.path}: row {rej.row}, {rej.column}: {rej.reason}", err=True)
        if len(p.rejections) > 20:
            typer.echo(f"zjtx: warning: {p.path}: {len(p.rejections) - 20} more rejected rows", err=True)
        if p.unknown_columns:
            typer.echo(f"zjtx: warning: {p.path}: 未使用的列 / columns not used: {', '.join(p.unknown_columns)}",
                       err=True)
    result = evaluate(policy, bundle, on, batch=batch, lang=lang)
    _emit(result, policy, bundle, output_format, output, lang, limit)


def _emit(result: pl.DataFrame, policy: Policy, bundle: Bundle, output_format: str, output: Path | None,
          lang: str, limit: int) -> None:
    from registry.policy.engine import write_evaluation_json
    from registry.policy.export import csv_bytes, xlsx_bytes

    names = bundle.enterprises.select("uscc", "name")
    emit(output_format, output, table=lambda: _print_table(result, policy, names, lang, limit),
         json_stream=lambda out, indent: write_evaluation_json(result, out, indent=indent),
         csv=lambda: csv_bytes(result, policy, names),
         xlsx=lambda: xlsx_bytes(result, policy, names, lang), rows=f"{len(result)} firms")


def _print_table(result: pl.DataFrame, policy: Policy, names: pl.DataFrame, lang: str, limit: int) -> None:
    from registry.policy.engine import criteria_list
    from registry.policy.schema import children_of, iter_nodes

    console = Console()
    counts = dict(result.group_by("verdict").len().iter_rows())
    as_of = result["as_of"][0] if len(result) else None
    console.print(f"[bold]{policy.title_zh}[/]")
    console.print(f"{policy.id} ({policy.document_no}), as of {as_of or '—'}: {len(result)} 家企业 firms — "
                  + ", ".join(f"{label('verdict', v)} {counts.get(v, 0)}" for v in VERDICT_STYLE))
    if result.is_empty():
        return
    # USCCs and criterion ids are what a user copies: never cut (folded at worst); names shorten instead.
    table = Table(box=box.SIMPLE_HEAD)
    parents = _parents(policy.criteria)
    leaves = {n.id for n in iter_nodes(policy.criteria) if not children_of(n)}
    longest_leaf = min(max((len(leaf) for leaf in leaves), default=8), 24)
    table.add_column("USCC 信用代码", no_wrap=True, overflow="fold", min_width=18)
    table.add_column("企业 name", overflow="ellipsis", max_width=24)
    table.add_column("结论", no_wrap=True)
    table.add_column("类别", no_wrap=True)
    table.add_column("未满足 failed / 缺数据 missing", overflow="fold", min_width=longest_leaf + 4)
    # A table of a whole registry is for nobody to read (and rich takes minutes to lay out 200,000 rows): the first
    # `limit` firms, and where the rest is.
    shown = result if limit == 0 else result.head(limit)
    named = shown.join(names.unique("uscc"), on="uscc", how="left", maintain_order="left")
    for r in named.iter_rows(named=True):
        results = {c["id"]: c["result"] for c in criteria_list(r.get("criteria"))}
        failed = _decisive(results, parents, leaves, "fail")
        missing = _decisive(results, parents, leaves, "missing")
        v = r["verdict"]
        table.add_row(r["uscc"], r["name"] or "", f"[{VERDICT_STYLE[v]}]{label('verdict', v)}[/]", r["class"] or "—",
                      "\n".join(f"{head} {_first(ids)}" for head, ids in (("未满足", failed), ("缺数据", missing)) if ids))
    console.print(table)
    if len(shown) < len(result):
        console.print(f"… 另有 {len(result) - len(shown):,} 家 / {len(result) - len(shown):,} more firms "
                      "(--limit 0 显示全部 for all; --format csv|xlsx|json --output FILE 导出 for a file)")


def _first(ids: list[str], shown: int = 6) -> str:
    return ", ".join(ids[:shown]) + (" …" if len(ids) > shown else "")


def _parents(root: Node) -> dict[str, str]:
    from registry.policy.schema import children_of, iter_nodes

    out: dict[str, str] = {}
    for node in iter_nodes(root):
        for child in children_of(node):
            out[child.id] = node.id
    return out


def _decisive(results: dict[str, str], parents: dict[str, str], leaves: set[str], kind: str) -> list[str]:
    """Conditions with this result that matter: none of their groups passed anyway (a failed alternative of
    a met any-of, or a class the firm is not in, is not worth a reviewer's attention)."""
    out: list[str] = []
    for cid, res in results.items():
        if cid not in leaves or res != kind:
            continue
        p = parents.get(cid)
        while p is not None and results.get(p) not in ("pass", "waived"):
            p = parents.get(p)
        if p is None:
            out.append(cid)
    return out
