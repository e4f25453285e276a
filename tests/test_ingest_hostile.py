"""The same hostile files on SQLite and PostgreSQL: every bad row is a row-level rejection with the same reason on
both engines (PostgreSQL used to refuse the whole file on an over-long tier, a NUL byte or the period "0000",
while SQLite stored them), the valid rows of each file load, and the loaded data are equal."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import create_pg_database, drop_pg_database
from fixtures.ingest_data import NINGBO, SHENZHEN, write_csv

from registry.db import make_engine, upgrade
from registry.identity import make_uscc
from registry.ingest import ingest_files, read_data_file
from registry.settings import get_settings

F0, F1, F2 = NINGBO
_rng = random.Random(16)
F4, F5, F6, F7, F8 = (make_uscc(_rng, "330212") for _ in range(5))

CONTROL = "control character"
TOO_LONG = "too long"
BOUND = "beyond the plausible bound"

# file name → (header, rows, {data row: (column, fragment of the reason)}); rows not listed must load.
HOSTILE: dict[str, tuple[list[str], list[list[str]], dict[int, tuple[str, str]]]] = {
    "enterprises.csv": (
        ["uscc", "name", "region_code", "industry_code", "founded_on", "main_product", "registered_capital"],
        [[F0, "甲科技有限公司", "330212", "C35", "2012-03-01", "", "100"],
         [F1, "乙\x00公司", "330212", "C35", "2012-03-01", "", ""],
         [F2, "丙\u202e司公限有", "330212", "C35", "2012-03-01", "", ""],
         [SHENZHEN, "丁公司", "440305", "C35", "0000-01-01", "", ""],
         [F4, "戊\n公司", "330212", "C35", "2012-03-01", "", ""],
         [F5, "己公司", "330212", "C35", "2012-03-01", "阀门\x07", ""],
         [F6, "庚公司", "330212", "C35", "2012-03-01", "", "1e308"],
         [F7, "辛公司", "330212", "C35", "2012-03-01", "", "1,2,3"],
         [F8, "壬公司", "330212", "C35", "2012-03-01", "多行\n主导产品", "1,234"]],
        {2: ("name", CONTROL), 3: ("name", CONTROL), 4: ("founded_on", "date"), 5: ("name", CONTROL),
         6: ("main_product", CONTROL), 7: ("registered_capital", BOUND),
         8: ("registered_capital", "misplaced thousands separator")},
    ),
    "recognitions.csv": (
        ["uscc", "tier", "jurisdiction", "batch", "recognized_on", "valid_until", "document_no"],
        [[F0, "little_giant", "cn", "3", "2021-07-19", "", "工信厅企业函〔2021〕197号"],
         [F0, "a" * 41, "cn", "3", "2022-07-19", "", ""],
         [F0, "zjtx_sme", "cn-zj", "批" * 41, "2022-01-01", "", ""],
         [F0, "little_giant", "cn", "4", "2023-07-19", "", "文号\x00"],
         [F0, "little_giant", "cn", "5", "2024-07-19", "9999-12-31", ""]],
        {2: ("tier", TOO_LONG), 3: ("batch", TOO_LONG), 4: ("document_no", CONTROL),
         5: ("valid_until", "after 2100")},
    ),
    "reports.csv": (
        ["uscc", "period", "revenue", "employees", "net_profit"],
        [[F0, "2023", "1,234,567", "35", "-5"],
         [F0, "0000", "1", "", ""],
         [F0, "2024-13", "1", "", ""],
         [F0, "2022", "1e308", "", ""],
         [F0, "2021", "", "1e20", ""],
         [F0, "2020", "1,2,3", "", ""],
         [F0, "2019", "", "", "-1e9"],
         [F0, "2018", "1e400", "", ""],
         [F0, "2024Q1", "\u202e100", "", ""]],
        {2: ("period", "before 1900"), 3: ("period", "period must look like"), 4: ("revenue", BOUND),
         5: ("employees", BOUND), 6: ("revenue", "misplaced thousands separator"), 7: ("net_profit", BOUND),
         8: ("revenue", "not a number"), 9: ("revenue", CONTROL)},
    ),
    "attributes.csv": (
        ["uscc", "attribute", "value", "effective_on", "evidence"],
        [[F0, "rd_institution", "provincial", "2020-01-01", ""],
         [F0, "x" * 61, "yes", "2020-01-01", ""],
         [F0, "custom_mark", "ok\x00", "2020-01-01", ""],
         [F0, "rd_institution", "national", "2021-01-01", "证明\x00"]],
        {2: ("attribute", TOO_LONG), 3: ("value", CONTROL), 4: ("evidence", CONTROL)},
    ),
    "events.csv": (
        ["uscc", "event", "occurred_on", "detail"],
        [[F0, "rename", "2023-01-01", "新名称\n第二行"],
         [F0, "rename", "2023-02-01", "x\x00"],
         [F0, "rename", "0000-01-01", ""]],
        {2: ("detail", CONTROL), 3: ("occurred_on", "date")},
    ),
    "firm_targets.csv": (
        ["uscc", "indicator", "baseline", "target_year1", "target_year2", "start_period"],
        [[F0, "revenue_growth", "10", "12", "14", "2021"],
         [F0, "指" * 61, "1", "2", "3", "2022"],
         [F0, "rd_ratio", "1e20", "2", "3", "2023"],
         [F0, "patents", "1", "2", "3", "0000"]],
        {2: ("indicator", TOO_LONG), 3: ("baseline", BOUND), 4: ("start_period", "before 1900")},
    ),
    "regional_targets.csv": (
        ["jurisdiction", "tier", "year", "target_count"],
        [["cn-zj", "little_giant", "2025", "500"],
         ["cn-zj", "b" * 41, "2025", "5"],
         ["cn-zj", "zjtx_sme", "2026", "1e20"]],
        {2: ("tier", TOO_LONG), 3: ("target_count", BOUND)},
    ),
}

# What the loaded data look like, read back with plain SQL (no ids, times or run ids): equal on both engines.
TABLE_SQL = {
    "enterprise": "SELECT uscc, name, region_code, industry_code, CAST(founded_on AS TEXT), main_product, "
                  "registered_capital FROM enterprise ORDER BY uscc",
    "recognition": "SELECT tier, jurisdiction, batch, CAST(recognized_on AS TEXT), CAST(valid_until AS TEXT), "
                   "document_no FROM recognition ORDER BY recognized_on",
    "report": "SELECT period, period_type, revenue, employees, net_profit FROM report ORDER BY period",
    "attribute": "SELECT attribute, value, CAST(effective_on AS TEXT), evidence FROM attribute ORDER BY effective_on",
    "event": "SELECT event, CAST(occurred_on AS TEXT), detail FROM event ORDER BY occurred_on",
    "firm_target": "SELECT indicator, baseline, target_year1, target_year2, start_period FROM firm_target "
                   "ORDER BY indicator",
    "regional_target": "SELECT jurisdiction, tier, year, target_count FROM regional_target ORDER BY year",
    "rejected_row": "SELECT row, \"column\", reason FROM rejected_row WHERE row IS NOT NULL "
                    "ORDER BY run_id, row, \"column\"",
}


@pytest.fixture
def folders(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[paths]\ninbox = "inbox"\narchive = "archive"\nquarantine = "quarantine"\n', encoding="utf-8")
    monkeypatch.setenv("ZJTX_CONFIG", str(cfg))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _hostile_files(folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    return [write_csv(folder / name, header, rows) for name, (header, rows, _) in HOSTILE.items()]


def _outcome(engine: sa.Engine, files: list[Path]) -> tuple[list, dict[str, list[tuple]]]:
    results = ingest_files(engine, files)
    outcome = [(Path(r.file).name, r.status, r.rows_read, r.rows_loaded, r.rows_rejected,
                sorted((j.row or 0, j.column or "", j.reason) for j in r.rejections)) for r in results]
    with engine.connect() as conn:
        data = {table: [tuple(_plain(v) for v in row) for row in conn.execute(sa.text(sql))]
                for table, sql in TABLE_SQL.items()}
    return outcome, data


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


@pytest.mark.postgres
def test_hostile_rows_get_the_same_verdict_on_sqlite_and_postgresql(folders):
    files = _hostile_files(folders / "files")
    outcomes = {}
    sqlite = make_engine(f"sqlite:///{folders / 'zjtx.db'}")
    pg_url = create_pg_database()
    pg = make_engine(pg_url)
    try:
        for name, engine in (("sqlite", sqlite), ("postgresql", pg)):
            upgrade(engine)
            outcomes[name] = _outcome(engine, files)
    finally:
        sqlite.dispose()
        pg.dispose()
        drop_pg_database(pg_url)

    (sqlite_files, sqlite_data), (pg_files, pg_data) = outcomes["sqlite"], outcomes["postgresql"]
    assert pg_files == sqlite_files
    assert pg_data == sqlite_data

    # And the verdicts are the intended ones: the listed rows rejected for the listed reason, every other row loaded.
    by_file = {name: rest for name, *rest in sqlite_files}
    for name, (_, rows, expected) in HOSTILE.items():
        status, read, loaded, rejected, rejections = by_file[name]
        assert (status, read, loaded, rejected) == ("partial", len(rows), len(rows) - len(expected), len(expected)), name
        assert {row for row, _, _ in rejections} == set(expected), name
        for row, (column, fragment) in expected.items():
            reasons = [reason for r, c, reason in rejections if r == row and c == column]
            assert reasons and fragment in reasons[0], (name, row, reasons)
            assert "\x00" not in reasons[0] and "\u202e" not in reasons[0]  # never echoed into a reason
    data = sqlite_data
    assert data["enterprise"] == sorted([(F0, "甲科技有限公司", "330212", "C35", "2012-03-01", None, 100.0),
                                         (F8, "壬公司", "330212", "C35", "2012-03-01", "多行\n主导产品", 1234.0)])
    assert data["report"] == [("2023", "annual", 1234567.0, 35.0, -5.0)]
    assert [row[0] for row in data["recognition"]] == ["little_giant"]
    assert data["event"] == [("rename", "2023-01-01", "新名称\n第二行")]
    assert [row[:2] for row in data["regional_target"]] == [("cn-zj", "little_giant")]


def test_separators_only_between_groups_of_three_digits(folders):
    path = write_csv(folders / "r.csv", ["uscc", "period", "revenue"],
                     [[F0, "2024", "1,234,567.5"], [F0, "2023", "1,2,3"], [F0, "2022", "12,34"],
                      [F0, "2021", "1234,567"], [F0, "2020", "+1,000"]])
    parsed = read_data_file(path)
    assert parsed.frame.sort("row")["revenue"].to_list() == [1234567.5, 1000.0]
    assert {(r.row, r.column) for r in parsed.rejections} == {(2, "revenue"), (3, "revenue"), (4, "revenue")}
    assert all("1,234,567" in r.reason for r in parsed.rejections)


def test_bounds_are_configurable_per_metric(folders, monkeypatch):
    path = write_csv(folders / "r.csv", ["uscc", "period", "revenue", "employees", "rd_staff"],
                     [[F0, "2024", "5000", "20", "3"], [F0, "2023", "5001", "20", "3"],
                      [F0, "2022", "1", "2000000", "3"]])
    assert read_data_file(path).rejections[0].row == 3  # defaults: revenue ≤ 1e8, employees ≤ 1e6

    cfg = folders / "config.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "[ingest.bounds]\nrevenue = 5000\n", encoding="utf-8")
    get_settings.cache_clear()
    parsed = read_data_file(path)
    assert {(r.row, r.column) for r in parsed.rejections} == {(2, "revenue"), (3, "employees")}
    assert "5000" in next(r.reason for r in parsed.rejections if r.row == 2)
    # A column given replaces only its own default.
    assert get_settings().ingest.bound("employees") == 1e6
    assert get_settings().ingest.bound("a_metric_added_later") == get_settings().ingest.default_bound
