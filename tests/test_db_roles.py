"""PostgreSQL: the application runs as a role that owns nothing it must not change (issue 16, item 3).

The owner of audit_log may disable or drop the triggers that keep it append-only, so the schema belongs to an owner
role and the app connects as another role. These tests create both roles with the shipped
deploy/postgresql/roles.sql (roles are cluster-wide: unique names per test, dropped afterwards), migrate with
`zjtx init` as the owner, then connect as the app's role: every way of rewriting the trail is refused by PostgreSQL
itself, and the app's everyday work (audit rows, ingestion, the flags job, users, sign-in) goes on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import PG_ADMIN_URL
from fixtures.ingest_data import ENTERPRISE_HEADER, enterprise_rows, enterprises_file, write_csv
from sqlmodel import Session, select

from registry.audit import AUDIT, record
from registry.auth import authenticate
from registry.db import make_engine
from registry.ingest import ingest_files
from registry.models import Enterprise, Recognition
from registry.schedule import flags_job
from registry.settings import Settings, get_settings

pytestmark = pytest.mark.postgres
ZJTX = str(Path(sys.executable).with_name("zjtx"))
ROLES_SQL = Path(__file__).resolve().parent.parent / "deploy" / "postgresql" / "roles.sql"
ADMIN = sa.engine.make_url(PG_ADMIN_URL)


def psql(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["psql", "-X", "-q", "-h", ADMIN.host or "127.0.0.1", "-p", str(ADMIN.port or 5432),
                           "-U", ADMIN.username or "postgres", "-d", ADMIN.database or "postgres", *args],
                          capture_output=True, text=True, timeout=60)


def url_as(role: str, database: str) -> str:
    return ADMIN.set(username=role, password=None, database=database).render_as_string(hide_password=False)


@pytest.fixture
def two_roles(tmp_path, monkeypatch) -> Iterator[dict]:
    """roles.sql run with unique names; a config whose url is the app's role and owner_url the owner's."""
    suffix = uuid.uuid4().hex[:10]
    names = {"owner": f"zjtx_owner_{suffix}", "app": f"zjtx_app_{suffix}", "database": f"zjtx_test_{suffix}"}
    made = psql(*[f"-v{key}={value}" for key, value in names.items()], "-f", str(ROLES_SQL))
    try:
        assert made.returncode == 0, made.stderr
        app_url, owner_url = url_as(names["app"], names["database"]), url_as(names["owner"], names["database"])
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'[database]\nurl = "{app_url}"\nowner_url = "{owner_url}"\n[paths]\ninbox = "inbox"\n'
                       'archive = "archive"\nquarantine = "quarantine"\noutbox = "outbox"\n[demo]\nfirms = 0\n',
                       encoding="utf-8")
        monkeypatch.setenv("ZJTX_CONFIG", str(cfg))
        monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
        monkeypatch.delenv("ZJTX_OWNER_DATABASE_URL", raising=False)
        get_settings.cache_clear()
        yield {**names, "app_url": app_url, "owner_url": owner_url}
    finally:
        get_settings.cache_clear()
        psql("-c", f'DROP DATABASE IF EXISTS "{names["database"]}" WITH (FORCE)')
        for role in (names["app"], names["owner"]):
            psql("-c", f'DROP ROLE IF EXISTS "{role}"')


def zjtx(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([ZJTX, *args], input=stdin, capture_output=True, text=True, env=dict(os.environ),
                          timeout=180)


def audit_rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(AUDIT).order_by(AUDIT.c.id)).mappings()]


def test_the_app_role_cannot_rewrite_or_unprotect_the_audit_trail_but_does_its_work(two_roles, tmp_path):
    done = zjtx("init")
    assert done.returncode == 0, done.stderr
    admin = sa.create_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{two_roles['database']}")
    with admin.connect() as conn:
        owners = dict(conn.execute(sa.text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'")
                                   ).all())
    admin.dispose()
    assert owners["audit_log"] == two_roles["owner"]
    assert two_roles["app"] not in owners.values()  # the app's role owns no table at all

    app = make_engine(two_roles["app_url"])
    bare = sa.create_engine(two_roles["app_url"])  # plain SQL as the app's role, without the application's guard
    try:
        with app.begin() as conn:
            first = record(conn, "tester", "test.write", "thing", 1, {"v": 1}, {"v": 2}, "why")
        original = audit_rows(app)
        attempts = [
            f"UPDATE audit_log SET reason = 'forged' WHERE id = {first}",
            f"DELETE FROM audit_log WHERE id = {first}",
            "TRUNCATE audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
            "ALTER TABLE audit_log DISABLE TRIGGER ALL",
            "DROP TRIGGER audit_log_append_only ON audit_log",
            "DROP TRIGGER audit_log_no_truncate ON audit_log",
            "DROP FUNCTION audit_log_refuse_change() CASCADE",
            f"ALTER TABLE audit_log OWNER TO {two_roles['app']}",
            "DROP TABLE audit_log",
            "CREATE TABLE audit_log_copy (id int)",
        ]
        for statement in attempts:
            with bare.begin() as conn, pytest.raises(sa.exc.ProgrammingError,
                                                     match="permission denied|must be owner"):
                conn.exec_driver_sql(statement)
        assert audit_rows(app) == original

        # The app's everyday work as the app's role: ingestion (COPY, a temporary table, updates), the flags job,
        # user management and sign-in through the CLI and the library, each leaving its audit row.
        [loaded] = ingest_files(app, [enterprises_file(tmp_path / "firms.csv")], actor="gd_official")
        assert loaded.status == "loaded" and loaded.rows_loaded == 4
        renamed = [[uscc, f"{name}（更名）", *rest] for uscc, name, *rest in enterprise_rows()]
        [updated] = ingest_files(app, [write_csv(tmp_path / "renamed.csv", ENTERPRISE_HEADER, renamed)],
                                 actor="gd_official")  # existing firms: updates staged in a temporary table
        assert updated.status == "loaded"
        with app.connect() as conn:
            names = conn.exec_driver_sql("SELECT name FROM enterprise ORDER BY uscc").scalars().all()
        assert len(names) == 4 and all(name.endswith("（更名）") for name in names)
        with Session(app) as session:
            firm = session.exec(select(Enterprise)).first()
            session.add(Recognition(enterprise_id=firm.id, tier="little_giant", jurisdiction="cn",
                                    recognized_on=date.today() - timedelta(days=1000),
                                    valid_until=date.today() + timedelta(days=60)))
            session.commit()
        counts = flags_job(app, Settings())
        assert counts["opened"] >= 1
        # The finished results (finished_result, migration 0008) are written by the app's role too.
        assert not [kind for kind, c in counts["finished"].items() if isinstance(c, dict) and "error" in c]
        added = zjtx("users", "add", "ops_admin", "--role", "admin", "--jurisdiction", "cn", "--password-stdin",
                     stdin="Kestrel-Harbour-93\n")
        assert added.returncode == 0, added.stderr
        assert authenticate(app, "ops_admin", "Kestrel-Harbour-93").role == "admin"
        actions = [r["action"] for r in audit_rows(app)]
        assert {"ingest.run", "flags.recompute", "user.create", "auth.login"} <= set(actions)
        assert audit_rows(app)[0] == original[0]
    finally:
        app.dispose()
        bare.dispose()


def test_init_refuses_an_app_role_that_could_switch_the_triggers_off(two_roles):
    """A superuser, or a role owning tables (an install that ran the app as `postgres` or as the owner), would keep
    the power the separation is for: `zjtx init` says so instead of granting."""
    superuser = url_as(ADMIN.username or "postgres", two_roles["database"])
    done = subprocess.run([ZJTX, "init"], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "ZJTX_DATABASE_URL": superuser})
    assert done.returncode != 0
    assert "superuser" in done.stderr and "超级用户" in done.stderr
    assert "Traceback" not in done.stderr
