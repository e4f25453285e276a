"""Dashboard sign-in sessions on both engines (issue 12 item 6): a sign-in's token finds its session again (a reload,
a new tab) until it is idle longer than auth.session_idle_minutes, signed out, or its user's password is changed or
the user is disabled — through registry.auth and through `zjtx users passwd|disable`. The table keeps only a hash."""

from __future__ import annotations

import hashlib
import io
import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cli.main import main
from registry import auth, sessions
from registry.access import Principal
from registry.audit import AUDIT
from registry.db import session_scope
from registry.models import SignInSession
from registry.settings import Settings

ADMIN = Principal("root-admin", "admin", "cn")
SETTINGS = Settings(auth={"session_idle_minutes": 30})
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def add_user(engine, username="gd_official", password="Copper-Kettle-1"):
    with session_scope(engine) as session:
        auth.create_user(ADMIN, session, username, password, "official", "cn-gd")


def session_rows(engine) -> list[dict]:
    table = SignInSession.__table__
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table).order_by(table.c.id)).mappings()]


def actions(engine, username) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(AUDIT.c.action).where(AUDIT.c.entity_id == username)
                                 .order_by(AUDIT.c.id)).scalars())


def test_a_token_finds_its_session_and_only_its_hash_is_stored(engine):
    add_user(engine)
    token = sessions.open_session(engine, "gd_official", "password", now=T0)
    [row] = session_rows(engine)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row) and len(token) >= 43  # 32 random bytes, url-safe
    assert sessions.resume(engine, token, settings=SETTINGS, now=T0 + timedelta(minutes=5)) == (
        "gd_official", "password")
    assert sessions.resume(engine, token[:-1] + ("A" if token[-1] != "A" else "B"), settings=SETTINGS,
                           now=T0) is None
    assert sessions.resume(engine, None, settings=SETTINGS, now=T0) is None


def test_resuming_from_the_cookie_is_audited(engine):
    add_user(engine)
    token = sessions.open_session(engine, "gd_official", "password", now=T0)
    sessions.resume(engine, token, settings=SETTINGS, now=T0 + timedelta(minutes=1))  # a click: not audited
    sessions.resume(engine, token, from_cookie=True, settings=SETTINGS, now=T0 + timedelta(minutes=2))
    assert actions(engine, "gd_official") == ["user.create", "auth.resume"]


def test_idle_longer_than_the_limit_ends_the_session_for_good(engine):
    add_user(engine)
    token = sessions.open_session(engine, "gd_official", "password", now=T0)
    # Every use moves the idle clock: 25 + 25 minutes apart stays open although 50 minutes have passed.
    assert sessions.resume(engine, token, settings=SETTINGS, now=T0 + timedelta(minutes=25))
    assert sessions.resume(engine, token, settings=SETTINGS, now=T0 + timedelta(minutes=50))
    # Looking without touching (a page's timer) does not keep it alive.
    assert sessions.resume(engine, token, touch=False, settings=SETTINGS, now=T0 + timedelta(minutes=79))
    assert sessions.resume(engine, token, settings=SETTINGS, now=T0 + timedelta(minutes=81)) is None
    [row] = session_rows(engine)
    assert row["revoked_reason"] == "idle" and row["revoked_at"] is not None
    # Revoked: even a use within the limit of the (now past) last use cannot bring it back.
    assert sessions.resume(engine, token, settings=SETTINGS, now=T0 + timedelta(minutes=51)) is None
    assert actions(engine, "gd_official")[-1] == "auth.logout"


def test_sign_out_ends_that_session_only(engine):
    add_user(engine)
    first = sessions.open_session(engine, "gd_official", "password", now=T0)
    second = sessions.open_session(engine, "gd_official", "password", now=T0)
    sessions.revoke(engine, first, "signed out", now=T0 + timedelta(minutes=1))
    later = T0 + timedelta(minutes=2)
    assert sessions.resume(engine, first, settings=SETTINGS, now=later) is None
    assert sessions.resume(engine, second, settings=SETTINGS, now=later) == ("gd_official", "password")


def test_password_change_and_disable_end_every_session_of_that_user(engine):
    add_user(engine)
    add_user(engine, "sz_official", "Harbour-Lamp-2024")
    mine = [sessions.open_session(engine, "gd_official", "password", now=T0) for _ in range(2)]
    other = sessions.open_session(engine, "sz_official", "password", now=T0)
    with session_scope(engine) as session:
        auth.set_password(ADMIN, session, "gd_official", "Newer-Pass-22")
    assert [sessions.resume(engine, t, settings=SETTINGS, now=T0) for t in mine] == [None, None]
    assert sessions.resume(engine, other, settings=SETTINGS, now=T0) == ("sz_official", "password")

    with session_scope(engine) as session:
        auth.set_active(ADMIN, session, "sz_official", False)
    assert sessions.resume(engine, other, settings=SETTINGS, now=T0) is None
    reasons = {r["username"]: r["revoked_reason"] for r in session_rows(engine)}
    assert reasons == {"gd_official": "password changed", "sz_official": "account disabled"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("command", [("passwd", "gd_official", "--password-stdin"), ("disable", "gd_official")])
def test_the_cli_ends_the_sessions_too(engine, config_env, monkeypatch, capsys, command):
    add_user(engine)
    token = sessions.open_session(engine, "gd_official", "password")
    assert sessions.resume(engine, token) is not None
    monkeypatch.setenv("ZJTX_ACTOR", "cli:test-admin")
    monkeypatch.setattr(sys, "argv", ["zjtx", "users", *command])
    monkeypatch.setattr(sys, "stdin", io.StringIO("Newer-Pass-22\n"))
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code in (0, None), capsys.readouterr().err
    assert sessions.resume(engine, token) is None
