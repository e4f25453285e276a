"""The fast read path (registry.fastread) and load_bundle on it, on both engines.

Every reader available for the engine (ADBC on PostgreSQL; sqlite3 on a SQLite file) must give exactly the frames
the plain SQLAlchemy reader gives, and both must give the rows written here by hand. That several processes on one
SQLite file lose nothing with this read path is tests/test_sqlite_processes.py."""

from __future__ import annotations

import random
import threading
import time
from datetime import date

import polars as pl
import pytest
import sqlalchemy as sa
from builders import enterprise_row
from polars.testing import assert_frame_equal
from sqlmodel import Session

from registry import fastread
from registry.identity import make_uscc
from registry.models import Enterprise, Event, Recognition, Report
from registry.policy import bundle as bundle_module
from registry.policy.bundle import load_bundle

E = Enterprise.__table__
P = Report.__table__


def _firm(uscc: str, name: str, region: str) -> Enterprise:
    return Enterprise(**enterprise_row(uscc, name, region))


@pytest.fixture
def small_registry(engine):
    """Three firms; the first report rows have NULL metrics (a type-guessing reader would fail on them)."""
    rng = random.Random(5)
    codes = [make_uscc(rng, region) for region in ("440300", "110108", "330200")]
    with Session(engine) as s:
        firms = [_firm(codes[0], "深圳市（测试）精密机械有限公司", "440300"),
                 _firm(codes[1], "O'Brien 100% 传感有限公司", "110108"),
                 _firm(codes[2], "宁波海天液压有限公司", "330200")]
        s.add_all(firms)
        s.flush()
        a, b, c = (f.id for f in firms)
        s.add_all([
            Recognition(enterprise_id=a, tier="little_giant", jurisdiction="cn", batch="3",
                        recognized_on=date(2021, 7, 19), valid_until=date(2024, 7, 18), status="active"),
            Recognition(enterprise_id=b, tier="zjtx_sme", jurisdiction="cn-bj", batch=None,
                        recognized_on=date(2022, 1, 1), valid_until=None, status="revoked",
                        ended_on=date(2023, 5, 1)),
            Report(enterprise_id=a, period="2022", period_type="annual", year=2022, period_end=date(2022, 12, 31),
                   revenue=None, rd_expense=None),
            Report(enterprise_id=a, period="2023", period_type="annual", year=2023, period_end=date(2023, 12, 31),
                   revenue=12000.5, rd_expense=480.0, employees=210),
            Report(enterprise_id=b, period="2024-03", period_type="monthly", year=2024,
                   period_end=date(2024, 3, 31), basis="ytd", revenue=3000.0),
            Event(enterprise_id=b, event="rename", occurred_on=date(2023, 2, 1), notified_on=None,
                  detail="更名 'A' → \"B\""),
        ])
        s.commit()
    return codes


def _readers(engine) -> list[str]:
    fast = fastread.reader_for(engine)
    others = ["sqlite3", "sqlalchemy"] if engine.dialect.name == "sqlite" else ["sqlalchemy"]
    return [fast, *[r for r in others if r != fast]]


def test_the_fast_reader_is_used_where_its_driver_is_installed(engine):
    expected = {"postgresql": "adbc", "sqlite": "sqlite3"}[engine.dialect.name]
    assert fastread.reader_for(engine) == expected


def test_sqlite_fast_reads_run_on_a_connection_with_the_engines_settings(sqlite_engine):
    """WAL, a 30 s busy timeout, foreign keys on, synchronous NORMAL (1): docs/deployment.md §7 — on the fast path's
    connection too, which is one of the engine's pool (a private connection used to have none of them)."""
    settings = fastread.read_frame(sqlite_engine, (
        "SELECT (SELECT journal_mode FROM pragma_journal_mode) AS journal_mode, "
        "(SELECT timeout FROM pragma_busy_timeout) AS busy_timeout, "
        "(SELECT foreign_keys FROM pragma_foreign_keys) AS foreign_keys, "
        "(SELECT synchronous FROM pragma_synchronous) AS synchronous"),
        {"journal_mode": pl.String, "busy_timeout": pl.Int64, "foreign_keys": pl.Int64, "synchronous": pl.Int64})
    assert settings.rows() == [("wal", 30000, 1, 1)]


def test_sqlite_is_never_read_through_a_second_sqlite_library(sqlite_engine):
    """ADBC's SQLite driver bundles its own SQLite library; two in one process corrupt a shared file (issue 16)."""
    with pytest.raises(ValueError, match="PostgreSQL only"):
        fastread.read_frame(sqlite_engine, sa.select(E.c.uscc), {"uscc": pl.String}, reader="adbc")


def test_every_reader_gives_the_rows_written(engine, small_registry):
    schema = {"uscc": pl.String, "period": pl.String, "year": pl.Int32, "period_end": pl.Date,
              "basis": pl.String, "revenue": pl.Float64, "employees": pl.Float64}
    stmt = (sa.select(E.c.uscc, P.c.period, P.c.year, P.c.period_end, P.c.basis, P.c.revenue, P.c.employees)
            .join_from(P, E, P.c.enterprise_id == E.c.id).order_by(P.c.period_end))
    expected = pl.DataFrame({
        "uscc": [small_registry[0], small_registry[0], small_registry[1]],
        "period": ["2022", "2023", "2024-03"], "year": [2022, 2023, 2024],
        "period_end": [date(2022, 12, 31), date(2023, 12, 31), date(2024, 3, 31)],
        "basis": ["period", "period", "ytd"], "revenue": [None, 12000.5, 3000.0], "employees": [None, 210.0, None],
    }, schema=schema)
    for reader in _readers(engine):
        assert_frame_equal(fastread.read_frame(engine, stmt, schema, reader=reader), expected)


def test_inlined_values_keep_quotes_percent_signs_and_chinese(engine, small_registry):
    schema = {"uscc": pl.String, "name": pl.String}
    stmt = sa.select(E.c.uscc, E.c.name).where(
        E.c.name.in_(["O'Brien 100% 传感有限公司", "宁波海天液压有限公司"]), E.c.name.like("%100%%"))
    for reader in _readers(engine):
        frame = fastread.read_frame(engine, stmt, schema, reader=reader)
        assert frame.rows() == [(small_registry[1], "O'Brien 100% 传感有限公司")], reader


def test_an_empty_result_keeps_its_columns_and_types(engine, small_registry):
    schema = {"uscc": pl.String, "valid_until": pl.Date, "superseded_by": pl.Int64}
    R = Recognition.__table__
    stmt = sa.select(E.c.uscc, R.c.valid_until, R.c.superseded_by).join_from(
        R, E, R.c.enterprise_id == E.c.id).where(R.c.tier == "no_such_tier")
    for reader in _readers(engine):
        frame = fastread.read_frame(engine, stmt, schema, reader=reader)
        assert frame.height == 0 and frame.schema == pl.Schema(schema), reader


def test_rows_committed_after_a_read_are_seen_by_the_next_read(engine, small_registry):
    """A reader must not keep a stale snapshot: the scheduler reads, an ingest commits, the next read sees it
    (connectorx on SQLite failed this: WAL rows stayed invisible until a checkpoint)."""
    schema = {"uscc": pl.String}
    stmt = sa.select(E.c.uscc)
    for reader in _readers(engine):
        before = fastread.read_frame(engine, stmt, schema, reader=reader).height
        with Session(engine) as s:
            s.add(_firm(make_uscc(random.Random(before + len(reader)), "440300"), f"新增企业{reader}", "440300"))
            s.commit()
        assert fastread.read_frame(engine, stmt, schema, reader=reader).height == before + 1, reader


def test_a_column_that_starts_with_more_nulls_than_a_batch_is_read_typed(engine, monkeypatch):
    """A reader that types a column from its first rows fails on a later value (ADBC's SQLite driver did, at
    1,024 rows); the sqlite3 reader types each column from the schema, over chunks of rows (here the first two
    chunks hold nothing but NULLs)."""
    monkeypatch.setattr(fastread, "_SQLITE_CHUNK_ROWS", 500)
    with Session(engine) as s:
        firm = _firm(make_uscc(random.Random(2), "440300"), "批量企业有限公司", "440300")
        s.add(firm)
        s.flush()
        s.add_all(Report(enterprise_id=firm.id, period=f"{2000 + i // 12}-{i % 12 + 1:02d}", period_type="monthly",
                         year=2000 + i // 12, period_end=date(2000 + i // 12, i % 12 + 1, 28),
                         revenue=None if i < 1100 else float(i)) for i in range(1300))
        s.commit()
    stmt = sa.select(P.c.period, P.c.revenue).order_by(P.c.id)
    schema = {"period": pl.String, "revenue": pl.Float64}
    frames = [fastread.read_frame(engine, stmt, schema, reader=reader) for reader in _readers(engine)]
    assert frames[0]["revenue"].null_count() == 1100
    assert frames[0]["revenue"].sum() == float(sum(range(1100, 1300)))
    for other in frames[1:]:
        assert_frame_equal(frames[0], other)


def test_unknown_reader_is_refused(engine):
    with pytest.raises(ValueError, match="reader"):
        fastread.read_frame(engine, sa.select(E.c.uscc), {"uscc": pl.String}, reader="odbc")


def test_a_deferred_query_is_built_from_the_frames_read_before_it(engine, small_registry):
    # load_bundle's report read on PostgreSQL is built from what a first query found (bundle._settled_reports).
    def firms_with_more_reports_than(frames):
        return (sa.select(E.c.uscc).join_from(P, E, P.c.enterprise_id == E.c.id).group_by(E.c.uscc)
                .having(sa.func.count() > int(frames["fewest"]["n"].item())).order_by(E.c.uscc))

    per_firm = sa.select(sa.func.count().label("n")).select_from(P).group_by(P.c.enterprise_id).subquery()
    for reader in _readers(engine):
        frames = fastread.read_frames(engine, {
            "fewest": (sa.select(sa.func.min(per_firm.c.n).label("n")), {"n": pl.Int64}),
            "more": (firms_with_more_reports_than, {"uscc": pl.String}),
        }, reader=reader)
        assert frames["fewest"]["n"].item() == 1, reader  # small_registry: one firm has two reports, one has one
        assert frames["more"]["uscc"].to_list() == [small_registry[0]], reader


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("reader", ["adbc", "sqlalchemy"])
def test_postgresql_queries_of_one_call_share_one_snapshot(engine, small_registry, reader):
    """A firm committed while the first query runs is in neither frame (the second query would see it
    under READ COMMITTED)."""
    def insert_while_the_first_query_sleeps():
        time.sleep(0.4)
        with Session(engine) as s:
            s.add(_firm(make_uscc(random.Random(9), "440300"), "新来的企业有限公司", "440300"))
            s.commit()

    writer = threading.Thread(target=insert_while_the_first_query_sleeps)
    writer.start()
    try:
        frames = fastread.read_frames(engine, {
            "before": ("SELECT count(*) AS n FROM enterprise CROSS JOIN pg_sleep(1.5)", {"n": pl.Int64}),
            "after": ("SELECT count(*) AS n FROM enterprise", {"n": pl.Int64}),
        }, reader=reader)
    finally:
        writer.join()
    assert frames["before"]["n"].item() == 3
    assert frames["after"]["n"].item() == 3
    assert fastread.read_frame(engine, "SELECT count(*) AS n FROM enterprise", {"n": pl.Int64})["n"].item() == 4


def test_load_bundle_gives_each_firm_its_own_rows(engine, small_registry):
    a, b, c = small_registry
    bundle = load_bundle(engine)
    assert sorted(bundle.enterprises["uscc"]) == sorted(small_registry)
    reports = bundle.reports.sort("period")
    assert reports.select("uscc", "period", "period_type", "year", "basis", "revenue").rows() == [
        (a, "2022", "annual", 2022, "period", None), (a, "2023", "annual", 2023, "period", 12000.5),
        (b, "2024-03", "monthly", 2024, "ytd", 3000.0)]
    assert bundle.recognitions.select("uscc", "tier", "status", "ended_on").sort("uscc").rows() == sorted([
        (a, "little_giant", "active", None), (b, "zjtx_sme", "revoked", date(2023, 5, 1))])
    assert bundle.events.select("uscc", "event", "detail").rows() == [(b, "rename", "更名 'A' → \"B\"")]
    assert bundle.attributes.height == 0
    assert {name: getattr(bundle, name).schema for name in bundle_module.SCHEMAS} == {
        name: pl.Schema(schema) for name, schema in bundle_module.SCHEMAS.items()}


@pytest.mark.parametrize("sql_filter_limit", [5000, 1])
def test_load_bundle_of_some_firms_filters_in_sql_or_in_polars_alike(engine, small_registry, monkeypatch,
                                                                     sql_filter_limit):
    """Up to the limit the firms are filtered in SQL; a longer list reads everything and filters in polars."""
    monkeypatch.setattr(bundle_module, "_SQL_FILTER_LIMIT", sql_filter_limit)
    a, b, c = small_registry
    bundle = load_bundle(engine, [b, c, b, "91440300MA5XXXXXXX"])
    assert sorted(bundle.enterprises["uscc"]) == sorted([b, c])
    assert bundle.reports["uscc"].to_list() == [b]
    assert bundle.recognitions["uscc"].to_list() == [b]
    assert bundle.events["uscc"].to_list() == [b]


def test_sqlite_fast_reads_do_not_break_the_process_other_sqlite_connections(tmp_path):
    """The scheduler and the dashboard read and write one SQLite file from one process, over many connections.
    A reader bundling its own SQLite library must not go stale or disturb the others (ADBC's driver opened by
    plain path did both here: stale counts, then "disk I/O error" on the stdlib connections; opened read-only by
    URI it does not). Every read here must see every commit, through the fast reader and a plain connection."""
    import sqlite3

    from registry.db import make_engine, upgrade

    path = tmp_path / "one.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    stmt, schema = sa.select(E.c.uscc), {"uscc": pl.String}
    rng = random.Random(11)
    writer = sqlite3.connect(path)  # a long-lived connection, as the ingest job's pool holds one
    for n in range(1, 5):
        writer.execute("INSERT INTO enterprise (uscc, name, name_norm, region_code, province_code, created_at, "
                       "updated_at) VALUES (?, ?, ?, '440300', '44', '2026-01-01', '2026-01-01')",
                       (make_uscc(rng, "440300"), f"企业{n}", f"企业{n}"))
        writer.commit()
        assert fastread.read_frame(engine, stmt, schema).height == n
        plain = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            assert plain.execute("SELECT count(*) FROM enterprise").fetchone()[0] == n
        finally:
            plain.close()
    writer.close()
    engine.dispose()
