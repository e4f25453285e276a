"""End to end in headless Chromium: the rule-impact page (影响评估 / Rule impact) served by `zjtx serve` on the registry
of tests/impact_seed.py, in Chinese and in English, with its chart drawn. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from dashboard_login import seed_user, sign_in_page
from e2e_support import TIMEOUT_MS, dashboard_server, settle, shot
from impact_seed import seed_impact_registry

from registry.db import make_engine, upgrade

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, sa.Engine]]:
    folder = tmp_path_factory.mktemp("e2e_impact")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_impact_registry(engine)
    try:
        with dashboard_server(folder, f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n') as base:
            yield base, engine
    finally:
        engine.dispose()


def metric_value(page, label: str) -> str:
    metric = page.get_by_test_id("stMain").get_by_test_id("stMetric").filter(has_text=label).first
    return metric.get_by_test_id("stMetricValue").inner_text().strip()


def test_the_impact_page_in_chinese_and_english(served, browser):
    from playwright.sync_api import expect

    base, engine = served
    context = browser.new_context(viewport={"width": 1400, "height": 2600}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page.goto(base)
    sign_in_page(page, "impact_admin", seed_user(engine, "impact_admin", "admin", "cn"))
    main = page.get_by_test_id("stMain")

    page.get_by_test_id("stSidebarNav").get_by_text("影响评估").click()
    expect(main.get_by_role("heading", name="影响评估")).to_be_visible()
    settle(page)
    # Holders of 小巨人 and 专精特新 candidates in force today: A–H of tests/impact_seed.py.
    assert metric_value(page, "评估企业数") == "8"
    expect(main.get_by_role("heading", name="各条件淘汰的企业")).to_be_visible()
    expect(main.locator(".stPlotlyChart")).to_have_count(1)
    shot(page, "impact_zh")

    page.get_by_test_id("stSidebar").get_by_text("English").click()
    expect(main.get_by_role("heading", name="Rule impact")).to_be_visible()
    settle(page)
    assert metric_value(page, "Firms evaluated") == "8"
    expect(main.get_by_role("heading", name="Which gates cost the most firms")).to_be_visible()
    shot(page, "impact_en")
    context.close()
