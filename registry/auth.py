"""Local accounts: argon2 password hashes, login with lock-out, user and role management — every change audited.

There is no default account and no default password: the first admin is created with `zjtx users add` (or by
`zjtx up` asking on a terminal). Management functions take the acting Principal first and are @mutation
("users.manage"): the CLI acts as `cli_principal()` (whoever runs the CLI holds the database anyway).
`authenticate` opens its own transaction, because a failed attempt must be counted and logged even though the
login fails.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine
from sqlmodel import Session, select

from registry.access import NATIONAL, ROLES, Principal, mutation, validate_jurisdiction
from registry.audit import cli_actor, record
from registry.errors import UserError
from registry.models import User, table_of, utcnow
from registry.passwords import weakness
from registry.sessions import revoke_user_sessions
from registry.settings import Settings, get_settings

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the username is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")
_USERNAME = re.compile(r"[\w.@+-]{2,80}")
USER_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    "username": pl.String, "display_name": pl.String, "role": pl.String, "jurisdiction": pl.String,
    "active": pl.Boolean, "sign_in": pl.String, "failed_logins": pl.Int64,
    "locked_until": pl.Datetime("us", "UTC"), "last_login_at": pl.Datetime("us", "UTC"),
    "created_at": pl.Datetime("us", "UTC"),
}


class LoginFailed(UserError):
    """A login that did not succeed. `code`: bad_credentials | locked | disabled | no_account."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def cli_principal() -> Principal:
    """The CLI's acting principal: national admin, named after the OS user (audit rows say who ran it)."""
    return Principal(cli_actor(), "admin", NATIONAL)


def principal_of(user: User) -> Principal:
    return Principal(user.username, user.role, user.jurisdiction)


# ---------------------------------------------------------------- validation


def normalize_username(username: str) -> str:
    """Usernames are case-insensitive (an SSO e-mail may come back in any case): stored lower-case."""
    name = (username or "").strip().lower()
    if not _USERNAME.fullmatch(name):
        raise UserError(f"用户名无效 / invalid username {username!r}: 2–80 letters, digits or . _ @ + -")
    return name


def check_role(role: str) -> str:
    role = (role or "").strip().lower()
    if role not in ROLES:
        raise UserError(f"未知角色 / unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role


def check_admin_is_national(role: str, jurisdiction: str) -> None:
    """Admins manage users and read the whole audit trail, which belong to no region: an admin is national.
    (A provincial admin could otherwise create a national account.) Provincial leads are managers."""
    if role == "admin" and jurisdiction != NATIONAL:
        raise UserError(f"管理员的辖区必须是全国（cn），省市负责人请用 manager 角色 / an admin must have jurisdiction "
                        f"cn (got {jurisdiction!r}); give regional leads the manager role")


def check_password(password: str, username: str, settings: Settings | None = None) -> None:
    """Refuse a new password that is short or easy to guess (registry/passwords.py lists the rules)."""
    minimum = (settings or get_settings()).auth.min_password_length
    if len(password) < minimum:
        raise UserError(f"密码太短，至少 {minimum} 个字符 / password too short: at least {minimum} characters")
    reason = weakness(password, username)
    if reason is not None:
        raise UserError(f"密码太容易被猜到 / password too easy to guess: {reason}")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


# ---------------------------------------------------------------- user management (audited)


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == normalize_username(username))).first()
    if user is None:
        raise UserError(f"没有该用户 / no such user: {username!r}")
    return user


def _snapshot(user: User) -> dict[str, Any]:
    """What the audit trail keeps of a user: never the password hash."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "jurisdiction": user.jurisdiction, "active": user.active,
            "sign_in": "password" if user.password_hash else "sso"}


@mutation("users.manage")
def create_user(principal: Principal, session: Session, username: str, password: str | None, role: str,
                jurisdiction: str, display_name: str | None = None, reason: str | None = None) -> User:
    """A new active account. password None = single sign-on only (no local password can match)."""
    name = normalize_username(username)
    role, jurisdiction = check_role(role), validate_jurisdiction(jurisdiction)
    check_admin_is_national(role, jurisdiction)
    if session.exec(select(User).where(User.username == name)).first() is not None:
        raise UserError(f"用户已存在 / user already exists: {name}")
    if password is not None:
        check_password(password, name)
    user = User(username=name, display_name=(display_name or "").strip() or None, role=role,
                jurisdiction=jurisdiction, password_hash=hash_password(password) if password is not None else None)
    session.add(user)
    session.flush()
    record(session, principal, "user.create", "user", name, None, _snapshot(user), reason)
    return user


@mutation("users.manage")
def set_password(principal: Principal, session: Session, username: str, password: str,
                 reason: str | None = None) -> None:
    """A new password; also clears a lock-out (the admin has just vouched for the account)."""
    user = get_user(session, username)
    check_password(password, user.username)
    had_password = user.password_hash is not None
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    session.flush()
    # Whoever knew the old password may hold a signed-in browser: it signs in again with the new one.
    ended = revoke_user_sessions(session, user.username, "password changed")
    record(session, principal, "user.password", "user", user.username, {"password_set": had_password},
           {"password_set": True, "sessions_ended": ended}, reason)


@mutation("users.manage")
def set_role(principal: Principal, session: Session, username: str, role: str, jurisdiction: str | None = None,
             reason: str | None = None) -> User:
    user = get_user(session, username)
    before = _snapshot(user)
    user.role = check_role(role)
    if jurisdiction is not None:
        user.jurisdiction = validate_jurisdiction(jurisdiction)
    check_admin_is_national(user.role, user.jurisdiction)
    if before["role"] == "admin" and user.role != "admin":
        _keep_one_admin(session, user.username)
    session.add(user)
    session.flush()
    record(session, principal, "user.role", "user", user.username, before, _snapshot(user), reason)
    return user


@mutation("users.manage")
def set_active(principal: Principal, session: Session, username: str, active: bool,
               reason: str | None = None) -> User:
    """Disable (sign-in refused, every session revoked: open pages end at their next click) or re-enable."""
    user = get_user(session, username)
    before = _snapshot(user)
    if not active and user.role == "admin":
        _keep_one_admin(session, user.username)
    user.active = active
    if active:
        user.failed_logins, user.locked_until = 0, None
    session.add(user)
    session.flush()
    after = _snapshot(user)
    if not active:
        after["sessions_ended"] = revoke_user_sessions(session, user.username, "account disabled")
    record(session, principal, "user.enable" if active else "user.disable", "user", user.username, before,
           after, reason)
    return user


@mutation("users.manage")
def unlock_user(principal: Principal, session: Session, username: str, reason: str | None = None) -> User:
    user = get_user(session, username)
    before = {"failed_logins": user.failed_logins, "locked_until": user.locked_until}
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    session.flush()
    record(session, principal, "user.unlock", "user", user.username, before,
           {"failed_logins": 0, "locked_until": None}, reason)
    return user


def _keep_one_admin(session: Session, leaving: str) -> None:
    """Refuse to remove the last active admin: nobody could manage users any more."""
    others = session.exec(select(User).where(User.role == "admin", User.active, User.username != leaving)).first()
    if others is None:
        raise UserError("不能停用或降级最后一个管理员 / cannot disable or demote the last active admin")


def list_users(session: Session) -> pl.DataFrame:
    users = session.exec(select(User).order_by(User.username)).all()
    return pl.DataFrame(
        [{"username": u.username, "display_name": u.display_name, "role": u.role, "jurisdiction": u.jurisdiction,
          "active": u.active, "sign_in": "password" if u.password_hash else "sso",
          "failed_logins": u.failed_logins, "locked_until": u.locked_until, "last_login_at": u.last_login_at,
          "created_at": u.created_at} for u in users],
        schema=USER_COLUMNS,
    )


def has_active_admin(engine: Engine) -> bool:
    with Session(engine) as session:
        return session.exec(select(User.id).where(User.role == "admin", User.active)).first() is not None


# ---------------------------------------------------------------- signing in


def authenticate(engine: Engine, username: str, password: str, *, settings: Settings | None = None,
                 now: datetime | None = None) -> Principal:
    """The principal of a correct username + password; LoginFailed otherwise.

    `max_failed_logins` failures in a row lock the account for `lockout_minutes`; every attempt (success,
    failure, refusal while locked) is an audit row. The message does not say whether the username exists.
    """
    settings = settings or get_settings()
    now = now or utcnow()
    try:
        name = normalize_username(username)
    except UserError:
        name = (username or "").strip().lower()[:80] or "?"
    with Session(engine, expire_on_commit=False) as session:
        user = session.exec(select(User).where(User.username == name)).first()
        if user is None:
            _verify(_DUMMY_HASH, password)
            record(session, name, "auth.login_failed", "user", name, reason="unknown username")
            session.commit()
            raise _bad_credentials()
        if user.locked_until is not None and user.locked_until > now:
            record(session, name, "auth.login_refused", "user", name, reason="account locked")
            session.commit()
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            raise LoginFailed(f"登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试 / too many failed logins: the "
                              f"account is locked, try again in {minutes} min", "locked")
        if not user.password_hash or not _verify(user.password_hash, password):
            locked = _count_failure(session, user, settings, now)
            session.commit()
            if locked:
                raise LoginFailed(f"登录失败次数过多，账号已锁定 {settings.auth.lockout_minutes} 分钟 / too many "
                                  f"failed logins: the account is locked for {settings.auth.lockout_minutes} min",
                                  "locked")
            raise _bad_credentials()
        if not user.active:
            record(session, name, "auth.login_refused", "user", name, reason="account disabled")
            session.commit()
            raise LoginFailed("账号已停用，请联系管理员 / this account is disabled: ask an administrator", "disabled")
        if _HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        _signed_in(session, user, now, "password")
        session.commit()
        return principal_of(user)


def sso_principal(engine: Engine, claims: Mapping[str, Any], *, settings: Settings | None = None,
                  now: datetime | None = None) -> Principal:
    """The principal of an OIDC sign-in: the active local account whose username equals the configured claim.

    Single sign-on proves who someone is; their role and jurisdiction still come from the local account, so an
    identity without an account gets nothing.
    """
    settings = settings or get_settings()
    claim = settings.auth.sso_username_claim
    value = str(claims.get(claim) or "").strip().lower()
    with Session(engine, expire_on_commit=False) as session:
        user = session.exec(select(User).where(User.username == value)).first() if value else None
        if user is None or not user.active:
            record(session, value[:80] or "?", "auth.login_refused", "user", value[:80] or None,
                   reason=f"single sign-on: no active account for {claim}={value!r}")
            session.commit()
            raise LoginFailed(f"单点登录成功，但没有与 {claim}={value} 对应的有效账号，请联系管理员 / signed in, but "
                              f"there is no active account for {claim}={value}: ask an administrator", "no_account")
        _signed_in(session, user, now or utcnow(), "sso")
        session.commit()
        return principal_of(user)


def current_principal(engine: Engine, username: str, *, now: datetime | None = None) -> Principal | None:
    """The account as it is now (role or jurisdiction may have changed), or None when it is disabled, locked or
    gone: the dashboard checks this on every interaction, so a disabled user's open session ends."""
    now = now or utcnow()
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active or (user.locked_until is not None and user.locked_until > now):
        return None
    return principal_of(user)


def record_logout(engine: Engine, principal: Principal, reason: str) -> None:
    with Session(engine) as session:
        record(session, principal, "auth.logout", "user", principal.username, reason=reason)
        session.commit()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _bad_credentials() -> LoginFailed:
    return LoginFailed("用户名或密码错误 / wrong username or password", "bad_credentials")


def _count_failure(session: Session, user: User, settings: Settings, now: datetime) -> bool:
    """One more failure, counted in SQL (two browsers failing at once both count); True when it locks."""
    table = table_of(User)
    failures = session.exec(
        sa.update(table).where(table.c.id == user.id).values(failed_logins=table.c.failed_logins + 1)
        .returning(table.c.failed_logins)
    ).scalar_one()
    record(session, user.username, "auth.login_failed", "user", user.username,
           after={"failed_logins": failures}, reason="wrong password")
    if failures < settings.auth.max_failed_logins:
        return False
    until = now + timedelta(minutes=settings.auth.lockout_minutes)
    # The counter starts again after the lock: the next lock needs max_failed_logins new failures.
    session.exec(sa.update(table).where(table.c.id == user.id).values(failed_logins=0, locked_until=until))
    record(session, user.username, "auth.locked", "user", user.username, after={"locked_until": until},
           reason=f"{failures} failed logins in a row")
    return True


def _signed_in(session: Session, user: User, now: datetime, method: str) -> None:
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    session.add(user)
    session.flush()
    record(session, user.username, "auth.login", "user", user.username, after={"method": method})
