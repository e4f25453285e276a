"""`zjtx review-risk`: recognitions due for 复核 within N months on course to fail it, and the same firms under the
new-application standard (registry.review_risk; definitions there and in docs/operations.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.evaluate import AsOf, parse_as_of
from cli.output import OutputFile, check_format, emit

if TYPE_CHECKING:  # loaded when the command runs, not for `zjtx --help`
    from registry.review_risk import ReviewRisk


def register(app: typer.Typer) -> None:
    app.command("review-risk")(review_risk_command)


def review_risk_command(
    months: int = typer.Option(None, "--months", min=1, max=60,
                               help="Due for 复核 within this many months (default: [monitoring] review_risk_months)."),
    as_of: AsOf = None,
    output_format: str = typer.Option("text", "--format", help="text | json | csv | xlsx"),
    output: OutputFile = None,
) -> None:
    """复核 risk: recognitions due for 复核 that are on course to fail it. 复核风险：未来N个月内到复核日、按复核时适用标准
    预计不通过的认定，列出未满足的条件及差距；另列按新申请标准不通过的名单。"""
    from registry.auth import cli_principal
    from registry.db import get_engine
    from registry.export import to_csv_bytes
    from registry.review_risk import review_risk, risk_workbook
    from registry.settings import get_settings

    output_format = check_format(output_format, output)
    months = months or get_settings().monitoring.review_risk_months
    result = review_risk(cli_principal(), parse_as_of(as_of), months, engine=get_engine())
    emit(output_format, output, table=lambda: _print(result), json_data=lambda: risk_json(result),
         csv=lambda: to_csv_bytes(result.firms), xlsx=lambda: risk_workbook(result),
         rows=f"{result.firms.height} rows")


def risk_json(result: ReviewRisk) -> dict[str, Any]:
    import polars as pl

    from registry.review_risk import STANDARDS

    # Dates as YYYY-MM-DD text: JSON has no date type.
    return {"as_of": result.as_of.isoformat(), "months": result.months, "due": result.due,
            **{standard: result.of(standard).drop("standard").with_columns(pl.col(pl.Date).cast(pl.String)).to_dicts()
               for standard in STANDARDS}}


def _print(result: ReviewRisk) -> None:
    from registry.review_risk import STANDARDS

    console = Console()
    console.print(f"[bold]复核风险 review risk[/] as of {result.as_of} · {result.months} months · "
                  f"{result.due} recognitions due")
    for standard, (zh, en) in STANDARDS.items():
        frame = result.of(standard)
        console.print(f"{zh} {en}: {result.count(standard)} on course to fail")
        table = Table("USCC", "企业 name", "称号 tier", "复核日 review", "政策 policy", "条件 criterion", "实际 actual",
                      "要求 expected", "差距 gap")
        for r in frame.head(50).iter_rows(named=True):
            table.add_row(r["uscc"], r["name"] or "", r["tier"], str(r["review_on"]), r["policy"], r["criterion_label"],
                          r["actual"] or "", r["expected"] or "", "" if r["gap"] is None else f"{r['gap']:g}")
        if frame.height:
            console.print(table)
