"""Read one data file (interfaces A): bytes → encoding → cells → kind → validated, typed rows. No database.

`read_data_file(path, kind=None) -> ParsedFile`. A file that cannot be read at all, or lacks a required column,
raises FileRejected (a UserError whose message names the file and the reason). Rows that fail validation are
not raised: they are listed in `ParsedFile.rejections` with row, column and reason.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from polars.exceptions import PanicException

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
from registry.ingest.validate import INVISIBLE, validate

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


# Control characters (NUL first: PostgreSQL cannot store it) and direction overrides, as they may reach a reason
# through a header or a reader's message quoting the file.
_INVISIBLE = re.compile(f"[{INVISIBLE}]")


def visible(text: str) -> str:
    """`text` with every invisible control character written out (U+0000), safe to store and to show."""
    return _INVISIBLE.sub(lambda m: f"U+{ord(m.group()):04X}", text)


class FileRejected(UserError):
    """The whole file is rejected: unreadable, unknown kind, or a required column missing."""

    def __init__(self, path: Path | str, reason: str, kind: str | None = None) -> None:
        reason = visible(reason)
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
    warnings: list[str] = field(default_factory=list)  # about the file, not its rows (e.g. other sheets ignored)


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
    return parse_data(read_regular_file(path), path, kind)


def read_regular_file(path: Path, *, follow_symlinks: bool = True) -> bytes:
    """The bytes of a regular file; FileRejected (naming the file) for anything else. Opened without blocking
    (a named pipe would wait for a writer forever) and, from the inbox, without following a symbolic link: a
    link planted there must not make the scheduler read a file it points to."""
    if not follow_symlinks and path.is_symlink():
        raise FileRejected(path, "这是符号链接，已拒绝（不跟随读取） / a symbolic link: refused, not followed")
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileRejected(path, "文件不存在 / file not found") from None
    except OSError as exc:
        raise FileRejected(path, f"无法读取文件 / cannot read the file: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileRejected(path, "不是普通文件（文件夹、管道或设备），已拒绝 / not a regular file (a folder, pipe "
                                     "or device): refused")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError as exc:
        raise FileRejected(path, f"无法读取文件 / cannot read the file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def parse_data(data: bytes, path: Path, kind: str | None = None) -> ParsedFile:
    """The body of read_data_file, for callers that already hold the bytes (ingestion hashes them first)."""
    kind = resolve_kind(kind)
    try:
        encoding, headers, body, warnings = _read_table(data, path)
    except FileRejected:
        raise
    except (Exception, PanicException) as exc:  # noqa: BLE001 - whatever the readers raise, the file is unreadable
        # A reader failure is a property of the file's bytes: it would fail the same way on every retry, so the
        # file is rejected (and quarantined from the inbox) instead of failing the whole run.
        raise FileRejected(path, f"无法读取文件 / cannot read the file: {_first_line(exc)}") from None
    headers, body, nameless = _drop_nameless_columns(headers, body)
    _reject_invisible_headers(path, headers)
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
        warnings=warnings,
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


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message (readers' messages run on with hints), with its type as a
    fallback."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _read_table(data: bytes, path: Path) -> tuple[str, list[str], pl.DataFrame, list[str]]:
    """(encoding, headers, body, warnings) where body has `row` (1-based data row) then one String column per
    header."""
    if not data.strip():
        raise FileRejected(path, "文件为空 / the file is empty")
    if path.suffix.lower() in EXCEL_SUFFIXES or data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        return _read_excel(data, path)
    return (*_read_csv(data, path), [])


def _read_excel(data: bytes, path: Path) -> tuple[str, list[str], pl.DataFrame, list[str]]:
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
        # One kind per file: later sheets with data are not read, and the file's outcome says so.
        later = reader.sheet_names[reader.sheet_names.index(name) + 1:]
        ignored = [other for other in later
                   if reader.load_sheet(other, header_row=None, n_rows=1, dtypes="string").to_polars().height]
    except FileRejected:
        raise
    except (Exception, PanicException) as exc:  # noqa: BLE001 - any reader failure means the file cannot be read
        raise FileRejected(path, f"无法读取 Excel 文件 / cannot read the Excel file: {_first_line(exc)}") from None
    warnings = [f"工作表“{other}”未读取：每个文件只载入一种数据（已读取工作表“{name}”） / sheet {other!r} ignored: "
                f"one kind per file (sheet {name!r} was read)" for other in ignored]
    headers = [("" if h is None else str(h)) for h in sheet.row(0)]
    body = sheet.slice(1).with_row_index("row", offset=1)
    body = body.rename({c: f"c{i}" for i, c in enumerate(sheet.columns)})
    return encoding, headers, body.with_columns(pl.col("row").cast(pl.Int64)), warnings


def _read_csv(data: bytes, path: Path) -> tuple[str, list[str], pl.DataFrame]:
    try:
        decoded = decode(data)
    except EncodingRejected as exc:
        raise FileRejected(path, str(exc)) from None
    text = decoded.utf8
    if b"\r" in text and b"\n" not in text:
        # Old Mac line endings (CR only, as Excel for Mac still writes "CSV (Macintosh)"): the reader splits
        # lines on LF, so without this the whole file would be one line.
        text = text.replace(b"\r", b"\n")
    # The header is the first non-blank line; blank lines above it are not rows.
    text = text.lstrip(b"\r\n")
    first_line = text.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    separator = "\t" if "\t" in first_line and "," not in first_line else ","
    headers: list[str] = []
    try:
        # The header row read by the same reader as the body, so a quoted line break inside a header ("营业收入
        # ⏎(万元)") is one header, as the body's column count expects.
        header_row = pl.read_csv(io.BytesIO(text), has_header=False, n_rows=1, infer_schema=False,
                                 separator=separator, raise_if_empty=False, truncate_ragged_lines=True)
        headers = ["" if h is None else h for h in header_row.row(0)] if header_row.height else []
        body = pl.read_csv(
            io.BytesIO(text), has_header=True, infer_schema=False, separator=separator,
            new_columns=[f"c{i}" for i in range(len(headers))], raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as exc:
        raise FileRejected(path, _csv_error(text, separator, len(headers), exc)) from None
    if not headers:
        raise FileRejected(path, "文件为空 / the file is empty")
    return decoded.encoding, headers, body.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64))


def _csv_error(text: bytes, separator: str, width: int, exc: Exception) -> str:
    """Name the first row with more cells than the header (the usual cause), else pass the reader's reason on."""
    try:
        reader = csv.reader(io.StringIO(text.decode("utf-8"), newline=""), delimiter=separator)
        next(reader, None)
        for row_no, cells in enumerate(reader, start=1):
            if width and len(cells) > width:
                return (f"第{row_no}行（数据行）有{len(cells)}个字段，多于表头的{width}列 / data row {row_no} has "
                        f"{len(cells)} fields, more than the {width} header columns")
    except csv.Error:
        pass  # the reader's own reason below is the better one
    return f"CSV 格式错误 / malformed CSV: {_first_line(exc)}"


def _reject_invisible_headers(path: Path, headers: list[str]) -> None:
    # A header is stored with the rejections of its column: one with a NUL would fail the file on PostgreSQL.
    for number, header in enumerate(headers, start=1):
        if _INVISIBLE.search(header):
            raise FileRejected(path, f"第{number}列表头含有控制字符或方向控制符：{visible(header)} / header {number} "
                                     f"contains a control character or direction override: {visible(header)}")


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
