"""End to end: `zjtx serve` on a seeded registry, driven in headless Chromium like an official would use it.

Search a firm by part of its name, open its page, switch to English, download the registry as Excel and read it
back. Screenshots of each page go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from dashboard_login import seed_user, sign_in_page
from dashboard_seed import FEATURED_NAME, FORMULA_NAME, seed_registry

from registry.db import make_engine, upgrade

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"zjtx serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the dashboard did not answer at {url} within {seconds} s")


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, sa.Engine, object]]:
    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    info = seed_registry(engine, firms=300, seed=5)
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    port = free_port()
    env = {**os.environ, "ZJTX_CONFIG": str(config)}
    env.pop("ZJTX_DATABASE_URL", None)
    zjtx = Path(sys.executable).with_name("zjtx")
    log = (folder / "serve.log").open("w")
    server = subprocess.Popen([str(zjtx), "serve", "--port", str(port), "--address", "127.0.0.1"], env=env,
                              cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, server)
        yield base, engine, info
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        engine.dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def settle(page) -> None:
    """Wait until Streamlit has finished the script run and the charts are drawn."""
    from playwright.sync_api import expect

    page.wait_for_load_state("networkidle")
    expect(page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')).to_have_count(1)
    charts = page.locator(".stPlotlyChart")
    for index in range(charts.count()):
        expect(charts.nth(index).locator(".main-svg").first).to_be_attached()
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)


def shot(page, name: str) -> None:
    # Streamlit scrolls inside its main block, so a tall viewport (not full_page) captures the whole page.
    settle(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


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
