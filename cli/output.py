"""Where a command's result goes: --format table | json | csv | xlsx, on standard output or into --output FILE.
One place for `zjtx evaluate`, `screen`, `impact` and `review-risk`, so their formats behave alike."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Annotated

import typer

from registry.errors import UserError

FORMATS = ("table", "json", "csv", "xlsx")
OutputFile = Annotated[Path | None, typer.Option("--output", help="Write to this file instead of standard output.")]


# `impact` and `review-risk` were documented with "text" for what the others call "table": both names work everywhere.
FORMAT_ALIASES = {"text": "table"}


def check_format(output_format: str, output: Path | None, lang: str = "zh") -> str:
    """The format's one name; refuses a format, language or missing --output before any work is done."""
    output_format = FORMAT_ALIASES.get(output_format, output_format)
    if lang not in ("zh", "en"):
        raise UserError(f"--lang {lang!r}: 只支持 / expected zh | en")
    if output_format not in FORMATS:
        raise UserError(f"--format {output_format!r}: 只支持 / expected one of {', '.join(FORMATS)}")
    if output_format == "xlsx" and output is None:
        raise UserError("--format xlsx 需要 --output 文件路径 / needs --output PATH")
    return output_format


def emit(output_format: str, output: Path | None, *, table: Callable[[], None],
         csv: Callable[[], bytes], xlsx: Callable[[], bytes], rows: str,
         json_data: Callable[[], object] | None = None,
         json_stream: Callable[[IO[str], bool], None] | None = None) -> None:
    """The result in the chosen format (checked by check_format); only that format's content is built.
    JSON comes from `json_data` (an object to dump) or `json_stream(out, indent)` (writes itself, for results too
    large to hold as one string); indented when a person reads it in a terminal.
    `rows` names what an Excel file holds ("12 firms"), said on stderr since the file is not shown."""
    if output_format == "json":
        from registry.export import json_text  # indented in a terminal, one line in a pipe

        if json_stream is not None:
            if output is None:
                json_stream(sys.stdout, sys.stdout.isatty())
            else:
                with output.open("w", encoding="utf-8") as out:
                    json_stream(out, False)
            return
        text = json_text(json_data() if json_data is not None else None)
        if output is None:
            typer.echo(text)
        else:
            output.write_text(text + "\n", encoding="utf-8")
    elif output_format == "csv":
        data = csv()
        if output is None:
            sys.stdout.buffer.write(data)
        else:
            output.write_bytes(data)
    elif output_format == "xlsx":
        if output is None:  # check_format refuses it; said again for the type checker
            raise UserError("--format xlsx 需要 --output 文件路径 / needs --output PATH")
        output.write_bytes(xlsx())
        typer.echo(f"{rows} → {output}", err=True)
    else:
        table()
