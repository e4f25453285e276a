"""The job functions against a real database (SQLite and PostgreSQL): flags stored idempotently, the daily
snapshot equal to its reconstruction from recognitions, 催报 Excel lists per region, every run recorded."""

from __future__ import annotations

import json
import os
import random
import time
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import sqlalchemy as sa
from builders import enterprise_row, report_row
from sqlmodel import Session, select

from jobs.runs import (
    JobRecordingError,
    claim_request,
    mark_interrupted_runs,
    pending_requests,
    request_run,
    run_recorded,
)
from registry.errors import UserError
from registry.flag_store import store_flags
from registry.identity import make_uscc
from registry.models import Enterprise, Event, Flag, JobRun, Recognition, Report
from registry.policy import Lifecycle, ReportingObligation, Source
from registry.reminders import write_reminders
from registry.schedule import ingest_job
from registry.settings import Settings
from registry.snapshot import counts_as_of, stored_snapshot, take_snapshot

RNG = random.Random(7)


def default_rules(*_):
    return Lifecycle()


MONTHLY = Lifecycle(reporting=[ReportingObligation(frequency="monthly", due_day=10, what="月度运行数据",
                                                   source=Source(doc="测试", lines="L1"))])


def add_firm(session: Session, region: str = "460100", name: str = "测试（海南）科技有限公司") -> Enterprise:
    firm = Enterprise(**enterprise_row(make_uscc(RNG, region), name, region))
    session.add(firm)
    session.flush()
    return firm


def add_recognition(session: Session, firm: Enterprise, recognized_on: date, valid_until: date | None = None,
                    tier: str = "little_giant", jurisdiction: str = "cn", **kw) -> Recognition:
    r = Recognition(enterprise_id=firm.id, tier=tier, jurisdiction=jurisdiction, batch="3",
                    recognized_on=recognized_on, valid_until=valid_until, **kw)
    session.add(r)
    session.flush()
    return r


def open_flags(engine) -> dict[str, Flag]:
    with Session(engine) as s:
        return {f.key: f for f in s.exec(select(Flag).where(Flag.resolved_on.is_(None)))}


def test_store_flags_is_idempotent_and_resolves_what_stops_holding(engine):
    settings = Settings()
    with Session(engine) as s:
        a, b = add_firm(s), add_firm(s)
        ra = add_recognition(s, a, date(2021, 7, 15), date(2024, 7, 14))
        add_recognition(s, b, date(2021, 7, 15), date(2024, 7, 14))
        s.commit()
        a_id, ra_id = a.id, ra.id

    first = store_flags(engine, date(2024, 3, 1), settings, resolver=default_rules)
    assert (first["opened"], first["resolved"]) == (2, 0)  # review_due for both (135 days left)
    again = store_flags(engine, date(2024, 3, 1), settings, resolver=default_rules)
    assert (again["opened"], again["kept"], again["updated"], again["resolved"]) == (0, 2, 0, 0)
    before = open_flags(engine)

    # Firm a is renewed (复核 passed) on 2024-03-02: its flag resolves; b's stays open under the same key.
    with Session(engine) as s:
        renewal = add_recognition(s, s.get(Enterprise, a_id), date(2024, 3, 2), date(2027, 3, 1))
        s.get(Recognition, ra_id).status = "superseded"
        s.get(Recognition, ra_id).superseded_by = renewal.id
        s.commit()
    later = store_flags(engine, date(2024, 3, 2), settings, resolver=default_rules)
    after = open_flags(engine)
    assert later["resolved"] == 1
    assert {f.kind for f in after.values()} == {"review_due"}
    [kept_key] = after
    assert after[kept_key].id == before[kept_key].id  # same flag, not a new one
    assert after[kept_key].opened_on == date(2024, 3, 1)
    with Session(engine) as s:
        resolved = s.exec(select(Flag).where(Flag.enterprise_id == a_id)).one()
        assert resolved.resolved_on == date(2024, 3, 2)

    # b moves into the expiring window (new flag), then expires: expiring and review_due resolve, expired opens.
    store_flags(engine, date(2024, 7, 14) - timedelta(days=85), settings, resolver=default_rules)
    assert sorted(f.kind for f in open_flags(engine).values()) == ["expiring", "review_due"]
    store_flags(engine, date(2024, 7, 15), settings, resolver=default_rules)
    [expired] = open_flags(engine).values()
    assert (expired.kind, expired.severity, expired.due_on) == ("expired", "critical", date(2024, 7, 14))
    assert expired.evidence["days_overdue"] == 1


def test_exit_flag_evidence_is_stored(engine):
    from registry.policy import ExitRule

    rules = Lifecycle(exit_rules=[ExitRule(id="deregistered", label_zh="注销", label_en="deregistered", kind="event",
                                           event="deregistration", severity="critical",
                                           source=Source(doc="测试", lines="L5-6"))])
    with Session(engine) as s:
        firm = add_firm(s)
        add_recognition(s, firm, date(2022, 7, 1), date(2025, 6, 30))
        s.add(Event(enterprise_id=firm.id, event="deregistration", occurred_on=date(2023, 2, 1), detail="注销登记"))
        s.commit()
    store_flags(engine, date(2023, 3, 1), Settings(), resolver=lambda *_: rules)
    [flag] = open_flags(engine).values()
    assert flag.kind == "exit" and flag.severity == "critical"
    assert flag.evidence["reason"] == "deregistered"
    assert flag.evidence["detail"] == "注销登记"
    assert flag.evidence["source"] == "测试 L5-6"


def test_snapshot_equals_its_reconstruction_after_later_changes(engine):
    day = date(2023, 6, 30)
    with Session(engine) as s:
        firms = [add_firm(s) for _ in range(6)]
        renewed = add_recognition(s, firms[0], date(2020, 7, 1), date(2023, 6, 30))       # active (last day)
        add_recognition(s, firms[1], date(2020, 1, 1), date(2022, 12, 31))               # expired
        revoked_later = add_recognition(s, firms[2], date(2021, 7, 1), date(2024, 6, 30))  # active on the day
        add_recognition(s, firms[3], date(2021, 7, 1), date(2024, 6, 30), status="revoked",
                        ended_on=date(2022, 5, 1))                                          # revoked
        add_recognition(s, firms[4], date(2021, 7, 1), None, tier="zjtx_sme", jurisdiction="cn-hi")  # derived end
        add_recognition(s, firms[5], date(2023, 7, 1), date(2026, 6, 30))                 # not yet recognised
        s.commit()
        firm_ids = [f.id for f in firms]
        renewed_id, revoked_id = renewed.id, revoked_later.id
    taken = take_snapshot(engine, day, resolver=default_rules)
    assert taken["recognitions"] == 5
    expected = pl.DataFrame({
        "jurisdiction": ["cn", "cn", "cn", "cn-hi"],
        "tier": ["little_giant", "little_giant", "little_giant", "zjtx_sme"],
        "status": ["active", "expired", "revoked", "active"],
        "count": [2, 1, 1, 1],
    })
    assert stored_snapshot(engine, day).to_dicts() == expected.to_dicts()

    # After the day: a renewal, a dated revocation, a new recognition. The past does not change.
    with Session(engine) as s:
        new = add_recognition(s, s.get(Enterprise, firm_ids[0]), date(2023, 7, 10), date(2026, 7, 9))
        old = s.get(Recognition, renewed_id)
        old.status, old.superseded_by = "superseded", new.id
        rv = s.get(Recognition, revoked_id)
        rv.status, rv.ended_on = "revoked", date(2023, 9, 1)
        add_recognition(s, s.get(Enterprise, firm_ids[1]), date(2023, 8, 1), date(2026, 7, 31), tier="zjtx_sme",
                        jurisdiction="cn-hi")
        s.commit()
    assert counts_as_of(engine, day, resolver=default_rules).to_dicts() == stored_snapshot(engine, day).to_dicts()
    # And today's counts do reflect the changes.
    now = {(r["tier"], r["status"]): r["count"]
           for r in counts_as_of(engine, date(2023, 9, 2), resolver=default_rules).to_dicts()
           if r["jurisdiction"] == "cn"}
    # firms[0] renewed, firms[5] recognised since; firms[1] expired; firms[2] and [3] revoked.
    assert now == {("little_giant", "active"): 2, ("little_giant", "expired"): 1, ("little_giant", "revoked"): 2}
    # Running the job twice on one day replaces that day's rows.
    take_snapshot(engine, day, resolver=default_rules)
    assert stored_snapshot(engine, day).to_dicts() == expected.to_dicts()


def test_reminders_write_one_excel_per_region(engine, tmp_path):
    settings = Settings(paths={"outbox": tmp_path / "outbox"})
    as_of = date(2024, 3, 11)  # February's report was due on 10 March
    with Session(engine) as s:
        haikou = add_firm(s, "460105", "海口（测试）精密有限公司")
        sanya = add_firm(s, "460202", "三亚测试科技有限公司")
        ok = add_firm(s, "460106", "按时报送有限公司")
        for firm in (haikou, sanya, ok):
            add_recognition(s, firm, date(2022, 1, 1), date(2024, 12, 31), jurisdiction="cn-hi", tier="zjtx_sme")
        s.add(Report(**report_row(ok.id, "2024-02", revenue=100.0)))
        # Haikou missed January too, but the list chases the period most recently due.
        s.commit()
        haikou_uscc, sanya_uscc = haikou.uscc, sanya.uscc
    counts = write_reminders(engine, settings, as_of, resolver=lambda *_: MONTHLY)
    assert (counts["firms"], counts["regions"]) == (2, 2)
    folder = tmp_path / "outbox" / "reminders" / "2024-03-11"
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["催报_460100_海口市.xlsx", "催报_460200_三亚市.xlsx"]
    sheet = openpyxl.load_workbook(folder / files[0]).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("行政区划代码 region", "统一社会信用代码 USCC", "企业名称 name")
    [row] = rows[1:]
    record = dict(zip(header, row, strict=True))
    assert record["统一社会信用代码 USCC"] == haikou_uscc
    assert record["报告期 period"] == "2024-02"
    assert record["报送类别 report"] == "月报"
    assert record["逾期天数 days overdue"] == 1
    sanya_rows = list(openpyxl.load_workbook(folder / files[1]).active.iter_rows(values_only=True))
    assert sanya_rows[1][1] == sanya_uscc


def test_every_run_is_recorded_with_counts_or_error(engine):
    ok = run_recorded(engine, "snapshot", lambda: {"rows": 3})
    failed = run_recorded(engine, "flags", lambda: 1 / 0)
    with Session(engine) as s:
        runs = {r.id: r for r in s.exec(select(JobRun))}
    assert (runs[ok.run_id].status, runs[ok.run_id].counts) == ("success", {"rows": 3})
    assert runs[ok.run_id].finished_at >= runs[ok.run_id].started_at
    assert runs[failed.run_id].status == "failed"
    assert "ZeroDivisionError" in runs[failed.run_id].error


def test_a_failing_job_rolls_back_its_own_transaction(engine):
    with Session(engine) as s:
        firm_id = add_firm(s).id
        s.commit()

    def half_done():
        # The connection "drops" after a first write: what the job wrote must not stay.
        with engine.begin() as conn:
            conn.execute(sa.insert(Flag.__table__).values(enterprise_id=firm_id, kind="x", severity="info", key="k",
                                                          evidence={}, opened_on=date(2024, 1, 1)))
            raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))

    outcome = run_recorded(engine, "flags", half_done)
    assert outcome.status == "failed" and "server closed" in outcome.error
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Flag.__table__)).scalar() == 0


def test_unreachable_database_is_not_a_silent_success():
    dead = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
                            connect_args={"connect_timeout": 2})
    ran = []
    with pytest.raises(JobRecordingError, match="cannot record"):
        run_recorded(dead, "ingest", lambda: ran.append(1) or {})
    assert ran == []  # nothing consumed while the database is away


def test_interrupted_runs_are_marked_failed(engine):
    with engine.begin() as conn:
        conn.execute(sa.insert(JobRun.__table__).values(
            job="ingest", status="running", counts={"_host": __import__("socket").gethostname(), "_pid": 2 ** 22 + 1},
            started_at=sa.func.now()))
    assert mark_interrupted_runs(engine) == 1
    with Session(engine) as s:
        run = s.exec(select(JobRun)).one()
    assert run.status == "failed" and "interrupted" in run.error


def test_run_requests_are_claimed_once(engine):
    rid = request_run(engine, "snapshot", "admin")
    assert pending_requests(engine) == [(rid, "snapshot")]
    assert claim_request(engine, rid) is True
    assert claim_request(engine, rid) is False
    assert pending_requests(engine) == []
    with pytest.raises(UserError, match="unknown job"):
        request_run(engine, "nope", "admin")


def test_flags_cli_prints_the_contract_json(config_env):
    from typer.testing import CliRunner

    from cli.main import app
    from registry.db import get_engine, upgrade

    eng = get_engine()
    upgrade(eng)
    with Session(eng) as s:
        firm = add_firm(s)
        add_recognition(s, firm, date(2021, 7, 15), date(2024, 7, 14))
        s.commit()
        uscc = firm.uscc
    result = CliRunner().invoke(app, ["flags", "--as-of", "2024-07-15", "--format", "json"])
    assert result.exit_code == 0, result.output
    [record] = json.loads(result.stdout)
    assert record["uscc"] == uscc and record["flag"] == "expired" and record["severity"] == "critical"
    assert record["due_on"] == "2024-07-14"
    # Nothing stored: flags prints, the job stores.
    with Session(eng) as s:
        assert s.exec(select(Flag)).first() is None
    bad = CliRunner().invoke(app, ["flags", "--as-of", "2024-13-01"])
    assert bad.exit_code != 0


def _inbox_file(settings: Settings, n: int = 3) -> Path:
    inbox = settings.path("inbox")
    inbox.mkdir(parents=True, exist_ok=True)
    rows = [f"{make_uscc(RNG, '460100')},收件箱企业{i}有限公司,460105,C35,2012-05-01" for i in range(n)]
    path = inbox / "enterprises.csv"
    path.write_text("uscc,name,region_code,industry_code,founded_on\n" + "\n".join(rows) + "\n", encoding="utf-8")
    old = time.time() - 60
    os.utime(path, (old, old))
    return path


def test_ingest_job_while_the_database_is_away_keeps_the_file_for_the_next_run(sqlite_engine, tmp_path):
    settings = Settings(base_dir=tmp_path)
    path = _inbox_file(settings)
    dead = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", connect_args={"connect_timeout": 2})
    with pytest.raises(JobRecordingError):
        run_recorded(dead, "ingest", lambda: ingest_job(dead, settings))
    assert path.exists()

    # Reachable for recording, but the load itself fails (its table is away): recorded as failed, file kept.
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE enterprise RENAME TO enterprise_away")
    failed = run_recorded(sqlite_engine, "ingest", lambda: ingest_job(sqlite_engine, settings))
    assert failed.status == "failed" and "enterprise" in failed.error
    assert path.exists()
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE enterprise_away RENAME TO enterprise")

    ok = run_recorded(sqlite_engine, "ingest", lambda: ingest_job(sqlite_engine, settings))
    assert ok.status == "success", ok.error
    assert ok.counts["rows_loaded"] == 3 and ok.counts["loaded"] == 1
    assert not path.exists()
    with Session(sqlite_engine) as s:
        assert len(s.exec(select(Enterprise)).all()) == 3
        # The rows loaded can open flags: the ingest computes and stores them at once, within its own run.
        runs = [(r.job, r.status) for r in s.exec(select(JobRun).order_by(JobRun.id))]
        assert runs == [("ingest", "failed"), ("ingest", "success")]
        assert ok.counts["flags"]["computed"] == len(s.exec(select(Flag)).all())


def test_a_flags_run_racing_another_writer_stores_nothing_and_says_run_again(engine):
    """Another process opens the same flag between this run's read of the open flags and its insert (a real
    second connection, fired by the run's own INSERT): the run stores nothing, says so, and the flag is open once."""
    from registry.flag_store import ConcurrentFlagsRun

    with Session(engine) as s:
        add_recognition(s, add_firm(s), date(2021, 7, 15), date(2024, 7, 14))
        s.commit()
    other = make_engine_like(engine)
    raced = []

    def other_process_first(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO FLAG") and not raced:
            raced.append(True)
            row = parameters[0] if executemany else parameters
            with other.begin() as oc:
                oc.exec_driver_sql(statement, row)

    sa.event.listen(engine, "before_cursor_execute", other_process_first)
    try:
        with pytest.raises(ConcurrentFlagsRun, match="run it again"):
            store_flags(engine, date(2024, 3, 1), Settings(), resolver=default_rules)
    finally:
        sa.event.remove(engine, "before_cursor_execute", other_process_first)
        other.dispose()
    assert raced
    assert len(open_flags(engine)) == 1  # the other writer's; none of this run
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM audit_log WHERE action = 'flags.recompute'")).scalar() == 0
    # The next run starts from what the other wrote: nothing to open.
    assert store_flags(engine, date(2024, 3, 1), Settings(), resolver=default_rules)["opened"] == 0


def make_engine_like(engine) -> sa.Engine:
    from registry.db import make_engine

    return make_engine(engine.url.render_as_string(hide_password=False))
