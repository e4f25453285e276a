"""The audit trail: append-only on both engines (application guard and database triggers), an audit row for
every mutation path (ingestion from the CLI and the inbox, the flags job, policy files, users), and the admin's
filtered view."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from builders import enterprise_row
from fixtures.ingest_data import NINGBO, enterprises_file, write_csv
from sqlmodel import Session, select
from zjtx_command import ZJTX

from registry.access import SYSTEM, PermissionDenied, Principal
from registry.audit import AUDIT, AuditTrailIsAppendOnly, audit_entries, audit_facets, record
from registry.flag_store import store_flags
from registry.ingest import ingest_files, ingest_inbox
from registry.models import AuditLog, Enterprise, Recognition
from registry.policy_changes import record_policy_changes
from registry.schedule import flags_job
from registry.settings import Settings, get_settings


def rows(engine, action: str | None = None) -> list[dict]:
    stmt = sa.select(AUDIT).order_by(AUDIT.c.id)
    if action:
        stmt = stmt.where(AUDIT.c.action == action)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def one_row(engine) -> int:
    with engine.begin() as conn:
        return record(conn, "tester", "test.write", "thing", 1, {"v": 1}, {"v": 2}, "why")


# ---------------------------------------------------------------- append-only


def test_orm_core_and_raw_sql_cannot_change_or_delete_audit_rows(engine):
    audit_id = one_row(engine)
    with Session(engine) as session:
        row = session.get(AuditLog, audit_id)
        row.reason = "rewritten"
        session.add(row)
        with pytest.raises(AuditTrailIsAppendOnly):
            session.commit()
    with Session(engine) as session:
        session.delete(session.get(AuditLog, audit_id))
        with pytest.raises(AuditTrailIsAppendOnly):
            session.commit()
    attempts = [
        sa.update(AUDIT).where(AUDIT.c.id == audit_id).values(reason="x"),
        sa.delete(AUDIT),
        sa.text("UPDATE audit_log SET actor = 'someone else'"),
        sa.text('delete from "audit_log"'),
    ]
    for statement in attempts:
        with engine.begin() as conn, pytest.raises(AuditTrailIsAppendOnly):
            conn.execute(statement)
    with engine.begin() as conn, pytest.raises(AuditTrailIsAppendOnly):
        conn.exec_driver_sql("DELETE FROM audit_log WHERE id = 1")
    assert [r["reason"] for r in rows(engine)] == ["why"]


def test_the_database_itself_refuses_changes_from_any_client(engine):
    """A client that is not zjtx (no application guard) is stopped by the triggers of migration 0002."""
    one_row(engine)
    bare = sa.create_engine(engine.url)  # no registry.db.make_engine: no guard
    statements = ["UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    try:
        for statement in statements:
            with bare.begin() as conn, pytest.raises(sa.exc.DatabaseError, match="append-only"):
                conn.exec_driver_sql(statement)
        with bare.begin() as conn:  # appending stays possible
            conn.exec_driver_sql("INSERT INTO audit_log (at, actor, action, entity) "
                                 "VALUES (CURRENT_TIMESTAMP, 'psql', 'manual.note', 'note')")
    finally:
        bare.dispose()
    assert [r["action"] for r in rows(engine)] == ["test.write", "manual.note"]


def rewrites_of_row(audit_id: int, dialect: str) -> list[str]:
    """Plain SQL that would replace, change or remove audit row `audit_id`, in each engine's own dialect."""
    columns = "id, at, actor, action, entity, reason"
    values = f"{audit_id}, CURRENT_TIMESTAMP, 'forger', 'test.write', 'thing', 'forged'"
    upsert = (f"INSERT INTO audit_log ({columns}) VALUES ({values}) "
              "ON CONFLICT (id) DO UPDATE SET actor = 'forger', reason = 'forged'")
    common = [upsert, f"UPDATE audit_log SET reason = 'forged' WHERE id = {audit_id}",
              f"DELETE FROM audit_log WHERE id = {audit_id}"]
    if dialect == "sqlite":
        return [f"REPLACE INTO audit_log ({columns}) VALUES ({values})",
                f"INSERT OR REPLACE INTO audit_log ({columns}) VALUES ({values})", *common]
    return [*common, "TRUNCATE audit_log",
            f"MERGE INTO audit_log USING (SELECT {audit_id} AS id) AS s ON audit_log.id = s.id "
            "WHEN MATCHED THEN UPDATE SET reason = 'forged'"]


def test_replace_and_upserts_cannot_rewrite_an_audit_row_from_any_client(engine):
    """REPLACE INTO on SQLite deletes the row with that id without firing DELETE triggers: row 1 could be swapped
    for a forgery. Every rewrite in plain SQL is refused, by the app's engine and by a bare client (sqlite3, psql:
    no application guard), and row 1 stays exactly as written."""
    audit_id = one_row(engine)
    original = rows(engine)
    bare = sa.create_engine(engine.url)
    try:
        for statement in rewrites_of_row(audit_id, engine.dialect.name):
            with engine.begin() as conn, pytest.raises(AuditTrailIsAppendOnly):
                conn.exec_driver_sql(statement)
            with bare.begin() as conn, pytest.raises(sa.exc.DatabaseError, match="append-only"):
                conn.exec_driver_sql(statement)
            assert rows(engine) == original, statement
    finally:
        bare.dispose()
    assert len(rows(engine)) == 1 and rows(engine)[0]["actor"] == "tester"


def test_the_app_guard_refuses_replace_and_upserts_written_through_sqlalchemy(sqlite_engine):
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    audit_id = one_row(sqlite_engine)
    original = rows(sqlite_engine)
    forged = {"id": audit_id, "at": datetime.now(ZoneInfo("UTC")), "actor": "forger", "action": "x", "entity": "x"}
    attempts = [sa.insert(AUDIT).prefix_with("OR REPLACE").values(**forged),
                sqlite_insert(AUDIT).values(**forged).on_conflict_do_update(index_elements=["id"],
                                                                           set_={"actor": "forger"})]
    for statement in attempts:
        with sqlite_engine.begin() as conn, pytest.raises(AuditTrailIsAppendOnly):
            conn.execute(statement)
    assert rows(sqlite_engine) == original
    one_row(sqlite_engine)  # appending is what the trail is for
    assert len(rows(sqlite_engine)) == 2


def test_other_tables_are_not_affected_by_the_guard(sqlite_engine):
    with sqlite_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE audit_log_archive (id INTEGER)"))
        conn.execute(sa.text("INSERT INTO audit_log_archive VALUES (1)"))
        conn.execute(sa.text("DELETE FROM audit_log_archive"))  # a different table whose name starts alike
        conn.execute(sa.text("UPDATE app_user SET role = 'analyst' WHERE 1 = 0"))


# ---------------------------------------------------------------- every mutation path writes a row


def test_ingestion_runs_are_audited_with_the_actor(engine, config_env, tmp_path):
    firms = enterprises_file(tmp_path / "firms.csv")
    broken = write_csv(tmp_path / "broken.csv", ["uscc", "revenue"], [[NINGBO[0], "1"]])
    [loaded] = ingest_files(engine, [firms], actor="gd_official")
    [unchanged] = ingest_files(engine, [firms], actor="gd_official")
    [rejected] = ingest_files(engine, [broken], kind="enterprises")  # the CLI's default actor

    audited = rows(engine, "ingest.run")
    assert [(r["entity"], r["entity_id"], r["after"]["status"]) for r in audited] == [
        ("ingestion_run", str(loaded.run_id), "loaded"), ("ingestion_run", str(unchanged.run_id), "unchanged"),
        ("ingestion_run", str(rejected.run_id), "rejected")]
    assert [r["actor"] for r in audited[:2]] == ["gd_official", "gd_official"]
    assert audited[2]["actor"].startswith("cli")
    assert audited[0]["after"]["rows_loaded"] == loaded.rows_loaded == 4
    assert audited[0]["after"]["sha256"] and audited[0]["after"]["file"] == str(firms)


def test_the_inbox_job_is_audited_as_the_scheduler(engine, config_env):
    settings = get_settings()
    inbox = settings.path("inbox")
    inbox.mkdir(parents=True, exist_ok=True)
    path = enterprises_file(inbox / "firms.csv")
    old = path.stat().st_mtime - 60
    os.utime(path, (old, old))
    [result] = ingest_inbox(engine, settings)
    [row] = rows(engine, "ingest.run")
    assert (row["actor"], row["entity_id"], row["after"]["status"]) == ("scheduler", str(result.run_id), "loaded")


def test_ingest_cli_records_who_ran_it(engine, config_env, tmp_path):
    firms = enterprises_file(tmp_path / "firms.csv")
    env = {**os.environ, "ZJTX_ACTOR": "cli:wang.wu"}
    done = subprocess.run([*ZJTX, "ingest", str(firms), "--format", "json"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    [row] = rows(engine, "ingest.run")
    assert row["actor"] == "cli:wang.wu" and row["after"]["status"] == "loaded"
    assert json.loads(done.stdout)[0]["run_id"] == int(row["entity_id"])


def test_a_failed_load_leaves_no_audit_row_of_a_load(sqlite_engine, config_env, tmp_path, monkeypatch):
    """The run's audit row is written in the run's transaction: when the load rolls back, so does the row."""
    from registry.ingest import service

    def broken_load(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "load_parsed", broken_load)
    with pytest.raises(service.IngestFailed):
        ingest_files(sqlite_engine, [enterprises_file(tmp_path / "firms.csv")], actor="gd_official")
    assert [r["after"]["status"] for r in rows(sqlite_engine, "ingest.run")] == ["failed"]


def test_the_flags_job_and_policy_files_are_audited(engine):
    with Session(engine) as session:
        firm = Enterprise(**enterprise_row("91330212MA2H000001", "宁波测试", "330212"))
        session.add(firm)
        session.flush()
        session.add(Recognition(enterprise_id=firm.id, tier="little_giant", jurisdiction="cn",
                                recognized_on=date.today() - timedelta(days=1000),
                                valid_until=date.today() + timedelta(days=60)))
        session.commit()
    counts = flags_job(engine, Settings())
    [flags_row] = rows(engine, "flags.recompute")
    assert flags_row["actor"] == "scheduler"
    assert flags_row["after"]["opened"] == counts["opened"] >= 1
    picked = rows(engine, "policy.file_added")
    assert len(picked) == counts["policy_files_changed"] > 10  # the baseline: every policy file, once
    assert {r["entity"] for r in picked} == {"policy_file"}

    flags_job(engine, Settings())  # an unchanged file is not recorded again
    again = [r["entity_id"] for r in rows(engine, "policy.file_added")]
    assert len(again) == len(set(again))
    assert len(rows(engine, "flags.recompute")) == 2
    store_flags(engine, date.today(), Settings(), actor="cli:ops")
    assert rows(engine, "flags.recompute")[-1]["actor"] == "cli:ops"


def test_policy_file_changes_are_recorded_once(sqlite_engine, tmp_path):
    root = tmp_path / "policies"
    (root / "cn-gd").mkdir(parents=True)
    first = root / "cn-gd" / "a.yaml"
    first.write_text("id: cn-gd/a\n", encoding="utf-8")
    (root / "cn-gd" / "b.yaml").write_text("id: cn-gd/b\n", encoding="utf-8")

    assert [c["action"] for c in record_policy_changes(sqlite_engine, root=root)] == ["policy.file_added"] * 2
    assert record_policy_changes(sqlite_engine, root=root) == []
    first.write_text("id: cn-gd/a\nname: changed\n", encoding="utf-8")
    (root / "cn-gd" / "b.yaml").unlink()
    changes = record_policy_changes(sqlite_engine, "cli:editor", root=root)
    assert [(c["file"], c["action"]) for c in changes] == [("cn-gd/a.yaml", "policy.file_changed"),
                                                          ("cn-gd/b.yaml", "policy.file_removed")]
    assert changes[0]["before"]["sha256"] != changes[0]["after"]["sha256"]
    assert record_policy_changes(sqlite_engine, root=root) == []
    (root / "cn-gd" / "b.yaml").write_text("id: cn-gd/b\n", encoding="utf-8")
    assert [c["action"] for c in record_policy_changes(sqlite_engine, root=root)] == ["policy.file_added"]
    assert [r["actor"] for r in rows(sqlite_engine, "policy.file_changed")] == ["cli:editor"]


# ---------------------------------------------------------------- the admin's view


def test_audit_entries_filter_and_are_admins_only(sqlite_engine):
    with sqlite_engine.begin() as conn:
        record(conn, "admin", "user.create", "user", "gd1", None, {"role": "official", "on": date(2025, 1, 2)})
        record(conn, "admin", "user.role", "user", "gd1", {"role": "official"}, {"role": "manager"}, "调岗")
        record(conn, "scheduler", "ingest.run", "ingestion_run", 7, None, {"status": "loaded"})
    everything = audit_entries(SYSTEM, engine=sqlite_engine)
    assert everything["action"].to_list() == ["ingest.run", "user.role", "user.create"]  # newest first
    assert json.loads(everything["after"][2]) == {"role": "official", "on": "2025-01-02"}
    assert audit_entries(SYSTEM, action="user.", engine=sqlite_engine).height == 2
    assert audit_entries(SYSTEM, actor="sched", engine=sqlite_engine)["entity_id"].to_list() == ["7"]
    assert audit_entries(SYSTEM, entity="user", entity_id="gd", engine=sqlite_engine).height == 2
    # Dates are calendar days in Asia/Shanghai (scheduler.timezone), not UTC days.
    shanghai_today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert audit_entries(SYSTEM, since=shanghai_today + timedelta(days=1), engine=sqlite_engine).is_empty()
    assert audit_entries(SYSTEM, since=shanghai_today, until=shanghai_today, engine=sqlite_engine).height == 3
    assert audit_entries(SYSTEM, until=shanghai_today - timedelta(days=1), engine=sqlite_engine).is_empty()
    assert audit_facets(SYSTEM, engine=sqlite_engine) == {"action": ["ingest.run", "user.create", "user.role"],
                                                           "entity": ["ingestion_run", "user"]}
    for role in ("manager", "official", "analyst"):
        with pytest.raises(PermissionDenied):
            audit_entries(Principal("x", role, "cn"), engine=sqlite_engine)
    with pytest.raises(PermissionDenied):
        audit_entries(Principal("x", "admin", "cn-gd"), engine=sqlite_engine)


def test_user_changes_from_the_cli_are_audited(engine, config_env):
    env = {**os.environ, "ZJTX_ACTOR": "cli:ops-team"}
    done = subprocess.run([*ZJTX, "users", "add", "gd_analyst", "--role", "analyst", "--jurisdiction", "cn-gd",
                           "--password-stdin", "--reason", "新同事"], input="Copper-Kettle-1\n", capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    [row] = rows(engine, "user.create")
    assert (row["actor"], row["entity_id"], row["reason"]) == ("cli:ops-team", "gd_analyst", "新同事")
    with Session(engine) as session:
        assert session.exec(select(AuditLog)).one().after["role"] == "analyst"


def test_dashboard_uploads_are_checked_then_audited_as_the_uploader(engine, config_env, tmp_path):
    from registry.intake import Upload, ingest_uploads

    data = enterprises_file(tmp_path / "firms.csv").read_bytes()
    # The .exe is refused by its type before it is stored or read; the file beside it still loads.
    result, refused = ingest_uploads(engine, [Upload("企业名录.csv", data), Upload("tool.exe", b"MZ")],
                                     actor="gd_official")
    assert (refused.status, refused.run_id) == ("rejected", None) and "不支持的文件类型" in refused.file_reason
    [row] = rows(engine, "ingest.run")
    assert (row["actor"], row["entity_id"], row["after"]["status"]) == ("gd_official", str(result.run_id), "loaded")
