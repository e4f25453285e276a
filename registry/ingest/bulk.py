"""Bulk reads and writes between polars frames and the database, inside the caller's transaction.

Writes go through the driver's fastest path: SQLite `executemany` of plain INSERT/UPDATE, PostgreSQL `COPY`
(straight into the table for inserts; into a temporary table, then one UPDATE ... FROM, for updates). Frames
hold database-ready columns named as the table's: Date, Datetime (UTC), numbers, strings, JSON as text.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
import sqlalchemy as sa

# Rows per executemany / COPY chunk: large enough to amortise calls, small enough for a smooth progress bar.
CHUNK_ROWS = 50_000
# Above this many keys a filtered read costs more round trips than reading the table and filtering in polars.
IN_LIST_LIMIT = 20_000
# Page cache for big SQLite writes, in KiB (negative = size rather than pages, as PRAGMA cache_size takes it).
SQLITE_BULK_CACHE_KIB = -262_144
_IN_CHUNK = 1_000

Progress = Callable[[int], None]  # called with the number of rows just written
# Column → polars type of a frame read back: dtype classes (pl.String) as well as instances.
Schema = Mapping[str, pl.DataType | type[pl.DataType]]
_temp_names = itertools.count(1)


def dialect(conn: sa.Connection) -> str:
    return conn.dialect.name


def _driver(conn: sa.Connection) -> Any:
    """The driver's own connection (sqlite3 or psycopg: executemany, COPY), beyond the DB-API SQLAlchemy types."""
    return conn.connection.dbapi_connection


def _sqlite_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Values as SQLAlchemy stores them in SQLite: dates 'YYYY-MM-DD', timestamps 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    casts = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            casts.append(pl.col(name).dt.to_string("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            casts.append(pl.col(name).dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%d %H:%M:%S.%6f")
                         if dtype.time_zone else pl.col(name).dt.to_string("%Y-%m-%d %H:%M:%S.%6f"))
        elif dtype == pl.Boolean:
            casts.append(pl.col(name).cast(pl.Int8))
    return frame.with_columns(casts) if casts else frame


def _sql_literal(column: pl.Series) -> str | None:
    """SQL literal of a column holding one value in every row (None when it varies or cannot be written)."""
    if column.n_unique() != 1:
        return None
    value = column[0]
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return None


def _chunks(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    for offset in range(0, frame.height, CHUNK_ROWS):
        yield frame.slice(offset, CHUNK_ROWS)


def _write_chunk(conn: sa.Connection, statement: str, chunk: pl.DataFrame) -> None:
    """One chunk through the driver (SQLite executemany; PostgreSQL COPY of CSV)."""
    if dialect(conn) == "sqlite":  # the chunk is already _sqlite_ready
        cursor = _driver(conn).cursor()
        try:
            cursor.executemany(statement, chunk.iter_rows())
        finally:
            cursor.close()
        return
    buffer = io.BytesIO()
    chunk.write_csv(buffer, include_header=False, null_value="\\N",
                    datetime_format="%Y-%m-%d %H:%M:%S%.6f%:z", date_format="%Y-%m-%d")
    with _driver(conn).cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(buffer.getvalue())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def insert_frame(conn: sa.Connection, table: str, frame: pl.DataFrame, progress: Progress | None = None) -> int:
    """Append every row of `frame` to `table`; returns the number of rows written."""
    if frame.is_empty():
        return 0
    columns = ", ".join(_quote(c) for c in frame.columns)
    if dialect(conn) == "sqlite":
        frame = _sqlite_ready(frame)
        # Turning polars values into Python objects is most of executemany's cost: a column with one value for
        # every row (run id, timestamp, basis ...) goes into the statement as a literal instead.
        literals = {c: _sql_literal(frame.get_column(c)) for c in frame.columns if frame.height > 1}
        constants = {c: v for c, v in literals.items() if v is not None}
        if len(constants) == frame.width:  # a frame needs one bound column to keep its row count
            constants.pop(frame.columns[0])
        values = ", ".join(constants.get(c, "?") for c in frame.columns)
        statement = f"INSERT INTO {_quote(table)} ({columns}) VALUES ({values})"
        frame = frame.drop(list(constants))
    else:
        statement = f"COPY {_quote(table)} ({columns}) FROM STDIN (FORMAT csv, NULL '\\N')"
    with _large_cache(conn, frame.height):
        for chunk in _chunks(frame):
            _write_chunk(conn, statement, chunk)
            if progress:
                progress(chunk.height)
    return frame.height


@contextmanager
def _large_cache(conn: sa.Connection, rows: int) -> Iterator[None]:
    """SQLite's default 2 MB page cache thrashes on the indexes of a million-row insert; give this connection a
    larger one (pages are only allocated as used) for the duration, then restore it."""
    if dialect(conn) != "sqlite" or rows < CHUNK_ROWS:
        yield
        return
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = {SQLITE_BULK_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


def update_frame(conn: sa.Connection, table: str, frame: pl.DataFrame, key: str = "id",
                 progress: Progress | None = None) -> int:
    """Set the other columns of `frame` on the rows of `table` whose `key` matches; returns rows given."""
    if frame.is_empty():
        return 0
    columns = [c for c in frame.columns if c != key]
    if dialect(conn) == "sqlite":
        assignments = ", ".join(f"{_quote(c)} = ?" for c in columns)
        statement = f"UPDATE {_quote(table)} SET {assignments} WHERE {_quote(key)} = ?"
        ordered = _sqlite_ready(frame.select(*columns, key))
        with _large_cache(conn, frame.height):
            for chunk in _chunks(ordered):
                _write_chunk(conn, statement, chunk)
                if progress:
                    progress(chunk.height)
        return frame.height
    # PostgreSQL: COPY into a temporary copy of the columns' types, then one set-based UPDATE.
    temp = f"_zjtx_update_{next(_temp_names)}"
    selected = ", ".join(_quote(c) for c in frame.columns)
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {temp} AS SELECT {selected} FROM {_quote(table)} WITH NO DATA")
    try:
        insert_frame(conn, temp, frame, progress)
        assignments = ", ".join(f"{_quote(c)} = s.{_quote(c)}" for c in columns)
        conn.exec_driver_sql(
            f"UPDATE {_quote(table)} AS t SET {assignments} FROM {temp} AS s WHERE t.{_quote(key)} = s.{_quote(key)}"
        )
    finally:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {temp}")
    return frame.height


def date_text(column: str) -> str:
    """SQL for a DATE column read back as 'YYYY-MM-DD' text on both engines (parsed by fetch_frame)."""
    return f"CAST({column} AS TEXT)"


def fetch_frame(conn: sa.Connection, sql: str, schema: Schema,
                params: dict[str, Any] | None = None, expanding: Sequence[str] = ()) -> pl.DataFrame:
    """Run `sql` and return its rows as a frame with `schema` (Date columns must be selected with date_text)."""
    statement = sa.text(sql)
    if expanding:
        statement = statement.bindparams(*(sa.bindparam(name, expanding=True) for name in expanding))
    rows = conn.execute(statement, params or {}).fetchall()
    text_schema = {n: (pl.String if t == pl.Date else t) for n, t in schema.items()}
    frame = pl.DataFrame([tuple(r) for r in rows], schema=text_schema, orient="row")
    dates = [n for n, t in schema.items() if t == pl.Date]
    # A timestamp-looking text (older rows written by other tools) still has its date first.
    return frame.with_columns(pl.col(n).str.slice(0, 10).str.to_date("%Y-%m-%d") for n in dates) if dates else frame


def fetch_where_in(conn: sa.Connection, sql: str, column: str, values: Sequence[Any], schema: Schema,
                   params: dict[str, Any] | None = None) -> pl.DataFrame:
    """Rows of `sql` (which ends in a WHERE clause ready for one more `AND`) whose `column` is in `values`.

    Few values: IN-lists in chunks. Many: one read of everything `sql` selects, filtered in polars — a million
    keys as bind parameters would be slower than the scan.
    """
    values = list(values)
    if not values:
        return pl.DataFrame(schema=schema)
    if len(values) > IN_LIST_LIMIT:
        frame = fetch_frame(conn, sql, schema, params)
        return frame.filter(pl.col(column.split(".")[-1]).is_in(pl.Series(values).implode()))
    parts = [
        fetch_frame(conn, f"{sql} AND {column} IN :_keys", schema, {**(params or {}), "_keys": values[i:i + _IN_CHUNK]},
                    expanding=("_keys",))
        for i in range(0, len(values), _IN_CHUNK)
    ]
    return pl.concat(parts)
