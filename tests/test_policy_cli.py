"""`zjtx evaluate`, `zjtx screen` and `zjtx policies` as a user runs them, on a database built from data
files by the ingestion code (SQLite and PostgreSQL), with the JSON shape CONTRACT §4 fixes."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date

import openpyxl
import pytest
from builders import little_giant_2020, write_files
from typer.testing import CliRunner
from zjtx_command import ZJTX

from cli.main import app
from registry.db import make_engine, upgrade
from registry.errors import UserError
from registry.ingest import ingest_files

RECORD_KEYS = {"uscc", "policy", "as_of", "verdict", "class", "score", "criteria"}
CRITERION_KEYS = {"id", "label", "result", "actual", "expected", "source"}

GOOD = little_giant_2020(1)
INDEBTED = little_giant_2020(2).with_year(2020, total_liabilities=16000.0)  # 80% debt
UNKNOWN_BRAND = little_giant_2020(3).without_attr("own_brand")
EXPECTED = {GOOD.uscc: ("eligible", "a"), INDEBTED.uscc: ("ineligible", "a"),
            UNKNOWN_BRAND.uscc: ("insufficient_data", "a")}


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    return write_files(folder, GOOD, INDEBTED, UNKNOWN_BRAND)


@pytest.fixture
def registry_db(config_env, db_url, files):
    """The three firms ingested from their files into a fresh database."""
    engine = make_engine(db_url)
    upgrade(engine)
    results = ingest_files(engine, files)
    assert all(r.status == "loaded" for r in results), [(r.file, r.status, r.rejections) for r in results]
    engine.dispose()
    return db_url


def zjtx(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result


def run_zjtx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ZJTX, *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=300)


def check_contract_shape(records: list[dict], policy_id: str, as_of: str) -> None:
    for r in records:
        assert set(r) == RECORD_KEYS
        assert r["policy"] == policy_id and r["as_of"] == as_of
        assert r["verdict"] in ("eligible", "ineligible", "insufficient_data")
        assert r["class"] is None or isinstance(r["class"], str)
        assert r["score"] is None or isinstance(r["score"], int | float)
        assert r["criteria"], "every criterion is listed"
        for c in r["criteria"]:
            assert set(c) == CRITERION_KEYS
            assert c["result"] in ("pass", "fail", "missing", "waived")
            assert isinstance(c["id"], str) and isinstance(c["label"], str) and isinstance(c["expected"], str)


def test_evaluate_json_is_the_contract_array(registry_db):
    res = zjtx("evaluate", "--policy", "cn/little-giant/2021", "--as-of", "2021-05-01", "--format", "json")
    assert res.exit_code == 0, res.output
    records = json.loads(res.stdout)
    check_contract_shape(records, "cn/little-giant/2021", "2021-05-01")
    assert {r["uscc"]: (r["verdict"], r["class"]) for r in records} == EXPECTED
    good = next(r for r in records if r["uscc"] == GOOD.uscc)
    debt = next(c for c in good["criteria"] if c["id"] == "debt_ratio")
    assert debt == {"id": "debt_ratio", "label": "资产负债率不高于70%", "result": "pass", "actual": 50.0,
                    "expected": "≤ 70 %", "source": "工信厅企业函〔2021〕79号 L894"}


def test_evaluate_selected_firms_and_english_labels(registry_db):
    res = zjtx("evaluate", "--policy", "cn/little-giant/2021", "--as-of", "2021-05-01", "--format", "json",
               "--uscc", INDEBTED.uscc.lower(), "--lang", "en")
    assert res.exit_code == 0, res.output
    records = json.loads(res.stdout)
    assert [r["uscc"] for r in records] == [INDEBTED.uscc]
    labels = {c["id"]: c["label"] for c in records[0]["criteria"]}
    assert labels["debt_ratio"] == "Debt-to-asset ratio at most 70%"


def test_screen_from_files_gives_the_same_verdicts_as_evaluate_from_the_database(registry_db, files):
    args = ["--policy", "cn/little-giant-precheck/2021", "--as-of", "2021-05-01", "--format", "json"]
    from_db = zjtx("evaluate", *args)
    from_files = zjtx("screen", *map(str, files), *args)
    assert from_db.exit_code == 0 and from_files.exit_code == 0, (from_db.output, from_files.output)
    check_contract_shape(json.loads(from_files.stdout), "cn/little-giant-precheck/2021", "2021-05-01")
    assert json.loads(from_files.stdout) == json.loads(from_db.stdout)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_screen_stores_nothing_and_writes_a_coloured_workbook(config_env, db_url, files, tmp_path):
    engine = make_engine(db_url)
    upgrade(engine)
    out = tmp_path / "screen.xlsx"
    res = zjtx("screen", *map(str, files), "--policy", "cn/little-giant/2021", "--as-of", "2021-05-01",
               "--format", "xlsx", "--output", str(out))
    assert res.exit_code == 0, res.output
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM enterprise").scalar() == 0
    engine.dispose()
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["结果 results", "条件 criteria", "说明 notes"]
    sheet = wb["结果 results"]
    header = [c.value for c in sheet[1]]
    assert header[:7] == ["uscc", "name", "policy", "as_of", "verdict", "class", "score"]
    debt_col = next(i for i, h in enumerate(header) if h and h.startswith("debt_ratio\n"))
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert rows[INDEBTED.uscc][debt_col].value == "fail"
    assert rows[INDEBTED.uscc][debt_col].fill.fgColor.rgb.endswith("FFC7CE")  # red
    assert rows[GOOD.uscc][debt_col].fill.fgColor.rgb.endswith("C6EFCE")  # green
    criteria = wb["条件 criteria"]
    sources = {r[0].value.strip(): r[6].value for r in criteria.iter_rows(min_row=2)}
    assert sources["debt_ratio"] == "工信厅企业函〔2021〕79号 L894"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_evaluate_csv_has_one_column_per_criterion(registry_db):
    res = zjtx("evaluate", "--policy", "cn/sme-size/2011", "--as-of", "2021-05-01", "--format", "csv")
    assert res.exit_code == 0, res.output
    lines = res.stdout_bytes.decode("utf-8-sig").splitlines()
    assert lines[0] == "uscc,name,policy,as_of,verdict,class,score,is_sme"
    assert len(lines) == 4 and all(",eligible,small,,pass" in line for line in lines[1:])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_user_mistakes_are_one_line_errors_with_exit_1(registry_db):
    cases = [
        (("evaluate", "--policy", "cn/no-such/2021"), "cn/no-such/2021"),
        (("evaluate", "--policy", "cn/little-giant/2021", "--as-of", "2020-12-31"), "2020-12-31"),
        (("evaluate", "--policy", "cn/little-giant/2021", "--as-of", "2021-05-01", "--uscc", "91110000MA0000000X"),
         "91110000MA0000000X"),
        (("evaluate", "--policy", "cn/little-giant/2021", "--as-of", "yesterday"), "YYYY-MM-DD"),
        (("screen", "no-such-file.csv", "--policy", "cn/little-giant/2021", "--as-of", "2021-05-01"),
         "no-such-file.csv"),
    ]
    for args, needle in cases:
        res = zjtx(*args)
        assert isinstance(res.exception, UserError), (args, res.output)
        assert needle in str(res.exception)
    # And through the real entry point: one line on stderr, exit status 1, no traceback.
    proc = run_zjtx("evaluate", "--policy", "cn/key-little-giant/2021", "--as-of", "2026-01-01")
    assert proc.returncode == 1
    assert proc.stderr.startswith("zjtx: error:") and len(proc.stderr.strip().splitlines()) == 1
    assert "2026-01-01" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_screen_needs_an_enterprises_file(config_env, files):
    reports = [f for f in files if f.name == "reports.csv"]
    res = zjtx("screen", *map(str, reports), "--policy", "cn/sme-size/2011", "--as-of", "2021-05-01")
    assert isinstance(res.exception, UserError) and "enterprises" in str(res.exception)


def test_policies_list_and_show():
    res = zjtx("policies", "list", "--format", "json")
    assert res.exit_code == 0
    listed = {p["id"]: p for p in json.loads(res.stdout)}
    assert listed["cn/key-little-giant/2021"]["effective_to"] == "2025-12-31"
    assert listed["cn/sme-size/2011"]["purpose"] == "classification"
    shown = zjtx("policies", "show", "cn-bingtuan/zjtx/2021")
    assert shown.exit_code == 0
    text = " ".join(shown.stdout.split())
    assert "至少满足 2 项" in text and "L34302-34304" in text
    english = zjtx("policies", "show", "cn/little-giant/2021", "--lang", "en")
    assert "exactly one class of a/b/c" in " ".join(english.stdout.split())
    as_json = json.loads(zjtx("policies", "show", "cn/sme-size/2011", "--format", "json").stdout)
    assert as_json["class_indicator"] == "sme_size_class"


def test_table_output_names_the_deciding_conditions(registry_db):
    res = CliRunner().invoke(app, ["evaluate", "--policy", "cn/little-giant/2021", "--as-of", "2021-05-01"],
                             env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.stdout.splitlines() if INDEBTED.uscc in ln)
    assert "debt_ratio" in line and "class_b" not in line  # a class the firm is not in is not listed
    assert date(2021, 5, 1).isoformat() in res.stdout
