"""What every end-to-end test shares: a `zjtx serve` process on a prepared database, Chromium's launch arguments,
waiting for Streamlit to settle, and screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from serving import free_port, wait_until_healthy
from zjtx_command import ZJTX

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Debian's Chromium as root, with nothing that reaches outside this machine (its network is closed).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 60_000


@contextmanager
def dashboard_server(folder: Path, config_toml: str) -> Iterator[str]:
    """`zjtx serve` (the real command) with `config_toml` written to folder/config.toml; yields its base URL and
    stops the server afterwards. Its output goes to folder/serve.log."""
    config = folder / "config.toml"
    config.write_text(config_toml, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "ZJTX_CONFIG": str(config)}
    env.pop("ZJTX_DATABASE_URL", None)
    with (folder / "serve.log").open("w") as log:
        server = subprocess.Popen([*ZJTX, "serve", "--port", str(port),
                                   "--address", "127.0.0.1"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base, server)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()


def settle(page) -> None:
    """Wait until Streamlit has finished the script run and the charts are drawn."""
    from playwright.sync_api import expect

    page.wait_for_load_state("networkidle")
    expect(page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')).to_have_count(1)
    # Every chart drawn, counted afresh on each retry: a rerun may remove charts that were counted before it
    # (a province with fewer charts), and waiting on a counted one that disappeared never ends.
    expect(page.locator(".stPlotlyChart:not(:has(.main-svg))")).to_have_count(0)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)


def shot(page, name: str) -> None:
    # Streamlit scrolls inside its main block, so a tall viewport (not full_page) captures the whole page.
    settle(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

