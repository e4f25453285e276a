"""Query results → polars frames, fast, on both engines (the read path of `zjtx flags`, `evaluate`, the jobs).

Turning database rows into Python objects and then into a frame costs far more than the database's own work:
for 600,000 report rows that was 8–13 s through SQLAlchemy + `pl.read_database`, against ≈ 1 s of CPU for a
columnar reader (docs/benchmarks.md, "## Flags"). So, when the driver package is installed:

- PostgreSQL → ADBC (`adbc-driver-postgresql`, Apache Arrow): binary COPY straight into Arrow. All queries of
  one call run in ONE read-only REPEATABLE READ transaction, so the frames are one snapshot: a file being
  ingested meanwhile is either wholly in them or not at all.
- SQLite (a file) → the standard library's sqlite3, on a connection of the engine's own pool (so with
  registry/db.py's settings: WAL, busy timeout), all queries of one call in one read transaction (one WAL
  snapshot), rows fetched in chunks and built column-wise into typed frames; dates arrive as ISO text and are
  parsed here. Never a second SQLite library (ADBC's `adbc-driver-sqlite`, connectorx): two SQLite libraries in
  one process do not share their POSIX locks, so closing the second one's handle drops the first one's locks
  and another process's exit then deletes the WAL under this one — rows lost, a disabled user still signed in,
  a malformed file (issue 16; tests/test_sqlite_processes.py, docs/deployment.md "SQLite: several processes").
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
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

READERS = ("adbc", "sqlite3", "sqlalchemy")
# Rows fetched from sqlite3 per chunk: the Python tuples of one chunk at a time, not of the whole result.
_SQLITE_CHUNK_ROWS = 50_000
Schema = Mapping[str, Any]
# A SELECT of any columns (SQLAlchemy types a Select by the tuple of its column types).
Query = sa.Select[*tuple[Any, ...]] | sa.TextClause | str
# A query built, in the same call and snapshot, from the frames its earlier queries returned (keyed as in
# `queries`): for a read whose SQL depends on what an earlier query found (registry.policy.bundle).
Deferred = Callable[[Mapping[str, pl.DataFrame]], Query]
Queries = Mapping[str, tuple[Query | Deferred, Schema]]


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _sqlite_file(engine: sa.Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).resolve()


def reader_for(engine: sa.Engine) -> str:
    """The fastest reader available for this engine: adbc (PostgreSQL) | sqlite3 (a SQLite file) | sqlalchemy."""
    if engine.dialect.name == "postgresql" and _installed("adbc_driver_postgresql"):
        return "adbc"
    if _sqlite_file(engine) is not None:
        return "sqlite3"
    return "sqlalchemy"


def sql_text(engine: sa.Engine, query: Query) -> str:
    """The query as SQL text with its values inlined, for a driver that is not SQLAlchemy's."""
    if isinstance(query, str):
        return query
    # A dialect without the psycopg "format" paramstyle, so that '%' in LIKE patterns is not doubled.
    # (SQLAlchemy leaves PGDialect_psycopg.__init__ unannotated.)
    dialect = (postgresql.dialect(paramstyle="named")  # type: ignore[no-untyped-call]
               if engine.dialect.name == "postgresql" else sqlite.dialect())
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True, "render_postcompile": True}))


def conform(frame: pl.DataFrame, schema: Schema) -> pl.DataFrame:
    """Exactly `schema`'s columns in its order and types (a column the query did not return is an error)."""
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise KeyError(f"query returned no column(s) {missing}; it returned {frame.columns}")
    return frame.select(pl.col(c).cast(t) for c, t in schema.items())


def read_frames(engine: sa.Engine, queries: Queries,
                reader: str | None = None) -> dict[str, pl.DataFrame]:
    """Run every query and return its rows as a frame of exactly its schema, keyed like `queries`.

    `reader` forces adbc | sqlite3 | sqlalchemy (tests compare them); by default the fastest available. Queries
    run in their order; a Deferred one is built from the frames read before it."""
    chosen = reader or reader_for(engine)
    if chosen not in READERS:
        raise ValueError(f"reader {chosen!r}: expected one of {READERS}")
    if chosen == "adbc" and engine.dialect.name != "postgresql":
        raise ValueError(f"reader 'adbc' reads PostgreSQL only, not {engine.dialect.name}")
    if chosen == "sqlite3" and _sqlite_file(engine) is None:
        raise ValueError(f"reader 'sqlite3' reads a SQLite file only, not {engine.url.render_as_string()}")
    if chosen == "adbc":
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


def _built(query: Query | Deferred, frames: Mapping[str, pl.DataFrame]) -> Query:
    return query if isinstance(query, sa.Select | sa.TextClause | str) else query(frames)


def _read_adbc(engine: sa.Engine, queries: Queries) -> dict[str, pl.DataFrame]:
    import adbc_driver_postgresql.dbapi as adbc_pg

    frames: dict[str, pl.DataFrame] = {}
    with adbc_pg.connect(_libpq_uri(engine)) as conn, conn.cursor() as cur:
        # The dbapi layer has opened a transaction; make it one snapshot for every query below.
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        for name, (query, schema) in queries.items():
            cur.execute(sql_text(engine, _built(query, frames)))
            frames[name] = _from_arrow(cur.fetch_arrow_table(), schema)
        conn.rollback()  # read only: nothing to keep
    return frames


def _read_sqlite3(engine: sa.Engine, queries: Queries) -> dict[str, pl.DataFrame]:
    with sqlite_snapshot(engine) as conn:
        return read_sqlite_frames(engine, conn, queries)


@contextmanager
def sqlite_snapshot(engine: sa.Engine) -> Iterator[sqlite3.Connection]:
    """The sqlite3 connection of one of the engine's pooled connections, in a read transaction: everything read
    through it is one WAL snapshot. A pooled connection, not a private one: the same SQLite library and settings
    as every other connection of this process (a private connection opened and closed here would also cost a
    file open per call)."""
    pooled = engine.raw_connection()
    try:
        conn = pooled.driver_connection
        assert isinstance(conn, sqlite3.Connection)
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.rollback()  # read only: nothing to keep
    finally:
        pooled.close()  # back to the pool


def read_sqlite_frames(engine: sa.Engine, conn: sqlite3.Connection,
                       queries: Queries) -> dict[str, pl.DataFrame]:
    """Every query's rows on `conn` (a sqlite_snapshot), as frames of exactly their schemas."""
    frames: dict[str, pl.DataFrame] = {}
    for name, (query, schema) in queries.items():
        frames[name] = conform(_sqlite_frame(conn.execute(sql_text(engine, _built(query, frames))), schema), schema)
    return frames


def _sqlite_frame(cursor: sqlite3.Cursor, schema: Schema) -> pl.DataFrame:
    """The cursor's rows, built into columns of the schema's types chunk by chunk; dates and timestamps arrive as
    the ISO text SQLAlchemy stored and are parsed."""
    names = [d[0] for d in cursor.description]
    as_text = {n for n in names if _is_temporal(schema.get(n))}
    types = {n: pl.String if n in as_text else schema[n] for n in names if n in schema}
    chunks = []
    while rows := cursor.fetchmany(_SQLITE_CHUNK_ROWS):
        chunks.append(pl.DataFrame(rows, schema=names, schema_overrides=types, orient="row",
                                   infer_schema_length=None))
    frame = pl.concat(chunks) if chunks else pl.DataFrame([], schema=names, schema_overrides=types, orient="row")
    return frame.with_columns(_parsed_text(frame[n], schema[n]) for n in as_text)


def _is_temporal(dtype: Any) -> bool:
    return dtype == pl.Date or isinstance(dtype, pl.Datetime) or dtype == pl.Datetime


def _parsed_text(text: pl.Series, dtype: Any) -> pl.Series:
    """A date or timestamp column SQLite handed back as ISO text, parsed into `dtype`."""
    if dtype == pl.Date:
        return text.str.to_date("%Y-%m-%d")
    parsed = text.str.to_datetime(time_zone="UTC")
    return parsed if getattr(dtype, "time_zone", None) else parsed.dt.replace_time_zone(None)


def _from_arrow(table: Any, schema: Schema) -> pl.DataFrame:
    # `table`: the pyarrow Table of the (untyped) adbc driver.
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    # An empty result of a query with no typed columns comes back without columns: give it the schema.
    return pl.DataFrame(schema=dict(schema)) if frame.width == 0 else frame


def _read_sqlalchemy(engine: sa.Engine, queries: Queries) -> dict[str, pl.DataFrame]:
    frames: dict[str, pl.DataFrame] = {}
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        for name, (query, schema) in queries.items():
            built = _built(query, frames)
            stmt = sa.text(built) if isinstance(built, str) else built
            frame = pl.read_database(stmt, connection=conn, schema_overrides=dict(schema), infer_schema_length=None)
            frames[name] = pl.DataFrame(schema=dict(schema)) if frame.width == 0 else frame
    return frames
