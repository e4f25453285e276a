"""Who owns the schema and who runs the application (PostgreSQL): the app's role owns nothing it must not change.

The owner of a table may `ALTER TABLE audit_log DISABLE TRIGGER ...` or drop the triggers that keep the audit trail
append-only (migrations 0002, 0004). So in production the schema belongs to an owner role, which migrates
(`database.owner_url`, used by `zjtx init` and `zjtx up`), and the application connects as another role
(`database.url`) that is granted, after every migration, only what it needs:

- USAGE on the schema; USAGE and SELECT on its sequences (serial ids);
- SELECT, INSERT, UPDATE, DELETE on the tables the application maintains;
- SELECT, INSERT on the append-only tables (audit_log): no UPDATE, DELETE, TRUNCATE, no TRIGGER, no ownership;
- SELECT on alembic_version (the app checks the schema revision; only the owner migrates).

deploy/postgresql/roles.sql creates the two roles and the database. With one URL (development, SQLite, the tests'
default) nothing changes: migrations run with that URL and no grants are made.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from registry.db import current_revision, get_engine, head_revision, make_engine, upgrade
from registry.errors import UserError
from registry.settings import Settings, get_settings

# Tables whose rows are never changed or removed once written (0002): the app may only read and append.
APPEND_ONLY_TABLES = ("audit_log",)
# Tables the app reads but only the owner writes.
READ_ONLY_TABLES = ("alembic_version",)


def app_role(settings: Settings) -> str | None:
    """The role the application connects as, when it is not the schema's owner (PostgreSQL only); else None."""
    if not settings.database.owner_url:
        return None
    app, owner = make_url(settings.database_url), make_url(settings.owner_database_url)
    if app.get_backend_name() != "postgresql" or not app.username or app.username == owner.username:
        return None
    return app.username


@contextmanager
def owner_engine(settings: Settings | None = None) -> Iterator[Engine]:
    """An engine connected as the schema's owner (the app's own engine when there is one URL)."""
    settings = settings or get_settings()
    if settings.owner_database_url == settings.database_url:
        yield get_engine(settings.database_url)
        return
    engine = make_engine(settings.owner_database_url, settings.database.echo)
    try:
        yield engine
    finally:
        engine.dispose()


def migrate(settings: Settings | None = None) -> tuple[str | None, str | None]:
    """Upgrade the schema as its owner, then grant the app's role what it needs; (revision before, after)."""
    settings = settings or get_settings()
    with owner_engine(settings) as engine:
        before = current_revision(engine)
        upgrade(engine)
        role = app_role(settings)
        if role is not None:
            with engine.begin() as conn:
                grant_app_role(conn, role)
        return before, current_revision(engine)


def ensure_schema(settings: Settings | None = None) -> None:
    """Migrate when the schema is missing or behind (`zjtx up`, `zjtx users` on a new install); at head, nothing:
    everyday commands need no owner credentials."""
    settings = settings or get_settings()
    if current_revision(get_engine(settings.database_url)) != head_revision():
        migrate(settings)


def grant_app_role(conn: Connection, role: str) -> None:
    """Give `role` exactly the application's rights on every table of the schema (idempotent: run after every
    migration, so new tables are covered and rights granted by hand are taken back)."""
    quoted = conn.dialect.identifier_preparer.quote
    schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
    _refuse_powerful_app_role(conn, role, schema)
    tables = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}).scalars()
    who, where = quoted(role), quoted(schema)
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {where} TO {who}")
    conn.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {who}")
    for table in tables:
        rights = ("SELECT, INSERT" if table in APPEND_ONLY_TABLES else "SELECT" if table in READ_ONLY_TABLES
                  else "SELECT, INSERT, UPDATE, DELETE")
        name = f"{where}.{quoted(table)}"
        conn.exec_driver_sql(f"REVOKE ALL ON {name} FROM {who}")
        conn.exec_driver_sql(f"GRANT {rights} ON {name} TO {who}")


def _refuse_powerful_app_role(conn: Connection, role: str, schema: str) -> None:
    """A superuser, or the owner of a table, can switch the audit triggers off: such an app role defeats the point."""
    found = conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if found is None:
        raise UserError(f"数据库角色 {role} 不存在，请先运行 deploy/postgresql/roles.sql / the database role {role!r} "
                        "(database.url) does not exist: create it with deploy/postgresql/roles.sql")
    if found.rolsuper:
        raise UserError(f"应用角色 {role} 是超级用户，可以关闭审计触发器 / the app's role {role!r} (database.url) is a "
                        "superuser and could switch the audit triggers off: connect the app as an ordinary role")
    owned = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s AND tableowner = :r "
                                 "ORDER BY tablename"), {"s": schema, "r": role}).scalars().all()
    if owned:
        raise UserError(f"应用角色 {role} 拥有数据表 {', '.join(owned)}，请以超级用户执行 REASSIGN OWNED BY {role} TO "
                        f"<owner> / the app's role {role!r} owns tables ({', '.join(owned)}) and could switch the "
                        f"audit triggers off: run REASSIGN OWNED BY {role} TO <owner role> as a superuser first "
                        "(docs/deployment.md)")
