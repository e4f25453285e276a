"""`zjtx impact`: the holders and candidates of a jurisdiction judged by two rule sets side by side
(registry.impact.rule_impact; definitions there and in docs/operations.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from cli.evaluate import VERDICT_ZH, AsOf, parse_as_of
from cli.output import OutputFile, check_format, emit
from registry.labels import zh as zh_names

if TYPE_CHECKING:  # loaded when the command runs, not for `zjtx --help`
    import polars as pl

    from registry.impact import RuleImpact

COMPARISON_ZH = zh_names("comparison")  # the label catalogue (registry/label_codes.py)


def register(app: typer.Typer) -> None:
    app.command("impact")(impact_command)


def impact_command(
    from_id: str = typer.Option(None, "--from", help="Old rule set, e.g. cn/little-giant/2022 (default: that, "
                                                     "else the older of the two latest cn/little-giant versions)."),
    to_id: str = typer.Option(None, "--to", help="New rule set, e.g. cn/little-giant/2026 (default: that, else "
                                                 "the latest cn/little-giant version)."),
    jurisdiction: str = typer.Option(None, "--jurisdiction", help="Firms of this jurisdiction (default: the --to "
                                                                  "policy's), e.g. cn-gd."),
    as_of: AsOf = None,
    output_format: str = typer.Option("text", "--format", help="text | json | csv | xlsx"),
    output: OutputFile = None,
) -> None:
    """Impact of a rule change: holders and candidates under both rule sets. 新旧标准影响评估：辖区内持有企业与
    下一级候选企业分别按新旧标准评估，对比结论、各条件淘汰企业数与"复核可过、新申请不过"名单。"""
    from registry.auth import cli_principal
    from registry.db import get_engine
    from registry.export import to_csv_bytes
    from registry.impact import default_pair, rule_impact

    output_format = check_format(output_format, output)
    if from_id is None or to_id is None:
        default_from, default_to = default_pair()
        from_id, to_id = from_id or default_from, to_id or default_to
    result = rule_impact(get_engine(), cli_principal(), from_id, to_id, parse_as_of(as_of), jurisdiction)
    emit(output_format, output, table=lambda: _print(result), json_data=result.to_json,
         csv=lambda: to_csv_bytes(result.firms), xlsx=lambda: impact_workbook(result),
         rows=f"{result.firms.height} firms")


def impact_workbook(result: RuleImpact) -> bytes:
    """Summary, cross-table, gate costs, the review-pass/new-fail list and every firm, one sheet each."""
    from registry.export import to_excel_workbook_bytes

    return to_excel_workbook_bytes({
        "汇总 summary": summary_frame(result),
        "交叉 crosstab": result.crosstab(),
        "门槛 gates": result.gate_costs,
        "复核过新申请不过": result.review_pass_new_fail(),
        "企业 firms": result.firms,
    })


def summary_frame(result: RuleImpact) -> pl.DataFrame:
    """The counts of both rule sets and the four outcomes, with the definitions' key facts."""
    import polars as pl

    rows = [("as_of", result.as_of.isoformat()), ("jurisdiction", result.jurisdiction),
            ("tiers", ", ".join(result.tiers)), ("firms_evaluated", str(result.firms.height))]
    for r in result.counts().iter_rows(named=True):
        rows += [(f"{r['rule_set']}: {r['policy']}", ", ".join(f"{v} {r[v]}" for v in VERDICT_ZH))]
    rows += [(f"comparison {o}", str(n)) for o, n in result.comparisons().items()]
    return pl.DataFrame(rows, schema={"item": pl.String, "value": pl.String}, orient="row")


def _print(result: RuleImpact) -> None:
    import polars as pl

    from registry.impact import COMPARISONS

    console = Console()
    console.print(f"[bold]新旧标准影响评估 Rule impact[/] {result.from_policy.id} → {result.to_policy.id} · "
                  f"{result.jurisdiction} · as of {result.as_of} · {result.firms.height} firms "
                  f"({', '.join(result.tiers)})")
    counts = Table("规则 rule set", *[f"{zh} {v}" for v, zh in VERDICT_ZH.items()])
    for r in result.counts().iter_rows(named=True):
        counts.add_row(f"{r['rule_set']}: {r['policy']}", *[str(r[v]) for v in VERDICT_ZH])
    console.print(counts)
    outcomes = result.comparisons()
    console.print(", ".join(f"{COMPARISON_ZH[o]} {o}: {outcomes[o]}" for o in COMPARISONS))
    gates = Table("条件 criterion", "名称 label", "淘汰 firms", "缺数据 missing")
    for r in result.gate_costs.filter((pl.col("firms_failing") > 0) | (pl.col("missing_data") > 0)).iter_rows(named=True):
        gates.add_row(r["criterion"], r["label_zh"], str(r["firms_failing"]), str(r["missing_data"]))
    console.print(gates)
    lost = result.review_pass_new_fail()
    console.print(f"复核可过、新申请不过 pass review, fail a new application: {lost.height}")
    if not lost.is_empty():
        table = Table("USCC", "企业 name", "称号 tier", "未满足 failed")
        for r in lost.head(50).iter_rows(named=True):
            table.add_row(r["uscc"], r["name"] or "", r["held_tier"], r["failed_to"] or "")
        console.print(table)
