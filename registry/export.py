"""Frames → downloadable CSV / Excel bytes, safe to open in a spreadsheet.

A cell that starts with = + - @ (or a tab / carriage return) is read as a formula by Excel and WPS
("CSV injection"): firm names and details come from outside files, so such text cells are prefixed
with a single quote. Numbers and dates are written as numbers and dates and are never touched.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import polars as pl
import xlsxwriter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_text(value: str) -> str:
    """The text with a leading ' when a spreadsheet would otherwise evaluate it."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def neutralize_expr(column: str) -> pl.Expr:
    """Vectorised neutralize_text for one string column (nulls stay null)."""
    col = pl.col(column)
    triggered = pl.any_horizontal([col.str.starts_with(t) for t in FORMULA_TRIGGERS])
    return pl.when(triggered).then(pl.lit("'") + col).otherwise(col).alias(column)


def neutralize_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text cell neutralised; non-text columns are kept as they are.

    Nested columns (lists, structs) are flattened to text first: a spreadsheet cell holds one value.
    """
    frame = frame.with_columns(_flatten(n, t) for n, t in frame.schema.items()
                               if isinstance(t, (pl.List, pl.Array, pl.Struct)))
    text_columns = [n for n, t in frame.schema.items() if t in (pl.String, pl.Categorical, pl.Enum)]
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
    return b"\xef\xbb\xbf" + neutralize_frame(frame).write_csv().encode("utf-8")


def to_excel_bytes(frame: pl.DataFrame, sheet_name: str = "data") -> bytes:
    """One sheet, a bold header row, typed cells (numbers as numbers, dates as dates)."""
    safe = neutralize_frame(frame)
    buffer = io.BytesIO()
    # strings_to_formulas/urls off: xlsxwriter must store text as text, whatever it starts with.
    workbook = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False, "constant_memory": True,
    })
    sheet = workbook.add_worksheet(_sheet_title(sheet_name))
    header = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for col_index, name in enumerate(safe.columns):
        sheet.write_string(0, col_index, name, header)
        sheet.set_column(col_index, col_index, _column_width(safe, name))
    datetime_columns = [n for n, t in safe.schema.items() if isinstance(t, pl.Datetime) and t.time_zone]
    # Excel has no time zones: write wall-clock time in the zone the data carries.
    safe = safe.with_columns(pl.col(n).dt.replace_time_zone(None) for n in datetime_columns)
    for row_index, row in enumerate(safe.iter_rows(), start=1):
        for col_index, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(row_index, col_index, value)
            elif isinstance(value, (int, float)):
                sheet.write_number(row_index, col_index, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(row_index, col_index, value, datetime_format)
            elif isinstance(value, date):
                sheet.write_datetime(row_index, col_index, datetime(value.year, value.month, value.day),
                                     date_format)
            else:
                sheet.write_string(row_index, col_index, str(value))
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


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
