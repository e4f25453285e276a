"""End to end in headless Chromium (issue 12 item 6): a sign-in survives a firm opened in a new tab and a reload
(F5), and signing out in one tab signs every tab of that browser out — at its next reload or click."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from dashboard_login import seed_user, sign_in_page
from dashboard_seed import FEATURED_NAME, seed_registry
from e2e_support import TIMEOUT_MS, dashboard_server, settle, shot

from registry.db import make_engine, upgrade

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, sa.Engine, dict]]:
    folder = tmp_path_factory.mktemp("e2e_sessions")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    info = seed_registry(engine, firms=40, seed=5)
    facts = {"featured": info.featured_uscc, "password": seed_user(engine, "gd_official", "official", "cn-gd")}
    try:
        with dashboard_server(folder, f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n') as base:
            yield base, engine, facts
    finally:
        engine.dispose()


def test_a_sign_in_survives_a_new_tab_and_a_reload_and_sign_out_ends_every_tab(served, browser):
    from playwright.sync_api import expect

    base, engine, facts = served
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    first = context.new_page()
    first.goto(f"{base}/?lang=zh")
    sign_in_page(first, "gd_official", facts["password"])
    settle(first)
    cookie = [c for c in context.cookies() if c["name"] == "zjtx_session"]
    assert len(cookie) == 1 and cookie[0]["sameSite"] == "Strict"

    # A firm opened in a new tab of the same browser (what the review queue's and the registry's links do).
    second = context.new_page()
    second.goto(f"{base}/firm?uscc={facts['featured']}&lang=zh")
    main = second.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name=FEATURED_NAME)).to_be_visible()
    expect(second.get_by_test_id("stForm")).to_have_count(0)
    shot(second, "session_new_tab")

    # F5 on that tab: still signed in, still on the firm.
    second.reload()
    expect(second.get_by_test_id("stMain").get_by_role("heading", name=FEATURED_NAME)).to_be_visible()
    expect(second.get_by_test_id("stForm")).to_have_count(0)

    # Signing out in the first tab ends the session for both tabs.
    first.get_by_test_id("stSidebar").get_by_role("button", name=re.compile("退出登录|Sign out")).click()
    expect(first.get_by_test_id("stForm")).to_be_visible()
    second.reload()
    expect(second.get_by_test_id("stForm")).to_be_visible()
    expect(second.get_by_test_id("stMain").get_by_role("heading", name=FEATURED_NAME)).to_have_count(0)
    shot(second, "session_signed_out_elsewhere")

    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT revoked_reason FROM app_session WHERE username = 'gd_official'")).all()
        resumed = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = 'auth.resume'")).scalar_one()
    assert rows == [("signed out",)]
    assert resumed == 2  # the new tab and the reload, each an audited sign-in from the cookie
    context.close()
