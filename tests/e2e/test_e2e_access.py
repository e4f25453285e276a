"""End to end in headless Chromium: a Guangdong official cannot open a Zhejiang firm by editing the URL or the
query parameters, cannot reach the admin-only audit page by its URL, and firm names are shown as text (a name
written as Markdown/HTML stays literal: no link, no image). Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from builders import enterprise_row
from dashboard_login import seed_user, sign_in_page
from dashboard_seed import FEATURED_NAME, seed_registry
from e2e_support import TIMEOUT_MS, dashboard_server, settle, shot

from registry.db import make_engine, upgrade
from registry.models import Enterprise

pytestmark = pytest.mark.e2e

HOSTILE_NAME = "<img src=x onerror=alert(1)>**粗体**[点我登录](http://evil.invalid/login) :red[红字] 深圳测试有限公司"


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, sa.Engine, dict]]:
    folder = tmp_path_factory.mktemp("e2e_access")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    info = seed_registry(engine, firms=120, seed=23)
    with engine.begin() as conn:
        hostile_id = conn.execute(sa.insert(Enterprise.__table__).values(enterprise_row(
            "91440300MA5HOST1LE", HOSTILE_NAME, "440305", industry_code="C39", founded_on=date(2015, 1, 1),
            ownership="[外链](http://evil.invalid)", main_product="<b>组件</b>"))).inserted_primary_key[0]
        zhejiang = conn.execute(sa.text(
            "SELECT uscc, name FROM enterprise WHERE region_code LIKE '33%' ORDER BY uscc LIMIT 1")).one()
    facts = {"featured": info.featured_uscc, "zhejiang_uscc": zhejiang[0], "zhejiang_name": zhejiang[1],
             "hostile": "91440300MA5HOST1LE", "hostile_id": hostile_id,
             "official": seed_user(engine, "gd_official", "official", "cn-gd")}
    try:
        with dashboard_server(folder, f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n') as base:
            yield base, engine, facts
    finally:
        engine.dispose()


def new_page(browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 2000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return context, page


def test_a_guangdong_official_cannot_open_a_zhejiang_firm_by_editing_the_url(served, browser):
    from playwright.sync_api import expect

    base, _, facts = served
    context, page = new_page(browser)
    main = page.get_by_test_id("stMain")

    # A link to a Zhejiang firm, typed into the address bar: first the sign-in page, nothing of the firm.
    page.goto(f"{base}/firm?uscc={facts['zhejiang_uscc']}&lang=zh")
    expect(main.get_by_role("heading", name="登录")).to_be_visible()
    expect(main.get_by_text(facts["zhejiang_name"])).to_have_count(0)
    shot(page, "access_sign_in")
    sign_in_page(page, "gd_official", facts["official"])
    settle(page)

    # Signed in as a Guangdong official: the firm is answered like one that does not exist.
    page.goto(f"{base}/firm?uscc={facts['zhejiang_uscc']}&lang=zh")
    # A typed URL is a new Streamlit session; the session cookie keeps it signed in (issue 12).
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    expect(page).to_have_url(f"{base}/firm?uscc={facts['zhejiang_uscc']}&lang=zh")
    expect(main.get_by_text(f"未找到该企业，或不在您的辖区内：{facts['zhejiang_uscc']}")).to_be_visible()
    expect(main.get_by_text(facts["zhejiang_name"])).to_have_count(0)
    shot(page, "access_zhejiang_firm_refused")

    # The firm's code in the page's own search box: no match either.
    search = main.get_by_label("企业名称或信用代码")
    search.fill(facts["zhejiang_uscc"])
    search.press("Enter")
    settle(page)
    expect(main.get_by_text(facts["zhejiang_name"])).to_have_count(0)

    # A Shenzhen firm (inside Guangdong) opens normally: the refusal above is scope, not a broken page.
    page.goto(f"{base}/firm?uscc={facts['featured']}&lang=zh")
    expect(main.get_by_role("heading", name=FEATURED_NAME)).to_be_visible()

    # The audit page's URL: not in an official's navigation, so the default page opens instead.
    page.goto(f"{base}/audit")
    expect(main.get_by_role("heading", name="总览")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav").get_by_text("审计日志")).to_have_count(0)
    expect(main.get_by_role("heading", name="审计日志")).to_have_count(0)
    context.close()


def test_firm_names_are_shown_as_text_never_as_markup(served, browser):
    from playwright.sync_api import expect

    base, _, facts = served
    context, page = new_page(browser)
    page.goto(f"{base}/firm?uscc={facts['hostile']}&lang=zh")
    sign_in_page(page, "gd_official", facts["official"])
    main = page.get_by_test_id("stMain")
    heading = main.get_by_role("heading", name="<img src=x onerror=alert(1)>**粗体**[点我登录]")
    expect(heading).to_be_visible()
    settle(page)
    # Every character as written (the invisible word joiner that keeps the URL from becoming a link aside).
    assert heading.inner_text().replace("\u2060", "") == HOSTILE_NAME
    expect(main.locator("a[href*='evil.invalid']")).to_have_count(0)
    expect(main.locator("img[src='x']")).to_have_count(0)
    expect(main.locator("b", has_text="组件")).to_have_count(0)
    expect(main.get_by_text("[外链](http:")).to_be_visible()  # literal brackets, not a link
    shot(page, "access_hostile_name")
    context.close()
