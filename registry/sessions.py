"""Dashboard sign-in sessions kept in the database, so that a reload or a new tab stays signed in.

A sign-in gets a random token (256 bits, `secrets`); the browser keeps it in the `zjtx_session` cookie and the
`app_session` row keeps only its SHA-256 hash, so a copy of the table (or of a backup) signs nobody in. The token is
not signed with a server key: nothing is read from it — every use looks the row up, and a row can be refused
(revoked, idle, account disabled), which a signature alone could not do.

A session ends when it is idle longer than auth.session_idle_minutes, on sign-out, and for every session of a user
whose password is changed or who is disabled (registry.auth calls `revoke_user_sessions` in the same transaction).
Whether the account itself is still usable is registry.auth.current_principal's job; this module knows tokens only.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from registry.audit import record
from registry.models import SignInSession, table_of, utcnow
from registry.settings import Settings, get_settings

COOKIE_NAME = "zjtx_session"
# last_seen_at is written at most this often: every click would otherwise be a write.
_TOUCH_EVERY = timedelta(seconds=30)
_TABLE = table_of(SignInSession)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def idle_limit(settings: Settings | None = None) -> timedelta:
    return timedelta(minutes=(settings or get_settings()).auth.session_idle_minutes)


def open_session(engine: Engine, username: str, method: str, *, now: datetime | None = None) -> str:
    """A new session for a user who has just signed in; returns the token for the cookie (never stored)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with Session(engine) as session:
        session.add(SignInSession(token_hash=token_hash(token), username=username, method=method,
                                  created_at=now, last_seen_at=now))
        session.commit()
    return token


def resume(engine: Engine, token: str | None, *, from_cookie: bool = False, touch: bool = True,
           settings: Settings | None = None, now: datetime | None = None) -> tuple[str, str] | None:
    """(username, method) of a live session, its last use moved to now; None when unknown, revoked or idle.

    from_cookie: the browser brought the token (a reload or a new tab), not the open page: that sign-in is audited
    as `auth.resume`. touch=False only looks (a page's timer must not keep its session alive). An idle session
    found here is revoked (and audited as a sign-out) so it cannot come back."""
    if not isinstance(token, str) or not token or len(token) > 200:  # what a browser sent: anything at all
        return None
    now = now or utcnow()
    with Session(engine) as session:
        row = session.exec(select(SignInSession).where(SignInSession.token_hash == token_hash(token))).first()
        if row is None or row.revoked_at is not None:
            return None
        if now - row.last_seen_at > idle_limit(settings):
            _revoke_rows(session, [row.id], "idle", now)
            record(session, row.username, "auth.logout", "user", row.username, reason="idle")
            session.commit()
            return None
        if from_cookie:
            record(session, row.username, "auth.resume", "user", row.username,
                   after={"method": row.method, "session": row.id},
                   reason="signed in from the session cookie (reload or new tab)")
        if touch and (from_cookie or now - row.last_seen_at >= _TOUCH_EVERY):
            session.exec(sa.update(_TABLE).where(_TABLE.c.id == row.id).values(last_seen_at=now))
        session.commit()
        return row.username, row.method


def revoke(engine: Engine, token: str | None, reason: str, *, now: datetime | None = None) -> None:
    """End one session (sign-out, or the account found disabled)."""
    if not token:
        return
    with Session(engine) as session:
        session.exec(sa.update(_TABLE).where(_TABLE.c.token_hash == token_hash(token), _TABLE.c.revoked_at.is_(None))
                     .values(revoked_at=now or utcnow(), revoked_reason=reason[:80]))
        session.commit()


def revoke_user_sessions(session: Session, username: str, reason: str, *, now: datetime | None = None) -> int:
    """End every open session of a user, in the caller's transaction; returns how many were open."""
    ids = session.exec(select(SignInSession.id).where(SignInSession.username == username,
                                                       col(SignInSession.revoked_at).is_(None))).all()
    _revoke_rows(session, list(ids), reason, now or utcnow())
    return len(ids)


def _revoke_rows(session: Session, ids: list[int | None], reason: str, now: datetime) -> None:
    # Stored rows always have an id; SQLModel types the primary key int | None (None before the insert).
    if ids:
        session.exec(sa.update(_TABLE).where(_TABLE.c.id.in_(ids))
                     .values(revoked_at=now, revoked_reason=reason[:80]))
