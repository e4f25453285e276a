"""The system of record on both engines: migrations build it, every entity round-trips, constraints hold."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from builders import enterprise_row
from sqlmodel import Session, SQLModel, select

from registry import models as m
from registry.db import alembic_config, current_revision, make_engine, upgrade

VALID_USCC = "91350100M000100Y43"  # GB 32100-2015's own example


def _firm(**kw) -> m.Enterprise:
    base = enterprise_row(VALID_USCC, "福建示例科技（厦门）有限公司", "350100", industry_code="C35",
                          founded_on=date(2010, 5, 1))
    return m.Enterprise(**{**base, **kw})


def test_migrations_build_every_table_of_the_model(engine):
    tables = set(sa.inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert current_revision(engine) == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def test_migrated_schema_matches_the_models(engine):
    """Alembic's autogenerate finds nothing to add: models.py and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    # Type-affinity noise aside, no table/column/index may be missing on either side.
    structural = [d for d in diff if d[0] in ("add_table", "remove_table", "add_column", "remove_column",
                                              "add_index", "remove_index")]
    assert structural == []


def test_upgrade_from_every_earlier_revision_reaches_head(db_url):
    script = ScriptDirectory.from_config(alembic_config(make_engine(db_url)))
    revisions = [r.revision for r in script.walk_revisions()][::-1]  # base → head
    engine = make_engine(db_url)
    for rev in revisions:
        upgrade(engine, rev)
        assert current_revision(engine) == rev
    upgrade(engine)  # idempotent at head
    assert current_revision(engine) == revisions[-1]
    engine.dispose()


def test_every_entity_round_trips(engine):
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with Session(engine) as s:
        firm = _firm()
        s.add(firm)
        s.flush()
        run = m.IngestionRun(file_name="a.csv", sha256="0" * 64, kind="reports", status="partial",
                             rows_read=3, rows_loaded=2, rows_rejected=1, started_at=now)
        s.add(run)
        s.flush()
        old = m.Recognition(enterprise_id=firm.id, tier="little_giant", jurisdiction="cn", batch="3",
                            recognized_on=date(2021, 7, 19), valid_until=date(2024, 7, 18), status="superseded",
                            document_no="工信部企业函〔2021〕197号")
        s.add(old)
        s.flush()
        new = m.Recognition(enterprise_id=firm.id, tier="little_giant", jurisdiction="cn", batch="3-复核",
                            recognized_on=date(2024, 7, 19), valid_until=date(2027, 7, 18))
        s.add(new)
        s.flush()
        old.superseded_by = new.id
        report = m.Report(enterprise_id=firm.id, period="2024Q3", period_type="quarterly", year=2024,
                          period_end=date(2024, 9, 30), basis="ytd", revenue=12345.6, rd_expense=None,
                          invention_patents=0.0, ingestion_run_id=run.id)
        s.add(report)
        s.flush()
        s.add_all([
            m.ReportRevision(report_id=report.id, values={"revenue": 12000.0}, replaced_by_run_id=run.id),
            m.Attribute(enterprise_id=firm.id, attribute="rd_institution", value="provincial",
                        effective_on=date(2020, 1, 1), evidence="省级企业技术中心"),
            m.Event(enterprise_id=firm.id, event="rename", occurred_on=date(2023, 3, 1),
                    notified_on=date(2023, 3, 20), detail="原名 福建旧名有限公司"),
            m.FirmTarget(enterprise_id=firm.id, indicator="rd_ratio", baseline=4.2, target_year1=4.5,
                         target_year2=5.0, start_period="2021", direction="higher", unit="%"),
            m.RegionalTarget(jurisdiction="cn-sd", tier="little_giant", year=2025, target_count=600,
                             source="鲁政办字〔2021〕号 L12345"),
            m.Flag(enterprise_id=firm.id, recognition_id=new.id, tier="little_giant", jurisdiction="cn",
                   kind="review_due", severity="warning", due_on=date(2027, 7, 18), key="k1",
                   evidence={"valid_until": "2027-07-18", "rule": "复核"}, opened_on=date(2027, 1, 19)),
            m.ReviewDecision(recognition_id=old.id, enterprise_id=firm.id, decision="renew", reason="复核通过",
                             decided_by="manager1", new_recognition_id=new.id),
            m.AuditLog(actor="manager1", action="review.renew", entity="recognition", entity_id=str(old.id),
                       before={"status": "active"}, after={"status": "superseded"}, reason="复核通过"),
            m.RejectedRow(run_id=run.id, row=2, column="uscc", reason="校验码错误 wrong check character",
                          raw={"uscc": "91350100M000100Y44"}),
            m.JobRun(job="flags", status="success", counts={"opened": 3}, started_at=now, finished_at=now),
            m.JobRequest(job="ingest", requested_by="official1"),
            m.Snapshot(taken_on=date(2026, 1, 1), jurisdiction="cn-fj", tier="little_giant", status="active", count=1),
            m.User(username="admin", role="admin", jurisdiction="cn", password_hash="$argon2id$x"),
            m.SchedulerLock(holder="host:1", pid=1),
        ])
        s.commit()

    with Session(engine) as s:
        firm = s.exec(select(m.Enterprise)).one()
        assert firm.name == "福建示例科技（厦门）有限公司" and firm.founded_on == date(2010, 5, 1)
        recs = s.exec(select(m.Recognition).order_by(m.Recognition.id)).all()
        assert recs[0].superseded_by == recs[1].id and recs[1].status == "active"
        rep = s.exec(select(m.Report)).one()
        # blank ≠ 0: a NULL stays NULL, a zero stays zero
        assert rep.rd_expense is None and rep.invention_patents == 0.0 and rep.basis == "ytd"
        assert s.exec(select(m.ReportRevision)).one().values == {"revenue": 12000.0}
        assert s.exec(select(m.Flag)).one().evidence["rule"] == "复核"
        assert s.exec(select(m.JobRun)).one().started_at == now
        assert s.exec(select(m.RejectedRow)).one().raw == {"uscc": "91350100M000100Y44"}
        for model in (m.Attribute, m.Event, m.FirmTarget, m.RegionalTarget, m.ReviewDecision, m.AuditLog,
                      m.JobRequest, m.Snapshot, m.User, m.SchedulerLock):
            assert len(s.exec(select(model)).all()) == 1, model.__name__


def test_constraints_reject_duplicates_and_dangling_references(engine):
    with Session(engine) as s:
        s.add(_firm())
        s.commit()
        s.add(_firm(name="另一家"))
        with pytest.raises(sa.exc.IntegrityError):
            s.commit()
        s.rollback()
        firm_id = s.exec(select(m.Enterprise.id)).one()
        for _ in range(2):
            s.add(m.Report(enterprise_id=firm_id, period="2024", period_type="annual", year=2024,
                           period_end=date(2024, 12, 31), revenue=1.0))
        with pytest.raises(sa.exc.IntegrityError):
            s.commit()
        s.rollback()
        # foreign keys are enforced on SQLite too (PRAGMA foreign_keys=ON)
        s.add(m.Event(enterprise_id=999_999, event="rename", occurred_on=date(2024, 1, 1)))
        with pytest.raises(sa.exc.IntegrityError):
            s.commit()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _flag(firm_id: int, opened: date, resolved: date | None = None, key: str = "f1|expiring") -> m.Flag:
    return m.Flag(enterprise_id=firm_id, kind="expiring", severity="warning", key=key, opened_on=opened,
                  resolved_on=resolved)


def test_a_flag_is_open_at_most_once_but_may_reopen_after_it_was_resolved(engine):
    with Session(engine) as s:
        s.add(_firm())
        s.commit()
        firm_id = s.exec(select(m.Enterprise.id)).one()
        s.add(_flag(firm_id, date(2024, 1, 1), resolved=date(2024, 2, 1)))
        s.add(_flag(firm_id, date(2024, 3, 1)))  # the same flag again, after it was resolved
        s.commit()
        s.add(_flag(firm_id, date(2024, 3, 2)))  # a second open one: refused
        with pytest.raises(sa.exc.IntegrityError):
            s.commit()


def test_upgrading_closes_flags_that_were_opened_twice(db_url):
    engine = make_engine(db_url)
    upgrade(engine, "0002")
    with engine.begin() as conn:
        firm_id = conn.execute(sa.insert(m.Enterprise.__table__).values(
            uscc=VALID_USCC, name="甲", name_norm="甲", region_code="350100", province_code="35",
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC)).returning(m.Enterprise.__table__.c.id)).scalar_one()
        for opened in (date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)):
            conn.execute(sa.insert(m.Flag.__table__).values(
                enterprise_id=firm_id, kind="expiring", severity="warning", key="k", evidence={}, opened_on=opened))
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(m.Flag.__table__.c.opened_on, m.Flag.__table__.c.resolved_on)
                            .order_by(m.Flag.__table__.c.id)).all()
    engine.dispose()
    # The first stays open; the duplicates are closed on the day they were opened (history kept).
    assert [tuple(r) for r in rows] == [(date(2024, 3, 1), None), (date(2024, 3, 2), date(2024, 3, 2)),
                                        (date(2024, 3, 3), date(2024, 3, 3))]
