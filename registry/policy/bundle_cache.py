"""A columnar copy of the evaluation's tables on SQLite, so whole-registry reads skip turning rows into tuples.

Why: at 200,000 firms `zjtx evaluate`, `zjtx flags` and the 复核-risk figures read 4.6 million rows (reports,
attributes, recognitions, firms), and Python's sqlite3 hands each value over as a Python object: 20–30 s of a
run, more than every evaluation after it (docs/benchmarks.md). A faster SQLite reader is not an option: a second
SQLite library in one process splits its locks from the first (issue 16). So the flags job, which reads the
whole registry anyway, writes what it read as Parquet into `bundle_cache`, and later whole-registry reads take
that copy instead of the rows — through the same sqlite3 connection, in the same read transaction.

When the copy is used: only while `registry_version.n` is what it was when the copy was read. Triggers bump that
counter on every INSERT, UPDATE and DELETE of enterprise, recognition, report, attribute and event (migration
0007) — whoever writes, whatever the path — so a copy never stands in for data it was not made from. The counter
and the copy are read in one snapshot; the copy is written under the counter read in the snapshot its rows came
from, so a write that lands meanwhile makes the copy stale at once rather than wrong. A database without the
triggers never uses a copy. PostgreSQL never does either (it reads with binary COPY; registry/fastread.py).
"""

from __future__ import annotations

import io
import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa

from registry.fastread import Query, Schema, read_frames, read_sqlite_frames, reader_for, sqlite_snapshot
from registry.models import BundleCache, table_of

CACHE = table_of(BundleCache)
log = logging.getLogger("zjtx.bundle_cache")
# The five tables, by the names of the bundle's frames (migration 0007 puts three triggers on each).
FRAMES = ("enterprises", "recognitions", "reports", "attributes", "events")
# Beside them, optionally: the annual figures computed from them (registry.policy.indicators.annual_figures).
ANNUAL = "annual"
TRIGGERS = 15
# A frame is stored in parts of at most this many rows, each its own Parquet blob (SQLite caps a value at 1 GB).
PART_ROWS = 2_000_000

Queries = Mapping[str, tuple[Query, Schema]]
Frames = dict[str, pl.DataFrame]


def usable(engine: sa.Engine) -> bool:
    """Whether reads on this engine can use a copy (a SQLite file read through sqlite3)."""
    return reader_for(engine) == "sqlite3"


@dataclass(frozen=True)
class Read:
    frames: Frames  # what the queries select
    version: int | None  # the registry_version of the snapshot read (None: the database keeps none)
    annual: pl.DataFrame | None  # the copy's annual figures (uscc-keyed), when it has them


def read(engine: sa.Engine, queries: Queries, narrow: Callable[[Frames], Frames], *, whole: Queries,
         store: bool = False) -> Read:
    """`queries`' frames, from the copy when it is current, else from the tables.

    `whole` are the same queries with no filter: the copy holds their rows, and `narrow` turns them into what
    `queries` select (the filters done in polars). `store`: when the copy is not current and `queries` are
    `whole` (a whole-registry read, as the flags job does), keep what was read as the new copy."""
    columns = {name: list(schema) for name, (_, schema) in queries.items()}
    with sqlite_snapshot(engine) as conn:
        version = _current_version(conn)
        copy = _read_copy(conn, version, columns) if version is not None else None
        if copy is not None:
            annual = copy.pop(ANNUAL, None)
            return Read(narrow(copy), version, annual)
        frames = read_sqlite_frames(engine, conn, queries)
    if store and version is not None and queries is whole:
        try:
            _store(engine, version, frames)
        except sa.exc.SQLAlchemyError as exc:  # the copy only saves time: a run that cannot keep it goes on
            log.warning("columnar copy not kept (whole-registry reads stay on the tables): %s", exc)
    return Read(frames, version, None)


def read_beside_copy(engine: sa.Engine, queries: Queries, copy_columns: Mapping[str, list[str]], *,
                     otherwise: Queries) -> tuple[Frames, Frames | None]:
    """In one snapshot: `queries` from the tables, and the copy's frames named in `copy_columns` (those columns)
    when the copy is current and has them — else `otherwise` from the tables too, and None for the copy. For a
    read that needs a few rows from the tables and a large part of a table the copy holds (the recognition
    states, 运行监测's annual figures). Not SQLite: everything from the tables."""
    if not usable(engine):
        return read_frames(engine, {**queries, **otherwise}), None
    with sqlite_snapshot(engine) as conn:
        version = _current_version(conn)
        copy = (_read_copy(conn, version, dict(copy_columns), names=list(copy_columns))
                if version is not None else None)
        if copy is not None and set(copy_columns) <= set(copy):
            return read_sqlite_frames(engine, conn, queries), copy
        return read_sqlite_frames(engine, conn, {**queries, **otherwise}), None


def add_annual(engine: sa.Engine, version: int, annual: pl.DataFrame) -> bool:
    """Keep the annual figures computed from the copy of `version` beside it (the flags job computes them for
    every firm, metric and year anyway; a later whole read then skips computing them). Nothing is written when
    the copy is of another version by now or has them already. Returns whether they were written."""
    try:
        with engine.begin() as conn:
            names = set(conn.execute(sa.select(CACHE.c.name).where(CACHE.c.version == version).distinct()).scalars())
            if not set(FRAMES) <= names or ANNUAL in names:
                return False
            _insert(conn, version, ANNUAL, annual)
    except sa.exc.SQLAlchemyError as exc:  # as in read(): the copy only saves time
        log.warning("annual figures not kept beside the columnar copy: %s", exc)
        return False
    return True


def _current_version(conn: sqlite3.Connection) -> int | None:
    """The counter, or None when the database lacks the table or its triggers (then no copy is trusted)."""
    try:
        row = conn.execute(
            "SELECT n FROM registry_version WHERE id = 1 AND (SELECT count(*) FROM sqlite_master "
            "WHERE type = 'trigger' AND name LIKE 'registry\\_version\\_%' ESCAPE '\\') = ?", (TRIGGERS,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return int(row[0]) if row is not None else None


def _read_copy(conn: sqlite3.Connection, version: int, columns: dict[str, list[str]],
               names: list[str] | None = None) -> Frames | None:
    """The copy's frames of `version` (only `columns` of each, where given; only `names`, where given), or None
    when there is none."""
    try:
        stored = {name for (name,) in conn.execute("SELECT DISTINCT name FROM bundle_cache WHERE version = ?",
                                                   (version,))}
        if not set(FRAMES) <= stored:  # _store writes the five frames in one transaction: all of them or none
            return None
        wanted = sorted(stored if names is None else set(names) & stored)
        if not wanted:
            return {}
        rows = conn.execute(f"SELECT name, payload FROM bundle_cache WHERE version = ? AND name IN "
                            f"({', '.join('?' * len(wanted))}) ORDER BY name, part", (version, *wanted)).fetchall()
    except sqlite3.OperationalError:  # no bundle_cache table: read the tables
        return None
    parts: dict[str, list[pl.DataFrame]] = {}
    for name, payload in rows:
        parts.setdefault(name, []).append(pl.read_parquet(io.BytesIO(payload), columns=columns.get(name)))
    return {name: pl.concat(frames) for name, frames in parts.items()}


def _store(engine: sa.Engine, version: int, frames: Frames) -> None:
    """Replace the copy with `frames` as of `version`, in one write transaction."""
    now = datetime.now(UTC)
    with engine.begin() as conn:  # one transaction: a reader sees the old copy or the new one, never half
        conn.execute(sa.delete(CACHE))
        for name in FRAMES:
            _insert(conn, version, name, frames[name], now)


def _insert(conn: sa.Connection, version: int, name: str, frame: pl.DataFrame, now: datetime | None = None) -> None:
    for part, offset in enumerate(range(0, max(frame.height, 1), PART_ROWS)):
        buffer = io.BytesIO()
        frame.slice(offset, PART_ROWS).write_parquet(buffer, compression="lz4")
        conn.execute(sa.insert(CACHE).values(version=version, name=name, part=part, payload=buffer.getvalue(),
                                             created_at=now or datetime.now(UTC)))
