"""`zjtx flags`: lifecycle flags as of any date, computed from the data alone (printed, never stored)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from cli.evaluate import AsOf, parse_as_of
from registry.errors import UserError
from registry.labels import bilingual, label

if TYPE_CHECKING:  # loaded when the command runs, not for `zjtx --help`
    import polars as pl

SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def register(app: typer.Typer) -> None:
    app.command("flags")(flags)


def flags(
    as_of: AsOf = None,
    output_format: str = typer.Option("table", "--format", help="table | json"),
    limit: int = typer.Option(50, "--limit", min=0, help="Table: rows shown (0 = all). JSON always has all."),
) -> None:
    """Lifecycle flags (review_due, expiring, expired, exit, promotion, missing_report, anomaly) as of a date.
    生命周期提示：按数据计算任意日期的提示（仅打印，不保存；定时任务负责保存）。"""
    from registry.db import get_engine
    from registry.export import json_text
    from registry.lifecycle import FlagWindows, compute_flags, flag_records
    from registry.policy.bundle import load_bundle
    from registry.settings import get_settings

    if output_format not in ("table", "json"):
        raise UserError(f"--format {output_format!r}: 只支持 expected table | json")
    on = parse_as_of(as_of)
    settings = get_settings()
    result = compute_flags(load_bundle(get_engine()), on, FlagWindows.from_settings(settings.lifecycle))
    if output_format == "json":
        typer.echo(json_text(flag_records(result)))
        return
    _print_table(result, on, limit)


def summary_text(result: pl.DataFrame) -> str:
    """Counts per kind, split by severity where a kind has more than one (exit: 15029 (critical 14080, ...))."""
    import polars as pl

    by_severity = result.group_by("flag", "severity").agg(n=pl.len()).sort("flag", "severity")
    parts = []
    for (flag,), rows in by_severity.group_by("flag", maintain_order=True):
        total = rows["n"].sum()
        split = (" (" + ", ".join(f"{sev} {n}" for _, sev, n in rows.iter_rows()) + ")") if rows.height > 1 else ""
        parts.append(f"{bilingual('flag', flag)}: {total}{split}")
    return ", ".join(parts)


def _print_table(result: pl.DataFrame, on: date, limit: int) -> None:
    from registry.lifecycle import flag_records

    console = Console()
    console.print(f"[bold]生命周期提示 Lifecycle flags[/] as of {on.isoformat()}: {len(result)} "
                  + (f"({summary_text(result)})" if len(result) else ""))
    if result.is_empty():
        return
    # The USCC is what a user copies: never cut; tier and jurisdiction names wrap instead.
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("USCC 信用代码", no_wrap=True, overflow="fold", min_width=18)
    table.add_column("称号 tier（认定机关）", overflow="fold")
    table.add_column("提示 flag", no_wrap=True)
    table.add_column("日期", no_wrap=True)
    table.add_column("说明 detail", overflow="fold")
    shown = result if limit == 0 else result.head(limit)
    for r in flag_records(shown):
        table.add_row(r["uscc"], f"{label('tier', r['tier'])}\n（{label('jurisdiction', r['jurisdiction'])}）",
                      f"[{SEVERITY_STYLE.get(r['severity'], '')}]{label('flag', r['flag'])}[/]", r["due_on"] or "—",
                      _detail(r["flag"], r["evidence"]))
    console.print(table)
    if len(shown) < len(result):
        console.print(f"… {len(result) - len(shown)} more (--limit 0 for all, --format json for the full evidence)")


def _detail(flag: str, ev: dict[str, Any]) -> str:
    """The one fact an official reads first; the full evidence is in --format json."""
    if flag == "review_due":
        return f"复核还有 {ev.get('days_to_review')} 天 days to review"
    if flag == "expiring":
        return f"剩余 {ev.get('days_left')} 天 days left"
    if flag == "expired":
        return f"逾期 {ev.get('days_overdue')} 天 days overdue"
    if flag == "missing_report":
        return f"{ev.get('period')} {label('frequency', ev.get('frequency'))}"
    if flag == "promotion":
        return f"→ {label('tier', ev.get('target_tier'))} ({ev.get('policy')})"
    return str(ev.get("reason", ""))
