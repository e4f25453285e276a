"""Every page, both languages, three roles (issues 12 and 17): a national administrator, a Guangdong official and a
national analyst open each page of their navigation in Chinese and then in English, in one browser session each. A screenshot of every page
goes to test-artifacts/screenshots/<role>_<lang>_<page>.png, and no page may show what an official would read as
broken: a traceback, the word "None", Streamlit's English "Choose an option", or a raw tier code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from dashboard_login import seed_user, sign_in_page
from dashboard_seed import seed_registry
from e2e_support import SCREENSHOTS, TIMEOUT_MS, dashboard_server

from registry.db import make_engine, upgrade
from registry.models import TIERS

pytestmark = pytest.mark.e2e

ROLES = {"admin": ("e2e_pages_admin", "admin", "cn"), "gd_official": ("e2e_pages_gd", "official", "cn-gd"),
         "analyst": ("e2e_pages_analyst", "analyst", "cn")}
# Tier codes as the data carries them (the national ladder and the regional tiers such as bj_little_giant): on a
# page they must be names from the label catalogue.
RAW_TIER = re.compile(r"(?<![A-Za-z0-9/.-])[a-z]*_?(" + "|".join(TIERS) + r")\b")
NONE_WORD = re.compile(r"(?<![A-Za-z])None(?![A-Za-z])")


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, sa.Engine, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("e2e_every_page")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_registry(engine, firms=300, seed=5)
    passwords = {role: seed_user(engine, *account) for role, account in ROLES.items()}
    try:
        with dashboard_server(folder, f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n') as base:
            yield base, engine, passwords
    finally:
        engine.dispose()


def wait_for_run(page) -> None:
    """The script run is over and nothing is still loading (charts may still be drawing: the text is what counts)."""
    from playwright.sync_api import expect

    page.wait_for_load_state("networkidle")
    expect(page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')).to_have_count(1)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)
    page.wait_for_timeout(300)


def visible_text(page) -> str:
    """What the main area shows: its text, the tables' cells (drawn on a canvas, so read from the grid's
    accessible copy) and the charts' labels."""
    main = page.get_by_test_id("stMain")
    parts = [main.inner_text()]
    parts += main.locator(".stDataFrame [role='gridcell'], .stDataFrame [role='columnheader']").all_inner_texts()
    parts += main.locator(".js-plotly-plot text").all_text_contents()
    return "\n".join(parts)


def problems(text: str) -> list[str]:
    """Each thing an official would read as broken, with the text around it (for the failure message)."""
    found = [m for pattern in (NONE_WORD, re.compile("Choose an option"), RAW_TIER) for m in pattern.finditer(text)]
    return sorted({f"{m.group(0)!r} in …{text[max(0, m.start() - 40):m.end() + 40]}…".replace("\n", " ⏎ ")
                   for m in found})


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_in_both_languages(served, browser, role):
    from playwright.sync_api import expect

    base, _, passwords = served
    context = browser.new_context(viewport={"width": 1400, "height": 2400}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page.goto(f"{base}/?lang=zh")
    sign_in_page(page, ROLES[role][0], passwords[role])
    nav = page.get_by_test_id("stSidebarNav").get_by_role("link")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seen: dict[str, list[str]] = {}
    for lang, switch in (("zh", None), ("en", "English")):
        if switch:
            page.get_by_test_id("stSidebar").get_by_text(switch, exact=True).click()
            wait_for_run(page)
        for index in range(nav.count()):
            link = nav.nth(index)
            path = (link.get_attribute("href") or "").removeprefix(base).strip("/").split("?")[0] or "overview"
            link.click()
            wait_for_run(page)
            page.screenshot(path=str(SCREENSHOTS / f"{role}_{lang}_{path}.png"))
            expect(page.get_by_test_id("stException")).to_have_count(0)
            seen[f"{lang}/{path}"] = problems(visible_text(page))
    assert len(seen) >= 2 * 8, seen.keys()  # every page of the navigation, twice
    assert {where: found for where, found in seen.items() if found} == {}
    context.close()
