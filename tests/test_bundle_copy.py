"""The columnar copy of the evaluation's tables on SQLite (registry/policy/bundle_cache.py) must change nothing a
user sees, only how fast a whole-registry read is:

- a read from the copy equals a read of the tables, for every shape of read (every firm; the columns, years and
  attributes one policy needs; a long list of firms), and the annual figures kept beside it equal those computed
  from the reports;
- every write to the five tables, by any client, makes the copy stale at once (the triggers of migration 0007);
- a database without those triggers, and PostgreSQL, never use a copy;
- `zjtx evaluate` and `zjtx flags` print the same with and without it.

The expected values are the tables read before any copy exists (the path every read took before the copy).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from registry import queries
from registry.access import Principal
from registry.demo import build_demo
from registry.flag_store import store_flags
from registry.models import BundleCache, table_of
from registry.policy import bundle as bundle_module
from registry.policy import bundle_cache
from registry.policy.bundle import SCHEMAS, Bundle, load_bundle
from registry.policy.engine import required_refs
from registry.policy.indicators import annual_figures, data_needs
from registry.policy.loader import load_policies
from registry.settings import get_settings

AS_OF = date(2026, 3, 15)
CACHE = table_of(BundleCache)


def copy_rows(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(CACHE.c.name, sa.func.count()).group_by(CACHE.c.name)).all())


def version(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT n FROM registry_version")).scalar_one())


def sorted_frame(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def assert_same_bundle(actual: Bundle, expected: Bundle) -> None:
    for name in SCHEMAS:
        assert getattr(actual, name).height == getattr(expected, name).height, name
        assert_frame_equal(sorted_frame(getattr(actual, name)), sorted_frame(getattr(expected, name)),
                           check_exact=True)


@pytest.fixture
def registry(sqlite_engine):
    build_demo(sqlite_engine, firms=400, seed=11, as_of=AS_OF)
    return sqlite_engine


def refresh(engine: sa.Engine) -> None:
    """What the flags job does (registry.schedule.flags_job → store_flags)."""
    store_flags(engine, AS_OF, get_settings())


def test_a_read_from_the_copy_equals_a_read_of_the_tables(registry, monkeypatch):
    policy = load_policies()["cn/zjtx-sme/2022"]
    needs = data_needs(required_refs(policy), AS_OF)
    firms = load_bundle(registry).enterprises["uscc"].sort().gather_every(3).to_list()
    shapes = {
        "every firm": {},
        "one policy's needs": {"metrics": needs.metrics, "years": needs.years, "attributes": needs.attributes},
        "a long list of firms": {"usccs": firms},
    }
    # A list longer than this is read whole and filtered in polars: the path a long list takes at scale.
    monkeypatch.setattr(bundle_module, "_SQL_FILTER_LIMIT", 50)
    expected = {shape: load_bundle(registry, **kw) for shape, kw in shapes.items()}
    assert all(b.annual is None for b in expected.values())  # no copy yet: the tables were read
    assert copy_rows(registry) == {}

    refresh(registry)
    assert set(copy_rows(registry)) == {"enterprises", "recognitions", "reports", "attributes", "events", "annual"}
    for shape, kw in shapes.items():
        actual = load_bundle(registry, **kw)
        assert actual.annual is not None, shape  # read from the copy, which carries the annual figures
        assert_same_bundle(actual, expected[shape])
        # The annual figures kept beside the copy are those of the reports, for these firms.
        years = expected["every firm"].reports["year"].unique().to_list()
        key = ["uscc", "year"]
        assert_frame_equal(
            actual.annual.sort(key),
            annual_figures(expected["every firm"].reports, years)
            .join(actual.enterprises.select("uscc"), on="uscc", how="semi").sort(key),
            check_exact=True)


# One write per table and kind of statement, as another client would make it (the sqlite3 module, not zjtx).
WRITES = {
    "insert enterprise": "INSERT INTO enterprise (uscc, name, name_norm, region_code, province_code, created_at, "
                         "updated_at) VALUES ('91440300MA5TEST01X', '新企业', '新企业', '440300', '44', "
                         "'2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "update recognition": "UPDATE recognition SET valid_until = '2030-01-01' WHERE id = (SELECT min(id) FROM recognition)",
    "delete recognition": "DELETE FROM recognition WHERE id = (SELECT max(id) FROM recognition)",
    "update report": "UPDATE report SET revenue = 123456.789 WHERE id = (SELECT min(id) FROM report)",
    "delete report": "DELETE FROM report WHERE id = (SELECT max(id) FROM report)",
    "insert attribute": "INSERT INTO attribute (enterprise_id, attribute, value, effective_on) "
                        "SELECT min(id), 'high_tech', 'yes', '2026-01-01' FROM enterprise",
    "update attribute": "UPDATE attribute SET value = 'changed' WHERE id = (SELECT min(id) FROM attribute)",
    "delete event": "DELETE FROM event WHERE id = (SELECT min(id) FROM event)",
    "update enterprise": "UPDATE enterprise SET name = '改名企业' WHERE id = (SELECT min(id) FROM enterprise)",
}


STATE_READERS = [Principal("nation", "admin", "cn"), Principal("gd", "official", "cn-gd"),
                 Principal("sz", "official", "440300")]
WHOLE_COPY = {"enterprises": ["uscc"], "recognitions": ["id"]}


def copy_is_current(engine: sa.Engine, frames: dict[str, list[str]]) -> bool:
    """Whether a read of these frames would take the copy (bundle_cache.read_beside_copy)."""
    return bundle_cache.read_beside_copy(engine, {}, frames, otherwise={})[1] is not None


def test_recognition_states_from_the_copy_equal_those_of_the_tables(registry):
    """The overview's and the briefing's 待复核/即将到期/已到期 (queries.recognition_states) read the copy when it is
    current: the same rows for every scope and date, and a write by another client is seen at once."""
    days = [AS_OF, date(2024, 6, 30)]
    with registry.begin() as conn:  # a withdrawn recognition (entered by mistake) is no recognition at all
        conn.exec_driver_sql(
            "INSERT INTO recognition (enterprise_id, tier, jurisdiction, recognized_on, status, created_at) "
            "SELECT min(id), 'single_champion', 'cn', '2024-01-05', 'withdrawn', '2024-01-05 00:00:00' "
            "FROM enterprise WHERE region_code LIKE '4403%'")
    expected = {(p.jurisdiction, d): queries.recognition_states(p, d, 90, 60, engine=registry)
                for p in STATE_READERS for d in days}
    assert copy_rows(registry) == {}  # no copy yet: the tables were read
    assert all(frame.height for frame in expected.values())

    refresh(registry)
    assert copy_is_current(registry, WHOLE_COPY)  # the copy is current: the reads take it
    for principal in STATE_READERS:
        for day in days:
            assert_frame_equal(queries.recognition_states(principal, day, 90, 60, engine=registry),
                               expected[(principal.jurisdiction, day)], check_exact=True)

    database = registry.url.database
    assert database is not None
    with sqlite3.connect(database) as other:  # another client records a recognition in 深圳
        other.execute("INSERT INTO recognition (enterprise_id, tier, jurisdiction, recognized_on, status, created_at) "
                      "SELECT min(id), 'little_giant', 'cn', '2026-01-05', 'active', '2026-01-05 00:00:00' "
                      "FROM enterprise WHERE region_code LIKE '4403%'")
    assert not copy_is_current(registry, WHOLE_COPY)  # stale: the tables are read
    after = queries.recognition_states(STATE_READERS[2], AS_OF, 90, 60, engine=registry)
    assert after.filter(pl.col("recognized_on") == date(2026, 1, 5), pl.col("tier") == "little_giant").height == 1


def test_monitoring_figures_of_a_year_from_the_copy_equal_those_of_the_reports(registry):
    """运行监测 takes a year's figures from the annual figures kept beside the copy when it is current: the same
    panel as from the report rows, for every scope and kind of metric; stale after another client's write."""
    from registry.monitoring import monitoring_panel

    choices = [{"metric": "revenue"}, {"metric": "rd_intensity"}, {"metric": "employees", "region": "44"}]
    key = ["uscc", "tier", "period"]

    def panels() -> dict[tuple[str, int], pl.DataFrame]:
        return {(p.jurisdiction, i): monitoring_panel(p, tiers=("zjtx_sme", "little_giant"), period="2025",
                                                      engine=registry, **choice).rows.sort(key)
                for p in STATE_READERS for i, choice in enumerate(choices)}

    expected = panels()
    assert copy_rows(registry) == {}  # no copy yet: the report rows were read
    assert all(frame["value"].drop_nulls().len() for frame in expected.values())
    refresh(registry)
    assert copy_is_current(registry, {"annual": ["uscc"]})
    for name, frame in panels().items():
        assert_frame_equal(frame, expected[name], check_exact=True)

    database = registry.url.database
    assert database is not None
    shown = expected[("cn", 0)].filter(pl.col("period") == "2025", pl.col("value").is_not_null())["uscc"][0]
    with sqlite3.connect(database) as other:  # another client corrects a member's 2025 annual revenue
        other.execute("UPDATE report SET revenue = 4242.0 WHERE year = 2025 AND period_type = 'annual' AND "
                      "enterprise_id = (SELECT id FROM enterprise WHERE uscc = ?)", (shown,))
    after = monitoring_panel(STATE_READERS[0], tiers=("zjtx_sme", "little_giant"), period="2025", engine=registry)
    assert after.rows.filter(pl.col("period") == "2025", pl.col("uscc") == shown)["value"].to_list()[0] == 4242.0


@pytest.mark.parametrize("write", list(WRITES))
def test_any_write_to_the_tables_makes_the_copy_stale(registry, write):
    refresh(registry)
    before = version(registry)
    database = registry.url.database
    assert database is not None
    with sqlite3.connect(database) as other:  # another client writes
        other.execute(WRITES[write])
    assert version(registry) > before
    after = load_bundle(registry)
    assert after.annual is None  # the copy was not used
    # What the tables hold now, read with the copy out of the way.
    with registry.begin() as conn:
        conn.execute(sa.delete(CACHE))
    assert_same_bundle(after, load_bundle(registry))


def test_without_the_triggers_no_copy_is_trusted(registry):
    refresh(registry)
    with registry.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER registry_version_report_update")
        # A write the counter no longer sees:
        conn.exec_driver_sql("UPDATE report SET revenue = 987654.321 WHERE id = (SELECT min(id) FROM report)")
    bundle = load_bundle(registry)
    assert bundle.annual is None
    assert 987654.321 in bundle.reports["revenue"].to_list()


def test_postgresql_never_writes_or_reads_a_copy(engine):
    build_demo(engine, firms=60, seed=3, as_of=AS_OF)
    refresh(engine)
    if engine.dialect.name == "sqlite":
        assert copy_rows(engine)  # the same call keeps a copy on SQLite …
    else:
        assert copy_rows(engine) == {}  # … and none on PostgreSQL
        assert load_bundle(engine).copy_version is None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the copy is SQLite's
def test_evaluate_and_flags_print_the_same_with_and_without_the_copy(config_env):
    from cli.main import app
    from registry.db import get_engine, upgrade

    engine = get_engine()
    upgrade(engine)
    build_demo(engine, firms=300, seed=7, as_of=AS_OF)
    runner = CliRunner()
    commands = {
        "evaluate": ["evaluate", "--policy", "cn/zjtx-sme/2022", "--as-of", "2026-03-15", "--format", "json"],
        "flags": ["flags", "--as-of", "2026-03-15", "--format", "json"],
    }

    def outputs() -> dict[str, object]:
        printed = {}
        for name, args in commands.items():
            result = runner.invoke(app, args)
            assert result.exit_code == 0, result.output
            printed[name] = json.loads(result.stdout)
        return printed

    without = outputs()
    refresh(engine)
    assert copy_rows(engine)
    assert outputs() == without


def test_a_copy_that_cannot_be_kept_does_not_stop_the_flags_job(registry):
    with registry.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bundle_cache")  # e.g. a disk that is full: the write fails
    counts = store_flags(registry, AS_OF, get_settings())
    assert counts["computed"] > 0
    with registry.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM flag WHERE resolved_on IS NULL")).scalar_one()
    assert stored == counts["opened"] > 0
    assert load_bundle(registry).annual is None  # the tables are read
