"""Local accounts on both engines: argon2 hashes, login, lock-out after N failures for M minutes, disabled
accounts, single-sign-on mapping, and an audit row for every change and every attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from registry import auth
from registry.access import Principal
from registry.audit import AUDIT
from registry.db import session_scope
from registry.errors import UserError
from registry.models import User
from registry.passwords import COMMON_PASSWORDS
from registry.settings import Settings

ADMIN = Principal("root-admin", "admin", "cn")
SETTINGS = Settings(auth={"max_failed_logins": 3, "lockout_minutes": 15, "min_password_length": 10})
PASSWORD = "Correct-Horse-7"


def add(engine, username="gd_official", role="official", jurisdiction="cn-gd", password=PASSWORD, **kw):
    with session_scope(engine) as session:
        return auth.create_user(ADMIN, session, username, password, role, jurisdiction, **kw).username


def audit_rows(engine, entity_id=None) -> list[dict]:
    stmt = sa.select(AUDIT).order_by(AUDIT.c.id)
    if entity_id:
        stmt = stmt.where(AUDIT.c.entity_id == entity_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def user_row(engine, username) -> User:
    with Session(engine) as session:
        return session.exec(select(User).where(User.username == username)).one()


def test_password_is_stored_as_argon2_and_logs_in(engine):
    add(engine, "GD_Official")  # usernames are case-insensitive
    stored = user_row(engine, "gd_official")
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    principal = auth.authenticate(engine, "gd_official", PASSWORD, settings=SETTINGS)
    assert principal == Principal("gd_official", "official", "cn-gd")
    assert auth.authenticate(engine, "GD_OFFICIAL", PASSWORD, settings=SETTINGS) == principal
    assert user_row(engine, "gd_official").last_login_at is not None
    actions = [r["action"] for r in audit_rows(engine, "gd_official")]
    assert actions == ["user.create", "auth.login", "auth.login"]
    # The trail never holds the password or its hash.
    assert not any(PASSWORD in str(r) or "$argon2" in str(r) for r in audit_rows(engine))


def test_wrong_password_and_unknown_user_give_the_same_answer_and_are_logged(engine):
    add(engine)
    with pytest.raises(auth.LoginFailed) as wrong:
        auth.authenticate(engine, "gd_official", "wrong-password-1", settings=SETTINGS)
    with pytest.raises(auth.LoginFailed) as unknown:
        auth.authenticate(engine, "nobody", PASSWORD, settings=SETTINGS)
    assert str(wrong.value) == str(unknown.value) == "用户名或密码错误 / wrong username or password"
    failed = [r for r in audit_rows(engine) if r["action"] == "auth.login_failed"]
    assert [(r["actor"], r["reason"]) for r in failed] == [("gd_official", "wrong password"),
                                                          ("nobody", "unknown username")]


def test_lock_out_after_n_failures_for_m_minutes(engine):
    add(engine)
    start = datetime(2025, 6, 30, 9, 0, tzinfo=UTC)
    for attempt in range(2):
        with pytest.raises(auth.LoginFailed) as failed:
            auth.authenticate(engine, "gd_official", f"wrong-{attempt}-xxxx", settings=SETTINGS, now=start)
        assert failed.value.code == "bad_credentials"
    with pytest.raises(auth.LoginFailed) as third:
        auth.authenticate(engine, "gd_official", "wrong-3-xxxxxx", settings=SETTINGS, now=start)
    assert third.value.code == "locked" and "15" in str(third.value)
    assert user_row(engine, "gd_official").locked_until == start + timedelta(minutes=15)

    # Locked: even the right password is refused until the lock ends.
    with pytest.raises(auth.LoginFailed) as refused:
        auth.authenticate(engine, "gd_official", PASSWORD, settings=SETTINGS, now=start + timedelta(minutes=14))
    assert refused.value.code == "locked"
    assert auth.current_principal(engine, "gd_official", now=start + timedelta(minutes=1)) is None  # sessions end
    after = start + timedelta(minutes=15, seconds=1)
    assert auth.authenticate(engine, "gd_official", PASSWORD, settings=SETTINGS, now=after).username == "gd_official"
    row = user_row(engine, "gd_official")
    assert (row.failed_logins, row.locked_until) == (0, None)
    actions = [r["action"] for r in audit_rows(engine, "gd_official")]
    assert actions == ["user.create", "auth.login_failed", "auth.login_failed", "auth.login_failed", "auth.locked",
                       "auth.login_refused", "auth.login"]


def test_a_success_resets_the_failure_count(engine):
    add(engine)
    for _ in range(2):
        with pytest.raises(auth.LoginFailed):
            auth.authenticate(engine, "gd_official", "not-the-password", settings=SETTINGS)
    auth.authenticate(engine, "gd_official", PASSWORD, settings=SETTINGS)
    for _ in range(2):
        with pytest.raises(auth.LoginFailed) as failed:
            auth.authenticate(engine, "gd_official", "not-the-password", settings=SETTINGS)
        assert failed.value.code == "bad_credentials"  # 2 after the success: not locked


def test_disabled_account_cannot_sign_in_and_its_session_ends(engine):
    add(engine)
    assert auth.current_principal(engine, "gd_official") is not None
    with session_scope(engine) as session:
        auth.set_active(ADMIN, session, "gd_official", False, reason="left the office")
    with pytest.raises(auth.LoginFailed) as refused:
        auth.authenticate(engine, "gd_official", PASSWORD, settings=SETTINGS)
    assert refused.value.code == "disabled"
    assert auth.current_principal(engine, "gd_official") is None
    with session_scope(engine) as session:
        auth.set_active(ADMIN, session, "gd_official", True)
    assert auth.authenticate(engine, "gd_official", PASSWORD, settings=SETTINGS)


def test_role_and_jurisdiction_changes_are_audited_with_before_and_after(engine):
    add(engine)
    with session_scope(engine) as session:
        auth.set_role(ADMIN, session, "gd_official", "manager", "cn-gd-shenzhen", reason="调任深圳")
    [change] = [r for r in audit_rows(engine, "gd_official") if r["action"] == "user.role"]
    assert change["actor"] == "root-admin" and change["reason"] == "调任深圳"
    assert (change["before"]["role"], change["before"]["jurisdiction"]) == ("official", "cn-gd")
    assert (change["after"]["role"], change["after"]["jurisdiction"]) == ("manager", "cn-gd-shenzhen")
    assert auth.current_principal(engine, "gd_official") == Principal("gd_official", "manager", "cn-gd-shenzhen")

    with session_scope(engine) as session:
        auth.set_password(ADMIN, session, "gd_official", "Another-Secret-9")
        auth.unlock_user(ADMIN, session, "gd_official")
    actions = [r["action"] for r in audit_rows(engine, "gd_official")]
    assert actions[-2:] == ["user.password", "user.unlock"]
    assert auth.authenticate(engine, "gd_official", "Another-Secret-9", settings=SETTINGS)


def test_only_admins_manage_users(engine):
    with session_scope(engine) as session, pytest.raises(UserError, match="权限不足"):
        auth.create_user(Principal("m", "manager", "cn-gd"), session, "someone", PASSWORD, "analyst", "cn-gd")


@pytest.mark.parametrize("username,role,jurisdiction,password,message", [
    ("x", "official", "cn-gd", PASSWORD, "用户名无效"),
    ("has space", "official", "cn-gd", PASSWORD, "用户名无效"),
    ("new_user", "boss", "cn-gd", PASSWORD, "未知角色"),
    ("new_user", "official", "cn-xx", PASSWORD, "未知辖区"),
    ("new_user", "official", "cn-gd", "short", "密码太短"),
    ("new_user", "official", "cn-gd", "new_user", "密码太短"),
    ("new_user", "official", "cn-gd", "aaaaaaaaaaaa", "密码太容易被猜到"),
    ("new_user", "admin", "cn-gd", PASSWORD, "管理员的辖区必须是全国"),
])
def test_bad_accounts_are_refused_with_a_reason(sqlite_engine, username, role, jurisdiction, password, message):
    with pytest.raises(UserError, match=message):
        add(sqlite_engine, username, role, jurisdiction, password)
    assert audit_rows(sqlite_engine) == []  # nothing half-done


def test_duplicate_user_and_last_admin_are_refused(engine):
    add(engine, "chief", "admin", "cn")
    with pytest.raises(UserError, match="用户已存在"):
        add(engine, "Chief", "official", "cn")
    with session_scope(engine) as session, pytest.raises(UserError, match="最后一个管理员"):
        auth.set_active(ADMIN, session, "chief", False)
    with session_scope(engine) as session, pytest.raises(UserError, match="最后一个管理员"):
        auth.set_role(ADMIN, session, "chief", "official")
    add(engine, "deputy", "admin", "cn")
    with session_scope(engine) as session:
        auth.set_role(ADMIN, session, "chief", "official")
    assert auth.has_active_admin(engine)


def test_single_sign_on_signs_in_existing_active_accounts_only(engine):
    add(engine, "zhang.san@gd.gov.cn", "analyst", "cn-gd", password=None)  # SSO only: no local password
    assert user_row(engine, "zhang.san@gd.gov.cn").password_hash is None
    with pytest.raises(auth.LoginFailed):
        auth.authenticate(engine, "zhang.san@gd.gov.cn", "", settings=SETTINGS)
    principal = auth.sso_principal(engine, {"email": "Zhang.San@GD.gov.cn", "name": "张三"})
    assert principal == Principal("zhang.san@gd.gov.cn", "analyst", "cn-gd")
    with pytest.raises(auth.LoginFailed) as refused:
        auth.sso_principal(engine, {"email": "li.si@gd.gov.cn"})
    assert refused.value.code == "no_account"
    by_name = Settings(auth={"sso_username_claim": "preferred_username"})
    with pytest.raises(auth.LoginFailed):
        auth.sso_principal(engine, {"email": "zhang.san@gd.gov.cn"}, settings=by_name)
    logins = [r for r in audit_rows(engine) if r["action"] in ("auth.login", "auth.login_refused")]
    assert [(r["action"], (r["after"] or {}).get("method")) for r in logins][0] == ("auth.login", "sso")
    assert len(logins) == 3


def test_list_users_never_shows_hashes(engine):
    add(engine)
    with Session(engine) as session:
        users = auth.list_users(session)
    assert users["username"].to_list() == ["gd_official"]
    assert "password_hash" not in users.columns and users["sign_in"].to_list() == ["password"]


# ---------------------------------------------------------------- easy-to-guess passwords (issue 16)

# One example per rule of registry/passwords.py, each long enough for the length rule and caught by that rule alone;
# the expected words are the rule's own ("contains the username", "digits only" ...), not the code's internals.
WEAK = [
    ("wang.wei", "Wang.Wei-Secure-9", "用户名"),                   # the username itself
    ("zhang.san@gd.gov.cn", "Zhang-Rivers-88x", "用户名"),         # a 4+ character part of it
    ("gd_official", "Official#Tide-5", "用户名"),                  # a part after the underscore, any case
    ("new_user", "My-ZJTX-login-5", "zjtx"),                       # the system's name
    ("new_user", "zzzzzzzzzzzz", "同一个字符"),                    # one character repeated
    ("new_user", "xyzxyzxyzxyz", "少于 4 个"),                     # three different characters
    ("new_user", "1234567890", "纯数字"),                          # the example
    ("new_user", "8316409257", "纯数字"),                          # digits only, not a sequence, 10 long
    ("new_user", "831640925731826", "纯数字"),                     # 15 digits: still too few
    ("new_user", "password12", "常见密码"),                        # the example: on the list
    ("new_user", "PASSWORD12", "常见密码"),                        # whatever the case
    ("new_user", "1qaz2wsx3edc", "常见密码"),                      # a keyboard-column favourite, on the list
    ("new_user", "hijklmnopq", "连续字符"),                        # alphabet run
    ("new_user", "zyxwvutsrqp", "连续字符"),                       # backwards
    ("new_user", "asdfghjkl;'", "连续字符"),                       # keyboard row
    ("new_user", "/.,mnbvcxz", "连续字符"),                        # keyboard row backwards
    ("new_user", "beijing2024", "年份"),                           # word + year
    ("new_user", "2023Summer", "年份"),                            # year + word
    ("new_user", "Kunming@1998", "年份"),                          # word, symbol, year
    ("new_user", "123456dragon", "加上数字或符号"),               # a common word with digits before it
    ("new_user", "P@ssw0rd12!", "加上数字或符号"),                 # 0→o, @→a undone, digits after
    ("new_user", "!!lmnopqrs99", "加上数字或符号"),               # a run with padding
]


@pytest.mark.parametrize("username,password,reason", WEAK)
def test_easy_to_guess_passwords_are_refused_with_the_rule_they_break(sqlite_engine, username, password, reason):
    assert len(password) >= SETTINGS.auth.min_password_length
    with pytest.raises(UserError, match="密码太容易被猜到") as refused:
        auth.check_password(password, username, SETTINGS)
    assert reason in str(refused.value)
    assert " / " in str(refused.value)  # Chinese, then English
    with pytest.raises(UserError):
        add(sqlite_engine, username, "official", "cn-gd", password)
    assert audit_rows(sqlite_engine) == []


def test_every_common_password_on_the_shipped_list_is_refused():
    listed = [line for line in COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
              if line and not line.startswith("#") and len(line) >= 10]
    assert len(listed) > 1000
    for password in listed:
        with pytest.raises(UserError, match="密码太容易被猜到"):
            auth.check_password(password, "new_user", SETTINGS)


@pytest.mark.parametrize("password", ["Correct-Horse-7", "Kestrel-Harbour-93", "tide+lantern+copper",
                                      "8316409257318264", "Wang-Copper-Sky-4"])
def test_passwords_that_break_no_rule_are_accepted(sqlite_engine, password):
    auth.check_password(password, "zhang.san@gd.gov.cn", SETTINGS)
    add(sqlite_engine, "zhang.san@gd.gov.cn", "official", "cn-gd", password)
    assert auth.authenticate(sqlite_engine, "zhang.san@gd.gov.cn", password, settings=SETTINGS)


def test_a_new_password_for_an_existing_account_is_checked_too(sqlite_engine):
    add(sqlite_engine)
    with session_scope(sqlite_engine) as session, pytest.raises(UserError, match="纯数字"):
        auth.set_password(ADMIN, session, "gd_official", "1234567890")
    assert auth.authenticate(sqlite_engine, "gd_official", PASSWORD, settings=SETTINGS)
    assert [r["action"] for r in audit_rows(sqlite_engine)] == ["user.create", "auth.login"]
