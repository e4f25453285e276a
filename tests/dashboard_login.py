"""Signing in for the dashboard tests, through the same API as the real sign-in page (no gate is switched off).

    password = seed_user(engine, "gd_official", "official", "cn-gd")   # registry.auth.create_user
    at = AppTest.from_file(APP)
    log_in(at, engine, "gd_official", password)                      # registry.auth.authenticate → session_state
    at.run()
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.login import AUTH_KEY, start_session
from registry.access import Principal
from registry.auth import authenticate, create_user
from registry.db import session_scope

# The principal that creates the test accounts (as `zjtx users add` would).
SETUP = Principal("test-setup", "admin", "cn")


def password_for(username: str) -> str:
    # One password per account, none containing the username (registry/passwords.py refuses that).
    return f"Lantern-{hashlib.sha256(username.encode()).hexdigest()[:8]}-2024!"


def seed_user(engine: sa.Engine, username: str = "admin", role: str = "admin", jurisdiction: str = "cn") -> str:
    """Create an account (argon2 hash, audit row) and return its password."""
    password = password_for(username)
    with session_scope(engine) as session:
        create_user(SETUP, session, username, password, role, jurisdiction)
    return password


def log_in(at: AppTest, engine: sa.Engine, username: str = "admin", password: str | None = None) -> AppTest:
    """Authenticate the user (the real check: wrong password → LoginFailed) and start their session in the app."""
    principal = authenticate(engine, username, password or password_for(username))
    at.session_state[AUTH_KEY] = start_session(principal)
    return at


def sign_in_page(page, username: str, password: str) -> None:
    """Sign in through the real sign-in form in a browser (Playwright page), and wait for the navigation."""
    import re

    from playwright.sync_api import expect

    form = page.get_by_test_id("stForm")
    expect(form).to_be_visible()
    form.get_by_label(re.compile("^(用户名|Username)$")).fill(username)
    form.get_by_label(re.compile("^(密码|Password)$")).fill(password)
    form.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
