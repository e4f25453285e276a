"""Query results → polars frames, fast, on both engines (the read path of `zjtx flags`, `evaluate`, the jobs).

Turning database rows into Python objects and then into a frame costs far more than the database's own work:
for 600,000 report rows that was 8–13 s through SQLAlchemy + `pl.read_database`, against ≈ 1 s of CPU for a
columnar reader (docs/benchmarks.md, "## Flags"). So, when the driver package is installed:

- PostgreSQL → ADBC (`adbc-driver-postgresql`, Apache Arrow): binary COPY straight into Arrow. All queries of
  one call run in ONE read-only REPEATABLE READ transaction, so the frames are one snapshot: a file being
  ingested meanwhile is either wholly in them or not at all.
- SQLite (a file) → ADBC (`adbc-driver-sqlite`): SQLite's own library straight into Arrow, all queries of one
  call in one read transaction (one WAL snapshot). The driver guesses each column's type from its first batch
  of rows and fails when a later row disagrees (a column that starts with NULLs), so the batch is made as large
  as the result (one batch, typed from every row: integers and reals mix into reals; text among numbers, which
  zjtx's typed columns never hold, is an error); dates arrive as ISO text and are parsed here. Without the
  package the standard library's sqlite3 cursor reads it, column-wise into typed Series (3–4× the CPU).
  Not connectorx: it does not see rows committed to the WAL after its first read of a file (stale until a
  checkpoint — tests/test_fastread.py reads right after a write).
- anything else (`:memory:`, another dialect, the packages missing) → SQLAlchemy + `pl.read_database`, in one
  transaction.

Statements are compiled with their values inlined (`literal_binds`: SQLAlchemy quotes them), because the fast
readers take SQL text only. So a statement that groups by a string literal (`GROUP BY 'renewal'`) is refused by
PostgreSQL ("non-integer constant in GROUP BY"): this path is for reading columns of tables, where it pays;
small aggregates read through SQLAlchemy are as fast. Every frame is returned with exactly the given schema,
empty or not.
"""

from __future__ import annotations

import importlib.util
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

READERS = ("adbc", "sqlite3", "sqlalchemy")
# One Arrow batch for the whole result, so that ADBC's SQLite driver types each column from every row.
_SQLITE_BATCH_ROWS = str(2**30)
Schema = Mapping[str, Any]
Query = sa.Select | sa.TextClause | str


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _sqlite_file(engine: sa.Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).resolve()


def reader_for(engine: sa.Engine) -> str:
    """The fastest reader available for this engine: adbc | sqlite3 | sqlalchemy."""
    if engine.dialect.name == "postgresql" and _installed("adbc_driver_postgresql"):
        return "adbc"
    if _sqlite_file(engine) is not None:
        return "adbc" if _installed("adbc_driver_sqlite") else "sqlite3"
    return "sqlalchemy"


def sql_text(engine: sa.Engine, query: Query) -> str:
    """The query as SQL text with its values inlined, for a driver that is not SQLAlchemy's."""
    if isinstance(query, str):
        return query
    # A dialect without the psycopg "format" paramstyle, so that '%' in LIKE patterns is not doubled.
    dialect = postgresql.dialect(paramstyle="named") if engine.dialect.name == "postgresql" else sqlite.dialect()
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True, "render_postcompile": True}))


def conform(frame: pl.DataFrame, schema: Schema) -> pl.DataFrame:
    """Exactly `schema`'s columns in its order and types (a column the query did not return is an error)."""
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise KeyError(f"query returned no column(s) {missing}; it returned {frame.columns}")
    return frame.select(pl.col(c).cast(t) for c, t in schema.items())


def read_frames(engine: sa.Engine, queries: Mapping[str, tuple[Query, Schema]],
                reader: str | None = None) -> dict[str, pl.DataFrame]:
    """Run every query and return its rows as a frame of exactly its schema, keyed like `queries`.

    `reader` forces adbc | sqlite3 | sqlalchemy (tests compare them); by default the fastest available."""
    chosen = reader or reader_for(engine)
    if chosen not in READERS:
        raise ValueError(f"reader {chosen!r}: expected one of {READERS}")
    if chosen == "adbc" and engine.dialect.name == "sqlite":
        frames = _read_adbc_sqlite(engine, queries)
    elif chosen == "adbc":
        frames = _read_adbc(engine, queries)
    elif chosen == "sqlite3":
        frames = _read_sqlite3(engine, queries)
    else:
        frames = _read_sqlalchemy(engine, queries)
    return {name: conform(frames[name], schema) for name, (_, schema) in queries.items()}


def read_frame(engine: sa.Engine, query: Query, schema: Schema, reader: str | None = None) -> pl.DataFrame:
    """One query's rows as a frame of exactly `schema`."""
    return read_frames(engine, {"frame": (query, schema)}, reader)["frame"]


def _libpq_uri(engine: sa.Engine) -> str:
    # libpq takes the SQLAlchemy URL minus the "+driver" part; query options (sslmode, host=...) pass through.
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _read_adbc(engine: sa.Engine, queries: Mapping[str, tuple[Query, Schema]]) -> dict[str, pl.DataFrame]:
    import adbc_driver_postgresql.dbapi as adbc_pg

    frames: dict[str, pl.DataFrame] = {}
    with adbc_pg.connect(_libpq_uri(engine)) as conn, conn.cursor() as cur:
        # The dbapi layer has opened a transaction; make it one snapshot for every query below.
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        for name, (query, schema) in queries.items():
            cur.execute(sql_text(engine, query))
            frames[name] = _from_arrow(cur.fetch_arrow_table(), schema)
        conn.rollback()  # read only: nothing to keep
    return frames


def _read_adbc_sqlite(engine: sa.Engine, queries: Mapping[str, tuple[Query, Schema]]) -> dict[str, pl.DataFrame]:
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    frames: dict[str, pl.DataFrame] = {}
    with adbc_sqlite.connect(f"file:{urllib.parse.quote(str(_sqlite_file(engine)))}?mode=ro") as conn, \
            conn.cursor() as cur:
        # Not autocommit: the first query opens the read transaction that every later query of this call shares.
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": _SQLITE_BATCH_ROWS})
        for name, (query, schema) in queries.items():
            cur.execute(sql_text(engine, query))
            frames[name] = _typed_sqlite_frame(_from_arrow(cur.fetch_arrow_table(), schema), schema)
        conn.rollback()
    return frames


def _typed_sqlite_frame(frame: pl.DataFrame, schema: Schema) -> pl.DataFrame:
    """Dates and timestamps arrive as the ISO text SQLAlchemy stored; the rest is cast by conform()."""
    return frame.with_columns(
        _sqlite_series(name, frame[name], dtype) for name, dtype in schema.items()
        if name in frame.columns and frame[name].dtype == pl.String
        and (dtype == pl.Date or isinstance(dtype, pl.Datetime) or dtype == pl.Datetime))


def _read_sqlite3(engine: sa.Engine, queries: Mapping[str, tuple[Query, Schema]]) -> dict[str, pl.DataFrame]:
    import sqlite3

    conn = sqlite3.connect(f"file:{urllib.parse.quote(str(_sqlite_file(engine)))}?mode=ro", uri=True,
                           isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN")  # one snapshot for every query of this call
        frames = {}
        for name, (query, schema) in queries.items():
            cur = conn.execute(sql_text(engine, query))
            names = [d[0] for d in cur.description]
            columns = list(zip(*cur.fetchall(), strict=True)) or [()] * len(names)
            frames[name] = pl.DataFrame([_sqlite_series(n, list(v), schema.get(n)) for n, v in zip(names, columns,
                                                                                                  strict=True)])
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    return frames


def _sqlite_series(name: str, values: list, dtype: Any) -> pl.Series:
    """SQLite hands back dates and timestamps as ISO text (as SQLAlchemy stored them): parse those; other values
    are built straight into the requested type."""
    if dtype == pl.Date:
        return pl.Series(name, values, dtype=pl.String).str.to_date("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime) or dtype == pl.Datetime:
        parsed = pl.Series(name, values, dtype=pl.String).str.to_datetime(time_zone="UTC")
        return parsed if getattr(dtype, "time_zone", None) else parsed.dt.replace_time_zone(None)
    if dtype is None:
        return pl.Series(name, values)
    return pl.Series(name, values, dtype=dtype)


def _from_arrow(table, schema: Schema) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    # An empty result of a query with no typed columns comes back without columns: give it the schema.
    return pl.DataFrame(schema=dict(schema)) if frame.width == 0 else frame


def _read_sqlalchemy(engine: sa.Engine, queries: Mapping[str, tuple[Query, Schema]]) -> dict[str, pl.DataFrame]:
    frames: dict[str, pl.DataFrame] = {}
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        for name, (query, schema) in queries.items():
            stmt = sa.text(query) if isinstance(query, str) else query
            frame = pl.read_database(stmt, connection=conn, schema_overrides=dict(schema), infer_schema_length=None)
            frames[name] = pl.DataFrame(schema=dict(schema)) if frame.width == 0 else frame
    return frames
