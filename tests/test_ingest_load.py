"""Loading files into the database (SQLite and PostgreSQL): upserts, history, supersession, runs, archive,
quarantine, unchanged re-sends, whole-file rejections, atomicity, the inbox job."""

from __future__ import annotations

import csv
import json
import os
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fixtures.ingest_data import FIRMS, NINGBO, SHENZHEN, enterprises_file, write_csv

from registry.identity import make_uscc
from registry.ingest import IngestFailed, ingest_files, ingest_inbox
from registry.ingest import bulk as ingest_bulk
from registry.settings import get_settings

F0, F1 = NINGBO[0], NINGBO[1]


def rows(engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params).fetchall()]


def count(engine, table: str) -> int:
    return rows(engine, f"SELECT COUNT(*) FROM {table}")[0][0]


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@pytest.fixture
def env(engine, config_env):
    """A migrated database plus the config (archive/quarantine/inbox folders) the ingestion reads."""
    return engine


@pytest.fixture
def firms(env, tmp_path):
    [result] = ingest_files(env, [enterprises_file(tmp_path / "enterprises.csv")])
    assert result.status == "loaded" and result.rows_loaded == len(FIRMS)
    return env


def test_enterprises_load_first_so_a_reports_file_before_them_in_the_call_finds_its_firms(env, tmp_path):
    reports = write_csv(tmp_path / "reports.csv", ["uscc", "period", "revenue", "employees"],
                        [[F0, "2024", "1200.5", "35"], [SHENZHEN, "2024-07", "80", ""]])
    firms_file = enterprises_file(tmp_path / "firms.csv")

    results = ingest_files(env, [reports, firms_file])

    assert [r.file for r in results] == [str(reports), str(firms_file)]  # reported in the order given
    assert [r.status for r in results] == ["loaded", "loaded"]
    assert results[1].run_id < results[0].run_id  # but loaded firms first
    assert count(env, "enterprise") == len(FIRMS)
    stored = rows(env, "SELECT e.uscc, r.period, r.period_type, r.revenue, r.employees FROM report r "
                       "JOIN enterprise e ON e.id = r.enterprise_id ORDER BY r.period")
    assert stored == [(F0, "2024", "annual", 1200.5, 35.0), (SHENZHEN, "2024-07", "monthly", 80.0, None)]
    name_norm, province = rows(env, "SELECT name_norm, province_code FROM enterprise WHERE uscc = :u", u=F0)[0]
    assert name_norm == "测试企业1(宁波)有限公司" and province == "33"


def test_unknown_firm_in_a_reports_file_is_rejected_and_the_rest_loads(firms, tmp_path):
    stranger = make_uscc("91110108MA0000000")  # valid code, but never loaded
    path = write_csv(tmp_path / "r.csv", ["uscc", "period", "revenue"], [[F0, "2024", "1"], [stranger, "2024", "2"]])

    [result] = ingest_files(firms, [path])

    assert (result.status, result.rows_read, result.rows_loaded, result.rows_rejected) == ("partial", 2, 1, 1)
    [rejection] = result.rejections
    assert (rejection.row, rejection.column) == (2, "uscc")
    assert "not in the registry" in rejection.reason and stranger in rejection.reason
    stored = rows(firms, "SELECT row, \"column\", reason, raw FROM rejected_row WHERE run_id = :r", r=result.run_id)
    assert len(stored) == 1 and stored[0][:2] == (2, "uscc")
    raw = stored[0][3] if isinstance(stored[0][3], dict) else json.loads(stored[0][3])
    assert raw == {"uscc": stranger, "period": "2024", "revenue": "2"}
    # The quarantine CSV has file, row, column, reason and the row as written.
    with open(result.quarantine_csv, encoding="utf-8-sig", newline="") as handle:
        [line] = list(csv.DictReader(handle))
    assert (line["file"], line["row"], line["column"], line["cell:uscc"]) == ("r.csv", "2", "uscc", stranger)
    assert count(firms, "report") == 1


def test_same_file_again_is_unchanged_and_changes_nothing(firms, tmp_path):
    path = write_csv(tmp_path / "r.csv", ["uscc", "period", "revenue"], [[F0, "2024", "1"]])
    [first] = ingest_files(firms, [path])
    before = rows(firms, "SELECT id, revenue, ingestion_run_id, updated_at FROM report")

    copy = tmp_path / "copy-of-r.csv"
    copy.write_bytes(path.read_bytes())
    second, third = ingest_files(firms, [path, copy])

    assert first.status == "loaded"
    assert (second.status, third.status) == ("unchanged", "unchanged")
    assert second.kind == "reports" and second.rows_loaded == 0 and second.run_id != first.run_id
    assert rows(firms, "SELECT id, revenue, ingestion_run_id, updated_at FROM report") == before
    statuses = rows(firms, "SELECT status FROM ingestion_run WHERE sha256 = (SELECT sha256 FROM ingestion_run "
                           "WHERE id = :r) ORDER BY id", r=first.run_id)
    assert statuses == [("loaded",), ("unchanged",), ("unchanged",)]


def test_corrected_resend_replaces_values_and_keeps_the_old_ones(firms, tmp_path):
    first = write_csv(tmp_path / "r1.csv", ["uscc", "period", "revenue", "employees"],
                      [[F0, "2024Q3", "100", "10"], [F1, "2024Q3", "50", "5"]])
    [r1] = ingest_files(firms, [first])
    # The correction has no employees column: employees stay; F1 is re-sent unchanged.
    fixed = write_csv(tmp_path / "r2.csv", ["uscc", "period", "revenue"], [[F0, "2024Q3", "120"], [F1, "2024Q3", "50"]])
    [r2] = ingest_files(firms, [fixed])

    assert (r2.status, r2.rows_loaded) == ("loaded", 2)
    stored = rows(firms, "SELECT e.uscc, r.revenue, r.employees, r.ingestion_run_id FROM report r "
                         "JOIN enterprise e ON e.id = r.enterprise_id ORDER BY e.uscc")
    assert sorted(stored) == sorted([(F0, 120.0, 10.0, r2.run_id), (F1, 50.0, 5.0, r1.run_id)])
    [(values, replaced_by)] = rows(firms, "SELECT \"values\", replaced_by_run_id FROM report_revision")
    values = values if isinstance(values, dict) else json.loads(values)
    assert replaced_by == r2.run_id
    assert (values["revenue"], values["employees"], values["ingestion_run_id"]) == (100.0, 10.0, r1.run_id)


def test_a_blank_cell_in_a_present_column_withdraws_the_figure(firms, tmp_path):
    ingest_files(firms, [write_csv(tmp_path / "a.csv", ["uscc", "period", "revenue"], [[F0, "2024", "100"]])])
    ingest_files(firms, [write_csv(tmp_path / "b.csv", ["uscc", "period", "revenue"], [[F0, "2024", ""]])])
    assert rows(firms, "SELECT revenue FROM report") == [(None,)]
    assert count(firms, "report_revision") == 1


def test_later_file_wins_within_one_call(firms, tmp_path):
    a = write_csv(tmp_path / "a.csv", ["uscc", "period", "revenue"], [[F0, "2024-07", "70"]])
    b = write_csv(tmp_path / "b.csv", ["uscc", "period", "revenue"], [[F0, "2024年7月", "77"]])
    results = ingest_files(firms, [a, b])
    assert [r.status for r in results] == ["loaded", "loaded"]
    assert rows(firms, "SELECT revenue FROM report") == [(77.0,)]
    [(values,)] = rows(firms, "SELECT \"values\" FROM report_revision")
    assert (values if isinstance(values, dict) else json.loads(values))["revenue"] == 70.0


def test_missing_required_column_rejects_the_whole_file_and_loads_nothing(firms, tmp_path):
    path = write_csv(tmp_path / "r.csv", ["uscc", "revenue"], [[F0, "1"]])
    [result] = ingest_files(firms, [path], kind="reports")

    assert (result.status, result.kind, result.rows_read, result.rows_loaded) == ("rejected", "reports", 0, 0)
    [rejection] = result.rejections
    assert rejection.row is None and "period" in rejection.reason
    assert count(firms, "report") == 0
    run = rows(firms, "SELECT status, kind FROM ingestion_run WHERE id = :r", r=result.run_id)
    assert run == [("rejected", "reports")]
    assert rows(firms, "SELECT row, reason FROM rejected_row WHERE run_id = :r", r=result.run_id) == [
        (None, rejection.reason)]
    # A rejected file is not "already loaded": once fixed it loads.
    path.write_text(f"uscc,period,revenue\n{F0},2024,1\n", encoding="utf-8")
    assert ingest_files(firms, [path])[0].status == "loaded"


def test_a_failure_in_the_middle_leaves_the_database_as_it_was(firms, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "r.csv", ["uscc", "period", "revenue"],
                     [[u, f"2024-{m:02d}", str(m)] for u in FIRMS for m in range(1, 7)])
    monkeypatch.setattr(ingest_bulk, "CHUNK_ROWS", 4)
    real_write = ingest_bulk._write_chunk
    calls = []

    def failing_write(conn, statement, chunk):
        calls.append(chunk.height)
        if len(calls) == 3:  # 8 of 24 report rows already written in this transaction
            raise RuntimeError("disk full")
        real_write(conn, statement, chunk)

    monkeypatch.setattr(ingest_bulk, "_write_chunk", failing_write)
    with pytest.raises(IngestFailed, match="database unchanged"):
        ingest_files(firms, [path])

    assert len(calls) == 3
    assert count(firms, "report") == 0
    assert count(firms, "rejected_row") == 0
    runs = rows(firms, "SELECT status, error FROM ingestion_run WHERE kind = 'reports'")
    assert len(runs) == 1 and runs[0][0] == "failed" and "disk full" in runs[0][1]
    # Not recorded as loaded: the same file loads once the problem is gone.
    monkeypatch.setattr(ingest_bulk, "_write_chunk", real_write)
    assert ingest_files(firms, [path])[0].rows_loaded == 24


def test_recognitions_supersede_valid_until_and_jurisdiction(firms, tmp_path):
    header = ["uscc", "tier", "jurisdiction", "batch", "recognized_on", "valid_until"]
    first = write_csv(tmp_path / "rec1.csv", header, [
        [F0, "little_giant", "cn", "3", "2021-07-19", ""],
        [F0, "zjtx_sme", "cn-zj", "2020", "2020-05-01", "2023-04-30"],
        [F0, "zjtx_sme", "cn-gd", "2020", "2020-05-01", ""],  # a Zhejiang firm cannot be recognised by Guangdong
    ])
    [r1] = ingest_files(firms, [first])
    assert (r1.status, r1.rows_loaded) == ("partial", 2)
    assert [(r.row, r.column) for r in r1.rejections] == [(3, "jurisdiction")]

    # 复核 passed in 2024: a new row for the same firm, tier and jurisdiction supersedes the 2021 one.
    renewal = write_csv(tmp_path / "rec2.csv", header[:5], [[F0, "小巨人", "cn", "3", "2024-07-19"]])
    ingest_files(firms, [renewal])

    stored = rows(firms, "SELECT id, tier, recognized_on, valid_until, status, superseded_by, ended_on FROM recognition "
                         "WHERE tier = 'little_giant' ORDER BY recognized_on")
    (old_id, _, _, old_until, old_status, old_by, old_end), (new_id, _, _, new_until, new_status, new_by, _) = stored
    assert (old_status, old_by, as_date(old_end)) == ("superseded", new_id, date(2024, 7, 19))
    assert (new_status, new_by) == ("active", None)
    assert as_date(old_until) == date(2024, 7, 18) and as_date(new_until) == date(2027, 7, 18)
    [(until,)] = rows(firms, "SELECT valid_until FROM recognition WHERE tier = 'zjtx_sme'")
    assert as_date(until) == date(2023, 4, 30)  # given in the file, not derived

    # Revocation sent later for the current recognition updates it in place.
    revoke = write_csv(tmp_path / "rec3.csv", [*header[:5], "status"],
                       [[F0, "little_giant", "cn", "3", "2024-07-19", "撤销"]])
    ingest_files(firms, [revoke])
    assert rows(firms, "SELECT status FROM recognition WHERE id = :i", i=new_id) == [("revoked",)]
    assert rows(firms, "SELECT status FROM recognition WHERE id = :i", i=old_id) == [("superseded",)]


def test_attributes_and_events_are_deduplicated_on_their_keys(firms, tmp_path):
    a_header = ["uscc", "attribute", "value", "effective_on", "expires_on"]
    e_header = ["uscc", "event", "occurred_on", "detail"]
    ingest_files(firms, [
        write_csv(tmp_path / "a1.csv", a_header, [[F0, "high_tech_enterprise", "是", "2021-01-01", ""]]),
        write_csv(tmp_path / "e1.csv", e_header, [[F0, "abnormal_operation", "2023-03-01", ""]]),
    ])
    results = ingest_files(firms, [
        write_csv(tmp_path / "a2.csv", a_header, [[F0, "高新技术企业", "true", "2021-01-01", "2023-12-31"],
                                                  [F0, "rd_institution", "self", "2021-01-01", ""]]),
        write_csv(tmp_path / "e2.csv", e_header, [[F0, "经营异常名录", "2023-03-01", ""],
                                                  [F0, "listing", "2023-06-01", "北交所"]]),
    ])
    assert [r.status for r in results] == ["loaded", "loaded"]
    attrs = rows(firms, "SELECT attribute, value, expires_on FROM attribute ORDER BY attribute")
    assert [(a, v) for a, v, _ in attrs] == [("high_tech_enterprise", "true"), ("rd_institution", "self")]
    assert as_date(attrs[0][2]) == date(2023, 12, 31)  # expiry added by the re-send, not a second row
    assert rows(firms, "SELECT event, detail FROM event ORDER BY occurred_on") == [
        ("abnormal_operation", None), ("listing", "bse")]


def test_targets_upsert_on_their_keys(firms, tmp_path):
    f_header = ["uscc", "indicator", "baseline", "target_year1", "target_year2", "start_period"]
    r_header = ["jurisdiction", "tier", "year", "target_count"]
    ingest_files(firms, [
        write_csv(tmp_path / "f1.csv", f_header, [[F0, "rd_ratio", "3", "3.5", "4", "2021"]]),
        write_csv(tmp_path / "g1.csv", r_header, [["cn-zj-ningbo", "little_giant", "2025", "100"]]),
    ])
    ingest_files(firms, [
        write_csv(tmp_path / "f2.csv", f_header, [[F0, "rd_ratio", "3", "3.8", "4.2", "2021"],
                                                  [F0, "listing_stage", "否", "辅导", "已申报", "2021"]]),
        write_csv(tmp_path / "g2.csv", r_header, [["宁波市", "little_giant", "2025", "120"]]),
    ], kind="targets")
    assert rows(firms, "SELECT indicator, baseline, target_year1, target_year2, direction FROM firm_target "
                       "ORDER BY indicator") == [("listing_stage", 0.0, 2.0, 3.0, "higher"),
                                                 ("rd_ratio", 3.0, 3.8, 4.2, "higher")]
    assert rows(firms, "SELECT jurisdiction, year, target_count, parent_jurisdiction FROM regional_target") == [
        ("cn-zj-ningbo", 2025, 120, "cn-zj")]


def test_archive_keeps_the_original_under_its_sha256(firms, tmp_path):
    path = write_csv(tmp_path / "r.csv", ["uscc", "period", "revenue"], [[F0, "2024", "1"]], encoding="gbk")
    [result] = ingest_files(firms, [path])
    [(sha, archived)] = rows(firms, "SELECT sha256, archive_path FROM ingestion_run WHERE id = :r", r=result.run_id)
    assert archived.endswith(f"{sha}.csv")
    assert Path(archived).read_bytes() == path.read_bytes()
    assert os.path.dirname(archived) == str(get_settings().path("archive"))


def test_inbox_job_moves_files_by_outcome(firms, tmp_path):
    settings = get_settings()
    inbox = settings.path("inbox")
    inbox.mkdir(parents=True, exist_ok=True)
    good = write_csv(inbox / "reports.csv", ["uscc", "period", "revenue"], [[F0, "2024", "1"]])
    bad = write_csv(inbox / "mystery.csv", ["foo", "bar"], [["1", "2"]])
    again = enterprises_file(inbox / "firms-again.csv")  # same content as the firms fixture's file
    write_csv(inbox / "still-copying.csv", ["uscc", "period", "revenue"], [[F1, "2024", "2"]])
    old = time.time() - 60
    for path in (good, bad, again):
        os.utime(path, (old, old))

    results = ingest_inbox(firms, settings)

    assert sorted((os.path.basename(r.file), r.status) for r in results) == [
        ("firms-again.csv", "unchanged"), ("mystery.csv", "rejected"), ("reports.csv", "loaded")]
    assert sorted(p.name for p in inbox.iterdir()) == ["still-copying.csv"]
    rejected = next(r for r in results if r.status == "rejected")
    quarantined = settings.path("quarantine") / f"run{rejected.run_id}-mystery.csv"
    assert quarantined.exists()
    assert "cannot tell the kind" in quarantined.with_name(quarantined.name + ".reason.txt").read_text("utf-8")
    assert rows(firms, "SELECT source FROM ingestion_run WHERE id = :r", r=rejected.run_id) == [("inbox",)]
    assert count(firms, "report") == 1


def test_inbox_file_whose_load_fails_stays_for_the_next_run(firms, tmp_path, monkeypatch):
    settings = get_settings()
    inbox = settings.path("inbox")
    inbox.mkdir(parents=True, exist_ok=True)
    events = write_csv(inbox / "events.csv", ["uscc", "event", "occurred_on"], [[F0, "rename", "2023-01-01"]])
    reports = write_csv(inbox / "reports.csv", ["uscc", "period", "revenue"], [[F0, "2024", "1"]])
    old = time.time() - 60
    for path in (events, reports):
        os.utime(path, (old, old))
    real_write = ingest_bulk._write_chunk

    def fail_on_reports(conn, statement, chunk):
        if "report" in statement and "rejected" not in statement:
            raise RuntimeError("connection lost")
        real_write(conn, statement, chunk)

    monkeypatch.setattr(ingest_bulk, "_write_chunk", fail_on_reports)
    with pytest.raises(IngestFailed, match="stay in the inbox") as err:
        ingest_inbox(firms, settings, min_age_seconds=0)

    assert [(os.path.basename(r.file), r.status) for r in err.value.results] == [("events.csv", "loaded")]
    assert sorted(p.name for p in inbox.iterdir()) == ["reports.csv"]
    assert count(firms, "report") == 0 and count(firms, "event") == 1
    monkeypatch.setattr(ingest_bulk, "_write_chunk", real_write)
    [result] = ingest_inbox(firms, settings, min_age_seconds=0)
    assert result.status == "loaded" and list(inbox.iterdir()) == []
