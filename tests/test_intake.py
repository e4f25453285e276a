"""Data intake on SQLite and PostgreSQL: reporting completeness against the real Shanghai and Hainan monthly duties
(reported on time / late / missing, a correction does not make an on-time report late), scope, the heatmap counts,
uploads through the ingestion path, rejected rows for sending back, and the jobs overview."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import polars as pl
import pytest
import sqlalchemy as sa
from builders import enterprise_row, insert_rows

from registry.access import SYSTEM, Principal
from registry.identity import make_uscc
from registry.intake import (
    Upload,
    completeness,
    expected_reports,
    firms_in_cell,
    ingest_uploads,
    jobs_overview,
    recent_runs,
    rejected_rows,
)
from registry.models import Enterprise, IngestionRun, JobRequest, JobRun, Recognition, Report, ReportRevision

rng = random.Random(77)
SH_1, SH_2 = make_uscc(rng, "310115"), make_uscc(rng, "310104")  # 上海 浦东 / 徐汇
HI_1 = make_uscc(rng, "460105")  # 海口
GD_1 = make_uscc(rng, "440305")  # 深圳: Guangdong's rules carry no reporting duty
AS_OF = date(2024, 4, 20)  # monthly reports due on the 10th of the next month: 2024-03 is the latest due


def utc(y, m, d, h=2) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def seed(engine) -> None:
    firms = [(1, SH_1, "上海甲精密有限公司", "310115"), (2, SH_2, "上海乙传感有限公司", "310104"),
             (3, HI_1, "海南丙科技有限公司", "460105"), (4, GD_1, "深圳丁电子有限公司", "440305")]
    with engine.begin() as conn:
        insert_rows(conn, Enterprise.__table__, [enterprise_row(u, n, r, id=i) for i, u, n, r in firms])
        conn.execute(sa.insert(Recognition.__table__), [
            {"id": 1, "enterprise_id": 1, "tier": "zjtx_sme", "jurisdiction": "cn-sh", "batch": "2023",
             "recognized_on": date(2023, 12, 1), "valid_until": date(2026, 11, 30), "status": "active"},
            {"id": 2, "enterprise_id": 2, "tier": "zjtx_sme", "jurisdiction": "cn-sh", "batch": "2023",
             "recognized_on": date(2023, 12, 1), "valid_until": date(2026, 11, 30), "status": "active"},
            {"id": 3, "enterprise_id": 3, "tier": "zjtx_sme", "jurisdiction": "cn-hi", "batch": "2023",
             "recognized_on": date(2024, 1, 15), "valid_until": date(2027, 1, 14), "status": "active"},
            {"id": 4, "enterprise_id": 4, "tier": "zjtx_sme", "jurisdiction": "cn-gd", "batch": "2023",
             "recognized_on": date(2023, 1, 1), "valid_until": date(2025, 12, 31), "status": "active"},
        ])
        # Runs: 1 on 2024-01-05, 2 on 2024-02-08, 3 on 2024-03-15 02:00 UTC (10:00 Shanghai), 4 on 2024-04-18.
        conn.execute(sa.insert(IngestionRun.__table__), [
            {"id": k, "file_name": f"/tmp/x/{k}.csv", "sha256": str(k) * 64, "kind": "reports", "status": "loaded",
             "source": "cli", "started_at": at, "finished_at": at}
            for k, at in ((1, utc(2024, 1, 5)), (2, utc(2024, 2, 8)), (3, utc(2024, 3, 15)), (4, utc(2024, 4, 18)))])
        reports = [
            # SH_1: 2023-12 and 2024-01 on time; 2024-02 (due 03-10) arrived 03-15 → late; 2024-03 missing.
            (1, 1, "2023-12", date(2023, 12, 31), 1), (2, 1, "2024-01", date(2024, 1, 31), 2),
            (3, 1, "2024-02", date(2024, 2, 29), 3),
            # SH_2: 2023-12 first came in run 1, corrected in run 4: still on time. Nothing else.
            (4, 2, "2023-12", date(2023, 12, 31), 4),
            # HI_1: 2024-01..03, all in run 4 (2024-04-18): 01 and 02 late, 03 (due 04-10) late as well.
            (5, 3, "2024-01", date(2024, 1, 31), 4), (6, 3, "2024-02", date(2024, 2, 29), 4),
            (7, 3, "2024-03", date(2024, 3, 31), 4),
        ]
        conn.execute(sa.insert(Report.__table__), [
            {"id": rid, "enterprise_id": firm, "period": period, "period_type": "monthly", "year": int(period[:4]),
             "period_end": end, "basis": "period", "revenue": 100.0, "ingestion_run_id": run}
            for rid, firm, period, end, run in reports])
        conn.execute(sa.insert(ReportRevision.__table__), [
            {"report_id": 4, "values": {"revenue": 90.0, "ingestion_run_id": 1}, "replaced_by_run_id": 4,
             "replaced_at": utc(2024, 4, 18)}])


def statuses(frame: pl.DataFrame, uscc: str) -> dict[str, str]:
    return dict(frame.filter(pl.col("uscc") == uscc).select("period", "status").iter_rows())


def test_each_owed_report_is_reported_late_or_missing(engine):
    seed(engine)
    owed = expected_reports(SYSTEM, AS_OF, engine=engine, timezone="Asia/Shanghai")
    # Recognised 2023-12-01: owes December onwards; the April report is not due yet.
    assert statuses(owed, SH_1) == {"2023-12": "reported", "2024-01": "reported", "2024-02": "late",
                                    "2024-03": "missing"}
    # A correction sent after the due date leaves the first, on-time arrival in force.
    assert statuses(owed, SH_2) == {"2023-12": "reported", "2024-01": "missing", "2024-02": "missing",
                                    "2024-03": "missing"}
    # Hainan, recognised 2024-01-15: January counts (the period ends after recognition).
    assert statuses(owed, HI_1) == {"2024-01": "late", "2024-02": "late", "2024-03": "late"}
    # Guangdong's rules carry no reporting duty: nothing is owed.
    assert owed.filter(pl.col("uscc") == GD_1).is_empty()
    late = owed.filter(pl.col("uscc") == SH_1, pl.col("period") == "2024-02").row(0, named=True)
    assert late["report_due_on"] == date(2024, 3, 10)
    assert late["received_on"] == date(2024, 3, 15)
    assert late["days_late"] == 5
    assert "上海市企业服务云" in late["what"]
    assert late["obligation_source"]


def test_completeness_counts_per_region_and_period(engine):
    seed(engine)
    owed = expected_reports(SYSTEM, AS_OF, engine=engine, timezone="Asia/Shanghai")
    table = completeness(owed, "province")
    shanghai = {r["period"]: r for r in table.filter(pl.col("region_code") == "310000").iter_rows(named=True)}
    assert shanghai["2023-12"]["region_name"] == "上海市"
    assert (shanghai["2023-12"]["owed"], shanghai["2023-12"]["reported"]) == (2, 2)
    assert (shanghai["2024-02"]["reported"], shanghai["2024-02"]["late"], shanghai["2024-02"]["missing"]) == (0, 1, 1)
    assert shanghai["2024-02"]["reported_pct"] == 50.0
    assert shanghai["2024-03"]["missing"] == 2
    # Prefecture level: Pudong and Xuhui are both districts of 上海市市辖区 (3101).
    by_prefecture = completeness(owed, "prefecture")
    assert set(by_prefecture["region_code"]) == {"310100", "460100"}
    drill = firms_in_cell(owed, "province", "310000", "2024-03", status="missing")
    assert sorted(drill["uscc"]) == sorted([SH_1, SH_2])


def test_a_provincial_official_sees_only_their_firms(engine):
    seed(engine)
    owed = expected_reports(Principal("hi", "manager", "cn-hi"), AS_OF, engine=engine, timezone="Asia/Shanghai")
    assert set(owed["uscc"]) == {HI_1}


def test_uploads_load_like_the_cli_and_rejected_rows_go_back(config_env, db_url):
    from registry.db import make_engine, upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    good = make_uscc(rng, "330212")
    text = ("统一社会信用代码,企业名称,行政区划代码,行业代码,成立日期,备注\n"
            f"{good},宁波测试有限公司,330212,C35,2012-03-01,x\n"
            "91330200MA2XXXXXXX,坏代码有限公司,330212,C35,2012-03-01,y\n"
            f"{make_uscc(rng, '330212')},日期错误有限公司,330212,C35,2012-13-01,z\n")
    ticks: list[tuple[int, int]] = []
    [result] = ingest_uploads(engine, [Upload("企业名录.csv", text.encode("gbk"))],
                              progress=lambda _name, done, total: ticks.append((done, total)))
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_rejected) == ("partial", 3, 1, 2)
    assert ticks and ticks[-1][0] == ticks[-1][1]
    runs = recent_runs(SYSTEM, engine=engine)
    assert runs.row(0, named=True)["file_name"] == "企业名录.csv"
    assert runs.row(0, named=True)["source"] == "upload"
    rows = rejected_rows(SYSTEM, [result.run_id], engine=engine)
    by_row = rows.filter(pl.col("row").is_not_null())
    assert sorted(by_row["row"].unique()) == [2, 3]
    assert by_row.filter(pl.col("row") == 2)["企业名称"].to_list()[0] == "坏代码有限公司"
    assert by_row.filter(pl.col("row") == 3)["column"].to_list() == ["founded_on"]
    assert all(by_row["reason"].str.contains("/"))  # Chinese / English
    # The unknown column is reported once, with no row.
    assert rows.filter(pl.col("row").is_null())["column"].to_list() == ["备注"]
    # The same file again changes nothing.
    [again] = ingest_uploads(engine, [Upload("企业名录.csv", text.encode("gbk"))])
    assert again.status == "unchanged"
    engine.dispose()


def test_jobs_overview_last_and_next_run_and_requests(engine):
    from jobs.runs import request_run
    from registry.settings import Settings

    with engine.begin() as conn:
        conn.execute(sa.insert(JobRun.__table__), [
            {"job": "flags", "started_at": utc(2024, 4, 1), "finished_at": utc(2024, 4, 1, 3), "status": "success", "error": None,
             "counts": {}},
            {"job": "flags", "started_at": utc(2024, 4, 2), "finished_at": utc(2024, 4, 2, 3), "status": "failed",
             "counts": {}, "error": "boom"}])
    request_run(engine, "reminders", "manager1")
    settings = Settings()
    now = datetime(2024, 4, 10, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    jobs = {r["job"]: r for r in jobs_overview(settings, now, engine=engine).iter_rows(named=True)}
    assert jobs["flags"]["last_status"] == "failed" and jobs["flags"]["last_error"] == "boom"
    # flags_cron "30 6 * * *" Asia/Shanghai: next 06:30 Shanghai = 22:30 UTC.
    assert jobs["flags"]["next_run"] == datetime(2024, 4, 10, 22, 30, tzinfo=UTC)
    # reminders_cron "0 8 11 * *": the 11th at 08:00 Shanghai.
    assert jobs["reminders"]["next_run"] == datetime(2024, 4, 11, 0, 0, tzinfo=UTC)
    assert jobs["reminders"]["pending_requests"] == 1
    assert jobs["ingest"]["last_status"] is None
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(JobRequest.__table__)).scalar_one() == 1


@pytest.mark.parametrize("level", ["province", "prefecture"])
def test_completeness_of_nothing_is_empty(level, sqlite_engine):
    owed = expected_reports(SYSTEM, AS_OF, engine=sqlite_engine, timezone="Asia/Shanghai")
    assert owed.is_empty()
    assert completeness(owed, level).is_empty()


# ---------------------------------------------------------------- runs and rejected rows by scope (docs/access.md)


@pytest.mark.parametrize("jurisdiction,runs,rows", [
    # The mixed inbox file (run 2) holds a Guangzhou firm's row (1), a Hangzhou firm's (2), an unregistered firm whose
    # USCC says Guangzhou (3), a row without a code (4) and a column note; run 3 is a Guangdong manager's upload
    # rejected whole; run 4 a Zhejiang official's upload; run 1 a CLI roster that names no firm.
    ("cn-gd", [3, 2], {(2, 1), (2, 3), (3, None)}),
    ("440106", [2], {(2, 1)}),
    ("cn-zj", [4, 2], {(2, 2), (4, 2)}),
    ("cn-bj", [], set()),
    ("cn", [4, 3, 2, 1], {(2, 1), (2, 2), (2, 3), (2, 4), (2, None), (3, None), (4, 2)}),
])
def test_runs_and_rejected_rows_follow_the_firms_in_them(engine, jurisdiction, runs, rows):
    from scope_seed import seed_scope_registry

    seed_scope_registry(engine)
    viewer = Principal("someone", "official", jurisdiction)
    shown = recent_runs(viewer, engine=engine)
    assert shown["run_id"].to_list() == runs
    rejected = rejected_rows(viewer, [1, 2, 3, 4], engine=engine)
    assert set(zip(rejected["run_id"], rejected["row"], strict=True)) == rows
    # Counts are of the viewer's rows; no server folder anywhere.
    for run in shown.iter_rows(named=True):
        assert run["rows_rejected"] == sum(1 for r, _ in rows if r == run["run_id"])
    text = " ".join(str(v) for frame in (shown, rejected) for v in frame.to_dicts() for v in v.values())
    assert "/srv/" not in text and "/tmp/" not in text and "zjtx-upload" not in text
