"""Engines, sessions and schema migration for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlmodel import Session

from registry.audit_guard import install_append_only_guard
from registry.settings import get_settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseError(Exception):
    """The database cannot be reached or is not at the expected schema."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the dashboard read while the scheduler writes; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            try:
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"{UNAVAILABLE}: {safe_url(url)}: cannot create its folder "
                                    f"{Path(db).parent}: {exc.strerror or exc}") from exc
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True)
    # Every engine of the application refuses to rewrite the audit trail (docs/access.md).
    install_append_only_guard(engine)
    return engine


@lru_cache(maxsize=8)
def _cached_engine(url: str, echo: bool) -> Engine:
    return make_engine(url, echo)


def get_engine(url: str | None = None) -> Engine:
    settings = get_settings()
    return _cached_engine(url or settings.database_url, settings.database.echo)


def engine_or_default(engine: Engine | None) -> Engine:
    """The engine a read model was given (tests, the CLI, the scheduler), else the configured one (the dashboard)."""
    return engine if engine is not None else get_engine()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error (a failed run leaves nothing behind)."""
    with Session(engine_or_default(engine), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema (Alembic migrations, never create_all)."""
    from alembic import command

    check_connection(engine)
    command.upgrade(alembic_config(engine), revision)


def check_connection(engine: Engine) -> None:
    """Fail with one readable line (not a driver traceback) when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any driver error becomes one line
        url = engine.url.render_as_string(hide_password=False)
        raise DatabaseError(unavailable_message(exc, url) or f"{UNAVAILABLE}: {safe_url(url)}: {_first_line(exc)}"
                            ) from exc


UNAVAILABLE = "数据库不可用 / database unavailable"
# DB-API exception classes (every driver has them: sqlite3, psycopg, ADBC, SQLAlchemy's wrappers) that mean the
# database could not be used — not reached, not opened, locked, gone mid-command — rather than a bug in a query.
_UNAVAILABLE_CLASSES = ("OperationalError", "InterfaceError")


def safe_url(url: str) -> str:
    """The database URL as it may be shown: never the password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL that does not parse is not shown (it may hold a password)
        return "(unparsable database URL)"


def unavailable_message(exc: BaseException, url: str) -> str | None:
    """One line naming the database (without its password) and the driver's reason, when `exc` or an exception it
    was raised from says the database could not be used; None for any other error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if any(cls.__name__ in _UNAVAILABLE_CLASSES for cls in type(current).__mro__):
            reason = _first_line(getattr(current, "orig", None) or current)
            password = _password(url)
            if password:
                reason = reason.replace(password, "***")
            return f"{UNAVAILABLE}: {safe_url(url)}: {reason}"
        current = current.__cause__ or current.__context__
    return None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except Exception:  # noqa: BLE001
        return None


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(get_engine())).get_current_head()
    assert head is not None, "registry/migrations has no revision"
    return head


def is_empty(engine: Engine) -> bool:
    """No firms yet (the schema may or may not exist)."""
    if "enterprise" not in inspect(engine).get_table_names():
        return True
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT 1 FROM enterprise LIMIT 1").first() is None
