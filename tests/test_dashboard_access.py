"""The dashboard's gate and roles as users meet them (Streamlit AppTest, seeded SQLite registry): the sign-in page,
wrong passwords and the lock-out, idle sessions ending, a disabled account's open session ending, which pages
and download buttons each role gets, a provincial official's scope, and the admin's audit page.

Expected numbers come from SQL on the seeded database, not from the functions the pages call.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from dashboard_login import log_in, password_for, seed_user
from dashboard_seed import FEATURED_NAME, seed_registry
from streamlit.testing.v1 import AppTest

from dashboard.login import AUTH_KEY, start_session
from registry import auth
from registry.access import PermissionDenied, Principal
from registry.db import make_engine, session_scope, upgrade
from registry.models import utcnow
from registry.settings import get_settings

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
USERS = {"admin": ("admin", "cn"), "gd_official": ("official", "cn-gd"), "gd_analyst": ("analyst", "cn-gd"),
         "gd_manager": ("manager", "cn-gd"), "locked_out": ("official", "cn-gd"), "leaver": ("official", "cn-gd"),
         "demoted": ("official", "cn-gd")}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("access")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    info = seed_registry(engine, firms=120, seed=17)
    for username, (role, jurisdiction) in USERS.items():
        seed_user(engine, username, role, jurisdiction)
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n[auth]\nmax_failed_logins = 3\n'
                      'session_idle_minutes = 30\n', encoding="utf-8")
    yield engine, info, config
    engine.dispose()


@pytest.fixture
def app(seeded, monkeypatch):
    engine, info, config = seeded
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield AppTest.from_file(str(APP), default_timeout=60), engine, info
    get_settings.cache_clear()


def sql(engine, statement: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(statement), params).all()


def no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def sign_in(at, username: str, password: str):
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button(key="login_submit").click().run()
    return at


def page_titles(at) -> list[str]:
    return [t.value for t in at.title]


# ---------------------------------------------------------------- the gate


def test_nobody_gets_a_page_without_signing_in(app):
    at, _, info = app
    at.query_params["uscc"] = info.featured_uscc
    at.run()
    no_errors(at)
    assert page_titles(at) == ["登录"]
    assert not at.metric and not at.dataframe and not at.header  # no data of any page
    at.switch_page("views/firm.py").run()
    assert page_titles(at) == ["登录"] and not at.header


def test_signing_in_with_the_form(app):
    at, engine, _ = app
    at.run()
    sign_in(at, "gd_official", "wrong password!")
    assert [e.value for e in at.error] == ["用户名或密码错误 / wrong username or password"]
    assert page_titles(at) == ["登录"]
    sign_in(at, "GD_Official", password_for("gd_official"))
    no_errors(at)
    assert page_titles(at) == ["总览"]
    # The username is written as literal text (Markdown-escaped: "_" as "&#95;"); read as the browser shows it.
    shown = [html.unescape(c.value).replace("\u2060", "") for c in at.sidebar.caption]
    assert any("gd_official" in c and "工作人员" in c and "cn-gd" in c for c in shown)
    [(actor, action)] = sql(engine, "SELECT actor, action FROM audit_log WHERE action = 'auth.login' "
                                    "AND actor = 'gd_official'")
    assert (actor, action) == ("gd_official", "auth.login")


def test_repeated_failures_lock_the_account(app):
    at, engine, _ = app
    at.run()
    for _ in range(2):
        sign_in(at, "locked_out", "not the password")
    sign_in(at, "locked_out", "still not it")
    assert "账号已锁定" in at.error[0].value
    sign_in(at, "locked_out", password_for("locked_out"))  # right password, but locked
    assert "账号已锁定" in at.error[0].value and page_titles(at) == ["登录"]
    (locked,), = sql(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.locked' AND actor = 'locked_out'")
    assert locked == 1


def test_an_idle_session_expires(app):
    at, engine, _ = app
    principal = auth.authenticate(engine, "gd_analyst", password_for("gd_analyst"))
    idle_since = utcnow() - timedelta(minutes=31)
    at.session_state[AUTH_KEY] = start_session(principal, now=idle_since)
    at.run()
    no_errors(at)
    assert page_titles(at) == ["登录"]
    assert at.info[0].value == "会话因 30 分钟无操作已过期，请重新登录"
    assert sql(engine, "SELECT reason FROM audit_log WHERE action = 'auth.logout' AND actor = 'gd_analyst'") == [
        ("idle",)]

    recent = start_session(principal, now=utcnow() - timedelta(minutes=29))
    fresh = AppTest.from_file(str(APP), default_timeout=60)
    fresh.session_state[AUTH_KEY] = recent
    fresh.run()
    assert page_titles(fresh) == ["总览"]
    assert fresh.session_state[AUTH_KEY].last_seen_at > recent.last_seen_at  # activity keeps it alive


def test_a_disabled_users_open_session_ends_at_the_next_click(app):
    at, engine, _ = app
    log_in(at, engine, "leaver").run()
    assert page_titles(at) == ["总览"]
    with session_scope(engine) as session:
        auth.set_active(Principal("admin", "admin", "cn"), session, "leaver", False, reason="调离")
    at.run()
    assert page_titles(at) == ["登录"]
    assert at.info[0].value == "账号已停用或已锁定，会话已结束"


def test_signing_out(app):
    at, engine, _ = app
    log_in(at, engine, "gd_official").run()
    at.sidebar.button(key="logout").click().run()
    assert page_titles(at) == ["登录"] and at.info[0].value == "已退出登录"
    assert AUTH_KEY not in at.session_state


# ---------------------------------------------------------------- roles: pages and actions

DOWNLOADS = {"下载 Excel", "下载 CSV"}
USCC = re.compile(r"\b[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}\b")
# The downloads that name firms or are documents an office circulates (docs/access.md, "导出 Exports").
REVIEW_LIST, BRIEFING = "导出复核清单（Excel）", "下载 Excel 简报"


@pytest.mark.parametrize("username,may_export", [("admin", True), ("gd_manager", True), ("gd_official", True),
                                                 ("gd_analyst", False)])
def test_export_buttons_follow_the_role(app, username, may_export):
    """The registry list names firms: its buttons are for roles with `export` only."""
    at, engine, _ = app
    log_in(at, engine, username).run()
    no_errors(at)
    at.switch_page("views/registry_list.py").run()
    no_errors(at)
    labels = {b.label for b in at.get("download_button")}
    assert (labels >= DOWNLOADS) if may_export else not labels & DOWNLOADS, (username, labels)


@pytest.mark.parametrize("username", ["admin", "gd_manager", "gd_official", "gd_analyst"])
def test_every_download_on_every_page_follows_the_role_and_is_audited(app, monkeypatch, username):
    """Every page the role opens, every download button on it: an analyst's buttons deliver only tables that
    name no firm (no USCC, no firm name — checked in the files themselves), and never the review list or the
    briefing; the other roles have those. Every press writes one `data.export` audit row naming the user, the
    kind, the file, the scope and the row count."""
    from dashboard_downloads import keep_media, press, text_of

    from dashboard.pages import pages_for

    at, engine, _ = app
    media = keep_media(monkeypatch)
    role, jurisdiction = USERS[username]
    firm_names = [name for (name,) in sql(engine, "SELECT name FROM enterprise")]
    log_in(at, engine, username).run()
    pressed: list[tuple[str, str]] = []
    labels_seen: set[str] = set()
    for spec in pages_for(role):
        at.switch_page(spec.script).run()
        no_errors(at)
        for button in at.get("download_button"):
            labels_seen.add(button.proto.label)
            if role != "analyst" and button.proto.label not in (REVIEW_LIST, BRIEFING):
                continue  # the others' tables are pressed by the analyst; their documents are pressed here
            (before,), = sql(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'data.export'")
            text = text_of(press(media, button))
            if role == "analyst":
                assert not USCC.search(text), (spec.key, button.proto.label, USCC.search(text).group())
                assert not [n for n in firm_names if n in text], (spec.key, button.proto.label)
            rows = sql(engine, "SELECT actor, entity_id, after FROM audit_log WHERE action = 'data.export' "
                               "ORDER BY id DESC LIMIT 1")
            (after,), = sql(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'data.export'")
            assert after == before + 1, (spec.key, button.proto.label)
            actor, what, details = rows[0]
            details = json.loads(details) if isinstance(details, str) else details
            assert actor == username and details["what"] == what and details["scope"] == jurisdiction
            assert details["file"].endswith((".xlsx", ".csv", ".pdf"))
            assert isinstance(details["rows"], int) and details["rows"] >= 0
            pressed.append((spec.key, what))
    if role == "analyst":
        assert pressed and {what for _, what in pressed} == {"aggregate"}, pressed
        assert not labels_seen & {REVIEW_LIST, BRIEFING}
    else:
        assert {REVIEW_LIST, BRIEFING} <= labels_seen, labels_seen
        assert {what for _, what in pressed} == {"review_list", "briefing"}


def test_a_download_pressed_after_the_account_changed_delivers_nothing(app, monkeypatch):
    """The role is read again when the file is built: an official demoted to analyst after the page was drawn
    gets no review list from the button still on the screen, and no audit row is written."""
    from dashboard_downloads import keep_media, press

    at, engine, _ = app
    media = keep_media(monkeypatch)
    log_in(at, engine, "demoted").run()
    at.switch_page("views/review.py").run()
    [button] = [b for b in at.get("download_button") if b.proto.label == REVIEW_LIST]
    with session_scope(engine) as session:
        auth.set_role(Principal("test-setup", "admin", "cn"), session, "demoted", "analyst")
    (before,), = sql(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'data.export'")
    with pytest.raises(PermissionDenied):
        press(media, button)
    (after,), = sql(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'data.export'")
    assert after == before


@pytest.mark.parametrize("username,sees_audit", [("admin", True), ("gd_manager", False), ("gd_official", False),
                                                 ("gd_analyst", False)])
def test_audit_page_is_for_admins_only(app, username, sees_audit):
    at, engine, _ = app
    log_in(at, engine, username).run()
    if sees_audit:
        at.switch_page("views/audit.py").run()
        no_errors(at)
        assert page_titles(at) == ["审计日志"]
    else:
        # Not in the role's navigation, so not a page of this session at all (the URL /audit opens the default
        # page: tests/e2e/test_e2e_access.py).
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page("views/audit.py")


def test_the_admin_audit_page_filters_and_exports(app):
    at, engine, _ = app
    log_in(at, engine, "admin").run()
    at.switch_page("views/audit.py").run()
    no_errors(at)
    (total,), = sql(engine, "SELECT COUNT(*) FROM audit_log")
    shown = at.dataframe[0].value
    assert len(shown) == total and list(shown.columns[:4]) == ["编号", "时间", "操作人", "操作"]
    assert shown["编号"].tolist() == sorted(shown["编号"].tolist(), reverse=True)
    assert {b.label for b in at.get("download_button")} >= DOWNLOADS
    at.selectbox(key="audit_action").set_value("user.create").run()
    (created,), = sql(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.create'")
    assert set(at.dataframe[0].value["操作"]) == {"user.create"} and len(at.dataframe[0].value) == created == len(USERS)


# ---------------------------------------------------------------- scope on the pages


def test_a_provincial_official_sees_only_the_province(app):
    at, engine, info = app
    log_in(at, engine, "gd_official").run()
    at.switch_page("views/registry_list.py").run()
    no_errors(at)
    (in_guangdong,), = sql(engine, "SELECT COUNT(*) FROM enterprise WHERE region_code LIKE '44%'")
    assert at.caption[0].value == f"共 {in_guangdong:,} 家企业"
    zhejiang = sql(engine, "SELECT uscc FROM enterprise WHERE region_code LIKE '33%' ORDER BY uscc LIMIT 1")[0][0]
    at.text_input(key="registry_uscc").input(zhejiang).run()
    assert at.caption[0].value == "共 0 家企业"

    # A Zhejiang firm by its URL: the same answer as a firm that does not exist.
    firm = AppTest.from_file(str(APP), default_timeout=60)
    log_in(firm, engine, "gd_official")
    firm.query_params["uscc"] = zhejiang
    firm.run()
    firm.switch_page("views/firm.py").run()
    no_errors(firm)
    assert not firm.header and firm.warning[0].value.endswith(zhejiang)
    firm.query_params["uscc"] = info.featured_uscc  # a Shenzhen firm opens
    firm.run()
    assert firm.header[0].value == FEATURED_NAME
