"""Shared fixtures: a fresh, migrated database on each engine.

`db_url` / `engine` are parametrized over SQLite and PostgreSQL. PostgreSQL is required, not optional:
if 127.0.0.1:5432 cannot be reached the tests fail loudly (CI must not silently skip half the suite).
Each PostgreSQL database is created for the test and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from registry.db import make_engine, upgrade

# tests/builders.py holds shared checks (check_case): let pytest explain their failing asserts as in a test.
pytest.register_assert_rewrite("builders")

PG_ADMIN_URL = os.environ.get("ZJTX_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_admin() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def create_pg_database() -> str:
    name = f"zjtx_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the tests and is not reachable at {PG_ADMIN_URL}: {exc}")
    finally:
        admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> Iterator[str]:
    """A URL of an empty database on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'zjtx.db'}"
    else:
        url = create_pg_database()
        yield url
        drop_pg_database(url)


@pytest.fixture
def engine(db_url) -> Iterator[sa.Engine]:
    """A migrated, empty database on each engine."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[sa.Engine]:
    """A migrated SQLite database, for tests whose subject is not the engine."""
    eng = make_engine(f"sqlite:///{tmp_path / 'zjtx.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def config_env(tmp_path, monkeypatch, db_url):
    """Point the CLI (in this process and in subprocesses) at a fresh config + database in tmp_path."""
    from registry.settings import get_settings

    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[database]\nurl = "{db_url}"\n[paths]\ninbox = "inbox"\narchive = "archive"\n'
        'quarantine = "quarantine"\noutbox = "outbox"\n[demo]\nfirms = 0\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("ZJTX_CONFIG", str(cfg))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield cfg
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per end-to-end test module (tests/e2e): Debian's /usr/bin/chromium, since
    Playwright's own browser download does not work here. Defined here, not in a tests/e2e/conftest.py: a
    second module named conftest would shadow this one for the tests that import helpers from it."""
    from e2e_support import CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
