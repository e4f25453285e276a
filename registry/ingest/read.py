"""Read one data file (interfaces A): bytes → encoding → cells → kind → validated, typed rows. No database.

`read_data_file(path, kind=None) -> ParsedFile`. A file that cannot be read at all, or lacks a required column,
raises FileRejected (a UserError whose message names the file and the reason). Rows that fail validation are
not raised: they are listed in `ParsedFile.rejections` with row, column and reason.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from registry.errors import UserError
from registry.ingest.encoding import EncodingRejected, decode
from registry.ingest.guard import UnsafeFile, check_zip_container
from registry.ingest.headers import (
    CATALOGUE,
    KIND_ALIASES,
    KIND_LABELS,
    KINDS,
    HeaderMatch,
    detect_kind,
    match_headers,
    normalize_header,
)
from registry.ingest.validate import validate

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls


@dataclass(frozen=True)
class Rejection:
    row: int | None  # 1-based data row (header excluded); None for the file or a whole column
    column: str | None
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


class FileRejected(UserError):
    """The whole file is rejected: unreadable, unknown kind, or a required column missing."""

    def __init__(self, path: Path | str, reason: str, kind: str | None = None) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason, self.kind = Path(path), reason, kind


@dataclass
class ParsedFile:
    path: Path
    kind: str
    encoding: str  # utf-8 | utf-8-sig | gbk | gb18030 | xlsx | xls
    rows_read: int
    frame: pl.DataFrame  # rows that passed: `row` + the kind's catalogue columns, typed
    rejections: list[Rejection]  # failing cells of rows that did not pass
    unknown_columns: list[str]  # headers kept out of the load (unknown, or a known name with the wrong unit)
    # Beyond interfaces A, for the loader:
    present_columns: list[str] = field(default_factory=list)  # catalogue columns the file has (others: untouched)
    column_notes: list[Rejection] = field(default_factory=list)  # why each unknown column was kept out
    raw: pl.DataFrame = field(default_factory=pl.DataFrame, repr=False)  # cells as written (`row` + headers)
    rejection_frame: pl.DataFrame = field(default_factory=pl.DataFrame, repr=False)  # row, column, reason


def resolve_kind(kind: str | None) -> str | None:
    """`--kind` value → kind id (accepts ids, Chinese names and `targets`); UserError when unknown."""
    if kind is None:
        return None
    resolved = KIND_ALIASES.get(kind.strip().lower()) or KIND_ALIASES.get(kind.strip())
    if resolved is None:
        raise UserError(f"未知的文件类型 unknown kind {kind!r}; expected one of: {', '.join(KINDS)}, targets")
    return resolved


def read_data_file(path: Path | str, kind: str | None = None) -> ParsedFile:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileRejected(path, "文件不存在 / file not found") from None
    except IsADirectoryError:
        raise FileRejected(path, "这是一个文件夹，不是文件 / this is a folder, not a file") from None
    except OSError as exc:
        raise FileRejected(path, f"无法读取文件 / cannot read the file: {exc.strerror or exc}") from None
    return parse_data(data, path, kind)


def parse_data(data: bytes, path: Path, kind: str | None = None) -> ParsedFile:
    """The body of read_data_file, for callers that already hold the bytes (ingestion hashes them first)."""
    kind = resolve_kind(kind)
    encoding, headers, body = _read_table(data, path)
    headers, body, nameless = _drop_nameless_columns(headers, body)
    _reject_repeated_headers(path, headers)
    match = _match(path, headers, kind)

    problems = [f"列 {name} 出现多次（{'、'.join(hs)}） / column {name} appears more than once ({', '.join(hs)})"
                for name, hs in match.duplicates.items()]
    if problems:
        raise FileRejected(path, "; ".join(problems), match.kind)
    if match.missing:
        names = ", ".join(c.label for c in match.missing)
        raise FileRejected(
            path,
            f"缺少必填列 missing required column(s) for {match.kind} ({KIND_LABELS[match.kind]}): {names}",
            match.kind,
        )

    # Rows with every cell blank (spreadsheet padding) are not data; numbering still follows the file.
    body = body.filter(~pl.all_horizontal(pl.exclude("row").is_null() | (pl.exclude("row").str.strip_chars() == "")))
    by_position = dict(zip(headers, body.columns[1:], strict=True))  # header → positional column name
    raw = body.select(pl.col("row"), *(pl.col(by_position[h]).alias(h) for h in headers))
    named = body.select(pl.col("row"), *(pl.col(by_position[h]).alias(c) for h, c in match.columns.items()))
    frame, rejection_frame = validate(match.kind, named)

    notes = [Rejection(None, h, "未知列，未载入 / unknown column, not loaded") for h in match.unknown]
    notes += [Rejection(None, h, reason) for h, reason in match.unit_mismatch.items()]
    notes += [Rejection(None, h, "该列没有表头，未载入 / column without a header, not loaded") for h in nameless]
    return ParsedFile(
        path=path,
        kind=match.kind,
        encoding=encoding,
        rows_read=body.height,
        frame=frame,
        rejections=[Rejection(r, c, why) for r, c, why in rejection_frame.iter_rows()],
        unknown_columns=[n.column for n in notes if n.column is not None],
        present_columns=[c.name for c in CATALOGUE[match.kind] if c.name in match.columns.values()],
        column_notes=notes,
        raw=raw,
        rejection_frame=rejection_frame,
    )


def _match(path: Path, headers: list[str], kind: str | None) -> HeaderMatch:
    if kind not in (None, "targets"):
        return match_headers(kind, headers)
    best, ranked = detect_kind(headers)
    if kind == "targets":
        ranked = [m for m in ranked if m.kind in ("firm_targets", "regional_targets")]
        best = best if best is not None and best.kind in ("firm_targets", "regional_targets") else None
    if best is not None:
        return best
    top = ranked[0]
    # Only the USCC column (shared by every firm kind) or nothing at all: no basis to name a kind.
    if top.matched_required <= 1 and len(top.columns) <= 1:
        shown = ", ".join(headers[:8]) + (" ..." if len(headers) > 8 else "")
        raise FileRejected(
            path,
            f"无法根据表头识别文件类型，请用 --kind 指定 / cannot tell the kind of file from its headers ({shown}); "
            f"give it with --kind ({', '.join(KINDS)})",
        )
    return top


def _read_table(data: bytes, path: Path) -> tuple[str, list[str], pl.DataFrame]:
    """(encoding, headers, body) where body has `row` (1-based data row) then one String column per header."""
    if not data.strip():
        raise FileRejected(path, "文件为空 / the file is empty")
    if path.suffix.lower() in EXCEL_SUFFIXES or data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        return _read_excel(data, path)
    return _read_csv(data, path)


def _read_excel(data: bytes, path: Path) -> tuple[str, list[str], pl.DataFrame]:
    import fastexcel

    encoding = "xls" if data.startswith(_OLE_MAGIC) else "xlsx"
    if data.startswith(_ZIP_MAGIC):
        try:
            check_zip_container(data, path)  # before the reader inflates anything (decompression bombs)
        except UnsafeFile as exc:
            raise FileRejected(path, exc.reason) from None
    try:
        reader = fastexcel.read_excel(data)
        # The first sheet with any cell; officials' workbooks often start with an empty "Sheet1".
        for name in reader.sheet_names:
            sheet = reader.load_sheet(name, header_row=None, dtypes="string").to_polars()
            if sheet.height:
                break
        else:
            raise FileRejected(path, "Excel 文件中没有数据 / the workbook has no data")
    except FileRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure means the file cannot be read
        raise FileRejected(path, f"无法读取 Excel 文件 / cannot read the Excel file: {str(exc).splitlines()[0]}") from None
    headers = [("" if h is None else str(h)) for h in sheet.row(0)]
    body = sheet.slice(1).with_row_index("row", offset=1)
    body = body.rename({c: f"c{i}" for i, c in enumerate(sheet.columns)})
    return encoding, headers, body.with_columns(pl.col("row").cast(pl.Int64))


def _read_csv(data: bytes, path: Path) -> tuple[str, list[str], pl.DataFrame]:
    try:
        decoded = decode(data)
    except EncodingRejected as exc:
        raise FileRejected(path, str(exc)) from None
    text = decoded.utf8
    # The header is the first non-blank line; blank lines above it are not rows.
    text = text.lstrip(b"\r\n")
    first_line = text.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    separator = "\t" if "\t" in first_line and "," not in first_line else ","
    headers = next(csv.reader([first_line], delimiter=separator))
    try:
        body = pl.read_csv(
            io.BytesIO(text), has_header=True, infer_schema=False, separator=separator,
            new_columns=[f"c{i}" for i in range(len(headers))], raise_if_empty=False,
        )
    except pl.exceptions.ComputeError as exc:
        raise FileRejected(path, _csv_error(text, separator, len(headers), exc)) from None
    return decoded.encoding, headers, body.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64))


def _csv_error(text: bytes, separator: str, width: int, exc: Exception) -> str:
    """Name the first row with more cells than the header (the usual cause), else pass the reader's reason on."""
    reader = csv.reader(io.StringIO(text.decode("utf-8")), delimiter=separator)
    next(reader, None)
    for row_no, cells in enumerate(reader, start=1):
        if len(cells) > width:
            return (f"第{row_no}行（数据行）有{len(cells)}个字段，多于表头的{width}列 / data row {row_no} has "
                    f"{len(cells)} fields, more than the {width} header columns")
    return f"CSV 格式错误 / malformed CSV: {str(exc).splitlines()[0]}"


def _reject_repeated_headers(path: Path, headers: list[str]) -> None:
    seen: dict[str, str] = {}
    for header in headers:
        folded = normalize_header(header)
        if folded in seen:
            raise FileRejected(path, f"表头“{header}”出现多次，无法确定使用哪一列 / header {header!r} appears more "
                                     f"than once; cannot tell which column to use")
        seen[folded] = header


def _drop_nameless_columns(headers: list[str], body: pl.DataFrame) -> tuple[list[str], pl.DataFrame, list[str]]:
    """Columns without a header: dropped silently when empty (trailing commas), reported when they hold data."""
    keep_headers: list[str] = []
    keep_columns: list[str] = ["row"]
    nameless: list[str] = []
    for i, header in enumerate(headers):
        column = f"c{i}"
        header = header.strip()
        if header:
            keep_headers.append(header)
            keep_columns.append(column)
        elif body.get_column(column).str.strip_chars().replace("", None).drop_nulls().len():
            nameless.append(f"第{i + 1}列 column {i + 1}")
    return keep_headers, body.select(keep_columns), nameless
