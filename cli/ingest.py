"""`zjtx ingest PATH... [--kind KIND] [--format json]`: load data files (CONTRACT §2, §4).

Exit status 0 when every file was read (even with rejected rows), 1 when any file was rejected whole.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console, JustifyMethod
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from registry.label_codes import FILE_KINDS

if TYPE_CHECKING:  # the ingestion stack loads when the command runs, not for `zjtx --help`
    from registry.ingest import FileResult

# Rejections listed per file in the table; the rest are in the quarantine CSV and `--format json`.
SHOWN_REJECTIONS = 20
# Files with fewer valid rows load in a blink; a bar would only flicker.
PROGRESS_MIN_ROWS = 20_000

STATUS_LABELS = {"loaded": "已载入 loaded", "partial": "部分载入 partial", "rejected": "已拒绝 rejected",
                 "unchanged": "未变化 unchanged"}


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)


def ingest(
    paths: list[Path] = typer.Argument(..., help="CSV (UTF-8/GBK/GB18030) or Excel files, or folders of them."),
    kind: str | None = typer.Option(
        None, "--kind", help=f"File kind when the headers do not tell: {', '.join(FILE_KINDS)}, targets."),
    output: OutputFormat = typer.Option(OutputFormat.table, "--format", help="table (for people) or json."),
) -> None:
    """Ingest data files: rows read, loaded, rejected (with reasons), run id. 载入数据文件。"""
    from registry.db import check_connection, get_engine
    from registry.ingest import ingest_files

    engine = get_engine()
    # A database that cannot be reached is one line, not a failed run per file (each file is fine).
    check_connection(engine)
    with _progress_bar() as bar:
        results = ingest_files(engine, paths, kind=kind, source="cli", progress=bar)
    if output is OutputFormat.json:
        typer.echo(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=2))
    else:
        _print_table(results)
    if any(r.rows_loaded for r in results):
        # New rows can open or close flags (said under the table; --format json stays one document).
        from cli.database import print_flags_refresh

        print_flags_refresh(engine, None if output is OutputFormat.json else Console())
    if any(r.status == "rejected" for r in results):
        raise typer.Exit(1)


class _Bar:
    """Adapter from ingest progress callbacks to one rich task per large file."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, name: str, done: int, total: int) -> None:
        if total < PROGRESS_MIN_ROWS:
            return
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(Path(name).name, total=total)
        self.progress.update(self.tasks[name], completed=done)


@contextmanager
def _progress_bar() -> Iterator[_Bar | None]:
    """A progress bar on stderr, only when stderr is a terminal (never in pipes, logs or JSON output)."""
    if not sys.stderr.isatty():
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        yield _Bar(progress)


def _print_table(results: list[FileResult]) -> None:
    console = Console()
    table = Table(title="载入结果 Ingestion results")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("文件 file", "left"), ("类型 kind", "left"), ("状态 status", "left"), ("读取 read", "right"),
        ("载入 loaded", "right"), ("拒绝 rejected", "right"), ("运行 run", "right"))
    for header, justify in columns:
        table.add_column(header, justify=justify, overflow="fold")
    for r in results:
        table.add_row(r.file, r.kind or "-", STATUS_LABELS.get(r.status, r.status), str(r.rows_read),
                      str(r.rows_loaded), str(r.rows_rejected), str(r.run_id) if r.run_id is not None else "-")
    console.print(table)
    for r in results:
        if not r.rejections and not r.warnings:
            continue
        console.print(f"[bold]{r.file}[/bold]")
        for warning in r.warnings:
            console.print(f"  注意 warning: {warning}", markup=False, highlight=False)
        for rej in r.rejections[:SHOWN_REJECTIONS]:
            where = "文件 file" if rej.row is None and rej.column is None else (
                f"列 column {rej.column}" if rej.row is None else f"第{rej.row}行 row {rej.row}, {rej.column}")
            console.print(f"  {where}: {rej.reason}", markup=False, highlight=False)
        more = len(r.rejections) - SHOWN_REJECTIONS
        if more > 0:
            console.print(f"  … 另有 {more} 条 / {more} more", markup=False)
        if r.quarantine_csv is not None:
            console.print(f"  全部拒绝行 all rejected rows: {r.quarantine_csv}", markup=False, highlight=False)
