"""`zjtx ingest` as a user runs it (a subprocess): CONTRACT §4 JSON shape, table output, exit statuses."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from fixtures.ingest_data import NINGBO, enterprises_file, write_csv, write_xlsx
from zjtx_command import ZJTX

KEYS = ["file", "kind", "run_id", "status", "rows_read", "rows_loaded", "rows_rejected", "rejections"]


def zjtx(*args: str) -> subprocess.CompletedProcess:
    # A wide console, so that table cells are not wrapped mid-word in the assertions.
    env = {**os.environ, "COLUMNS": "300"}
    return subprocess.run([*ZJTX, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def env(engine, config_env):
    return engine


def test_json_output_is_the_contract_array_and_exit_0_with_rejected_rows(env, tmp_path):
    firms = enterprises_file(tmp_path / "firms.csv")
    reports = write_xlsx(tmp_path / "运行数据.xlsx", ["统一社会信用代码", "报告期", "营业收入", "从业人数", "备注"],
                         [[NINGBO[0], "2024", 1000, 20, "x"], [NINGBO[1], "2024", -5, 3, None]])

    done = zjtx("ingest", str(firms), str(reports), "--format", "json")

    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [list(o) for o in out] == [KEYS, KEYS]
    firms_out, reports_out = out
    assert firms_out == {"file": str(firms), "kind": "enterprises", "run_id": firms_out["run_id"], "status": "loaded",
                         "rows_read": 4, "rows_loaded": 4, "rows_rejected": 0, "rejections": []}
    assert isinstance(firms_out["run_id"], int)
    assert (reports_out["kind"], reports_out["status"]) == ("reports", "partial")
    assert (reports_out["rows_read"], reports_out["rows_loaded"], reports_out["rows_rejected"]) == (2, 1, 1)
    assert [list(r) for r in reports_out["rejections"]] == [["row", "column", "reason"]] * 2
    assert reports_out["rejections"][0] == {"row": None, "column": "备注",
                                            "reason": "未知列，未载入 / unknown column, not loaded"}
    assert reports_out["rejections"][1]["row"] == 2 and reports_out["rejections"][1]["column"] == "revenue"

    again = zjtx("ingest", str(reports), "--format", "json")
    assert again.returncode == 0
    assert json.loads(again.stdout)[0]["status"] == "unchanged"


def test_exit_1_when_a_file_is_rejected_whole_and_the_others_still_load(env, tmp_path):
    firms = enterprises_file(tmp_path / "firms.csv")
    broken = write_csv(tmp_path / "r.csv", ["uscc", "revenue"], [[NINGBO[0], "1"]])

    done = zjtx("ingest", str(broken), str(firms), "--kind", "enterprises", "--format", "json")

    assert done.returncode == 1
    out = json.loads(done.stdout)
    assert [o["status"] for o in out] == ["rejected", "loaded"]
    assert out[0]["rejections"][0]["row"] is None and "missing required column" in out[0]["rejections"][0]["reason"]


def test_table_output_names_files_counts_reasons_and_run(env, tmp_path):
    firms = enterprises_file(tmp_path / "firms.csv")
    reports = write_csv(tmp_path / "r.csv", ["uscc", "period", "revenue"],
                        [[NINGBO[0], "2024", "1"], [NINGBO[1], "2024Q9", "2"]], encoding="gb18030")

    done = zjtx("ingest", str(firms), str(reports))

    assert done.returncode == 0, done.stderr
    assert "部分载入 partial" in done.stdout and "已载入 loaded" in done.stdout
    assert "period must look like" in done.stdout and "2024Q9" in done.stdout
    assert "run2-r.rejected.csv" in done.stdout
    assert done.stderr == ""  # no progress bar outside a terminal


def test_bad_kind_is_a_one_line_error(env, tmp_path):
    done = zjtx("ingest", str(enterprises_file(tmp_path / "f.csv")), "--kind", "bananas")
    assert done.returncode == 1
    assert done.stderr.strip().startswith("zjtx: error:") and "unknown kind" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
