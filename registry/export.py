"""Frames → downloadable CSV / Excel bytes, safe to open in a spreadsheet.

A cell that starts with = + - @ (or a tab / carriage return) is read as a formula by Excel and WPS
("CSV injection"): firm names and details come from outside files, so such text cells are prefixed
with a single quote. Numbers and dates are written as numbers and dates and are never touched.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import polars as pl
import xlsxwriter

# xlsxwriter ships no type information: its worksheets and cell formats are Any to mypy.
Worksheet = Any
CellFormat = Any
# Writes one cell: (row, column, value).
CellWriter = Callable[[int, int, Any], object]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def json_text(data: object) -> str:
    """JSON for the CLI's --format json: indented when a person reads it in a terminal, one line when piped."""
    return json.dumps(data, ensure_ascii=False, indent=2 if sys.stdout.isatty() else None)


def neutralize_text(value: str) -> str:
    """The text with a leading ' when a spreadsheet would otherwise evaluate it."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def neutralize_expr(column: str) -> pl.Expr:
    """Vectorised neutralize_text for one string column (nulls stay null)."""
    col = pl.col(column)
    triggered = pl.any_horizontal([col.str.starts_with(t) for t in FORMULA_TRIGGERS])
    return pl.when(triggered).then(pl.lit("'") + col).otherwise(col).alias(column)


def neutralize_frame(frame: pl.DataFrame, *, keep_safe_categories: bool = False) -> pl.DataFrame:
    """Every text cell neutralised; non-text columns are kept as they are.

    Nested columns (lists, structs) are flattened to text first: a spreadsheet cell holds one value.
    `keep_safe_categories` (for CSV, which writes a category as its text): a Categorical or Enum column none of
    whose values would need a quote is left as it is instead of becoming a String column checked cell by cell —
    an evaluation's criterion columns (pass / fail / missing / waived), 50 columns × a million rows.
    """
    frame = frame.with_columns(_flatten(n, t) for n, t in frame.schema.items()
                               if isinstance(t, (pl.List, pl.Array, pl.Struct)))
    safe = ({n for n, t in frame.schema.items() if isinstance(t, (pl.Categorical, pl.Enum))
             and not any(v.startswith(FORMULA_TRIGGERS)
                         for v in frame.get_column(n).unique().cast(pl.String).drop_nulls().to_list())}
            if keep_safe_categories else set())
    text_columns = [n for n, t in frame.schema.items() if t in (pl.String, pl.Categorical, pl.Enum) and n not in safe]
    frame = frame.with_columns(pl.col(n).cast(pl.String) for n in text_columns)
    frame = frame.with_columns(neutralize_expr(n) for n in text_columns)
    return frame.rename({n: neutralize_text(str(n)) for n in frame.columns})


def _flatten(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if isinstance(dtype, pl.Struct):
        return col.struct.json_encode().alias(name)
    if isinstance(dtype, pl.Array):
        col = col.arr.to_list()
    joined = col.list.eval(pl.element().cast(pl.String)).list.join("; ")
    # An empty list is "nothing", shown as an empty cell rather than an empty string.
    return pl.when(joined != "").then(joined).alias(name)


def to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 with BOM: Excel on Chinese Windows opens it without garbling the characters."""
    buffer = io.BytesIO()
    buffer.write(b"\xef\xbb\xbf")
    neutralize_frame(frame, keep_safe_categories=True).write_csv(buffer)  # bytes straight in: no str to encode
    return buffer.getvalue()


def to_excel_bytes(frame: pl.DataFrame, sheet_name: str = "data") -> bytes:
    """One sheet, a bold header row, typed cells (numbers as numbers, dates as dates)."""
    return to_excel_workbook_bytes({sheet_name: frame})


def to_excel_workbook_bytes(sheets: dict[str, pl.DataFrame]) -> bytes:
    """One sheet per frame (in order), each as to_excel_bytes writes it."""
    buffer = io.BytesIO()
    # strings_to_formulas/urls off: xlsxwriter must store text as text, whatever it starts with.
    workbook = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False, "constant_memory": True,
    })
    header = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for sheet_name, frame in sheets.items():
        _write_sheet(workbook.add_worksheet(_sheet_title(sheet_name)), neutralize_frame(frame), header,
                     date_format, datetime_format)
    workbook.close()
    return buffer.getvalue()


def _write_sheet(sheet: Worksheet, safe: pl.DataFrame, header: CellFormat, date_format: CellFormat,
                 datetime_format: CellFormat) -> None:
    for col_index, name in enumerate(safe.columns):
        sheet.write_string(0, col_index, name, header)
        sheet.set_column(col_index, col_index, _column_width(safe, name))
    # Dates become Excel serial numbers in one vectorised step, so the cell loop below only ever writes
    # numbers, booleans or text, with the writer chosen once per column.
    writers = [_cell_writer(sheet, dtype, date_format, datetime_format) for dtype in safe.dtypes]
    safe = safe.with_columns(_excel_serial(n, t) for n, t in safe.schema.items()
                             if t == pl.Date or isinstance(t, pl.Datetime))
    for row_index, row in enumerate(safe.iter_rows(), start=1):
        for col_index, value in enumerate(row):
            if value is not None:
                writers[col_index](row_index, col_index, value)
    sheet.freeze_panes(1, 0)


EXCEL_EPOCH = datetime(1899, 12, 30)


def _excel_serial(name: str, dtype: pl.DataType) -> pl.Expr:
    """Days since Excel's epoch (1899-12-30); a time of day is the fraction. Time zones are dropped: Excel has
    none, so the wall-clock time in the data's own zone is what a reader expects."""
    moment = pl.col(name).cast(pl.Datetime("us"))
    if isinstance(dtype, pl.Datetime) and dtype.time_zone:
        moment = pl.col(name).dt.replace_time_zone(None).cast(pl.Datetime("us"))
    return ((moment - pl.lit(EXCEL_EPOCH)).dt.total_microseconds() / 86_400_000_000).alias(name)


def _cell_writer(sheet: Worksheet, dtype: pl.DataType, date_format: CellFormat,
                 datetime_format: CellFormat) -> CellWriter:
    if dtype == pl.Date:
        return partial(_write_with_format, sheet.write_number, date_format)
    if isinstance(dtype, pl.Datetime):
        return partial(_write_with_format, sheet.write_number, datetime_format)
    # A typed name for xlsxwriter's (untyped) bound writers.
    write: CellWriter = (sheet.write_boolean if dtype == pl.Boolean
                         else sheet.write_number if dtype.is_numeric() else sheet.write_string)
    return write


def _write_with_format(write: Callable[..., object], cell_format: CellFormat, row: int, col: int,
                       value: Any) -> None:
    write(row, col, value, cell_format)


def _sheet_title(name: str) -> str:
    # Excel forbids these characters in sheet names and caps the length at 31.
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in name).strip("'")
    return (cleaned or "data")[:31]


def _column_width(frame: pl.DataFrame, name: str) -> float:
    sample = frame.get_column(name).head(200).cast(pl.String, strict=False).drop_nulls()
    longest = max([_display_width(name)] + [_display_width(v) for v in sample.to_list()])
    return min(60, max(8, longest + 2))


def _display_width(text: str) -> int:
    # CJK characters take two columns in a spreadsheet cell.
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)
