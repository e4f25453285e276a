"""End to end: `zjtx serve` on a seeded registry, driven in headless Chromium like an official would use it.

Search a firm by part of its name, open its page, switch to English, download the registry as Excel and read it
back. Screenshots of each page go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import openpyxl
import pytest
import sqlalchemy as sa
from dashboard_login import seed_user, sign_in_page
from dashboard_seed import FEATURED_NAME, FORMULA_NAME, seed_registry
from e2e_support import SCREENSHOTS, TIMEOUT_MS, dashboard_server, settle, shot

from registry.db import make_engine, upgrade

pytestmark = pytest.mark.e2e

@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, sa.Engine, object]]:
    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    info = seed_registry(engine, firms=300, seed=5)
    try:
        with dashboard_server(folder, f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n') as base:
            yield base, engine, info
    finally:
        engine.dispose()


def test_official_finds_a_firm_switches_language_and_downloads(served, browser, tmp_path):
    from playwright.sync_api import expect

    base, engine, info = served
    context = browser.new_context(viewport={"width": 1400, "height": 2400}, accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)

    page.goto(base)
    # A national official, signed in through the real form (dashboard/login.py).
    sign_in_page(page, "e2e_national", seed_user(engine, "e2e_national", "official", "cn"))
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="总览")).to_be_visible()
    expect(page.get_by_test_id("stMetric").first).to_be_visible()
    shot(page, "overview")

    # The registry: search by part of the name (half-width brackets for a name written with full-width ones).
    page.get_by_test_id("stSidebarNav").get_by_text("企业名录").click()
    name_box = page.get_by_label("企业名称（包含）")
    name_box.fill("(示范)精密")
    name_box.press("Enter")
    expect(main.get_by_text("共 1 家企业")).to_be_visible()
    expect(main.get_by_test_id("stDataFrame")).to_be_visible()
    shot(page, "registry")

    # Open the firm's page.
    main.get_by_role("button", name="查看详情").click()
    expect(main.get_by_role("heading", name=FEATURED_NAME)).to_be_visible()
    expect(page).to_have_url(f"{base}/firm?uscc={info.featured_uscc}&lang=zh")
    expect(main.get_by_role("heading", name="认定记录")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    shot(page, "firm")

    # Switch to English.
    page.get_by_test_id("stSidebar").get_by_text("English").click()
    expect(main.get_by_role("heading", name="Recognitions")).to_be_visible()
    expect(main.get_by_role("heading", name=FEATURED_NAME)).to_be_visible()
    shot(page, "firm_en")

    # Download the whole registry as Excel and read it back.
    page.get_by_test_id("stSidebarNav").get_by_text("Registry").click()
    expect(main.get_by_role("heading", name="Registry")).to_be_visible()
    expect(main.get_by_test_id("stDataFrame")).to_be_visible()
    shot(page, "registry_en")
    with page.expect_download() as download_info:
        main.get_by_role("button", name="Download Excel").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(openpyxl.load_workbook(saved).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("USCC", "Name")
    with engine.connect() as conn:
        firms = conn.execute(sa.text("SELECT COUNT(*) FROM enterprise")).scalar_one()
    assert len(rows) - 1 == firms
    names = {row[1] for row in rows[1:]}
    assert FEATURED_NAME in names
    assert "'" + FORMULA_NAME in names and FORMULA_NAME not in names  # neutralised, not a formula
    context.close()


# ---------------------------------------------------------------- the analytics pages

E2E_USER = "e2e_admin"
HELD_TODAY = """r.status <> 'withdrawn' AND r.recognized_on <= :d AND (r.valid_until IS NULL OR r.valid_until >= :d)
    AND (r.ended_on IS NULL OR r.ended_on > :d) AND NOT (r.status IN ('revoked', 'expired') AND r.ended_on IS NULL)"""


def sign_in_if_asked(page, engine) -> None:
    """Pass the sign-in gate (dashboard/login.py) as a national administrator (who sees every page), typing the
    password like a user."""
    from dashboard_login import password_for, seed_user
    from playwright.sync_api import expect

    settle(page)
    if page.get_by_test_id("stForm").count() == 0:
        return
    with engine.connect() as conn:
        known = conn.execute(sa.text("SELECT 1 FROM app_user WHERE username = :u"), {"u": E2E_USER}).first()
    if known is None:
        seed_user(engine, E2E_USER, "admin", "cn")
    page.get_by_label("用户名").fill(E2E_USER)
    page.get_by_label("密码").fill(password_for(E2E_USER))
    page.get_by_test_id("stForm").get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()


def shot_when_run(page, name: str) -> None:
    """A screenshot once the script run is over. Unlike shot(), a chart still drawing does not fail the test:
    these screenshots document every page, the assertions are made elsewhere."""
    from playwright.sync_api import expect

    page.wait_for_load_state("networkidle")
    expect(page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')).to_have_count(1)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)
    page.wait_for_timeout(500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def choose(page, label: str, option: str) -> None:
    """Pick an option of the selectbox labelled `label` in the main area."""
    box = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(
        has=page.get_by_text(label, exact=True))
    # The list is virtualised (only the first options exist in the page): type to narrow it, then pick.
    box.get_by_role("combobox").fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def shown_metrics(page) -> dict[str, str]:
    metrics = page.get_by_test_id("stMain").get_by_test_id("stMetric")
    return {metrics.nth(i).get_by_test_id("stMetricLabel").inner_text().strip():
            metrics.nth(i).get_by_test_id("stMetricValue").inner_text().strip() for i in range(metrics.count())}


def test_pipeline_filtered_to_a_province_matches_the_database(served, browser):
    from playwright.sync_api import expect

    base, engine, _ = served
    context = browser.new_context(viewport={"width": 1400, "height": 2600}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page.goto(base)
    sign_in_if_asked(page, engine)
    main = page.get_by_test_id("stMain")

    page.get_by_test_id("stSidebarNav").get_by_text("梯度培育").click()
    expect(main.get_by_role("heading", name="梯度培育")).to_be_visible()
    settle(page)
    as_of = main.get_by_test_id("stDateInput").locator("input").input_value()
    shot(page, "pipeline")

    choose(page, "省份", "广东省")
    expect(main.get_by_role("heading", name="梯度漏斗：持有有效认定的企业")).to_be_visible()
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            f"""SELECT r.tier, COUNT(DISTINCT r.enterprise_id) FROM recognition r JOIN enterprise e
                ON e.id = r.enterprise_id WHERE {HELD_TODAY} AND e.region_code LIKE '44%' GROUP BY r.tier"""),
            {"d": as_of}).all()
    expected = dict(rows)
    names = {"innovative_sme": "创新型中小企业", "zjtx_sme": "专精特新中小企业", "little_giant": "专精特新“小巨人”",
             "single_champion": "制造业单项冠军"}
    want = {tier: f"{expected.get(tier, 0):,}" for tier in names}
    # The filter's rerun may still be on its way: read the metrics until they settle (or the time is up).
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        shown = shown_metrics(page)
        got = {tier: shown.get(name) for tier, name in names.items()}
        if got == want or time.monotonic() > deadline:
            break
        page.wait_for_timeout(500)
    assert got == want
    assert sum(expected.values()) > 0
    shot(page, "pipeline_guangdong")

    # Every page of the navigation in both languages: tests/e2e/test_e2e_every_page.py.
    page.get_by_test_id("stSidebar").get_by_text("English").click()
    page.get_by_test_id("stSidebarNav").get_by_text("KPI targets").click()
    expect(main.get_by_role("heading", name="KPI targets")).to_be_visible()
    shot(page, "targets_en")
    # 运行监测 in English (the navigation loop above drew it in Chinese): titled charts with their units.
    page.get_by_test_id("stSidebarNav").get_by_text("Performance monitoring").click()
    expect(main.get_by_role("heading", name="Performance monitoring")).to_be_visible()
    expect(main.get_by_text("Firms in cohort")).to_be_visible()
    shot_when_run(page, "monitoring_en")
    context.close()
